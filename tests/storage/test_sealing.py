"""Sealing: what a sealed value hides, what it is bound to, which key opens it."""

from __future__ import annotations

import base64

import pytest

from storage.sealing import (
    KeyFormatError,
    Sealer,
    SealError,
    SecretKey,
    is_sealed,
    key_id_of,
)
from tests.support.secret_keys import TEST_SECRET_KEY

TOKEN = "xoxb-1234-5678-abcdefghijklmnop"
PURPOSE = "slack_installation.bot_token"


def _key(name: str = "test") -> SecretKey:
    return SecretKey.parse(TEST_SECRET_KEY, name)


def test_a_sealed_value_hides_its_text_and_opens_back() -> None:
    sealer = Sealer(_key())
    sealed = sealer.seal(PURPOSE, TOKEN)
    assert is_sealed(sealed) and TOKEN not in sealed and "xoxb" not in sealed
    assert key_id_of(sealed) == sealer.current.id
    assert sealer.open(PURPOSE, sealed) == TOKEN
    # A fresh nonce each time: equal tokens do not look equal in the database.
    assert sealer.seal(PURPOSE, TOKEN) != sealed


def test_a_sealed_value_opens_only_for_its_purpose_and_unaltered() -> None:
    sealer = Sealer(_key())
    sealed = sealer.seal(PURPOSE, TOKEN)
    with pytest.raises(SealError, match=r"signing_key\.private_pem"):
        sealer.open("signing_key.private_pem", sealed)  # moved into another column
    head, data = sealed.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(data))
    raw[20] ^= 1
    altered = f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(SealError):
        sealer.open(PURPOSE, altered)


def test_only_a_known_key_opens_and_rotation_knows_both() -> None:
    old, new = _key(), SecretKey.generate("new")
    sealed_old = Sealer(old).seal(PURPOSE, TOKEN)
    with pytest.raises(SealError, match=f"key id {old.id}"):
        Sealer(new).open(PURPOSE, sealed_old)
    rotating = Sealer(new, old)
    assert rotating.open(PURPOSE, sealed_old) == TOKEN
    assert rotating.needs_resealing(sealed_old) and rotating.needs_resealing(TOKEN)
    resealed = rotating.seal(PURPOSE, TOKEN)
    assert key_id_of(resealed) == new.id and not rotating.needs_resealing(resealed)
    with pytest.raises(SealError):
        Sealer(old).open(PURPOSE, resealed)


def test_a_value_from_before_sealing_reads_as_it_is() -> None:
    assert not is_sealed(TOKEN) and Sealer(_key()).open(PURPOSE, TOKEN) == TOKEN


@pytest.mark.parametrize("value", ["", "short", TEST_SECRET_KEY + "AAAA", "!" * 43])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused_with_how_to_make_one(
    value: str,
) -> None:
    with pytest.raises(KeyFormatError, match=r"MY_KEY must be 32 random bytes.*token_urlsafe"):
        SecretKey.parse(value, "MY_KEY")


def test_a_key_never_shows_itself() -> None:
    key = _key()
    assert TEST_SECRET_KEY not in repr(key) and key.id in repr(key)
    assert key.encoded() == TEST_SECRET_KEY and key.same_as(_key("elsewhere"))
    assert not key.same_as(SecretKey.generate("other"))
