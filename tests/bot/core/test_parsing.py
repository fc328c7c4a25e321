"""The command parser accepts anything a person can type."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.parsing import fold, strip_prefix, tokenize


def test_quotes_make_one_explicit_piece_of_text() -> None:
    tokens = tokenize('challenge post "Meet at the café" at 2026-12-01 09:00')
    assert [t.value for t in tokens] == [
        "challenge",
        "post",
        "Meet at the café",
        "at",
        "2026-12-01",
        "09:00",
    ]
    assert tokens[2].quoted and not tokens[0].quoted


def test_french_quotes_and_apostrophes() -> None:
    assert [t.value for t in tokenize("session ouvrir «Prise de parole»")] == [
        "session",
        "ouvrir",
        "Prise de parole",
    ]
    assert [t.value for t in tokenize("session ouvrir l'équipe d'Anne")] == [
        "session",
        "ouvrir",
        "l'équipe",
        "d'Anne",
    ]


def test_unbalanced_quote_is_a_plain_character() -> None:
    assert [t.value for t in tokenize('join "ABC')] == ["join", '"ABC']


def test_mentions_from_every_platform_map_to_one_user_reference() -> None:
    playground, slack, slack_named, quoted = tokenize('@u1 <@U0123ABCD> <@U9|bob> "@u2"')
    assert playground.mention == "u1"
    assert slack.mention == "U0123ABCD"
    assert slack_named.mention == "U9"
    assert quoted.mention is None


def test_prefix_is_optional() -> None:
    assert strip_prefix("/ambassador join") == "join"
    assert strip_prefix("  /AMBASSADOR   join ABC ") == "join ABC"
    assert strip_prefix("/ambassador") == ""
    assert strip_prefix("/ambassadorjoin") == "/ambassadorjoin"


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Rôle") == "role"
    assert fold("CONFIRMÉ") == "confirme"
    assert fold("Réglages") == "reglages"


@settings(deadline=None)  # CI machines are shared: no per-example time limit
@given(st.text(max_size=2000))
def test_tokenize_never_raises_and_keeps_every_non_space_character(text: str) -> None:
    tokens = tokenize(text)
    kept = "".join(t.value for t in tokens)
    assert all(not t.value.isspace() or t.quoted for t in tokens)
    # Quotes may be consumed; nothing else is lost.
    strip = str.maketrans("", "", "\"“”«»'„ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0")
    assert "".join(ch for ch in kept if not ch.isspace()).translate(strip) == "".join(
        ch for ch in text if not ch.isspace()
    ).translate(strip)
