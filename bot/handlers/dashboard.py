"""`dashboard` / `tableau de bord` (animators): a private link to the steering dashboard.

The link works for one hour, for the asker only, in this workspace only; each ask makes a
new one (bot/dashboard/access.py says why a stored random token is as strong as a
signature, and revocable). Like `pulse export`, the answer is only for the asker.
"""

from __future__ import annotations

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.replies import Button, Card, Reply
from bot.dashboard import access


async def dashboard(ctx: Context, _args: Args) -> list[Reply]:
    """Reply with a one-hour link to the dashboard of this workspace."""
    token = await access.create_link(
        ctx.db, workspace_id=ctx.workspace.id, member_id=ctx.actor.id, now=ctx.now
    )
    url = ctx.settings.base_url + access.link_path(token)
    title = ctx.t("dashboard.link_title")
    body = ctx.t("dashboard.link_body")
    card = Card(title=title, body=body, buttons=(Button(ctx.t("dashboard.link_button"), url=url),))
    return [Reply(f"{title} {body} {url}", card=card)]
