"""What the bot does with a Teams activity recorded in the inbox (after the HTTP answer).

Every activity first refreshes what proactive messages need later: the conversation's
reference (service URL, tenant, bot id) and the sender's Teams id under their AAD object id.
Then:
- a message is a command: the text, @mentions of the bot removed (`<at>…</at>`), in a 1:1
  chat, a group chat or a channel; a person @mentioned becomes `<@AAD object id>`, the
  form the core reads (their id comes from the directory kept here, else from the Bot
  Connector's members call, and they are remembered so that a 1:1 chat can be opened with
  them later); or, when it carries a `value`, a card's Action.Submit — a button's click
  (the same action_id and value as a Slack click) or a form's submission;
- a person's message in the thread of a channel post that does not @mention the bot is a
  `ThreadReply` (maybe a reply to a posted question: the core decides). Teams sends a bot
  the channel messages that do not @mention it only when the app has the resource-specific
  consent permission ChannelMessage.Read.Group (the package asks for it only with
  AMBASSADOR_THREAD_REPLIES=1, package.py:
  https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-messages-with-rsc);
  without it, people reply with `reply <number> <text>`, or @mention the bot in the thread
  (a command, as ever). Any other channel message without the mention is no command: it is
  forgotten at once, its raw activity deleted (`Request.forget`), nothing of it remembered;
- a `messageReaction` adding a reaction that approves, or taking one off, is a reaction on
  the message (a like; Teams has no 👎 reaction, so its dislikes are the post's button);
- `conversationUpdate` adding the bot posts one welcome per install (never one per member
  added: Teams store rules count that as spam);
- the bot removed from a team or a chat (`installationUpdate` remove, or the bot among
  `membersRemoved`): that place's references are forgotten at once, and the tenant marked
  uninstalled when it was the last (installs.py);
- the replies, each for the asker alone (bot/core/replies.py), go through the outbox
  (paced, retried, never lost), one message each, in order, to the person's 1:1 chat with
  the bot (Teams has no ephemeral messages): the conversation itself when it is that chat;
  forms are cards there, carrying where they were opened (form_origin.py).

In a channel, every new post is its own conversation `<channel>;messageid=<root>` and only
the replies in its thread share it (recorded traffic:
tests/fixtures/public/teams/botbuilder-js). The core is given the channel (`_origin`): a session,
the community and who is present belong to the channel, whichever post or reply a command
was typed in. What the core posts on its own goes to the channel's id, which Teams shows as
a new post; sessions stored before the core was given the channel keep their thread's full
id, where their card is updated. So the references of both are remembered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.adapters.teams import PLATFORM, cards, form_origin, installs, protocol
from bot.adapters.teams.connector import Connector
from bot.clock import Clock
from bot.core.context import WorkspaceContext
from bot.core.dispatch import Deliver, Dispatcher
from bot.core.events import (
    ActionEvent,
    CommandEvent,
    FormSubmission,
    Origin,
    PlatformUser,
    Reaction,
    ThreadReply,
)
from bot.core.replies import Card, OutboundMessage, Reply
from bot.i18n import Translator, pick_locale
from bot.inbox.request import Request
from bot.outbox.delivery import PermanentFailure, RetryLater
from bot.settings import Settings
from storage import members, outbox_keys, teams_references, workspaces
from storage.conversations import THREAD, channel_of
from storage.sealing import Sealer
from storage.teams_references import Reference

log = logging.getLogger(__name__)

# Teams' reactions (its documented six: like, heart, laugh, surprised, sad, angry —
# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events#message-reaction-events,
# botbuilder's MessageActionsPayloadReaction.reactionType) that are not likes. None is a
# 👎: 😢 and 😠 say something else than "not useful to me", so they are neither; on Teams
# a dislike is the post's "Not useful to me" button.
NOT_LIKES = frozenset({"sad", "angry"})
# Where a person mentioned in a 1:1 chat is looked for, besides that chat.
LOOK_UP_CONVERSATIONS = 3
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def tenant_of(activity: dict[str, Any]) -> str:
    """The activity's tenant (channelData.tenant.id, or the conversation's tenantId)."""
    channel_data = activity.get("channelData")
    given = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    tenant = given.get("id") if isinstance(given, dict) else None  # any shape: never raises
    conversation = activity.get("conversation")
    if not tenant and isinstance(conversation, dict):
        tenant = conversation.get("tenantId")
    return str(tenant or "")


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
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        wake_outbox: Callable[[], None],
        connector: Connector,
        sealer: Sealer,
    ) -> None:
        self._connector = connector
        self._sealer = sealer
        self._settings = settings
        self._dispatcher = dispatcher
        self._db_sessions = db_sessions
        self._clock = clock
        self._wake_outbox = wake_outbox

    async def process(self, _kind: str, activity: dict[str, Any], request: Request) -> None:
        """Handle one recorded activity (the inbox worker's processor for Teams)."""
        inbox_id = request.id
        kind = activity.get("type")
        unaddressed = kind == "message" and in_channel_unaddressed(activity)
        if (problem := protocol.problem_with(activity)) is not None:
            # The Bot Connector never sends this: nothing to retry, nothing to do.
            log.warning("teams_activity_refused", extra={"inbox_id": inbox_id, "error": problem})
            if unaddressed:
                request.forget()  # a channel message not for the bot: nothing of it is kept
            return
        if not tenant_of(activity):
            # Teams always names the tenant; without one nothing can be remembered or
            # answered (references, workspaces and the outbox are per tenant).
            log.warning("teams_activity_without_tenant", extra={"inbox_id": inbox_id})
            if unaddressed:
                request.forget()
            return
        if installs.is_removal(activity):
            await self._removed(activity)
            return
        if unaddressed:
            # Not addressed to the bot: a reply to a posted question, or conversation, of
            # which nothing is kept, not even its raw request (README, "Replies to
            # questions"), nor the conversation's reference and its writer's Teams id.
            if not await self._thread_reply(activity, inbox_id):
                request.forget()
            return
        await self.remember(activity)
        if kind == "conversationUpdate":
            await self._conversation_update(activity)
        elif kind == "message":
            # The replies are written to the outbox in the core's transaction, with the
            # effects and the request's "done" (bot/core/dispatch.py,
            # bot/inbox/request.py); only an adapter's own refusal is left.
            replies_key = outbox_keys.request(PLATFORM, inbox_id)
            deliver = request.finishing(self.deliverer(activity, replies_key))
            left = await self.run(activity, f"inbox-{inbox_id}", deliver=deliver)
            await self.deliver(activity, left, replies_key)
        elif kind == "messageReaction":
            await self._reactions(activity, inbox_id)

    async def _thread_reply(self, activity: dict[str, Any], inbox_id: int) -> bool:
        """A channel message not addressed to the bot: in a post's thread (its conversation
        `<channel>;messageid=<root>`, the root not the message itself), a `ThreadReply` on
        that post, which the sender stored as `<channel>|<root>`, when the bot reads threads
        (AMBASSADOR_THREAD_REPLIES); elsewhere, nothing. Whether it was run as a reply to a
        question (else nothing of it was written). Silent: the core's card in the thread is
        the answer."""
        if not self._settings.thread_replies or not maybe_thread_reply(activity):
            return False
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        channel, _, root = conversation.partition(THREAD)
        text = command_text(activity)
        replied = ThreadReply(
            _origin(activity), person_of(activity), f"{channel}|{root}", text, f"inbox-{inbox_id}"
        )
        if not await self._dispatcher.is_reply(replied):
            return False
        await self.remember(activity)
        await self._dispatcher.handle(replied)
        return True

    async def _reactions(self, activity: dict[str, Any], inbox_id: int) -> None:
        """A reaction (👍 ❤️ 😆 😮) on a posted answer or share is a like, as on Slack; 😢
        and 😠 are not. Taken off (`reactionsRemoved`), it takes the person's like back
        (a dislike given with the button stays: only a reaction of the same kind goes).
        Silent: the post's like count is the answer."""

        def likes(field: str) -> bool:
            given = [r for r in activity.get(field) or [] if isinstance(r, dict)]
            return any(str(r.get("type", "")) not in NOT_LIKES for r in given)

        added, removed = likes("reactionsAdded"), likes("reactionsRemoved")
        if not added and not removed:
            return
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        # Teams names the message in two forms: `replyToId` (now its numeric id) and
        # `legacy.replyToId` (the `1:…` id the Bot Connector answered when the bot posted,
        # https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events#message-reaction-events):
        # whichever the sender stored matches.
        legacy = activity.get("legacy")
        given = [
            activity.get("replyToId"),
            legacy.get("replyToId") if isinstance(legacy, dict) else None,
        ]
        reacted_to = dict.fromkeys(i for i in given if isinstance(i, str) and i)
        if not reacted_to or not conversation:
            return
        # The post's id is `<conversation>|<activity>` as the sender stored it: the thread's
        # id for a reply in a thread, the channel's for a post at its root.
        candidates = dict.fromkeys([conversation, conversation.split(";")[0]])
        pairs = [(where, on) for where in candidates for on in reacted_to]
        for n, (where, on) in enumerate(pairs):
            # A like taken off and one added in the same activity: the one added stays.
            changes = [(True, f"inbox-{inbox_id}:r{n}")] if removed else []
            changes += [(False, f"inbox-{inbox_id}:{n}")] if added else []
            for taken_off, key in changes:
                reaction = Reaction(
                    _origin(activity), person_of(activity), f"{where}|{on}", key, removed=taken_off
                )
                await self._dispatcher.reaction(reaction)

    async def run(
        self, activity: dict[str, Any], key: str, deliver: Deliver | None = None
    ) -> list[Reply]:
        """The core's replies to a message: a command, or a card's submission (with
        `deliver`, written to the outbox by the core, and only a refusal returned)."""
        origin = _origin(activity)
        user = person_of(activity)
        submitted = cards.submission(activity.get("value"))
        if submitted is not None:
            action_id, value = submitted
            event: ActionEvent | FormSubmission = (
                FormSubmission(origin, user, action_id, value, key)
                if cards.is_form(activity.get("value"))
                else ActionEvent(origin, user, action_id, value, key)
            )
            sealed = form_origin.carried(activity.get("value"))
            if sealed is not None:
                where = form_origin.open_(self._sealer, origin.workspace, user.id, sealed)
                if where is None:
                    log.warning("teams_form_origin_refused", extra={"workspace": origin.workspace})
                    return [await self._dispatcher.refuse(event, "teams.form_origin_refused")]
                # Submitted from the 1:1 chat, the form acts where it was opened.
                opened = Origin(PLATFORM, origin.workspace, channel_of(where), is_direct=False)
                event = replace(event, origin=opened)
            return await self._dispatcher.handle(event, deliver)
        if activity.get("value") is not None and not activity.get("text"):
            return []  # a card that is not ours: nothing to do
        text = await self._with_people(activity)
        return await self._dispatcher.command(CommandEvent(origin, user, text, key), deliver)

    async def _with_people(self, activity: dict[str, Any]) -> str:
        """The command text: the bot's mention removed, people's as `<@AAD object id>`."""
        text = str(activity.get("text") or "")
        bot_id = (activity.get("recipient") or {}).get("id")
        for entity in activity.get("entities") or []:
            if not isinstance(entity, dict) or entity.get("type") != "mention":
                continue
            markup, mentioned = entity.get("text"), entity.get("mentioned")
            if not isinstance(markup, str) or not isinstance(mentioned, dict):
                continue
            if mentioned.get("id") == bot_id:
                text = text.replace(markup, " ", 1)
                continue
            aad = await self._aad_of(activity, mentioned)
            if aad:
                text = text.replace(markup, f" <@{aad}> ", 1)
        return command_text({"text": text})

    async def _aad_of(self, activity: dict[str, Any], mentioned: dict[str, Any]) -> str | None:
        """The AAD object id of a person mentioned (Teams mentions carry their `29:` id)."""
        user_id = str(mentioned.get("id") or "")
        tenant = tenant_of(activity)
        if not user_id or not tenant:
            return None
        aad = str(mentioned.get("aadObjectId") or "")
        name = str(mentioned.get("name") or "")
        if not aad:
            async with self._db_sessions() as db:
                known = await teams_references.member_by_user_id(db, tenant, user_id)
            if known is not None:
                aad = known.aad_object_id
        service_url = str(activity.get("serviceUrl") or "")
        if not aad:
            found = await self._look_up(activity, tenant, user_id)
            if found is None:
                return None
            aad, name = str(found["aadObjectId"]), str(found.get("name") or name)
        now = self._clock.now()
        async with self._db_sessions() as db, db.begin():
            await teams_references.remember_member(db, tenant, aad, user_id, service_url, now)
            workspace = await workspaces.get_or_create(db, PLATFORM, tenant, now)
            await members.upsert_seen(db, workspace.id, aad, name[:200] or aad, None, now)
        return aad

    async def remember(self, activity: dict[str, Any]) -> None:
        """Keep what proactive messages will need: the conversation's reference, and the Teams
        ids of the sender and of the members added, under their AAD object ids."""
        tenant = tenant_of(activity)
        conversation = activity.get("conversation") or {}
        sender = activity.get("from") or {}
        service_url = str(activity.get("serviceUrl") or "")
        if not tenant or not conversation.get("id") or not service_url:
            return
        kind = str(conversation.get("conversationType") or "personal")
        personal = kind == "personal"
        here = Reference(
            tenant_id=tenant,
            conversation_id=str(conversation["id"]),
            service_url=service_url,
            conversation_type=kind,
            bot_id=str((activity.get("recipient") or {}).get("id") or ""),
            aad_object_id=str(sender.get("aadObjectId") or "") or None if personal else None,
            user_id=str(sender.get("id") or "") or None if personal else None,
            team_id=_team_of(activity),
        )
        # A thread's reference for the replies there, its channel's for new posts (the
        # sign-up card, announcements, challenges), whose updates use it too.
        channel = channel_of(here.conversation_id)
        references = (
            [here]
            if channel == here.conversation_id
            else [here, replace(here, conversation_id=channel)]
        )
        now = self._clock.now()
        people = [sender, *(activity.get("membersAdded") or [])]
        async with self._db_sessions() as db, db.begin():
            for reference in references:
                await teams_references.remember(db, reference, now)
            # Teams writes from there: the bot is installed (again) in the tenant.
            await workspaces.mark_installed(db, PLATFORM, tenant)
            for person in people:
                if isinstance(person, dict) and person.get("aadObjectId") and person.get("id"):
                    await teams_references.remember_member(
                        db, tenant, str(person["aadObjectId"]), str(person["id"]), service_url, now
                    )

    async def _look_up(
        self, activity: dict[str, Any], tenant: str, user_id: str
    ) -> dict[str, Any] | None:
        """Ask the Bot Connector who `user_id` is: in this conversation, else (a 1:1 chat
        holds only the person and the bot) in the teams and group chats the bot was most
        recently active in."""
        here = Reference(
            tenant_id=tenant,
            conversation_id=str((activity.get("conversation") or {}).get("id") or ""),
            service_url=str(activity.get("serviceUrl") or ""),
            conversation_type="",
            bot_id="",
        )
        async with self._db_sessions() as db:
            elsewhere = await teams_references.recent_shared(db, tenant, LOOK_UP_CONVERSATIONS)
        for place in [here, *(r for r in elsewhere if r.conversation_id != here.conversation_id)]:
            try:
                found = await self._connector.member(
                    place.service_url, place.conversation_id, user_id
                )
            except (RetryLater, PermanentFailure) as exc:
                log.info("teams_mention_not_found_here", extra={"error": str(exc)})
                continue
            if found.get("aadObjectId"):
                return found
        return None

    async def _removed(self, activity: dict[str, Any]) -> None:
        """The bot was removed from a team or a chat: forget it (and the tenant, if last)."""
        tenant = tenant_of(activity)
        if not tenant:
            return
        async with self._db_sessions() as db, db.begin():
            gone = await installs.removed(db, tenant, activity, self._clock.now())
        log.info("teams_bot_removed", extra={"workspace": tenant, "tenant_uninstalled": gone})

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
        async with self._db_sessions() as db, db.begin():
            now = self._clock.now()
            workspace = await workspaces.get_or_create(db, PLATFORM, tenant, now)
            outbox = WorkspaceContext.for_workspace(db, self._settings, workspace, now).outbox
            # One welcome per install, whatever Teams resends.
            await outbox.post(outbox_keys.teams_welcome(conversation), conversation, message)
        self._wake_outbox()

    async def deliver(self, activity: dict[str, Any], replies: list[Reply], key: str) -> None:
        """Replies through the outbox in a transaction of their own (an invoke's forms, an
        adapter's refusal), one message each, in order, to the asker's 1:1 chat."""
        if not replies:
            return
        enqueue = self.deliverer(activity, key)
        async with self._db_sessions() as db, db.begin():
            now = self._clock.now()
            workspace = await workspaces.get_or_create(db, PLATFORM, tenant_of(activity), now)
            ctx = WorkspaceContext.for_workspace(db, self._settings, workspace, now)
            await enqueue(ctx, replies)
        self._wake_outbox()

    def deliverer(self, activity: dict[str, Any], key: str) -> Deliver:
        """Writes replies to the outbox in the caller's transaction (the dispatcher's
        `deliver`): one message each, in order, to the asker's 1:1 chat."""
        tenant = tenant_of(activity)
        conversation = str((activity.get("conversation") or {}).get("id") or "")
        personal = (activity.get("conversation") or {}).get("conversationType") == "personal"
        user = person_of(activity)
        locale = pick_locale(user.locale, self._settings.locale)
        # Asked in a channel or a group chat: the asker's 1:1 chat with the bot.
        target = conversation if personal else f"dm:{user.id}"

        async def enqueue(ctx: WorkspaceContext, replies: list[Reply]) -> None:
            # A form opened here is answered from the 1:1 chat: it carries where it came from.
            forms = not personal and any(reply.form for reply in replies)
            opened_in = (
                form_origin.seal(self._sealer, tenant, user.id, conversation) if forms else ""
            )
            for n, reply in enumerate(replies):
                extra: dict[str, Any] = {}
                if reply.form:
                    extra = {"form": reply.form.to_json(), "locale": locale}
                    if opened_in:
                        extra["origin"] = opened_in
                message = OutboundMessage(reply.text, card=reply.card, extra=extra)
                await ctx.outbox.reply(outbox_keys.reply(key, n), target, message)

        return enqueue


def in_channel_unaddressed(activity: dict[str, Any]) -> bool:
    """A person's channel message that does not @mention the bot (and is no card's submit):
    what only the RSC permission brings (the module's docstring). Also read at the door
    (app.py), before anything is checked but the activity's shape: any JSON answers."""
    conversation = activity.get("conversation")
    if not isinstance(conversation, dict) or conversation.get("conversationType") != "channel":
        return False
    if activity.get("value") is not None:
        return False
    recipient = activity.get("recipient")
    bot = str(recipient.get("id") or "") if isinstance(recipient, dict) else ""
    entities = activity.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        if (
            isinstance(entity, dict)
            and entity.get("type") == "mention"
            and isinstance(mentioned, dict)
            and str(mentioned.get("id") or "") == bot
        ):
            return False
    return True


def maybe_thread_reply(activity: dict[str, Any]) -> bool:
    """A channel message not addressed to the bot, written in a post's thread (its
    conversation `<channel>;messageid=<root>`, the root not the message itself): maybe a
    reply to a posted question (the core decides). A new post is no reply."""
    if not in_channel_unaddressed(activity):
        return False
    conversation = activity.get("conversation") or {}
    _, _, root = str(conversation.get("id") or "").partition(THREAD)
    return bool(root) and root != str(activity.get("id") or "")


def _team_of(activity: dict[str, Any]) -> str | None:
    """The team of a channel activity (channelData.team.id), else None."""
    channel_data = activity.get("channelData") or {}
    team = channel_data.get("team") if isinstance(channel_data, dict) else None
    return str(team.get("id") or "") or None if isinstance(team, dict) else None


def _origin(activity: dict[str, Any]) -> Origin:
    """Where the core sees the activity come from: in a channel, the channel, not the post's
    thread (`<channel>;messageid=<root>`); a group or 1:1 chat's id has no thread part."""
    conversation = activity.get("conversation") or {}
    return Origin(
        PLATFORM,
        tenant_of(activity),
        channel_of(str(conversation.get("id") or "")),
        is_direct=conversation.get("conversationType") == "personal",
    )
