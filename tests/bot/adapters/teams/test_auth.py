"""Teams inbound authentication against a loopback OpenID endpoint publishing a key this
test generated: a genuine token passes; a wrong audience, issuer, signature, key, channel
endorsement, service URL, an expired or missing token are refused with the reason; keys
that cannot be fetched make the request unavailable, never accepted."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.adapters.teams.auth import ISSUER, BotFrameworkAuth, IdentityUnavailable

APP_ID = "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"
SERVICE_URL = "https://smba.trafficmanager.net/amer/"
ACTIVITY = {"type": "message", "channelId": "msteams", "serviceUrl": SERVICE_URL}
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(kid: str, endorsements: list[str]) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    return {**public, "kid": kid, "use": "sig", "endorsements": endorsements}


@pytest.fixture
async def openid() -> AsyncIterator[str]:
    """OpenID metadata and keys as login.botframework.com publishes them."""
    server: TestServer

    async def metadata(_request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": str(server.make_url("/keys"))})

    async def keys(_request: web.Request) -> web.Response:
        return web.json_response(
            {"keys": [_jwk("k1", ["msteams", "webchat"]), _jwk("k-slack-only", ["slack"])]}
        )

    app = web.Application()
    app.router.add_get("/openid", metadata)
    app.router.add_get("/keys", keys)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/openid"))
    await server.close()


def _token(kid: str = "k1", key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": APP_ID,
        "exp": now + 3600,
        "nbf": now - 10,
        "serviceurl": SERVICE_URL,
        **claims,
    }
    return "Bearer " + jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


async def test_a_genuine_request_passes(openid: str) -> None:
    auth = BotFrameworkAuth(APP_ID, openid)
    assert await auth.problem(_token(), ACTIVITY) is None


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        ("", "no bearer token"),
        ("Basic abc", "no bearer token"),
        ("Bearer not.a.jwt", "not a JWT"),
        (_token(aud="another-bot"), "InvalidAudience"),
        (_token(iss="https://evil.example"), "InvalidIssuer"),
        (_token(exp=int(time.time()) - 3600), "ExpiredSignature"),
        (_token(key=OTHER_KEY), "InvalidSignature"),
        (_token(kid="unknown"), "unknown signing key"),
        (_token(kid="k-slack-only"), "not endorsed"),
        (_token(serviceurl="https://evil.example/"), "another service URL"),
    ],
)
async def test_anything_else_is_refused_with_its_reason(
    openid: str, authorization: str, says: str
) -> None:
    auth = BotFrameworkAuth(APP_ID, openid)
    found = await auth.problem(authorization, ACTIVITY)
    assert found is not None and says in found


async def test_unreachable_keys_make_the_request_unavailable_not_accepted() -> None:
    auth = BotFrameworkAuth(APP_ID, "http://127.0.0.1:9/openid")
    with pytest.raises(IdentityUnavailable):
        await auth.problem(_token(), ACTIVITY)
