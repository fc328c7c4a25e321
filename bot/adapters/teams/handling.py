"""What the bot does with a Teams activity recorded in the inbox (after the HTTP answer).

Every activity first refreshes what proactive messages need later: the conversation's
reference (service URL, tenant, bot id) and the sender's Teams id under their AAD object id.
Then:
- a message is a command: the text, @mentions of the bot removed (`<at>…</at>`), in a 1:1
  chat, a group chat or a channel; or, when it carries a `value`, a card's Action.Submit —
  the same action_id and value as a Slack click;
- `conversationUpdate` adding the bot posts one welcome per install (never one per member
  added: Teams store rules count that as spam);
- the replies go through the outbox (paced, retried, never lost): to the conversation when
  they are for everyone, else to the person's 1:1 chat with the bot (Teams has no
  ephemeral messages); forms are cards there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.teams import PLATFORM, cards
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.core.events import ActionEvent, CommandEvent, Origin, PlatformUser
from bot.core.replies import Card, OutboundMessage, Reply, Visibility
from bot.i18n import Translator, pick_locale
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage import teams_references, workspaces
from storage.teams_references import Reference

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def tenant_of(activity: dict[str, Any]) -> str:
    """The activity's tenant (channelData.tenant.id, or the conversation's tenantId)."""
    channel_data = activity.get("channelData") or {}
    tenant = (
        (channel_data.get("tenant") or {}).get("id") if isinstance(channel_data, dict) else None
    )
    return str(tenant or (activity.get("conversation") or {}).get("tenantId") or "")


def person_of(activity: dict[str, Any]) -> PlatformUser:
    """Who sent it: their AAD object id (what AMBASSADOR_ADMINS and the core use)."""
    sender = activity.get("from") or {}
    user_id = str(sender.get("aadObjectId") or sender.get("id") or "")
    return PlatformUser(
        id=user_id,
        name=str(sender.get("name") or user_id)[:200],
        locale=activity.get("locale"),
        timezone=activity.get("localTimezone"),
    )


def command_text(activity: dict[str, Any]) -> str:
    """The text typed, without the @mentions of the bot."""
    return " ".join(_MENTION.sub(" ", str(activity.get("text") or "")).split())


class TeamsHandling:
    """Turns recorded activities into core events, and the replies into outbox messages."""

    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._sessions = sessions
        self._clock = clock
        self._wake_outbox = wake_outbox

    async def process(self, _kind: str, activity: dict[str, Any], inbox_id: int) -> None:
        """Handle one recorded activity (the inbox worker's processor for Teams)."""
        await self._remember(activity)
        kind = activity.get("type")
        if kind == "conversationUpdate":
            await self._conversation_update(activity)
        elif kind == "message":
            replies = await self.run(activity, f"inbox-{inbox_id}")
            await self.deliver(activity, replies, f"teams:{inbox_id}")

    async def run(self, activity: dict[str, Any], key: str) -> list[Reply]:
        """The core's replies to a message: a command, or a card's submission."""
        origin = _origin(activity)
        user = person_of(activity)
        submitted = cards.submission(activity.get("value"))
        if submitted is not None:
            action_id, value = submitted
            return await self._dispatcher.action(ActionEvent(origin, user, action_id, value, key))
        if activity.get("value") is not None and not activity.get("text"):
            return []  # a card that is not ours: nothing to do
        return await self._dispatcher.command(
            CommandEvent(origin, user, command_text(activity), key)
        )

    async def _remember(self, activity: dict[str, Any]) -> None:
        tenant = tenant_of(activity)
        conversation = activity.get("conversation") or {}
        sender = activity.get("from") or {}
        service_url = str(activity.get("serviceUrl") or "")
        if not tenant or not conversation.get("id") or not service_url:
            return
        kind = str(conversation.get("conversationType") or "personal")
        personal = kind == "personal"
        reference = Reference(
            tenant_id=tenant,
            conversation_id=str(conversation["id"]),
            service_url=service_url,
            conversation_type=kind,
            bot_id=str((activity.get("recipient") or {}).get("id") or ""),
            aad_object_id=str(sender.get("aadObjectId") or "") or None if personal else None,
            user_id=str(sender.get("id") or "") or None if personal else None,
        )
        now = self._clock.now()
        people = [sender, *(activity.get("membersAdded") or [])]
        async with self._sessions() as db, db.begin():
            await teams_references.remember(db, reference, now)
            for person in people:
                if isinstance(person, dict) and person.get("aadObjectId") and person.get("id"):
                    await teams_references.remember_member(
                        db, tenant, str(person["aadObjectId"]), str(person["id"]), service_url, now
                    )

    async def _conversation_update(self, activity: dict[str, Any]) -> None:
        bot_id = (activity.get("recipient") or {}).get("id")
        added = [m for m in activity.get("membersAdded") or [] if isinstance(m, dict)]
        if not any(member.get("id") == bot_id for member in added):
            return  # people joined: remembered, not greeted one by one
        tenant = tenant_of(activity)
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        t = Translator(pick_locale(activity.get("locale"), self._settings.locale))
        title, body = t("teams.welcome_title"), t("teams.welcome")
        message = OutboundMessage(f"{title}\n{body}", card=Card(title=title, body=body))
        async with self._sessions() as db, db.begin():
            workspace = await workspaces.get_or_create(db, PLATFORM, tenant, self._clock.now())
            outbox = Outbox(db, PLATFORM, workspace.id, self._clock.now())
            # One welcome per install, whatever Teams resends.
            await outbox.post(f"teams-welcome:{conversation}", conversation, message)
        self._wake_outbox()

    async def deliver(self, activity: dict[str, Any], replies: list[Reply], key: str) -> None:
        """Replies through the outbox: for everyone in the conversation, or to the person."""
        if not replies:
            return
        tenant = tenant_of(activity)
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        personal = (activity.get("conversation") or {}).get("conversationType") == "personal"
        user = person_of(activity)
        locale = pick_locale(user.locale, self._settings.locale)
        async with self._sessions() as db, db.begin():
            workspace = await workspaces.get_or_create(db, PLATFORM, tenant, self._clock.now())
            outbox = Outbox(db, PLATFORM, workspace.id, self._clock.now())
            for n, reply in enumerate(replies):
                shared = reply.visibility is Visibility.CONVERSATION
                target = conversation if personal or shared else f"dm:{user.id}"
                extra = {"form": reply.form.to_json(), "locale": locale} if reply.form else {}
                message = OutboundMessage(reply.text, card=reply.card, extra=extra)
                await outbox.post(f"{key}:reply:{n}", target, message)
        self._wake_outbox()


def _origin(activity: dict[str, Any]) -> Origin:
    conversation = activity.get("conversation") or {}
    return Origin(
        PLATFORM,
        tenant_of(activity),
        str(conversation.get("id") or ""),
        is_direct=conversation.get("conversationType") == "personal",
    )
