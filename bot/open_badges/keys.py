"""The Ed25519 key that signs Open Badges 3.0 credentials: generated once, kept, published.

Two processes starting together may both try to create it; the unique `kid` of the first
key and a re-read make them agree on one. The private key is kept sealed
(storage/sealing.py) under the deployment's secret key.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SigningKey
from storage.sealed_columns import SIGNING_KEY
from storage.sealing import Sealer
from storage.upsert import insert_for


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Signer:
    """The current signing key."""

    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, Any]

    def sign(self, data: bytes) -> bytes:
        """An Ed25519 signature of `data`."""
        return self.private_key.sign(data)


def _public_jwk(key: Ed25519PrivateKey) -> tuple[str, dict[str, Any]]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64url(raw)
    # RFC 7638 thumbprint: the key's id is derived from the key itself.
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()
    kid = b64url(hashlib.sha256(canonical).digest())
    return kid, {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


async def current(db: AsyncSession, sealer: Sealer, now: datetime) -> Signer:
    """The signing key, created on first use."""
    found = (
        await db.execute(select(SigningKey).order_by(SigningKey.id.desc()).limit(1))
    ).scalar_one_or_none()
    if found is None:
        key = Ed25519PrivateKey.generate()
        kid, jwk = _public_jwk(key)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        await db.execute(
            insert_for(db, SigningKey)
            .values(
                kid=kid,
                private_pem=sealer.seal(SIGNING_KEY.purpose, pem),
                public_jwk=jwk,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["kid"])
        )
        found = (await db.execute(select(SigningKey).order_by(SigningKey.id).limit(1))).scalar_one()
    pem_text = sealer.open(SIGNING_KEY.purpose, found.private_pem)
    private = serialization.load_pem_private_key(pem_text.encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    return Signer(found.kid, private, dict(found.public_jwk))


async def published(db: AsyncSession) -> list[dict[str, Any]]:
    """Every public key, as a JWK Set's keys."""
    rows = (await db.execute(select(SigningKey.public_jwk).order_by(SigningKey.id))).scalars()
    return [dict(jwk) for jwk in rows]
