"""Secrets sealed at rest: AES-256-GCM under the deployment's secret key, with a key id.

A sealed value is text: `sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`.

- The key (AMBASSADOR_SECRET_KEY, or the key file of a SQLite deployment) is 32 random
  bytes. The encryption key and the key id are derived from it with HKDF-SHA256 (RFC 5869),
  under different labels: the id, published in every sealed value and in error messages,
  says nothing about the encryption key.
- AES-GCM (NIST SP 800-38D) with a fresh random 96-bit nonce per value; the associated data
  binds the header and the value's purpose (its table and column), so a sealed token moved
  into another column, or a header edited, no longer opens.
- The key id lets a `Sealer` know several keys (the old and the new one while
  `ambassador-bot rotate-key` runs) and say which key a value needs.

Values written before sealing existed (plain Slack tokens, a plain PEM) do not carry the
prefix; `Sealer.open` passes them through so that a rolling upgrade keeps working, and
start-up seals them (storage/sealed_columns.py).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:"
VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12  # the size GCM is specified for (SP 800-38D, 5.2.1.1)
# What an operator runs to make a key (shown by every message that asks for one).
HOW_TO_MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class KeyFormatError(ValueError):
    """A key is not 32 bytes of base64; the message says how to make one."""


class SealError(Exception):
    """A sealed value cannot be opened: unknown key id, or altered (or another key's)."""


def _derive(key: bytes, label: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(key)


class SecretKey:
    """The deployment's secret key; `source` says where it came from (for messages).

    Its repr shows the key id only, so that a settings dump or a traceback never prints it.
    """

    def __init__(self, raw: bytes, source: str) -> None:
        if len(raw) != KEY_BYTES:
            raise KeyFormatError(f"a secret key is {KEY_BYTES} bytes, got {len(raw)}")
        self._aead = AESGCM(_derive(raw, b"ambassador seal v1", KEY_BYTES))
        self._raw = raw
        self.id = _derive(raw, b"ambassador key id", 6).hex()
        self.source = source

    @classmethod
    def parse(cls, value: str, source: str) -> SecretKey:
        """A key written as base64 (URL-safe or standard, padded or not) of 32 bytes."""
        text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != KEY_BYTES or not text:
            raise KeyFormatError(
                f"{source} must be {KEY_BYTES} random bytes in base64 (43 or 44 characters); "
                f"make one with: {HOW_TO_MAKE_A_KEY}"
            )
        return cls(raw, source)

    @classmethod
    def generate(cls, source: str) -> SecretKey:
        """A new random key."""
        return cls(secrets.token_bytes(KEY_BYTES), source)

    def encoded(self) -> str:
        """The key as an operator writes it (URL-safe base64 without padding)."""
        return base64.urlsafe_b64encode(self._raw).rstrip(b"=").decode()

    def same_as(self, other: SecretKey) -> bool:
        """True for the same key, whatever its source."""
        return secrets.compare_digest(self._raw, other._raw)

    def __repr__(self) -> str:
        return f"SecretKey(id={self.id!r}, source={self.source!r})"

    def _seal(self, header: str, purpose: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, f"{header}|{purpose}".encode())

    def _open(self, header: str, purpose: str, blob: bytes) -> bytes:
        nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        return self._aead.decrypt(nonce, ciphertext, f"{header}|{purpose}".encode())


def is_sealed(value: str) -> bool:
    """Whether a stored value is sealed (else it is a plaintext from before sealing)."""
    return value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    """The id of the key a sealed value needs (None for a plaintext)."""
    if not is_sealed(value):
        return None
    parts = value.split(":", 3)
    return parts[2] if len(parts) == 4 else None


class Sealer:
    """Seals under the current key; opens under any key it knows (old ones while rotating)."""

    def __init__(self, current: SecretKey, *older: SecretKey) -> None:
        self.current = current
        self._keys = {key.id: key for key in (*older, current)}

    def seal(self, purpose: str, plaintext: str) -> str:
        """`plaintext` sealed for `purpose` (e.g. "slack_installation.bot_token")."""
        header = f"{VERSION}:{self.current.id}"
        blob = self.current._seal(header, purpose, plaintext.encode())
        return f"{PREFIX}{header}:{base64.urlsafe_b64encode(blob).decode()}"

    def open(self, purpose: str, value: str) -> str:
        """The plaintext of a sealed value; a plaintext from before sealing as it is.

        Raises SealError when the value needs a key this sealer does not have, or does
        not open (altered, or sealed for another purpose).
        """
        if not is_sealed(value):
            return value
        parts = value.split(":", 3)
        if len(parts) != 4 or parts[1] != VERSION:
            raise SealError(f"{purpose}: not a sealed value this version reads")
        _, version, key_id, data = parts
        key = self._keys.get(key_id)
        if key is None:
            raise SealError(f"{purpose} is sealed under key id {key_id}, not a key given")
        try:
            blob = base64.urlsafe_b64decode(data.encode())
            return key._open(f"{version}:{key_id}", purpose, blob).decode()
        except (InvalidTag, binascii.Error, ValueError, UnicodeDecodeError):
            raise SealError(f"{purpose} does not open under key id {key_id}") from None

    def needs_resealing(self, value: str) -> bool:
        """True for a plaintext, or a value sealed under another key than the current one."""
        return key_id_of(value) != self.current.id
