"""Who is present in a Teams conversation: its roster, read when the core needs a count
(the sign-up summary, "12 learners joined out of 15 present").

Teams tells a bot who is in a team, channel or chat only when asked (the paged members
call); the count is read once, at the moment the summary is written. When the Bot
Connector cannot answer in time the summary is written without a "present" figure rather
than waiting or failing the close.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.teams.connector import Connector
from bot.outbox.delivery import PermanentFailure, RetryLater
from storage import teams_references
from storage.models import Workspace

log = logging.getLogger(__name__)

# The close runs inside the core's transaction: never hold it longer than this.
ROSTER_TIMEOUT_SECONDS = 5.0


class Roster:
    """The Teams presence counter registered with the dispatcher."""

    def __init__(self, connector: Connector, timeout: float = ROSTER_TIMEOUT_SECONDS) -> None:
        self._connector = connector
        self._timeout = timeout

    async def count_present(
        self, db: AsyncSession, workspace_id: int, conversation: str
    ) -> int | None:
        """The number of people in `conversation` (None when Teams cannot say)."""
        workspace = await db.get(Workspace, workspace_id)
        if workspace is None:
            return None
        reference = await teams_references.conversation(db, workspace.external_id, conversation)
        if reference is None or reference.conversation_type == "personal":
            return None  # a 1:1 chat has no audience to count
        try:
            async with asyncio.timeout(self._timeout):
                return await self._connector.roster_size(reference.service_url, conversation)
        except (TimeoutError, RetryLater, PermanentFailure) as exc:
            log.warning(
                "teams_roster_unavailable",
                extra={"conversation": conversation[:80], "error": str(exc) or "timeout"},
            )
            return None
