"""Schedule clauses in English and French; anything date-like but wrong is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import UserError
from bot.core.parsing import tokenize
from bot.scheduling.clauses import split, to_recurrence
from bot.scheduling.recurrence import next_run

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
PARIS = ZoneInfo("Europe/Paris")


def _plan(text: str):  # type: ignore[no-untyped-def]
    tokens, schedule = split(tokenize(text))
    return " ".join(t.value for t in tokens), to_recurrence(schedule, NOW, "Europe/Paris")


def _first(text: str) -> str:
    _, recurrence = _plan(text)
    assert recurrence is not None
    run = next_run(recurrence, NOW)
    assert run is not None
    return run.astimezone(recurrence.zone).strftime("%a %Y-%m-%d %H:%M")


def test_text_without_clauses_posts_now() -> None:
    assert _plan("Share one win") == ("Share one win", None)
    assert _plan("Meet at the café")[0] == "Meet at the café"
    assert _plan('"Meet at 2026-12-01 09:00" please')[1] is None


def test_dates_times_and_iso_with_offset() -> None:
    assert _plan("Go at 2026-12-01 09:00")[0] == "Go"
    assert _first("Go at 2026-12-01 09:00") == "Tue 2026-12-01 09:00"
    assert _first("Go at 2026-12-01T09:00:00+01:00") == "Tue 2026-12-01 09:00"
    assert _first("Go le 01/12/2026 9h30") == "Tue 2026-12-01 09:30"


def test_recurrences_in_both_languages() -> None:
    assert _first("Go every monday 09:00") == "Mon 2026-11-30 09:00"
    assert _first("Go chaque lundi 9h") == "Mon 2026-11-30 09:00"
    assert _first("Go tous les lundis 9h") == "Mon 2026-11-30 09:00"
    assert _first("Go every day 08:30") == "Sat 2026-11-28 08:30"
    assert _first("Go tous les jours 8h30") == "Sat 2026-11-28 08:30"
    assert _first("Go cron 0 9 * * 1-5") == "Mon 2026-11-30 09:00"
    assert _first('Go every "0 9 * * 1-5"') == "Mon 2026-11-30 09:00"
    _, fortnightly = _plan("Go every 2 weeks at 2026-12-02 10:00")
    assert fortnightly is not None and fortnightly.interval_days == 14


def test_until_target_and_time_zone() -> None:
    tokens, schedule = split(
        tokenize("Go every monday 09:00 until 2027-01-31 in #ambassadors tz America/Montreal")
    )
    assert [t.value for t in tokens] == ["Go"]
    assert schedule.conversation == "ambassadors" and schedule.timezone == "America/Montreal"
    recurrence = to_recurrence(schedule, NOW, "Europe/Paris")
    assert recurrence is not None and recurrence.timezone == "America/Montreal"
    assert recurrence.end is not None and recurrence.end.date().isoformat() == "2027-01-31"
    tokens, schedule = split(tokenize("Va jusqu'au bout"))
    assert [t.value for t in tokens] == ["Va", "jusqu'au", "bout"]


def test_french_weekday_shorthand_is_the_next_such_day_once() -> None:
    _, recurrence = _plan("Go lundi 9h")
    assert recurrence is not None and recurrence.kind == "once"
    assert recurrence.start.astimezone(PARIS).strftime("%a %H:%M") == "Mon 09:00"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Go at 2026-13-45 09:00", "schedule.bad_date"),
        ("Go at 2026-12-01 25:00", "schedule.bad_time"),
        ("Go at 2020-01-01 09:00", "schedule.in_the_past"),
        ("Go every monday 09:00 until 2020-01-01", "schedule.no_future_run"),
        ("Go cron 0 99 * * *", "schedule.bad_cron"),
        ("Go every 0 weeks", "schedule.bad_interval"),
        ("Go every day 09:00 tz Mars/Base", "schedule.bad_timezone"),
        ("Go until 2027-01-31", "schedule.until_needs_schedule"),
    ],
)
def test_wrong_schedules_are_refused_with_a_reason(text: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        _plan(text)
    assert refused.value.key == key


@settings(deadline=None)  # CI machines are shared: no per-example time limit
@given(st.text(max_size=200))
def test_split_never_fails_unexpectedly(text: str) -> None:
    try:
        _text, schedule = split(tokenize(text))
        to_recurrence(schedule, NOW, "Europe/Paris")
    except UserError:
        pass
