"""JSON from strangers: what the three doors (Slack, Teams, the playground API) parse.

`json.loads` alone turns hostile bodies into 500s or worse: 100 000 nested `[` raise
RecursionError (not ValueError); a number of 5 000 digits raises the int-conversion limit's
ValueError (https://docs.python.org/3/library/stdtypes.html#int-max-str-digits); `NaN`
and `Infinity` are accepted although JSON has no such values (RFC 8259 §6) and break
arithmetic and PostgreSQL's jsonb later; a document 900 levels deep parses here but makes
any later recursive step (serialising it into the inbox, walking it) fail far from the door;
a NUL character or a lone surrogate (`"\\ud800"`) parses but no database column stores it.
`parse` refuses all of these with a reason a sender can act on, before anything is done.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The deepest document accepted. Slack's payloads nest about 10 levels (a modal's
# state.values.<block>.<action>.selected_options[].text), Teams' activities about 8.
MAX_DEPTH = 64
# NUL and UTF-16 surrogates: valid in a JSON string escape, invalid in UTF-8 text that
# SQLite and PostgreSQL store (https://www.postgresql.org/docs/current/datatype-json.html).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NotJson(ValueError):
    """A body refused by `parse`; its message says what is wrong and how to send it."""


def parse(raw: bytes | str, what: str = "the body") -> Any:
    """The JSON value in `raw` (UTF-8), or NotJson naming what is wrong with `what`."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotJson(f"{what} is not UTF-8 text") from None
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise NotJson(f"{what} is nested more than {MAX_DEPTH} levels deep") from None
    except _Constant as exc:
        raise NotJson(
            f"{what} holds {exc}, which is not a JSON value (RFC 8259 §6); send a number or null"
        ) from None
    except json.JSONDecodeError as exc:
        # exc.msg and the position name no content ("Expecting value", line, column).
        where = f"line {exc.lineno} column {exc.colno}"
        raise NotJson(f"{what} is not JSON (RFC 8259): {exc.msg} at {where}") from None
    except ValueError:  # the int-conversion limit: nothing else in json.loads raises it
        raise NotJson(f"{what} holds a number of more than 4300 digits") from None
    problem = _problem(data)
    if problem is not None:
        raise NotJson(f"{what} {problem}")
    return data


class _Constant(ValueError):
    """NaN, Infinity or -Infinity met while parsing."""


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def _problem(data: Any) -> str | None:
    """Depth beyond MAX_DEPTH, or a string no database stores; walked without recursion."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return "holds a NUL character or a lone UTF-16 surrogate, which cannot be stored"
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    stack.append((key, depth + 1))
                stack.append((item, depth + 1))
    return None
