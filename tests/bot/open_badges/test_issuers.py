"""Who a badge says issued it, and at which URL, read at the wire from the real app.

The bot is configured with a real organisation as issuer ([badges] issuer_name, _email,
_url): the playground's badges must never carry it, a real workspace's must, and no issuer
can be found by walking numbers. (Issuers kept at their numeric URL by migration 0012:
tests/storage/test_workspace_public_ids_migration.py.)
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from PIL import Image
from sqlalchemy import select

from bot.settings import Settings
from storage import badges, members, workspaces
from storage.models import BadgeAward, Workspace
from tests.conftest import FRIDAY, make_settings
from tests.support.playground import Playground

REPO = Path(__file__).resolve().parents[3]
ACME = {"name": "Acme Corporation", "email": "badges@acme.example", "url": "https://acme.example"}
PLAYGROUND_NAME = "Ambassador playground (test badges, not a real issuer)"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The usual settings, with a real organisation configured as the badges' issuer."""
    text = (REPO / "config" / "ambassador.toml").read_text()
    for key in ("image", "image_fr"):
        text = text.replace(f'{key} = "badges/', f'{key} = "{REPO}/config/badges/')
    for old, new in (
        ('issuer_name = ""', f'issuer_name = "{ACME["name"]}"'),
        ('issuer_email = "badges@example.org"', f'issuer_email = "{ACME["email"]}"'),
        ('issuer_url = ""', f'issuer_url = "{ACME["url"]}"'),
    ):
        assert old in text
        text = text.replace(old, new)
    config = tmp_path / "ambassador.toml"
    config.write_text(text)
    return make_settings(database_url, AMBASSADOR_CONFIG=str(config))


async def _json(bot: Playground, url: str, status: int = 200) -> dict[str, Any]:
    response = await bot.client.get(urlsplit(url).path)
    assert response.status == status, (url, await response.text())
    data: dict[str, Any] = json.loads(await response.read())
    return data


def _mentions_acme(text: str) -> bool:
    """Any trace of the configured organisation (its name, email and url all say "acme")."""
    return "acme" in text.lower()


async def _playground_badge(bot: Playground) -> dict[str, str]:
    await bot.command("anim1", "session start Feedback")
    await bot.command("bob", "join")
    await bot.command("bob", "share I start my 1:1s with a success")
    dm = [m for m in await bot.messages("dm:bob") if m["card"] and m["card"]["buttons"]]
    return {b["label"]: b["url"] for b in dm[-1]["card"]["buttons"]}


async def _slack_badge(bot: Playground) -> tuple[Workspace, str]:
    """A badge of a Slack workspace, granted through storage (the app serves it)."""
    async with bot.runtime.db_sessions() as db, db.begin():
        workspace = await workspaces.get_or_create(db, "slack", "T0ACME", FRIDAY)
        member = await members.get_or_create(db, workspace.id, "U0MARC", FRIDAY)
        award_id = await badges.grant(
            db,
            workspace_id=workspace.id,
            member_id=member.id,
            level="junior",
            rank=1,
            granted_by_id=member.id,
            reason=None,
            now=FRIDAY,
        )
        assert award_id is not None
        award = await badges.by_id(db, award_id)
        assert award is not None
        return workspace, award.uid


async def test_the_playground_never_issues_as_the_configured_organisation(
    bot: Playground,
) -> None:
    links = await _playground_badge(bot)
    assertion = await _json(bot, links["Badge page (verifiable)"])
    badge = await _json(bot, assertion["badge"])
    issuer = await _json(bot, badge["issuer"])
    assert issuer["name"] == PLAYGROUND_NAME
    assert issuer["url"] == bot.runtime.settings.base_url
    assert issuer["email"].endswith(".invalid")
    assert "test badges" in issuer["description"]
    token = await (await bot.client.get(urlsplit(links["Open Badges 3.0 credential"]).path)).text()
    credential = jwt.decode(token, options={"verify_signature": False})
    assert credential["issuer"]["name"] == PLAYGROUND_NAME
    assert credential["issuer"]["email"] == issuer["email"]
    baked = await (await bot.client.get(urlsplit(links["Download the badge"]).path)).read()
    image = Image.open(io.BytesIO(baked))
    image.load()
    linkedin = parse_qs(urlsplit(links["Add to LinkedIn profile"]).query)
    assert linkedin["organizationName"] == [PLAYGROUND_NAME]
    for text in (
        json.dumps(assertion),
        json.dumps(badge),
        json.dumps(issuer),
        json.dumps(credential),
        image.text["openbadges"],
        links["Add to LinkedIn profile"],
    ):
        assert not _mentions_acme(text), text


async def test_a_real_workspace_issues_as_the_organisation_at_an_unguessable_url(
    bot: Playground,
) -> None:
    links = await _playground_badge(bot)
    slack, uid = await _slack_badge(bot)
    assertion = await _json(bot, f"/badges/assertions/{uid}")
    badge = await _json(bot, assertion["badge"])
    issuer = await _json(bot, badge["issuer"])
    assert {key: issuer[key] for key in ACME} == ACME
    assert issuer["id"].endswith(f"/badges/issuers/{slack.public_id}")
    revocations = await _json(bot, issuer["revocationList"])
    assert revocations["issuer"] == issuer["id"] and revocations["revokedAssertions"] == []

    async with bot.runtime.db_sessions() as db:
        spaces = list((await db.execute(select(Workspace).order_by(Workspace.id))).scalars())
        uids = list((await db.execute(select(BadgeAward.uid))).scalars())
    keys = [w.public_id for w in spaces]
    assert len(spaces) == 2 and len(set(keys)) == 2
    # 128 random bits each (secrets.token_urlsafe(16)): 22 URL-safe characters.
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", key) and not key.isdigit() for key in keys)
    playground_issuer = (await _json(bot, links["Badge page (verifiable)"]))["badge"]
    assert f"/badges/issuers/{spaces[0].public_id}/" in playground_issuer
    # Assertions are named by 128 random bits as well.
    assert len(uids) == 2 and all(re.fullmatch(r"[0-9a-f-]{32,36}", u) for u in uids)

    # Walking the numbers finds nothing; no listing of issuers either.
    for path in [
        *(f"/badges/issuers/{n}" for n in range(0, 6)),
        *(f"/badges/issuers/{w.id}/revocations" for w in spaces),
        *(f"/badges/issuers/{w.id}/levels/junior" for w in spaces),
        "/badges/issuers",
        "/badges/issuers/",
        "/badges/",
    ]:
        response = await bot.client.get(path)
        assert response.status == 404, path
        assert "Acme" not in await response.text() and PLAYGROUND_NAME not in await response.text()
