"""`app_uninstalled` and `tokens_revoked` with one workspace's token (SLACK_BOT_TOKEN).

With OAuth, bolt's token revocation listeners call the installation store
(installations.py): the token row is deleted, the installer's admin role taken back, the
workspace marked uninstalled. With a single token there is no row to delete (the token is
in the environment) and no installer made admin (admins come from AMBASSADOR_ADMINS), so an
uninstall does what is left of that, as an admin removing the app expects: the workspace
is marked uninstalled, so that its data is deleted after [retention] uninstalled_days
(bot/retention.py) like any other uninstalled workspace's, and the operator is told, once
per event, that the token no longer works there. Slack sends both events on an uninstall,
in no set order; `tokens_revoked` counts only when it names bot tokens
(https://api.slack.com/events/tokens_revoked, https://api.slack.com/events/app_uninstalled).

Installed again (a new token in SLACK_BOT_TOKEN), the workspace's requests come back: the
first one the core handles clears the mark (`still_installed`, a dispatcher observer run in
that request's transaction), as a reinstall does with OAuth.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.slack import PLATFORM
from bot.clock import Clock
from bot.core.context import Context
from storage import workspaces

log = logging.getLogger(__name__)


def revokes_the_bot(event: dict[str, Any]) -> bool:
    """Whether an `app_uninstalled` or `tokens_revoked` event takes the bot's token away
    (a `tokens_revoked` naming only user tokens does not)."""
    if event.get("type") == "app_uninstalled":
        return True
    tokens = event.get("tokens")
    bots = tokens.get("bot") if isinstance(tokens, dict) else None
    return isinstance(bots, list) and bool(bots)


class SingleWorkspaceUninstall:
    """The uninstall events' listener and the reinstall observer, in single-token mode."""

    def __init__(self, db_sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._db_sessions = db_sessions
        self._clock = clock

    async def uninstalled(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """bolt's listener for both events: the workspace marked uninstalled (the retention
        delay runs from the first of them), answered 200 like any event."""
        team = str(body.get("team_id") or "")
        if not team or not revokes_the_bot(event):
            return
        async with self._db_sessions() as db, db.begin():
            found = await workspaces.mark_uninstalled(db, PLATFORM, team, self._clock.now())
        log.warning(
            "slack_app_uninstalled",
            extra={
                "workspace": team,
                "event": str(event.get("type")),
                "known": found is not None,
                "meaning": "SLACK_BOT_TOKEN no longer works in this workspace; its data is "
                "deleted after [retention] uninstalled_days unless the app is installed again",
            },
        )

    async def still_installed(self, ctx: Context) -> None:
        """The dispatcher's observer for Slack: a request handled from a workspace marked
        uninstalled means the app is there again (Slack sends nothing otherwise)."""
        if ctx.workspace.uninstalled_at is not None:
            ctx.workspace.uninstalled_at = None
            log.info("slack_installed_again", extra={"workspace": ctx.workspace.external_id})
