"""Both catalogues say the same things, with the same placeholders."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta

from bot.i18n import (
    SUPPORTED,
    Translator,
    catalogue,
    normalize_locale,
    pick_locale,
    plural_category,
    translate,
)


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


# --- plurals ------------------------------------------------------------------------------

# Placeholders that hold a number of things. Each one either drives the message's plural
# table (`count`, or the name in the table's `by`), or stands where no word agrees with it:
# after a label (`Places : 3`), before a unit or closing punctuation (`13,2 h`, `(5)`), or
# as the total of "X of N" / "X sur N" when X drives the table; English adjectives do not
# agree ("out of 1 present").
COUNTS = {
    "count", "max", "n", "hours", "days", "sent", "answered", "pairs", "waiting", "present",
    "shares", "success", "not_yet", "promoters", "passives", "detractors", "made", "converted",
    "interested", "needed", "active", "checked", "met", "mentors", "taken", "capacity",
    "default", "reached",
}  # fmt: skip
_SPACE = "[ \u00a0\u202f]"
_NO_AGREEMENT_AFTER = re.compile(rf"^(?:{_SPACE}*(?:$|[.,;:!?()·—/%]|h\b|of\b|sur\b|present\b))")


def _texts(message: object) -> list[str]:
    if isinstance(message, dict):
        return [str(message["one"]), str(message["other"])]
    return [str(message)]


def test_every_count_drives_a_plural_table_or_needs_no_agreement() -> None:
    for locale in SUPPORTED:
        for key, message in catalogue(locale).items():
            driver = message.get("by", "count") if isinstance(message, dict) else None
            for text in _texts(message):
                for name in _placeholders(text) & COUNTS:
                    if name == driver:
                        continue
                    after = text.split("{" + name + "}", 1)[1]
                    assert _NO_AGREEMENT_AFTER.match(after), (
                        f"{locale} {key}: {{{name}}} is followed by a word that agrees with it"
                        f" ({after[:30]!r}); make it the table's plural driver or a label"
                    )


def test_every_plural_table_names_a_driver_it_uses() -> None:
    for locale in SUPPORTED:
        for key, message in catalogue(locale).items():
            if isinstance(message, dict):
                assert set(message) <= {"one", "other", "by"}, key
                driver = message.get("by", "count")
                # `one` may leave the number out ("every week"), and a table may only choose the
                # grammar of a list ("{names}, who run"); a number it shows is its driver's.
                shown = _placeholders(str(message["other"])) & COUNTS
                assert not shown or driver in shown, f"{locale} {key}: shows {shown}, by {driver}"
                # Every form renders with 0, 1 and 2 of everything.
                params = {name: 0 for text in _texts(message) for name in _placeholders(text)}
                for number in (0, 1, 2):
                    assert translate(locale, key, **{**params, driver: number})


def test_plural_forms_follow_cldr_for_zero_one_two() -> None:
    assert [plural_category("en", n) for n in (0, 1, 2)] == ["other", "one", "other"]
    assert [plural_category("fr", n) for n in (0, 1, 2)] == ["one", "one", "other"]
    assert plural_category("fr", 1.5) == "one"  # "1,5 heure"


def test_the_counts_a_new_user_tripped_on_agree_in_both_languages() -> None:
    def progress(locale: str, reached: int, needed: int) -> str:
        return translate(locale, "badges.progress_pulse_answers", reached=reached, count=needed)

    assert progress("en", 1, 1) == "1 of 1 pulse answered"
    assert progress("en", 0, 5) == "0 of 5 pulses answered"
    assert progress("fr", 1, 5) == "1 sondage répondu sur 5"
    assert progress("fr", 0, 5) == "0 sondage répondu sur 5"
    assert progress("fr", 2, 5) == "2 sondages répondus sur 5"
    answers = "badges.progress_challenge_answers"
    assert translate("fr", answers, reached=1, count=5) == "1 réponse à un défi sur 5"
    assert translate("en", "profile.count_success", count=1) == "1 success"
    assert translate("fr", "profile.count_success", count=1) == "1 réussite"
    assert translate("fr", "profile.count_success", count=2) == "2 réussites"
    pairs = "mentoring.stats_pairs"
    assert translate("fr", pairs, count=3, active=1) == "Binômes formés\u00a0: 3 (dont 1 actif)"
    assert translate("fr", pairs, count=3, active=2) == "Binômes formés\u00a0: 3 (dont 2 actifs)"
    load = {"mentors": 1, "low": 1, "mean": "1", "high": 1}
    assert translate("fr", "mentoring.stats_load", **load, taken=1, capacity=2).endswith(
        "1 place prise sur 2"
    )
    assert translate("en", "mentoring.stats_load", **load, taken=1, capacity=1).endswith(
        "1 of 1 place taken"
    )
    rate = "pulses.state_rate"
    assert translate("fr", rate, answered=1, sent=1, rate=100) == "1 réponse sur 1 (100\u202f%)"
    assert translate("fr", rate, answered=0, sent=3, rate=0) == "0 réponse sur 3 (0\u202f%)"
    referrals = translate("fr", "pulses.referrals_value", made=0, converted=0, interested=0)
    assert "0 intéressés" not in referrals and "intérêts\u00a0: 0" in referrals
    assert translate("en", "pulses.sent_notice", id=1, training="T", count=1, closes="x").count(
        "to 1 member;"
    )


# --- French typography --------------------------------------------------------------------

# One rule, the Imprimerie nationale's as most French publishers apply it: a narrow no-break
# space (U+202F) before ; ! ? and %, a no-break space (U+00A0) before : and inside « ».
# Code spans, URLs and placeholders are left as they are (`09:00`, `https://`).
_PROTECTED = re.compile(r"`[^`]*`|https?://\S*|\{[^{}]*\}")
_TYPOGRAPHY = [
    (re.compile(r"(^|[^\u202f])[;!?%]"), "U+202F before ; ! ? %"),
    (re.compile(r"(^|[^\u00a0]):(?!\d)"), "U+00A0 before :"),
    (re.compile(r"(^|[^\u00a0])»"), "U+00A0 before »"),
    (re.compile(r"«(?!\u00a0)"), "U+00A0 after «"),
    (re.compile(r"[“”\"]"), "« » guillemets, not English quotes"),
]


def test_french_strings_follow_french_typography() -> None:
    for key, message in catalogue("fr").items():
        for text in _texts(message):
            bare = _PROTECTED.sub("X", text)
            for pattern, rule in _TYPOGRAPHY:
                assert not pattern.search(bare), f"fr {key}: {rule} in {text!r}"


def test_french_wording_does_not_assume_the_reader_is_a_man() -> None:
    gendered = re.compile(
        r"\bravie?\b|vous êtes (déjà )?ambassadeur|est désormais ambassadeur|Bienvenue, ambassadeur"
        r"|\bprésenté\b|\bseul\b|nouvel ambassadeur|Vous l'aimez|Merci à tous\b|à tous les deux"
        r"|votre formateur"
        # A reader's role or quality as a masculine noun or adjective ("vous êtes
        # apprenant", "assez expérimenté", "mentor actif"), or in the "(e)" form, which
        # reads as an afterthought: an épicène turn says it for everyone.
        r"|vous êtes \{role\}|vous êtes (assez |très |bien )?\w+é\b|\bmentor actif"
        r"|\w\(e\)|\(e\)s?\b|votre animateur"
        # The reader as "an animator" or among "the animators": the role is a team's.
        r"|en tant qu'animateur|seuls les animateurs",
        re.IGNORECASE,
    )
    for key, message in catalogue("fr").items():
        for text in _texts(message):
            assert not gendered.search(text), f"fr {key}: {text!r}"
    # What the bot says of a colleague someone recommended: a state, not an adjective.
    states = [translate("fr", f"pulses.ref_{state}") for state in ("invited", "interested")]
    assert states == ["invitation envoyée", "a dit oui"]


def test_french_dates_write_the_first_of_the_month_1er() -> None:
    first, second = datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 2, 8, tzinfo=UTC)
    assert Translator("fr").date(first, "Europe/Paris") == "1er déc. 2026"
    assert Translator("fr").date(second, "Europe/Paris") == "2 déc. 2026"
    assert Translator("fr").datetime(first, "Europe/Paris") == "mar. 1er déc., 09:00"
    assert Translator("en").date(first, "Europe/Paris") == "1 Dec 2026"


def test_numbers_and_language_names_in_the_reader_language() -> None:
    hours = Translator("fr").number(13.2, 1)
    line = translate("fr", "challenges.list_skipped_missed", when="lun.", hours=hours)
    assert "(13,2\u00a0h de retard)" in line
    assert Translator("fr").languages("fr,en") == "français et anglais"
    assert Translator("en").languages("fr") == "French"
    assert Translator("fr").languages("") == "—"
    assert translate("fr", "general.labelled", label="NPS ↔ satisfaction", value="r = 0,5") == (
        "NPS ↔ satisfaction\u00a0: r = 0,5"
    )
