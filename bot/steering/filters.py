"""What a dashboard view covers, read from its URL so that a view can be shared.

    /dashboard?training=Excel+avancé&from=2026-06-01&to=2026-11-30
    /dashboard?session=K7Q2

`training` is a training's name (all its sessions), `session` one session's join code,
`from`/`to` a period (inclusive, in the viewer's time zone). Bad values raise
`FilterError` with the catalogue key that says how to write them: the page shows it and
keeps the other filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

MAX_TRAINING = 200
MAX_CODE = 16


class FilterError(ValueError):
    """A filter the page cannot read; `key` is the catalogue key of the explanation."""

    def __init__(self, key: str, name: str) -> None:
        super().__init__(key)
        self.key = key
        self.name = name


@dataclass(frozen=True)
class Filters:
    """A view: the whole workspace unless narrowed to a training, a session, a period."""

    training: str | None = None
    session: str | None = None
    start: date | None = None
    end: date | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        """The filters of a URL's query; empty values mean "not filtered"."""
        training = (query.get("training") or "").strip() or None
        if training is not None and len(training) > MAX_TRAINING:
            raise FilterError("dashboard.filter_training_long", "training")
        session = (query.get("session") or "").strip().upper() or None
        if session is not None and (len(session) > MAX_CODE or not session.isalnum()):
            raise FilterError("dashboard.filter_session_bad", "session")
        start = _day(query.get("from"), "from")
        end = _day(query.get("to"), "to")
        if start is not None and end is not None and end < start:
            raise FilterError("dashboard.filter_period_reversed", "to")
        return cls(training=training, session=session, start=start, end=end)

    def to_query(self) -> dict[str, str]:
        """The URL query that gives this view back (only what is set)."""
        query: dict[str, str] = {}
        if self.training:
            query["training"] = self.training
        if self.session:
            query["session"] = self.session
        if self.start:
            query["from"] = self.start.isoformat()
        if self.end:
            query["to"] = self.end.isoformat()
        return query


def _day(value: str | None, name: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError("dashboard.filter_date_bad", name) from None
