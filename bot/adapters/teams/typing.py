"""The typing indicator: Teams users expect an answer within about two seconds, or a sign
that one is coming (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#send-typing-indicator
— and the Teams Store's bot guidelines).

A typed command is answered 202 as soon as it is recorded; the worker then handles it and
the reply goes out through the outbox, normally well within the two seconds. When the
command is still waiting after `TYPING_AFTER_SECONDS` (a burst of sign-ups, a busy
worker), a typing activity is sent to its conversation. It is a courtesy, never a cost to
real replies: it has its own small budget per tenant (on top of the outbox's ceiling, both
under Teams' 50 requests/s) and at most one per conversation every few seconds (a typing
indicator shows for about three); when the budget is spent, or the Bot Connector refuses,
it is simply not sent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.teams import protocol
from bot.adapters.teams.connector import Connector
from bot.outbox.delivery import PermanentFailure, RetryLater
from bot.outbox.pacing import Pacer
from storage import inbox

log = logging.getLogger(__name__)

TYPING_AFTER_SECONDS = 1.5
TYPING_PER_TENANT_PER_SECOND = 5.0  # with the outbox's default 40/s: under the 50 allowed
TYPING_BURST_PER_TENANT = 5
TYPING_EVERY_SECONDS_PER_CONVERSATION = 3.0


class TypingIndicator:
    """Watches recorded commands; shows "typing…" for those not answered in time."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        connector: Connector,
        after: float = TYPING_AFTER_SECONDS,
    ) -> None:
        self._db_sessions = db_sessions
        self._connector = connector
        self.after = after
        self._per_tenant = Pacer(TYPING_PER_TENANT_PER_SECOND, burst=TYPING_BURST_PER_TENANT)
        self._per_conversation = Pacer(1.0 / TYPING_EVERY_SECONDS_PER_CONVERSATION)
        self._watching: set[asyncio.Task[None]] = set()

    def watch(self, inbox_id: int, tenant: str, activity: dict[str, Any]) -> None:
        """Send "typing…" to the activity's conversation if it is not handled in time."""
        service_url = str(activity.get("serviceUrl") or "")
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        if not service_url or not conversation:
            return
        task = asyncio.create_task(self._later(inbox_id, tenant, service_url, conversation))
        self._watching.add(task)
        task.add_done_callback(self._watching.discard)

    async def close(self) -> None:
        """Stop watching (at shutdown)."""
        for task in list(self._watching):
            task.cancel()
        await asyncio.gather(*self._watching, return_exceptions=True)

    def _within_budget(self, tenant: str, conversation: str) -> bool:
        return (
            self._per_conversation.delay(conversation) == 0 and self._per_tenant.delay(tenant) == 0
        )

    async def _later(self, inbox_id: int, tenant: str, service_url: str, conversation: str) -> None:
        await asyncio.sleep(self.after)
        if not self._within_budget(tenant, conversation):
            return  # over budget: real replies come first (and no query is spent on it)
        try:
            async with self._db_sessions() as db:
                if await inbox.is_done(db, inbox_id):
                    return
            # Checked again after the query, and taken with no await in between.
            if not self._within_budget(tenant, conversation):
                return
            self._per_tenant.take(tenant)
            self._per_conversation.take(conversation)
            await self._connector.send(service_url, conversation, protocol.typing())
        except (RetryLater, PermanentFailure) as exc:
            log.info("teams_typing_not_sent", extra={"error": str(exc)})
        except Exception:  # a courtesy must never take anything down with it
            log.exception("teams_typing_failed")
