"""Both catalogues say the same things, with the same placeholders."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

from bot.i18n import Translator, catalogue, normalize_locale, pick_locale, translate


def _placeholders(message: object) -> set[str]:
    texts = message.values() if isinstance(message, dict) else [message]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(str(text)) if name}


def test_same_keys_and_placeholders_in_english_and_french() -> None:
    english, french = catalogue("en"), catalogue("fr")
    assert set(english) == set(french)
    for key in english:
        assert _placeholders(english[key]) == _placeholders(french[key]), key
        assert isinstance(english[key], dict) == isinstance(french[key], dict), key


def test_plural_rules_differ_for_zero() -> None:
    assert translate("en", "signup.joined_count", count=0) == "0 learners joined"
    assert translate("fr", "signup.joined_count", count=0) == "0 apprenant a rejoint"
    assert translate("fr", "signup.joined_count", count=2) == "2 apprenants ont rejoint"


def test_locale_choice_falls_back_in_order() -> None:
    assert normalize_locale("fr-FR") == "fr"
    assert normalize_locale("en_US") == "en"
    assert normalize_locale("pt-BR") is None
    assert pick_locale(None, "pt-BR", "fr", "en") == "fr"
    assert pick_locale(None, None, None, "en") == "en"


def test_dates_and_durations_in_the_reader_language_and_zone() -> None:
    when = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert Translator("en").datetime(when, "Europe/Paris") == "Mon 7 Dec, 09:00"
    assert Translator("fr").datetime(when, "Europe/Paris").startswith("lun. 7 déc.")
    assert Translator("fr").duration(timedelta(minutes=45)) == "45 minutes"
