"""Migration to random issuer ids on a database that already issued badges, on both databases:
the badges issued under the numeric issuer URL keep verifying at the wire (same URLs, same
recipient hash), every other workspace is only reachable by its random public id."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from alembic.script import ScriptDirectory

from bot.clock import Clock
from bot.server import build_app, create_runtime
from storage import badges
from storage.db import create_engine
from storage.migrate import alembic_config, upgrade
from storage.models import UtcDateTime
from tests.conftest import make_settings
from tests.support import migrations

BEFORE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
OLD_UID = "0123456789abcdef0123456789abcdef"

_workspace = sa.table(
    "workspace",
    sa.column("id", sa.Integer()),
    sa.column("platform", sa.String()),
    sa.column("external_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("created_at", UtcDateTime()),
)
_member = sa.table(
    "member",
    sa.column("id", sa.Integer()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("user_id", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("created_at", UtcDateTime()),
)
_award = sa.table(
    "badge_award",
    sa.column("uid", sa.String()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("member_id", sa.Integer()),
    sa.column("level", sa.String()),
    sa.column("rank", sa.Integer()),
    sa.column("awarded_at", UtcDateTime()),
    sa.column("source", sa.String()),
)


def _revisions(url: str) -> tuple[str, str]:
    """(this migration's revision, the one before it), found by the migration's name so that
    re-numbering the chain does not break the test."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    found = next(
        s
        for s in scripts.walk_revisions()
        if Path(s.path).name.endswith("_workspace_public_ids.py")
    )
    assert isinstance(found.down_revision, str)
    return found.revision, found.down_revision


@pytest.fixture
async def migrated(empty_database: str) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The schema before the migration with two Slack workspaces, one of which issued a
    badge; then migrated to the newest schema. Yields the URL and the workspaces' ids."""
    url = empty_database
    this, before = _revisions(url)
    await migrations.migrate_to(url, before)
    engine = create_engine(url)
    ids: dict[str, int] = {}
    try:
        async with engine.begin() as db:
            for team in ("T0OLD", "T0NEW"):
                values = {"platform": "slack", "external_id": team, "created_at": BEFORE}
                row = await db.execute(
                    _workspace.insert()
                    .values(name=f"Team {team}", **values)
                    .returning(_workspace.c.id)
                )
                ids[team] = row.scalar_one()
            member = await db.execute(
                _member.insert()
                .values(
                    workspace_id=ids["T0OLD"],
                    user_id="U0OLD",
                    display_name="Olga",
                    role="learner",
                    created_at=BEFORE,
                )
                .returning(_member.c.id)
            )
            ids["member"] = member.scalar_one()
            await db.execute(
                _award.insert().values(
                    uid=OLD_UID,
                    workspace_id=ids["T0OLD"],
                    member_id=ids["member"],
                    level="junior",
                    rank=1,
                    awarded_at=BEFORE,
                    source="auto",
                )
            )
    finally:
        await engine.dispose()
    await migrations.migrate_to(url, this)
    engine = create_engine(url)
    try:
        await upgrade(engine)  # and whatever comes after it
    finally:
        await engine.dispose()
    yield url, ids


async def test_issued_badges_keep_their_numeric_urls_and_nothing_else_has_one(
    migrated: tuple[str, dict[str, int]],
) -> None:
    url, ids = migrated
    runtime = create_runtime(make_settings(url), Clock(controllable=True, start=AFTER))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    try:
        async with runtime.db_sessions() as db:
            rows = (
                await db.execute(
                    sa.text(
                        "SELECT external_id, public_id, legacy_badge_urls FROM workspace "
                        "ORDER BY id"
                    )
                )
            ).all()
        assert [(r[0], bool(r[2])) for r in rows] == [("T0OLD", True), ("T0NEW", False)]
        public = {r[0]: r[1] for r in rows}
        assert all(len(key) == 22 for key in public.values())
        assert public["T0OLD"] != public["T0NEW"]

        async def get(path: str, status: int = 200) -> dict[str, Any]:
            response = await client.get(urlsplit(path).path)
            assert response.status == status, (path, await response.text())
            data: dict[str, Any] = await response.json(content_type=None)
            return data

        # The badge issued before: the same URLs as when it was issued, all answering.
        base = runtime.settings.base_url
        old_issuer = f"{base}/badges/issuers/{ids['T0OLD']}"
        assertion = await get(f"/badges/assertions/{OLD_UID}")
        assert assertion["badge"] == f"{old_issuer}/levels/junior"
        badge = await get(assertion["badge"])
        assert badge["issuer"] == old_issuer
        issuer = await get(old_issuer)
        assert (
            issuer["id"] == old_issuer and issuer["revocationList"] == f"{old_issuer}/revocations"
        )
        assert (await get(issuer["revocationList"]))["issuer"] == old_issuer
        # Its recipient hash is the one it was issued with (the numeric profile URL).
        salt = assertion["recipient"]["salt"]
        profile = f"{base}/badges/members/{ids['T0OLD']}/U0OLD"
        expected = hashlib.sha256((profile + salt).encode()).hexdigest()
        assert assertion["recipient"]["identity"] == f"sha256${expected}"
        credential = jwt.decode(
            await (await client.get(f"/badges/assertions/{OLD_UID}/credential")).text(),
            options={"verify_signature": False},
        )
        assert credential["issuer"]["id"] == old_issuer
        # It stays one issuer: a badge issued there after the migration names the same one.
        async with runtime.db_sessions() as db, db.begin():
            award_id = await badges.grant(
                db,
                workspace_id=ids["T0OLD"],
                member_id=ids["member"],
                level="confirmed",
                rank=2,
                granted_by_id=ids["member"],
                reason=None,
                now=AFTER,
            )
            assert award_id is not None
            award = await badges.by_id(db, award_id)
            assert award is not None
            new_uid = award.uid
        assert (await get(f"/badges/assertions/{new_uid}"))["badge"].startswith(old_issuer + "/")
        # The legacy workspace has no second issuer at its random id.
        await get(f"/badges/issuers/{public['T0OLD']}", status=404)

        # The workspace that had issued nothing has no numeric URL, only its random one.
        await get(f"/badges/issuers/{ids['T0NEW']}", status=404)
        await get(f"/badges/issuers/{ids['T0NEW']}/revocations", status=404)
        fresh = await get(f"/badges/issuers/{public['T0NEW']}")
        assert fresh["name"] == "Team T0NEW"
    finally:
        await client.close()
        await runtime.engine.dispose()
