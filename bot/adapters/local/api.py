"""The playground's JSON API (documented in docs/COMMANDS.md, "Local API").

Malformed JSON or a missing field is a 400 naming the field, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import json_input
from bot.adapters.local import PLATFORM, WORKSPACE
from bot.adapters.local.guard import PlaygroundGuard
from bot.adapters.local.presence import LocalPresence
from bot.clock import Clock
from bot.core.dispatch import Dispatcher
from bot.core.events import (
    ActionEvent,
    CommandEvent,
    FormSubmission,
    Origin,
    PlatformUser,
    Reaction,
)
from bot.core.replies import Reply
from bot.core.routing import Router
from bot.i18n import SUPPORTED, Translator
from bot.settings import Settings
from storage import local_messages, members, playground_reset, workspaces
from storage.vocabulary import MemberRole

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = frozenset({"playground.css", "playground.js", "playground-i18n.js"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_TEXT = 40_000
MAX_ID = 128
MAX_CONVERSATION = 200


class BadRequest(Exception):
    """A request the API refuses with 400; `field` names what to fix."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        data = json_input.parse(await request.read())
    except json_input.NotJson as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _string(data: dict[str, Any], field: str, *, max_len: int, allow_empty: bool = False) -> str:
    value = data.get(field)
    if not isinstance(value, str):
        raise BadRequest(f"'{field}' is required and must be a string", field)
    if not allow_empty and not value.strip():
        raise BadRequest(f"'{field}' must not be empty", field)
    if len(value) > max_len:
        raise BadRequest(f"'{field}' is longer than {max_len} characters", field)
    return value if allow_empty else value.strip()


def _user(data: dict[str, Any]) -> PlatformUser:
    raw = data.get("user")
    if not isinstance(raw, dict):
        raise BadRequest('\'user\' is required: {"id": "u1", "name": "Alice"}', "user")
    user_id = _string(raw, "id", max_len=MAX_ID).strip()
    if any(ch.isspace() for ch in user_id) or "@" in user_id:
        raise BadRequest("'user.id' must not contain spaces or @", "user.id")
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise BadRequest("'user.name' must be a string", "user.name")
    locale = raw.get("locale")
    if locale is not None and not isinstance(locale, str):
        raise BadRequest("'user.locale' must be a string such as \"fr\"", "user.locale")
    timezone = raw.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        raise BadRequest("'user.timezone' must be a string", "user.timezone")
    return PlatformUser(
        id=user_id,
        name=(name or user_id).strip()[:200] or user_id,
        locale=(locale or None) and locale[:16],
        timezone=(timezone or None) and timezone[:64],
    )


def _origin(data: dict[str, Any]) -> Origin:
    conversation = _string(data, "conversation", max_len=MAX_CONVERSATION)
    return Origin(PLATFORM, WORKSPACE, conversation, is_direct=conversation.startswith("dm:"))


REACTIONS = {"like": True, "dislike": False}


def _interaction(
    router: Router,
    origin: Origin,
    user: PlatformUser,
    action_id: str,
    value: str,
    data: dict[str, Any],
) -> ActionEvent | FormSubmission | Reaction:
    """What POST /local/api/action stands for: the playground has one door for a click, a
    form submitted and a reaction (it has no emoji: the reaction row's action_id with the
    message's id, optionally `"reaction": "like"` (the default) or `"dislike"`, and
    `"removed": true` for one taken off), so the router's tables say which one
    `action_id` names."""
    if action_id == router.reaction_row.action_id:
        kind = data.get("reaction", "like")
        removed = data.get("removed", False)
        if kind not in REACTIONS:
            raise BadRequest('\'reaction\' must be "like" or "dislike"', "reaction")
        if not isinstance(removed, bool):
            raise BadRequest("'removed' must be true or false", "removed")
        return Reaction(origin, user, value, approving=REACTIONS[kind], removed=removed)
    if router.forms.get(action_id) is not None:
        return FormSubmission(origin, user, action_id, value)
    return ActionEvent(origin, user, action_id, value)


def _answer(replies: list[Reply]) -> web.Response:
    """The replies, in order, for the page to show the asker alone (bot/core/replies.py)."""
    return web.json_response({"replies": [reply.to_json() for reply in replies]})


class LocalApi:
    """Route handlers of the playground page and its JSON API."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db_sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        presence: LocalPresence,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._db_sessions = db_sessions
        self._dispatcher = dispatcher
        self._guard = PlaygroundGuard(settings)
        self._presence = presence

    def routes(self) -> list[web.AbstractRouteDef]:
        """The page, its static files and the JSON API, each behind the guard."""
        guarded = self._guarded
        return [
            web.get("/", self.page),
            web.get("/static/{name}", guarded(self.static)),
            web.post("/local/api/command", guarded(self.command)),
            web.post("/local/api/action", guarded(self.action)),
            web.get("/local/api/conversations", guarded(self.conversations)),
            web.get("/local/api/conversations/{conversation}/messages", guarded(self.messages)),
            web.get("/local/api/users", guarded(self.users)),
            web.get("/local/api/commands", guarded(self.commands)),
            web.get("/local/api/clock", guarded(self.get_clock)),
            web.post("/local/api/clock", guarded(self.set_clock)),
            web.post("/local/api/reset", guarded(self.reset)),
        ]

    def _guarded(self, handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            refusal = self._guard.refusal(request)
            return refusal if refusal is not None else await handler(request)

        return checked

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The playground page; opened with the right `?token=`, the token is kept in a
        cookie and the address cleaned of it (out of the history and of Referer)."""
        if self._guard.token_in_query(request):
            response = web.HTTPSeeOther("/")
            self._guard.remember_token(response)
            return response
        refusal = self._guard.refusal(request)
        if refusal is not None:
            return refusal
        return web.FileResponse(STATIC_DIR / "playground.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        """The page's script and style sheet (only the files shipped with it)."""
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC_DIR / name)

    async def command(self, request: web.Request) -> web.Response:
        """POST /local/api/command: run typed text as `user` in `conversation`."""
        try:
            data = await _json_object(request)
            user, origin = _user(data), _origin(data)
            text = _string(data, "text", max_len=MAX_TEXT, allow_empty=True)
        except BadRequest as exc:
            return _error(400, str(exc), exc.field)
        return _answer(await self._dispatcher.command(CommandEvent(origin, user, text)))

    async def action(self, request: web.Request) -> web.Response:
        """POST /local/api/action: a button click, a form submission or a reaction."""
        try:
            data = await _json_object(request)
            user, origin = _user(data), _origin(data)
            action_id = _string(data, "action_id", max_len=255)
            value = data.get("value", "")
            if isinstance(value, dict | list):
                value = json.dumps(value)  # a form's values may come as an object
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise BadRequest("'value' must be a string (or a JSON object for forms)", "value")
            event = _interaction(self._dispatcher.router, origin, user, action_id, value, data)
        except BadRequest as exc:
            return _error(400, str(exc), exc.field)
        return _answer(await self._dispatcher.handle(event))

    async def messages(self, request: web.Request) -> web.Response:
        """GET …/conversations/{conversation}/messages: the bot's posts there, oldest first."""
        conversation = request.match_info["conversation"]
        async with self._db_sessions() as db:
            found = await local_messages.in_conversation(db, conversation)
        return web.json_response(
            {
                "messages": [
                    {
                        "id": str(message.id),
                        "text": message.text,
                        "card": message.card,
                        "in_reply_to": str(message.in_reply_to) if message.in_reply_to else None,
                        "created_at": _iso(message.created_at),
                        "updated_at": _iso(message.updated_at),
                    }
                    for message in found
                ]
            }
        )

    async def conversations(self, _request: web.Request) -> web.Response:
        """GET /local/api/conversations: conversations with at least one message."""
        async with self._db_sessions() as db:
            names = await local_messages.conversations(db)
        return web.json_response({"conversations": names})

    def _level_names(self, code: str | None) -> dict[str, str]:
        level = self._settings.ladder.find(code) if code else None
        return {locale: level.name(locale) for locale in SUPPORTED} if level else {}

    async def users(self, _request: web.Request) -> web.Response:
        """GET /local/api/users: the people the bot knows in the playground."""
        async with self._db_sessions() as db:
            workspace = await workspaces.find(db, PLATFORM, WORKSPACE)
            known = await members.list_members(db, workspace.id) if workspace else []
        return web.json_response(
            {
                "users": [
                    {
                        "id": member.user_id,
                        "name": member.display_name,
                        "locale": member.locale or member.platform_locale,
                        "role": MemberRole.ADMIN
                        if self._settings.is_admin(PLATFORM, member.user_id)
                        else member.role,
                        "level": member.level,
                        # The level's name in each language the page speaks.
                        "level_names": self._level_names(member.level),
                        "joined": member.joined_at is not None,
                    }
                    for member in known
                ]
            }
        )

    async def commands(self, _request: web.Request) -> web.Response:
        """GET /local/api/commands: each listed command's usage, as `help` writes it in each
        language, with the least role `help` lists it for; the page groups `help` by role."""
        translators = [Translator(locale) for locale in SUPPORTED]
        return web.json_response(
            {
                "commands": [
                    {
                        "usages": [t(f"commands.{command.key}.usage") for t in translators],
                        "role": command.role,
                    }
                    for command in self._dispatcher.router.commands.commands
                    if command.listed
                ]
            }
        )

    async def get_clock(self, _request: web.Request) -> web.Response:
        """GET /local/api/clock: the core's time and whether it can be moved."""
        return web.json_response(
            {
                "now": _iso(self._clock.now()),
                "controllable": self._settings.local_clock_control,
                # The zone the bot reads its clock in (schedules, "09:00 Europe/Paris"):
                # the page shows times in it, labelled, whatever the browser's zone.
                "timezone": self._settings.timezone,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        """POST /local/api/reset {"confirm": "reset"}: forget the playground's demo data
        (its workspace, people, sessions, messages…); the database file and the venv stay.
        The confirmation keeps a stray POST from wiping a rehearsal."""
        try:
            data = await _json_object(request)
            if data.get("confirm") != "reset":
                raise BadRequest(
                    'confirm the reset with {"confirm": "reset"}: it deletes every '
                    "playground message, person, session and challenge",
                    "confirm",
                )
        except BadRequest as exc:
            return _error(400, str(exc), exc.field)
        async with self._db_sessions() as db, db.begin():
            deleted = await playground_reset.reset(db, PLATFORM, WORKSPACE)
        self._presence.forget()  # presence rows are gone: record who speaks again
        return web.json_response({"deleted": deleted})

    async def set_clock(self, request: web.Request) -> web.Response:
        """POST /local/api/clock: move the clock forward (LOCAL_CLOCK_CONTROL=1 only)."""
        if not self._settings.local_clock_control:
            return _error(403, "clock control is off: start the bot with LOCAL_CLOCK_CONTROL=1")
        try:
            data = await _json_object(request)
            # At most ten years ahead of real time (bot/clock.py MAX_AHEAD): beyond, dates
            # the bot derives from the clock would overflow.
            latest = self._clock.latest()
            if "advance_seconds" in data:
                seconds = data["advance_seconds"]
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                    raise BadRequest(
                        "'advance_seconds' must be a number of seconds, 0 or more, e.g. 3600",
                        "advance_seconds",
                    )
                room = int((latest - self._clock.now()).total_seconds())
                if seconds > room:
                    raise BadRequest(
                        "'advance_seconds' is too large: the clock runs at most ten years "
                        f"ahead of real time, so at most {room} now",
                        "advance_seconds",
                    )
                now = await self._clock.advance(float(seconds))
            elif "now" in data:
                when = _parse_iso(data["now"])
                if when > latest:
                    raise BadRequest(
                        "'now' is too far ahead: the clock runs at most ten years ahead of "
                        f"real time, so 'now' must be before {_iso(latest)}",
                        "now",
                    )
                if when < self._clock.now():
                    raise BadRequest("'now' is in the past: the clock never moves back", "now")
                now = await self._clock.set(when)
            else:
                raise BadRequest("give 'now' (ISO 8601) or 'advance_seconds'", "now")
        except BadRequest as exc:
            return _error(400, str(exc), exc.field)
        return web.json_response({"now": _iso(now)})


def _parse_iso(value: Any) -> datetime:
    """An aware UTC date-time from ISO 8601 (no time zone: UTC)."""
    if not isinstance(value, str):
        raise BadRequest("'now' must be an ISO 8601 date-time", "now")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            "'now' must be an ISO 8601 date-time, e.g. 2026-12-01T09:00:00+01:00", "now"
        ) from None
    try:
        # In UTC from here: comparing 9999-12-31T23:00-05:00 with anything overflows.
        return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise BadRequest(
            "'now' is beyond the year 9999: the clock cannot go there", "now"
        ) from None


def _iso(when: datetime) -> str:
    return when.isoformat()
