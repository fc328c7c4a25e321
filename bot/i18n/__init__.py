"""Every user-facing string goes through `translate`; catalogues live next to this file.

Catalogues are TOML files keyed by message id (en.toml, fr.toml), with
`{placeholders}` in str.format syntax. A message with plural forms is a table
with `one` and `other`, chosen by the `count` argument with the language's rule
(French treats 0 as singular). A test keeps both catalogues in step: same keys,
same placeholders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

SUPPORTED = ("en", "fr")
Instant = datetime  # the Translator.datetime method shadows the type inside the class
FALLBACK = "en"
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
        if isinstance(value, dict) and not set(value) <= {"one", "other"}:
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


def _plural_category(locale: str, count: int) -> str:
    if locale == "fr":
        return "one" if count in (0, 1) else "other"
    return "one" if count == 1 else "other"


def translate(locale: str, key: str, **params: Any) -> str:
    """The message `key` in `locale` (falling back to English), formatted with `params`."""
    messages = catalogue(locale if locale in SUPPORTED else FALLBACK)
    message = messages.get(key)
    if message is None:
        message = catalogue(FALLBACK)[key]
    if isinstance(message, dict):
        message = message[_plural_category(locale, int(params.get("count", 0)))]
    return str(message).format(**params) if params else str(message)


class Translator:
    """`translate` bound to one language, plus date and duration formatting."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in SUPPORTED else FALLBACK

    def __call__(self, key: str, **params: Any) -> str:
        return translate(self.locale, key, **params)

    def datetime(self, when: datetime, timezone: str) -> str:
        """A date and time in the reader's language and time zone (e.g. `Mon 7 Dec, 09:00`)."""
        return format_datetime(
            when, "EEE d MMM, HH:mm", tzinfo=ZoneInfo(timezone), locale=self.locale
        )

    def date(self, when: Instant, timezone: str) -> str:
        """A day in the reader's language (`31 Jan 2027`, `31 janv. 2027`)."""
        return format_date(when.astimezone(ZoneInfo(timezone)), "d MMM y", locale=self.locale)

    def duration(self, delta: timedelta) -> str:
        """A rounded duration in words (`2 hours`, `2 heures`)."""
        return format_timedelta(delta, locale=self.locale, threshold=1.0)

    def number(self, value: float, digits: int = 0) -> str:
        """A number with `digits` decimals in the reader's language (`3.67`, `3,67`)."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)
