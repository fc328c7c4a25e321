"""Delivers outbox messages to Teams through the Bot Connector.

Targets: a conversation id the bot has seen (its stored reference gives the service URL),
or `dm:<AAD object id>`: the person's 1:1 chat with the bot, opened first when the bot has
seen them but never written to them (their Teams id and tenant are stored). A message's
platform id is `<conversation>|<activity id>`, what an update in place needs.

Pacing keeps the bot under Teams' limits
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit): per
conversation 7 per second, 8 per 2 s, 60 per 30 s and 1,800 per hour (a message that would
go over waits in the outbox, other conversations go on); per tenant a ceiling under the 50
requests/s allowed (`[rate_limits] teams_tenant_per_second`, default 40), kept by sleeping.
Retries on 429/412/502/503/504 honour Retry-After, else the outbox's jittered backoff.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.teams import PLATFORM, cards, form_origin
from bot.adapters.teams.connector import Connector
from bot.clock import Clock
from bot.core.replies import Form, OutboundMessage
from bot.i18n import Translator
from bot.outbox import targets
from bot.outbox.delivery import NotNow, PermanentFailure
from bot.outbox.pacing import Pacer, Reservations, WindowPacer
from bot.settings import RateLimitSettings
from storage import members, teams_references, workspaces
from storage.teams_references import Reference

# A person as the core keeps them in free text (what a Teams mention became).
_PERSON = re.compile(r"<@([A-Za-z0-9._-]+)(?:\|[^>]*)?>")
CONVERSATION_LIMITS = [(7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0)]
MAX_SLEEP_SECONDS = 2.0


class TeamsSender:
    """Posts and updates messages on Teams (the outbox's PlatformSender for "teams")."""

    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        connector: Connector,
        limits: RateLimitSettings,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._connector = connector

        def on_clock() -> float:
            return clock.now().timestamp()

        self._per_conversation = WindowPacer(CONVERSATION_LIMITS, on_clock)
        self._per_tenant = Pacer(limits.teams_tenant_per_second)
        self._tenant_slots = Reservations(self._per_tenant, MAX_SLEEP_SECONDS)

    async def post(
        self, workspace: str, target: str, message: OutboundMessage, *, key: str = ""
    ) -> str:
        """Send to a conversation, or to a person's 1:1 chat (opened if needed)."""
        reference = await self._reference_for(workspace, target)
        await self._pace(workspace, reference.conversation_id, key)
        conversation = reference.conversation_id
        if message.in_reply_to and reference.conversation_type == "channel":
            conversation = _thread_of(conversation, message.in_reply_to)
        activity = await self._with_names(workspace, _activity(message))
        activity_id = await self._connector.send(reference.service_url, conversation, activity)
        return f"{reference.conversation_id}|{activity_id}"

    async def update(
        self, workspace: str, target: str, message_id: str, message: OutboundMessage
    ) -> None:
        """Replace the activity posted as `message_id` (the live sign-up card)."""
        conversation, _, activity_id = message_id.partition("|")
        if not conversation or not activity_id:
            raise PermanentFailure(f"not a Teams message id: {message_id!r}")
        reference = await self._known(workspace, conversation)
        await self._pace(workspace, conversation, message_id)
        activity = await self._with_names(workspace, _activity(message))
        await self._connector.update(reference.service_url, conversation, activity_id, activity)

    async def _with_names(self, tenant: str, activity: dict[str, Any]) -> dict[str, Any]:
        """People named in what others wrote (`<@AAD id>`, how the core keeps a mention)
        shown by name: Teams would print the reference as it is."""
        raw = json.dumps(activity, ensure_ascii=False)
        named = set(_PERSON.findall(raw))
        if not named:
            return activity
        async with self._db_sessions() as db:
            workspace = await workspaces.find(db, PLATFORM, tenant)
            names = await members.display_names(db, workspace.id, named) if workspace else {}

        def name(match: re.Match[str]) -> str:
            known = names.get(match.group(1))
            return json.dumps(known, ensure_ascii=False)[1:-1] if known else match.group(0)

        rewritten: dict[str, Any] = json.loads(_PERSON.sub(name, raw))
        return rewritten

    async def _pace(self, tenant: str, conversation: str, key: str) -> None:
        """Within the conversation's windows, then the tenant's rate: a short wait is slept,
        a long one gives the message back with its slot kept (pacing.Reservations)."""
        if (wait := self._per_conversation.delay(conversation)) > 0:
            raise NotNow(wait)
        await self._tenant_slots.take(tenant, key)
        self._per_conversation.take(conversation)

    async def _reference_for(self, tenant: str, target: str) -> Reference:
        if targets.group_members(target) is not None:
            raise PermanentFailure("teams: a bot cannot open a group chat")
        if target.startswith("dm:"):
            return await self._personal(tenant, target.removeprefix("dm:"))
        return await self._known(tenant, target)

    async def _known(self, tenant: str, conversation: str) -> Reference:
        async with self._db_sessions() as db:
            found = await teams_references.conversation(db, tenant, conversation)
        if found is None:
            raise PermanentFailure(
                f"teams: the bot has no reference of conversation {conversation[:80]} "
                "(it must be added there, or be written to, first)"
            )
        return found

    async def _personal(self, tenant: str, aad_object_id: str) -> Reference:
        async with self._db_sessions() as db:
            found = await teams_references.personal(db, tenant, aad_object_id)
            if found is not None:  # the usual case: one query per DM of a fan-out
                return found
            person = await teams_references.member(db, tenant, aad_object_id)
            any_reference = await teams_references.any_in_tenant(db, tenant)
        if person is None or any_reference is None:
            raise PermanentFailure(
                f"teams: {aad_object_id} was never seen by the bot in this tenant, so no "
                "1:1 chat can be opened (they must be in a team or chat with the bot)"
            )
        conversation = await self._connector.create_personal(
            person.service_url, tenant, any_reference.bot_id, person.user_id
        )
        reference = Reference(
            tenant_id=tenant,
            conversation_id=conversation,
            service_url=person.service_url,
            conversation_type="personal",
            bot_id=any_reference.bot_id,
            aad_object_id=aad_object_id,
            user_id=person.user_id,
        )
        async with self._db_sessions() as db, db.begin():
            await teams_references.remember(db, reference, self._clock.now())
        return reference


def _activity(message: OutboundMessage) -> dict[str, Any]:
    """The message activity: a card, or a form (Teams has no modals: forms are cards)."""
    form = message.extra.get("form")
    if isinstance(form, dict):
        t = Translator(str(message.extra.get("locale") or "en"))
        card = form_origin.stamp(cards.form(Form.from_json(form), t), message.extra.get("origin"))
        return cards.message_with_card(message.text, card)
    return cards.message(message.text, message.card)


def _thread_of(conversation: str, in_reply_to: str) -> str:
    """Where a reply to `in_reply_to` (`<conversation>|<activity id>`) goes in a channel:
    the channel's id with `;messageid=<thread root>` — the root of the thread the message
    answered was in, else that message itself. Never two suffixes: a conversation id that
    names a thread already (every new post in a channel is one) is cut to the channel's."""
    replied_in, _, activity_id = in_reply_to.partition("|")
    root = replied_in.partition(";messageid=")[2] or activity_id
    if not root:  # a post recorded without its id (before PostedWithoutId): unthreaded
        return conversation
    return f"{conversation.split(';')[0]};messageid={root}"
