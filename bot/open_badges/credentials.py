"""Open Badges 3.0 credentials as VC-JWT (1EdTech OB 3.0 §8.2): the JWT payload is the
credential itself plus the registered claims `iss`, `jti`, `nbf`; signed with EdDSA
(Ed25519); the header's `kid` is the URL of the public key (a JWK) the bot publishes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.open_badges.documents import Urls
from bot.open_badges.keys import Signer, b64url


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def sign(credential: dict[str, Any], signer: Signer, at: Urls) -> str:
    """The compact JWS of `credential`."""
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    payload = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": int(valid_from.timestamp()),
    }
    header = {"alg": "EdDSA", "typ": "JWT", "kid": at.key(signer.kid)}
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}"
    signature = signer.sign(signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"
