"""Every user-facing string goes through `translate`; catalogues live next to this file.

Catalogues are TOML files keyed by message id (en.toml, fr.toml), with
`{placeholders}` in str.format syntax. A message with plural forms is a table
with `one` and `other`, chosen with the language's CLDR rule (via Babel: French
treats 0 and 1 as singular) by the `count` argument, or by the argument named in
the table's optional `by` (`{ by = "answered", one = …, other = … }`), so a
message with two counts agrees with the one that governs a noun in that language.
Tests keep both catalogues in step (same keys, same placeholders), check that
every count governs a plural table, and check French typography.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal

SUPPORTED = ("en", "fr")
Instant = datetime  # the Translator.datetime method shadows the type inside the class
FALLBACK = "en"
PLURAL_KEYS = {"one", "other", "by"}
_DIR = Path(__file__).parent


@cache
def catalogue(locale: str) -> Mapping[str, Any]:
    """The messages of one language, flattened to dotted keys."""
    with (_DIR / f"{locale}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not set(value) <= PLURAL_KEYS:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def normalize_locale(value: str | None) -> str | None:
    """Map a platform locale (`fr-FR`, `en_US`, `FR`) to a supported language, or None."""
    if not value:
        return None
    language = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in SUPPORTED else None


def pick_locale(*candidates: str | None) -> str:
    """The first supported language among `candidates` (member, platform, workspace, settings)."""
    for candidate in candidates:
        locale = normalize_locale(candidate)
        if locale:
            return locale
    return FALLBACK


def plural_category(locale: str, count: int | float) -> str:
    """`one` or `other` for `count` by the CLDR rule of `locale` (French: 0 and 1.5 are `one`).

    Catalogues only carry `one` and `other`; CLDR's rarer French `many` (a million)
    reads as `other`. Rules: https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html
    """
    category = Locale.parse(locale).plural_form(abs(count))
    return "one" if category == "one" else "other"


def translate(locale: str, key: str, **params: Any) -> str:
    """The message `key` in `locale` (falling back to English), formatted with `params`."""
    language = locale if locale in SUPPORTED else FALLBACK
    message = catalogue(language).get(key)
    if message is None:
        language, message = FALLBACK, catalogue(FALLBACK)[key]
    if isinstance(message, dict):
        driver = params[message.get("by", "count")]
        count = driver if isinstance(driver, int | float) else float(driver)
        message = message[plural_category(language, count)]
    return str(message).format(**params) if params else str(message)


class Translator:
    """`translate` bound to one language, plus date and duration formatting."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in SUPPORTED else FALLBACK

    def __call__(self, key: str, **params: Any) -> str:
        return translate(self.locale, key, **params)

    def datetime(self, when: datetime, timezone: str) -> str:
        """A date and time in the reader's language and time zone (e.g. `Mon 7 Dec, 09:00`)."""
        zone = ZoneInfo(timezone)
        day = self._day(when.astimezone(zone))
        return format_datetime(when, f"EEE {day} MMM, HH:mm", tzinfo=zone, locale=self.locale)

    def date(self, when: Instant, timezone: str) -> str:
        """A day in the reader's language (`31 Jan 2027`, `31 janv. 2027`)."""
        local = when.astimezone(ZoneInfo(timezone))
        return format_date(local, f"{self._day(local)} MMM y", locale=self.locale)

    def _day(self, local: Instant) -> str:
        """The day-of-month pattern: French writes the first of a month `1er` (ordinal)."""
        # https://www.academie-francaise.fr/questions-de-langue#42_strong-em-nombres-ordinaux-em-strong
        return "d'er'" if self.locale == "fr" and local.day == 1 else "d"

    def duration(self, delta: timedelta) -> str:
        """A rounded duration in words (`2 hours`, `2 heures`)."""
        return format_timedelta(delta, locale=self.locale, threshold=1.0)

    def languages(self, codes: str) -> str:
        """Language codes (`fr,en`) as the reader's words (`français et anglais`); `—` if none.

        Codes stay codes only when Babel does not know them; a reader should see
        "parle français", not "parle fr".
        """
        names = Locale.parse(self.locale).languages
        words = [names.get(code, code) for code in codes.replace(" ", ",").split(",") if code]
        return format_list(words, locale=self.locale) if words else "—"

    def number(self, value: float, digits: int = 0) -> str:
        """A number with `digits` decimals in the reader's language (`3.67`, `3,67`)."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)
