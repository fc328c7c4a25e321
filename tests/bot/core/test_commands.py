"""Matching typed words to commands: French aliases, accents, longest form."""

from __future__ import annotations

from bot.core.parsing import tokenize
from bot.router import COMMANDS


def _key(text: str) -> str | None:
    match = COMMANDS.match(tokenize(text))
    return match.command.key if match else None


def test_english_and_french_forms_find_the_same_command() -> None:
    assert _key("join ABC123") == _key("rejoindre ABC123") == "join"
    assert _key("session start X") == _key("session ouvrir X") == _key("session démarrer X")
    assert _key("role add @u1 animator") == _key("rôle ajouter @u1 animateur") == "role.add"
    assert _key("settings language fr") == _key("Réglages Langue fr") == "settings.language"
    assert _key("aide") == _key("HELP") == "help"


def test_arguments_follow_the_command_words() -> None:
    match = COMMANDS.match(tokenize('session start "Management 101"'))
    assert match is not None and match.args.text == "Management 101"


def test_a_quoted_word_is_never_a_command_word() -> None:
    assert _key('"join"') is None


def test_unknown_words_get_a_close_suggestion() -> None:
    assert COMMANDS.suggest("joni") == "join"
    assert COMMANDS.suggest("zzzzzz") is None
    assert {c.key for c in COMMANDS.group("session")} >= {"session.start", "session.close"}


def test_every_command_has_help_in_both_languages() -> None:
    from bot.i18n import catalogue

    for command in COMMANDS.commands:
        for locale in ("en", "fr"):
            assert f"commands.{command.key}.usage" in catalogue(locale)
            assert f"commands.{command.key}.summary" in catalogue(locale)


def test_a_group_word_with_words_it_does_not_know_is_no_command() -> None:
    # `challenge` alone opens the form; `challenge foo` is answered with the group's help.
    assert _key("challenge") == _key("défi") == "challenge.new"
    assert _key("challenge foo") is None and _key("pulse foo") is None
    assert _key("challenge answer 3 done") == "challenge.answer"
