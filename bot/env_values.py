"""What every settings section shares: the error a wrong value raises, and the reading of
a yes/no value. Below bot/settings.py and the platforms' own sections (bot/adapters/<name>/
settings.py), which both import it: neither imports the other's parsing."""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it and says what is expected."""


def parse_bool(name: str, value: str) -> bool:
    """True for 1/true/yes/on, False for 0/false/no/off or empty; else SettingsError."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, got {value!r}")
