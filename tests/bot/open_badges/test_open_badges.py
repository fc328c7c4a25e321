"""Each award verifies with tools we did not write: 1EdTech's JSON schema (jsonschema),
PyJWT with the published key, Pillow to un-bake the PNG, and the Open Badges 2.0 required
fields and published JSON-LD context."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from jsonschema import Draft201909Validator
from PIL import Image
from sqlalchemy import select

from storage.models import BadgeAward
from tests.support.playground import Playground

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]
OB2_CONTEXT_TERMS = set(json.loads((DATA / "context_openbadges_v2.json").read_text())["@context"])
# Open Badges 2.0, "Assertion", "BadgeClass", "Profile" (Issuer): the REQUIRED properties.
REQUIRED = {
    "Assertion": {"id", "type", "recipient", "badge", "verification", "issuedOn"},
    "BadgeClass": {"id", "type", "name", "description", "image", "criteria", "issuer"},
    "Issuer": {"id", "type", "name", "url", "email"},
}
REQUIRED_REVOCATION_LIST = {"id", "type", "issuer", "revokedAssertions"}


async def _get(bot: Playground, url: str, status: int = 200) -> Any:
    response = await bot.client.get(urlsplit(url).path)
    assert response.status == status, (url, response.status, await response.text())
    return response


async def _json(bot: Playground, url: str, status: int = 200) -> dict[str, Any]:
    response = await _get(bot, url, status)
    assert response.content_type == "application/ld+json"
    data: dict[str, Any] = json.loads(await response.read())
    return data


def _terms(document: Any) -> set[str]:
    """Every property name used in a JSON-LD document."""
    if isinstance(document, dict):
        found = {key for key in document if key != "@context"}
        for value in document.values():
            found |= _terms(value)
        return found
    if isinstance(document, list):
        return set().union(*(_terms(item) for item in document)) if document else set()
    return set()


async def _junior_links(bot: Playground) -> dict[str, str]:
    await bot.command("anim1", "session start Feedback")
    await bot.command("bob", "join")
    await bot.command("bob", "share I start my 1:1s with a success")
    dm = [m for m in await bot.messages("dm:bob") if m["card"] and m["card"]["buttons"]]
    return {b["label"]: b["url"] for b in dm[-1]["card"]["buttons"]}


async def test_hosted_assertion_badge_class_and_issuer_follow_open_badges_2(
    bot: Playground,
) -> None:
    links = await _junior_links(bot)
    assertion = await _json(bot, links["Badge page (verifiable)"])
    badge = await _json(bot, assertion["badge"])
    issuer = await _json(bot, badge["issuer"])
    for document in (assertion, badge, issuer):
        assert document["@context"] == "https://w3id.org/openbadges/v2"
        assert REQUIRED[document["type"]] <= set(document), document["type"]
        assert _terms(document) <= OB2_CONTEXT_TERMS, _terms(document) - OB2_CONTEXT_TERMS
    assert assertion["id"] == links["Badge page (verifiable)"]
    assert assertion["verification"] == {"type": "hosted"}
    datetime.fromisoformat(assertion["issuedOn"].replace("Z", "+00:00"))
    assert badge["name"] == "Junior ambassador" and badge["criteria"]["narrative"]
    assert issuer["name"] == "Ambassador playground (test badges, not a real issuer)"
    assert (await _get(bot, badge["image"])).content_type == "image/png"
    assert (await _get(bot, badge["criteria"]["id"])).content_type == "text/html"
    # The recipient is a salted hash of the profile URL (no email in the playground), under
    # the workspace's random issuer key like every other URL.
    recipient = assertion["recipient"]
    assert recipient["type"] == "url" and recipient["hashed"] is True
    issuer_key = urlsplit(issuer["id"]).path.rsplit("/", 1)[1]
    profile = f"{urlsplit(assertion['id']).scheme}://{urlsplit(assertion['id']).netloc}"
    profile += f"/badges/members/{issuer_key}/bob"
    expected = hashlib.sha256((profile + recipient["salt"]).encode()).hexdigest()
    assert recipient["identity"] == f"sha256${expected}"
    assert "Bob" not in json.dumps(assertion)


async def test_the_baked_png_carries_the_assertion(bot: Playground) -> None:
    links = await _junior_links(bot)
    baked = await (await _get(bot, links["Download the badge"])).read()
    image = Image.open(io.BytesIO(baked))
    image.load()
    embedded = json.loads(image.text["openbadges"])
    assert embedded == await _json(bot, links["Badge page (verifiable)"])
    original = Image.open(REPO / "config" / "badges" / "junior.png")
    assert image.tobytes() == original.tobytes(), "the picture itself is unchanged"


async def test_the_3_0_credential_validates_and_its_signature_verifies(bot: Playground) -> None:
    links = await _junior_links(bot)
    response = await _get(bot, links["Open Badges 3.0 credential"])
    assert response.content_type == "application/vc+jwt"
    token = await response.text()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    jwk = await (await _get(bot, header["kid"])).json()
    published = await (await bot.client.get("/badges/jwks.json")).json()
    assert jwk in published["keys"]
    key = jwt.PyJWK(jwk)
    payload = jwt.decode(token, key, algorithms=["EdDSA"])
    assert payload["iss"] == payload["issuer"]["id"] and payload["jti"] == payload["id"]
    credential = {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf")}
    schema = json.loads((DATA / "ob_v3p0_achievementcredential_schema.json").read_text())
    errors = [e.message for e in Draft201909Validator(schema).iter_errors(credential)]
    assert errors == []
    assert credential["credentialSubject"]["achievement"]["name"] == "Junior ambassador"
    # A changed payload no longer verifies.
    head, body, signature = token.split(".")
    forged = json.loads(jwt.utils.base64url_decode(body))
    forged["name"] = "Senior ambassador"
    forged_body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged_body}.{signature}", key, algorithms=["EdDSA"])
    # The same key signs the next credential: generated once, kept.
    again = await (await _get(bot, links["Open Badges 3.0 credential"])).text()
    assert jwt.get_unverified_header(again)["kid"] == header["kid"]


async def test_a_revoked_badge_answers_410_and_is_listed_with_a_neutral_reason(
    bot: Playground,
) -> None:
    links = await _junior_links(bot)
    assertion = await _json(bot, links["Badge page (verifiable)"])
    confirmation = await bot.say("anim1", "badge revoke @bob junior HR case 4711")
    assert "Revoked by the issuer." in confirmation and "never published" in confirmation
    gone = await _json(bot, assertion["id"], status=410)
    assert gone == {
        "@context": "https://w3id.org/openbadges/v2",
        "id": assertion["id"],
        "revoked": True,
        "revocationReason": "Revoked by the issuer.",
    }
    # The baked PNG and the 3.0 credential answer the same neutral 410.
    for link in (links["Download the badge"], links["Open Badges 3.0 credential"]):
        assert await _json(bot, link, status=410) == gone
    badge = await _json(bot, assertion["badge"])
    issuer = await _json(bot, badge["issuer"])
    revocations = await _json(bot, issuer["revocationList"])
    assert revocations["type"] == "RevocationList"
    assert set(revocations) >= REQUIRED_REVOCATION_LIST
    assert _terms(revocations) <= OB2_CONTEXT_TERMS
    assert revocations["revokedAssertions"] == [
        {"id": assertion["id"], "revocationReason": "Revoked by the issuer."}
    ]
    # The animator's note is nowhere public, and kept privately with the revocation.
    for document in (gone, badge, issuer, revocations):
        assert "4711" not in json.dumps(document)
    async with bot.runtime.db_sessions() as db:
        notes = (await db.execute(select(BadgeAward.revoke_reason))).scalars().all()
    assert notes == ["HR case 4711"]


async def _decoded_credential(bot: Playground, url: str) -> dict[str, Any]:
    token = await (await _get(bot, url)).text()
    jwk = await (await _get(bot, jwt.get_unverified_header(token)["kid"])).json()
    payload: dict[str, Any] = jwt.decode(token, jwt.PyJWK(jwk), algorithms=["EdDSA"])
    return {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf")}


async def test_a_granted_badge_carries_the_reason_as_evidence_not_the_criteria(
    bot: Playground,
) -> None:
    await bot.command("anim1", "session start Feedback")
    for learner in ("marc", "bob"):
        await bot.command(learner, "join")
    reason = "Great facilitator… ran the [workshop](https://evil.example) <b>twice</b>"
    await bot.command("anim1", f"badge grant @marc confirmed {reason}")
    await bot.command("anim1", "badge grant @bob junior")
    schema = json.loads((DATA / "ob_v3p0_achievementcredential_schema.json").read_text())
    narratives = {
        "marc": "Great facilitator… ran the \\[workshop\\](https://evil.example) "
        "\\<b\\>twice\\</b\\>",
        "bob": "Granted by the issuer, without a stated reason.",
    }
    for who, narrative in narratives.items():
        dm = [m for m in await bot.messages(f"dm:{who}") if m["card"] and m["card"]["buttons"]]
        links = {b["label"]: b["url"] for b in dm[-1]["card"]["buttons"] if "url" in b}
        assertion = await _json(bot, links["Badge page (verifiable)"])
        assert assertion["evidence"] == [
            {"type": "Evidence", "name": "Granted by the issuer", "narrative": narrative}
        ]
        assert _terms(assertion) <= OB2_CONTEXT_TERMS
        assert REQUIRED["Assertion"] <= set(assertion)
        # The BadgeClass keeps the level's criteria: they describe the badge, not this award.
        badge = await _json(bot, assertion["badge"])
        assert badge["criteria"]["narrative"].startswith(("Answered five", "Joined the"))
        assert narrative not in json.dumps(badge)
        # The baked PNG carries the same assertion; the 3.0 credential the same evidence.
        baked = Image.open(io.BytesIO(await (await _get(bot, links["Download the badge"])).read()))
        assert json.loads(baked.text["openbadges"]) == assertion
        credential = await _decoded_credential(bot, links["Open Badges 3.0 credential"])
        assert [e.message for e in Draft201909Validator(schema).iter_errors(credential)] == []
        assert credential["evidence"] == [
            {"type": ["Evidence"], "name": "Granted by the issuer", "narrative": narrative}
        ]
        achievement = credential["credentialSubject"]["achievement"]
        assert achievement["criteria"]["narrative"] == badge["criteria"]["narrative"]


async def test_an_earned_badge_carries_no_evidence(bot: Playground) -> None:
    links = await _junior_links(bot)
    assert "evidence" not in await _json(bot, links["Badge page (verifiable)"])
    assert "evidence" not in await _decoded_credential(bot, links["Open Badges 3.0 credential"])


@pytest.mark.parametrize(
    "path",
    [
        "/badges/assertions/00000000000000000000000000000000",
        "/badges/assertions/not-a-uid!",
        "/badges/assertions/..%2F..%2Fetc%2Fpasswd",
        "/badges/assertions/00000000000000000000000000000000/badge.png",
        "/badges/assertions/00000000000000000000000000000000/credential",
        "/badges/issuers/abc",
        "/badges/issuers/999",
        "/badges/issuers/1/levels/expert",
        "/badges/issuers/1/levels/%3Cscript%3E",
        "/badges/images/expert.png",
        "/badges/keys/nope",
        "/badges/keys/%2E%2E",
    ],
)
async def test_unknown_or_malformed_badge_urls_are_404(bot: Playground, path: str) -> None:
    await bot.command("bob", "hello")
    response = await bot.client.get(path)
    assert response.status == 404
