"""Schedule clauses at the end of a command, in English and French.

`challenge post Share one win at 2026-12-01 09:00 every monday 09:00 until 2027-01-31`
splits into the text ("Share one win") and clauses. A clause counts only when it parses:
`Meet at the café` stays text. Something that looks like a date but is wrong
(`at 2026-13-45`) is an error, never silently text.

Clauses (English / French):
- at DATE [TIME] | at ISO-8601 | at TIME        — à / le
- every day TIME | every WEEKDAY TIME | every N weeks|days [TIME] | every week
  | cron M H DoM Mon DoW | every "M H DoM Mon DoW"
                                                  — chaque / tous les / toutes les,
                                                    jour(s), semaine(s), lundi…
- WEEKDAY TIME (French shorthand, `lundi 9h`): the next such day, once
- until DATE                                      — jusqu'au / jusqu'à
- in #conversation                                — dans #conversation
- tz Area/City                                    — fuseau Area/City
- remind Nh | remind N hours                      — rappel Nh / rappel N heures
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.core.errors import UserError
from bot.core.parsing import Token, fold, tokenize
from bot.scheduling.recurrence import Recurrence, first_run

WEEKDAY_WORDS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{
        name: i
        for i, name in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
    **{name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
}
AT_WORDS = {"at", "a", "le", "on"}
EVERY_WORDS = {"every", "chaque"}
EVERY_PAIRS = {("tous", "les"), ("toutes", "les")}
UNTIL_WORDS = {"until", "jusqu'au", "jusqu'a", "jusqu’au", "jusqu’a", "jusqua", "jusquau"}
IN_WORDS = {"in", "dans"}
TZ_WORDS = {"tz", "fuseau", "timezone"}
REMIND_WORDS = {"remind", "rappel", "reminder"}
_HOURS = re.compile(r"^(\d{1,3})h$")
HOUR_WORDS = {"h", "hour", "hours", "heure", "heures"}
CRON_WORDS = {"cron"}
DAY_WORDS = {"day", "days", "jour", "jours", "daily"}
WEEK_WORDS = {"week", "weeks", "semaine", "semaines", "weekly"}

_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{1,2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")
_TIME = re.compile(r"^(\d{1,2})(?:[:h](\d{2})?)?$")
_CONVERSATION = re.compile(r"^(?:#([\w.\-]+)|<#([A-Z0-9]+)(?:\|[^>]*)?>)$")


@dataclass
class Schedule:
    """What the clauses asked for; empty when the text is to be posted now."""

    at_date: date | None = None
    at_time: time | None = None
    at_instant: datetime | None = None  # an ISO 8601 date-time with its own offset
    weekday_once: int | None = None
    every_cron: dict[str, str] = field(default_factory=dict)
    every_days: int = 0
    every_time: time | None = None
    until: date | None = None
    conversation: str | None = None
    timezone: str | None = None
    remind_hours: int | None = None

    @property
    def is_now(self) -> bool:
        """No time and no recurrence: post at once."""
        return not (
            self.at_date
            or self.at_time
            or self.at_instant
            or self.weekday_once is not None
            or self.every_cron
            or self.every_days
        )


def _time(token: Token) -> time | None:
    match = _TIME.match(token.key)
    if not match or (":" not in token.value and "h" not in token.key):
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise UserError("schedule.bad_time", value=token.value[:20])
    return time(hour, minute)


def _date(token: Token) -> date | None:
    value = token.value
    if not _DATE_LIKE.match(value):
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise UserError("schedule.bad_date", value=value[:30])


def _parse_at(tokens: list[Token], i: int, schedule: Schedule) -> int | None:
    if i >= len(tokens):
        return None
    token = tokens[i]
    if _ISO.match(token.value):
        try:
            instant = datetime.fromisoformat(token.value.replace("Z", "+00:00"))
        except ValueError:
            raise UserError("schedule.bad_date", value=token.value[:30]) from None
        if instant.tzinfo is None:
            schedule.at_date, schedule.at_time = instant.date(), instant.time()
        else:
            schedule.at_instant = instant
        return i + 1
    day = _date(token)
    if day is not None:
        schedule.at_date = day
        if i + 1 < len(tokens):
            at = _time(tokens[i + 1])
            if at is not None:
                schedule.at_time = at
                return i + 2
        return i + 1
    at = _time(token)
    if at is not None:
        schedule.at_time = at
        return i + 1
    return None


def _parse_every(tokens: list[Token], i: int, schedule: Schedule) -> int | None:
    if i >= len(tokens):
        return None
    key = tokens[i].key
    if tokens[i].quoted:
        return _parse_cron(tokens[i].value.split(), schedule, tokens[i].value, i + 1)
    if key in DAY_WORDS or key in WEEK_WORDS:
        schedule.every_days = 7 if key in WEEK_WORDS else 1
        return _maybe_time(tokens, i + 1, schedule)
    weekday = WEEKDAY_WORDS.get(key.rstrip("s")) if key not in WEEKDAY_WORDS else WEEKDAY_WORDS[key]
    if weekday is not None:
        end = _maybe_time(tokens, i + 1, schedule)
        schedule.every_cron = {"day_of_week": str(weekday)}
        return end
    if key.isdigit() and i + 1 < len(tokens):
        count, unit = int(key), tokens[i + 1].key
        if unit in DAY_WORDS or unit in WEEK_WORDS:
            if count < 1 or count > 365:
                raise UserError("schedule.bad_interval")
            schedule.every_days = count * (7 if unit in WEEK_WORDS else 1)
            return _maybe_time(tokens, i + 2, schedule)
    return None


def _maybe_time(tokens: list[Token], i: int, schedule: Schedule) -> int:
    if i < len(tokens):
        at = _time(tokens[i])
        if at is not None:
            schedule.every_time = at
            return i + 1
    return i


def _parse_cron(fields: list[str], schedule: Schedule, shown: str, end: int) -> int | None:
    if len(fields) != 5:
        return None
    names = ("minute", "hour", "day", "month", "day_of_week")
    cron = dict(zip(names, fields, strict=True))
    cron["day_of_week"] = _crontab_weekdays(fields[4])
    try:
        CronTrigger(**cron)
    except ValueError:
        raise UserError("schedule.bad_cron", value=(shown or " ".join(fields))[:40]) from None
    schedule.every_cron = cron
    return end


_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday (0 or 7); APScheduler 3 from Monday: use names."""
    return re.sub(r"(?<![/\d])\d+", lambda m: _CRONTAB_DAYS[int(m.group()) % 7], field)


def _parse_clause(tokens: list[Token], i: int, schedule: Schedule) -> int | None:
    """Parse one clause starting at tokens[i]; the index after it, or None."""
    token = tokens[i]
    if token.quoted:
        return None
    key = token.key
    nxt = i + 1
    if key in AT_WORDS:
        return _parse_at(tokens, nxt, schedule)
    if key in EVERY_WORDS:
        return _parse_every(tokens, nxt, schedule)
    if nxt < len(tokens) and (key, tokens[nxt].key) in EVERY_PAIRS:
        return _parse_every(tokens, nxt + 1, schedule)
    if key in CRON_WORDS:
        return _parse_cron([t.value for t in tokens[nxt : nxt + 5]], schedule, "", nxt + 5)
    if key in UNTIL_WORDS and nxt < len(tokens):
        until = _date(tokens[nxt])
        if until is None:
            return None
        schedule.until = until
        return nxt + 1
    if key in IN_WORDS and nxt < len(tokens):
        match = _CONVERSATION.match(tokens[nxt].value)
        if match is None:
            return None
        schedule.conversation = match.group(1) or match.group(2)
        return nxt + 1
    if key in REMIND_WORDS and nxt < len(tokens):
        return _parse_remind(tokens, nxt, schedule)
    if key in TZ_WORDS and nxt < len(tokens):
        try:
            ZoneInfo(tokens[nxt].value)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError("schedule.bad_timezone", value=tokens[nxt].value[:40]) from None
        schedule.timezone = tokens[nxt].value
        return nxt + 1
    if key in WEEKDAY_WORDS and nxt < len(tokens) and _time(tokens[nxt]) is not None:
        schedule.weekday_once = WEEKDAY_WORDS[key]
        schedule.at_time = _time(tokens[nxt])
        return nxt + 1
    return None


def _parse_remind(tokens: list[Token], i: int, schedule: Schedule) -> int | None:
    """`remind 2h` / `rappel 2 heures`: hours before an occurrence closes."""
    match = _HOURS.match(tokens[i].key)
    end = i + 1
    spelled = end < len(tokens) and tokens[end].key in HOUR_WORDS
    if match is None and tokens[i].key.isdigit() and spelled:
        match, end = re.match(r"^(\d+)$", tokens[i].key), end + 1
    if match is None:
        return None
    hours = int(match.group(1))
    if not 1 <= hours <= 720:
        raise UserError("schedule.bad_remind")
    schedule.remind_hours = hours
    return end


def _parse_tail(tokens: list[Token], start: int) -> Schedule | None:
    schedule = Schedule()
    i = start
    while i < len(tokens):
        end = _parse_clause(tokens, i, schedule)
        if end is None or end <= i:
            return None
        i = end
    return schedule


def split(tokens: list[Token]) -> tuple[list[Token], Schedule]:
    """The text tokens and the schedule of the clauses that end the command.

    Raises UserError when something looks like a date, a time or a cron rule but is wrong.
    """
    for start in range(len(tokens)):
        if tokens[start].quoted or fold(tokens[start].value) not in _CLAUSE_STARTS:
            continue
        schedule = _parse_tail(tokens, start)
        if schedule is not None:
            return tokens[:start], schedule
    return tokens, Schedule()


_CLAUSE_STARTS = (
    AT_WORDS
    | EVERY_WORDS
    | {first for first, _ in EVERY_PAIRS}
    | CRON_WORDS
    | UNTIL_WORDS
    | IN_WORDS
    | TZ_WORDS
    | REMIND_WORDS
    | set(WEEKDAY_WORDS)
)


def to_recurrence(schedule: Schedule, now: datetime, timezone: str) -> Recurrence | None:
    """The recurrence the clauses describe (None: post now). Raises UserError when it
    has no future run, or names a time in the past."""
    zone = ZoneInfo(schedule.timezone or timezone)
    zone_name = schedule.timezone or timezone
    end = (
        datetime.combine(schedule.until, time(23, 59, 59), tzinfo=zone) if schedule.until else None
    )
    if schedule.is_now:
        if end is not None:
            raise UserError("schedule.until_needs_schedule")
        return None
    start = _start(schedule, now, zone)
    at_time = schedule.every_time or schedule.at_time or (start.timetz() if start else None)
    if schedule.every_cron:
        cron = dict(schedule.every_cron)
        if "minute" not in cron:
            hour_minute = at_time or time(9, 0)
            cron.update(hour=str(hour_minute.hour), minute=str(hour_minute.minute))
        recurrence = Recurrence("cron", zone_name, start=start or now, end=end, cron=cron)
    elif schedule.every_days:
        first = start or now
        if schedule.every_time is not None and start is None:
            first = _next_wall(now, schedule.every_time, zone)
        recurrence = Recurrence(
            "interval", zone_name, start=first, end=end, interval_days=schedule.every_days
        )
    else:
        if start is None or start <= now:
            raise UserError("schedule.in_the_past")
        if end is not None and start > end:
            raise UserError("schedule.no_future_run")
        return Recurrence("once", zone_name, start=start)
    if first_run(recurrence, now) is None:
        raise UserError("schedule.no_future_run")
    return recurrence


def _next_wall(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= now:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


def _start(schedule: Schedule, now: datetime, zone: ZoneInfo) -> datetime | None:
    if schedule.at_instant is not None:
        return schedule.at_instant
    if schedule.at_date is not None:
        return datetime.combine(schedule.at_date, schedule.at_time or time(9, 0), tzinfo=zone)
    if schedule.weekday_once is not None and schedule.at_time is not None:
        local = now.astimezone(zone)
        days = (schedule.weekday_once - local.weekday()) % 7
        candidate = datetime.combine(
            local.date() + timedelta(days=days), schedule.at_time, tzinfo=zone
        )
        return candidate if candidate > now else candidate + timedelta(days=7)
    if schedule.at_time is not None and not (schedule.every_cron or schedule.every_days):
        return _next_wall(now, schedule.at_time, zone)
    return None


def parse_at_value(value: str, schedule: Schedule) -> None:
    """A date-time typed in a form (ISO 8601, or date and time): fill `schedule`'s start."""
    tokens = tokenize(
        value.replace("T", " ", 1) if "+" not in value and "Z" not in value else value
    )
    if _parse_at(tokens, 0, schedule) != len(tokens):
        raise UserError("schedule.bad_date", value=value[:30])


def parse_date_value(value: str) -> date:
    """A date typed in a form."""
    day = _date(Token(value))
    if day is None:
        raise UserError("schedule.bad_date", value=value[:30])
    return day
