"""Runs one inbound event through the router inside one database transaction.

A handler either returns replies (the transaction commits; its outbox rows are handed to
the sender on commit, bot/outbox/handoff.py) or raises UserError (the transaction rolls
back: bad input changes nothing). Any other exception is logged with its traceback and
the user gets a short, translated apology: no stack trace ever reaches a user.

Replies as durable as effects: an adapter whose replies go out after the request was
acknowledged (Slack, Teams) passes `deliver`, which writes them to the outbox inside the
event's own transaction. The effects and their replies commit together: a process killed
between that commit and the send still sends them once, after its restart (the outbox),
and the request handled again finds its replay key and does nothing twice. A refusal or
an apology commits nothing, so it is returned instead, for the adapter to send: if the
process dies before that, the request is still pending in the inbox and is refused again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core import roles
from bot.core.context import Context, PresenceCounter, WorkspaceContext
from bot.core.errors import UserError
from bot.core.events import (
    ActionEvent,
    CommandEvent,
    FormSubmission,
    InboundEvent,
    Reaction,
    ThreadReply,
)
from bot.core.replies import Reply
from bot.core.routing import Router
from bot.i18n import Translator, pick_locale
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage import contributions, members, replay_keys, workspaces
from storage.vocabulary import ContributionKind

log = logging.getLogger(__name__)

# Concurrent transactions can collide (SQLite busy, PostgreSQL serialization or a
# unique key raced by another replica); a fresh attempt sees the winner's row.
ATTEMPTS = 4

# Admission control: at most this many events are handled at once in one process; the
# others wait their turn before opening a transaction. Every statement's await gives the
# loop a full turn, so with 20 playground clients in flight on PostgreSQL the scheduler's
# ticks and the outbox sender (same loop, the single-process default) waited behind all
# of them: challenge delivery p99 9-15 s under the challenges suite's load, 2-4 s with a
# cap of 6. The inbox worker handles 4 at once, below the cap; SQLite's writer (one
# connection) admits one transaction at a time anyway. A queued event costs only its
# awaiting coroutine.
MAX_IN_FLIGHT = 6

Route = Callable[[Context], Awaitable[list[Reply]]]
Deliver = Callable[[WorkspaceContext, list[Reply]], Awaitable[None]]
"""Writes a handled event's replies to the outbox, in its transaction (see the docstring)."""


class Dispatcher:
    """Turns neutral events into replies; the one entry point every adapter calls."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db_sessions: async_sessionmaker[AsyncSession],
        router: Router,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._db_sessions = db_sessions
        # Given, not imported: the tables import the handlers, which import the core.
        self.router = router
        self.presence: dict[str, PresenceCounter] = {}
        # Per-platform work done in every event's transaction (e.g. who is present where).
        self.observers: dict[str, Callable[[Context], Awaitable[None]]] = {}
        self._admitted = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def command(self, event: CommandEvent, deliver: Deliver | None = None) -> list[Reply]:
        """Handle typed command text."""
        route = self._route(event)
        return await self._run(event, route, "", deliver)

    async def action(self, event: ActionEvent, deliver: Deliver | None = None) -> list[Reply]:
        """Handle a button click."""
        return await self._run(event, self._route(event), event.action_id, deliver)

    async def form(self, event: FormSubmission, deliver: Deliver | None = None) -> list[Reply]:
        """Handle a form submission."""
        return await self._run(event, self._route(event), event.action_id, deliver)

    async def reaction(self, event: Reaction, deliver: Deliver | None = None) -> list[Reply]:
        """Handle a reaction added to a message or taken off it."""
        return await self._run(event, self._route(event), "", deliver)

    async def is_reply(self, event: ThreadReply) -> bool:
        """Whether a message written in a thread would be recorded as a reply to a posted
        question (read only). What is not is conversation the platform sent because the bot
        reads its channels' threads: the adapter forgets its raw request at once, without
        running it (nothing of it is written)."""
        async with self._db_sessions() as db:
            return await _counts_as_reply(db, event)

    async def handle(self, event: InboundEvent, deliver: Deliver | None = None) -> list[Reply]:
        """Handle any event, by its kind. With `deliver`, a handled event's replies are
        written to the outbox in its transaction and what is returned is only what is left
        to send: a refusal or an apology (nothing committed), or nothing."""
        label = event.action_id if isinstance(event, ActionEvent | FormSubmission) else ""
        return await self._run(event, self._route(event), label, deliver)

    def _route(self, event: InboundEvent) -> Route:
        """The router's entry point for this kind of event."""
        router = self.router
        if isinstance(event, CommandEvent):
            return lambda ctx: router.command(ctx, event.text)
        if isinstance(event, ActionEvent):
            return lambda ctx: router.action(ctx, event.action_id, event.value)
        if isinstance(event, FormSubmission):
            return lambda ctx: router.form(ctx, event.action_id, event.values)
        if isinstance(event, ThreadReply):
            return lambda ctx: router.thread_reply(ctx, event)
        return lambda ctx: router.reaction(ctx, event)

    async def refuse(self, event: InboundEvent, key: str, **params: object) -> Reply:
        """Refuse `event` without running it (an adapter's own check failed): the message
        `key` in the asker's language, as a handler's UserError would be; nothing written."""
        return await self._refusal(event, UserError(key, **params))

    async def _run(
        self, event: InboundEvent, route: Route, label: str, deliver: Deliver | None
    ) -> list[Reply]:
        async with self._admitted:  # see MAX_IN_FLIGHT
            return await self._run_admitted(event, route, label, deliver)

    async def _run_admitted(
        self, event: InboundEvent, route: Route, label: str, deliver: Deliver | None
    ) -> list[Reply]:
        started = time.perf_counter()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                replies, command = await self._transaction(event, route, deliver)
            except UserError as refusal:
                return await self._apart(event, [await self._refusal(event, refusal)], deliver)
            except (IntegrityError, DBAPIError) as exc:
                if attempt < ATTEMPTS and _is_transient(exc):
                    continue
                log.exception("event_failed", extra=_log_fields(event, label))
                return await self._apart(event, [self._apology(event)], deliver)
            except Exception:
                log.exception("event_failed", extra=_log_fields(event, label))
                return await self._apart(event, [self._apology(event)], deliver)
            log.info(
                "event_handled",
                extra={
                    **_log_fields(event, label or command),
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return replies
        raise AssertionError("unreachable")

    async def _apart(
        self, event: InboundEvent, replies: list[Reply], deliver: Deliver | None
    ) -> list[Reply]:
        """A refusal or an apology (the event's transaction rolled back): returned, or with
        `deliver` written to the outbox in a transaction of its own. Raises when the
        database refuses that too: the request stays pending and is handled again."""
        if deliver is None:
            return replies
        async with self._db_sessions() as db, db.begin():
            now = self.clock.now()
            origin = event.origin
            workspace = await workspaces.get_or_create(db, origin.platform, origin.workspace, now)
            ctx = WorkspaceContext.for_workspace(db, self.settings, workspace, now)
            await deliver(ctx, replies)
        return []

    async def _transaction(
        self, event: InboundEvent, route: Route, deliver: Deliver | None
    ) -> tuple[list[Reply], str]:
        async with self._db_sessions() as db, db.begin():
            if isinstance(event, ThreadReply) and not await _counts_as_reply(db, event):
                # Conversation, not a reply (Slack and Teams send every thread message of
                # the channels the bot is in): under anything but a posted question, or
                # the asker's own. It leaves no trace, not even its writer as a member.
                return [], "thread_ignored"
            if event.event_id is not None:
                key = f"{event.origin.platform}:{event.event_id}"
                if not await replay_keys.first_time(db, key, self.clock.now()):
                    return [], "duplicate"  # a platform's retry: handled once already
            ctx = await self._context(db, event)
            observer = self.observers.get(event.origin.platform)
            if observer is not None:
                await observer(ctx)
            replies = await route(ctx)
            if deliver is not None:
                await deliver(ctx, replies)
                replies = []  # in the outbox now, committed with the effects
            return replies, ctx.command_key

    async def _context(self, db: AsyncSession, event: InboundEvent) -> Context:
        now = self.clock.now()
        origin = event.origin
        name = event.user.name or event.user.id
        # The workspace and the asker in one round trip; a workspace's very first event
        # creates it first.
        seen = await members.upsert_seen_in(
            db, origin.platform, origin.workspace, event.user.id, name, event.user.locale, now
        )
        if seen is None:
            workspace = await workspaces.get_or_create(db, origin.platform, origin.workspace, now)
            actor = await members.upsert_seen(
                db, workspace.id, event.user.id, name, event.user.locale, now
            )
        else:
            workspace, actor = seen
        role = roles.effective_role(
            actor.role, self.settings.is_admin(origin.platform, actor.user_id)
        )
        return Context(
            settings=self.settings,
            db=db,
            origin=origin,
            user=event.user,
            workspace=workspace,
            actor=actor,
            role=role,
            now=now,
            outbox=Outbox(db, origin.platform, workspace.id, now),
            router=self.router,
            count_present=self.presence.get(origin.platform),
        )

    async def _refusal(self, event: InboundEvent, refusal: UserError) -> Reply:
        # The transaction rolled back: read the asker's language without writing.
        locale = await self._locale_of(event)
        return Reply(Translator(locale)(refusal.key, **refusal.params))

    def _apology(self, event: InboundEvent) -> Reply:
        locale = pick_locale(event.user.locale, self.settings.locale)
        return Reply(Translator(locale)("errors.internal"))

    async def _locale_of(self, event: InboundEvent) -> str:
        try:
            async with self._db_sessions() as db:
                workspace = await workspaces.find(db, event.origin.platform, event.origin.workspace)
                member = await members.find(db, workspace.id, event.user.id) if workspace else None
        except Exception:
            workspace, member = None, None
        return pick_locale(
            member.locale if member else None,
            event.user.locale,
            workspace.locale if workspace else None,
            self.settings.locale,
        )


async def _counts_as_reply(db: AsyncSession, event: ThreadReply) -> bool:
    """Whether `event` is a reply to a question (read only): text written under the post of
    a question still shown, by someone other than its asker — the conditions of the thread
    reply's handler (bot/handlers/contributions.py), checked before anything is written."""
    origin = event.origin
    if not event.text.strip():
        return False
    workspace = await workspaces.find(db, origin.platform, origin.workspace)
    if workspace is None:
        return False
    posted = await contributions.by_posted_message(
        db, workspace.id, origin.platform, event.parent.strip()[:255]
    )
    if posted is None or posted.kind != ContributionKind.QUESTION or posted.hidden_at is not None:
        return False
    writer = await members.find(db, workspace.id, event.user.id)
    return writer is None or writer.id != posted.member_id


def _is_transient(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    message = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(
        marker in message
        for marker in ("database is locked", "serializ", "deadlock", "could not obtain lock")
    )


def _log_fields(event: InboundEvent, command: str) -> dict[str, str]:
    # Never the message body or a token: platform, workspace and command are enough.
    return {
        "platform": event.origin.platform,
        "workspace": event.origin.workspace,
        "command": command,
        "kind": _KINDS[type(event)],
    }


_KINDS: dict[type, str] = {
    CommandEvent: "command",
    ActionEvent: "action",
    FormSubmission: "form",
    Reaction: "reaction",
    ThreadReply: "thread_reply",
}
