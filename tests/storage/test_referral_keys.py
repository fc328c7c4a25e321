"""A recommended colleague's key (storage/referrals.referred_key): the member's id when
picked, else the typed name folded exactly as the bot folds the words people type."""

from __future__ import annotations

import pytest

from bot.core.parsing import fold
from storage.referrals import referred_key


def test_a_member_picked_from_the_directory_is_keyed_by_id() -> None:
    assert referred_key(42, "Zoé Martin") == "m:42"


@pytest.mark.parametrize("name", ["Zoé Martin", "ZOE MARTIN", "Ａｌｉｃｅ", "Łukasz Ōta", "straße"])
def test_a_typed_name_is_folded_as_the_bot_folds_words(name: str) -> None:
    assert referred_key(None, name) == "n:" + fold(name)


def test_two_spellings_of_one_name_are_one_colleague() -> None:
    assert referred_key(None, "Zoé Martin") == referred_key(None, "zoe martin")
