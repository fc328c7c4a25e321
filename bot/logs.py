"""One line per event: key=value text by default, JSON when LOG_FORMAT=json.

Fields passed with `extra=` become keys. Message bodies, texts people wrote, tokens,
secrets and response_urls are never passed — and what reaches the log is held to that
whoever logs it, because libraries do print payloads:

- `LibraryGuard` (on the handler `configure` installs): our own records (`bot.*`,
  `storage.*`) and alembic's pass as they are. Other libraries' records below WARNING are
  dropped: they are for those libraries' developers, and several print whole payloads
  there (slack-bolt logs the body of every request with a wrong signature at INFO —
  message texts, response_url — and every response at DEBUG; slack_sdk every Web API
  call's body and headers, the bot token included, and every response_url it posts to;
  aiosqlite the rows it returns). Their warnings and errors keep the first clause of the
  message (the template, before any interpolated value: "Unhandled request", "Error
  handling request"), named with the logger they came from.
- Exceptions, in both formats: their types and the traceback's frames (where it
  happened), and their message only for the kinds known to carry no one's data
  (`describe`); `int("…")`, `datetime.fromisoformat("…")`, KeyError and friends quote
  their input, slack_sdk's SlackApiError the whole response.
- Text lines: control characters (newline, CR, ESC…) and Unicode line separators
  escaped in the message, in every field and in the exception, so nothing a field holds
  can start a line of its own; the event and values with spaces, quotes or `=` quoted
  (logfmt), so nothing can add a field either. JSON lines escape them as JSON does, plus
  U+2028/U+2029 and the C1 controls. Every value is cut to a bounded length: a line is never as long
  as a request (1 MB bodies must not make 1 MB lines).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Loggers whose records are written as they are: ours (reviewed: names, ids, counts) and
# alembic's migration steps (revision ids).
TRUSTED = ("bot", "storage", "__main__", "alembic")
# Exceptions whose message is kept: ours (reviewed), SQLAlchemy's own and the database
# connection's (the engine hides SQL parameters too: storage/db.py), the network's (host,
# port, errno). Not the database's other errors: PostgreSQL's DETAIL quotes key values,
# asyncpg's "invalid input for query argument $1: '…'" the value itself.
_TRUSTED_ERRORS = ("bot.", "storage.")
_PLAIN_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
MAX_VALUE = 500  # characters of a message or a field
MAX_EXCEPTION = 20_000  # characters of a traceback
# Characters that end a line somewhere (terminals, editors, log viewers, str.splitlines)
# or reorder or hide text (bidirectional controls): C0, DEL, C1, U+2028/2029, bidi marks.
_ABOVE_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_TEXT = re.compile(f"[\x00-\x1f{_ABOVE_C0}]")
_UNSAFE_JSON = re.compile(f"[{_ABOVE_C0}]")  # json.dumps escapes C0 only
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BARE = re.compile(r'[^\s"=\\]+')
_CLAUSE_END = re.compile(r"[(\[{:=\n]")


def _escape(text: str) -> str:
    return _UNSAFE_TEXT.sub(lambda m: _NAMED.get(m[0]) or f"\\u{ord(m[0]):04x}", text)


def _cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…(+{len(text) - limit} chars)"


def describe(exc: BaseException) -> str:
    """`Type: message` for an exception whose message carries no one's data (ours, the
    database's, the network's; a Slack API error by its error code), else the type alone:
    safe to log or to keep as a row's last error."""
    name = type(exc).__qualname__
    module = type(exc).__module__
    if module != "builtins":
        name = f"{module}.{name}"
    if _is_slack_api_error(exc):  # its message holds the whole response
        response = getattr(exc, "response", None)
        data = getattr(response, "data", None)  # a dict, or the text of a non-JSON answer
        code = data.get("error") if isinstance(data, dict) else None
        return f"{name}: {code or 'error'}"
    if not str(exc):
        return name
    if isinstance(exc, DBAPIError) and not isinstance(exc, _CONNECTION_ERRORS):
        return f"{name} ({type(exc.orig).__name__}; message withheld: it may quote values)"
    if module.startswith(_TRUSTED_ERRORS) or isinstance(exc, _PLAIN_ERRORS):
        return _cut(f"{name}: {exc}")
    return f"{name} (message withheld: it may quote what was sent)"


def _is_slack_api_error(exc: BaseException) -> bool:
    # Known by its class's name and module rather than imported: only bot/adapters/ imports
    # a platform's SDK (tests/test_import_graph.py), and this module serves every process.
    return any(
        kind.__name__ == "SlackApiError" and kind.__module__.startswith("slack_sdk.")
        for kind in type(exc).__mro__
    )


def format_exception(exc: BaseException) -> str:
    """The traceback of `exc` and of its causes, each described by `describe`."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    link = ""
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception:"
        else:
            current = None
    parts: list[str] = []
    for current, link in reversed(chain):
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{describe(current)}")
        if link:
            parts.append(link)
    return _cut("\n".join(parts), MAX_EXCEPTION)


def _exception_text(record: logging.LogRecord) -> str | None:
    info = record.exc_info
    if info and isinstance(info, tuple) and info[1] is not None:
        return format_exception(info[1])
    return None


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _logfmt(value: Any) -> str:
    text = _cut(str(value))
    if _BARE.fullmatch(text) and not _UNSAFE_TEXT.search(text):
        return text
    return '"' + _escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


class JsonFormatter(logging.Formatter):
    """A JSON object per line: time, level, logger, event and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": _cut(record.getMessage()),
            **{k: _json_value(v) for k, v in _fields(record).items()},
        }
        if (exception := _exception_text(record)) is not None:
            data["exception"] = exception
        line = json.dumps(data, default=str, ensure_ascii=False)
        return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", line)


def _json_value(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return _cut(str(value))


class TextFormatter(logging.Formatter):
    """`time level event key=value …` on one line; a traceback follows, indented, for
    developers (every line of it starts with spaces: none can pass for an event)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        event = _logfmt(record.getMessage())  # quoted unless one bare word: adds no field
        pairs = " ".join(f"{_key(k)}={_logfmt(v)}" for k, v in _fields(record).items())
        line = f"{stamp} {record.levelname.lower():7} {event} {pairs}".rstrip()
        if (exception := _exception_text(record)) is not None:
            line += "".join(f"\n    {_escape(part)}" for part in exception.split("\n"))
        return line


def _key(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name)[:64] or "_"


class LibraryGuard(logging.Filter):
    """Drops other libraries' records below WARNING; reduces their warnings and errors
    to the first clause of their message (see the module's docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] in TRUSTED:
            return True
        if record.levelno < logging.WARNING:
            return False
        # The template, without its %-arguments; bolt and slack_sdk use f-strings: the
        # first clause ends before the first interpolated value they print.
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        clause = _CLAUSE_END.split(template, maxsplit=1)[0].strip().rstrip(".")
        record.msg = _cut(clause, 120) or "library message"
        record.args = None
        record.source = record.name
        return True


def configure(log_format: str, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Install the formatter and the LibraryGuard on the root logger (idempotent);
    `stream` defaults to standard error."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(LibraryGuard())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log repeats every request; our own event lines are enough.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # APScheduler logs three lines per tick, and warns when a tick is skipped because the
    # previous one still runs (expected: ticks are serialised); our own lines say what ran.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    # alembic says which SQL dialect it drives on every start ("Context impl SQLiteImpl."):
    # noise for whoever reads the start-up; its warnings and errors still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)
