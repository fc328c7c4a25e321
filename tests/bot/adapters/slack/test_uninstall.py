"""A Slack workspace uninstalling the app, at the wire: its tokens and the installer's admin
role go at once, its data after [retention] uninstalled_days, unless it installs again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import (
    Member,
    MembershipEvent,
    OutboxMessage,
    SlackInstallation,
    TrainingSession,
    Workspace,
)
from tests.conftest import FRIDAY
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command, event, json_headers, sign
from tests.support.slack_wire import handle_recorded, slack_app

Client = TestClient  # type: ignore[type-arg]
DAY = 86400


@pytest.fixture
async def oauth(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    async with slack_app(database_url, oauth=True, start=FRIDAY) as app:
        yield app


async def _install(client: Client, fake: FakeSlack, team: str, installer: str) -> None:
    """Through the install page and Slack's redirect, as an installer does."""
    fake.codes[f"code-{team}-{len(fake.codes)}"] = (team, installer)
    code = list(fake.codes)[-1]
    page = await client.get("/slack/install")
    state = (await page.text()).split("state=")[1].split("&")[0].split('"')[0]
    cookie = page.headers["Set-Cookie"].split(";")[0]
    response = await client.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
    )
    assert response.status == 200, await response.text()


async def _ask(
    client: Client, fake: FakeSlack, runtime: Runtime, user: str, text: str, team: str
) -> str:
    name = f"{user}-{len(fake.calls)}"
    body = command(user, text, team=team, response_url=fake.response_url(name))
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    await runtime.sender.drain()
    return str(fake.responses[name][0]["text"])


async def _event(client: Client, payload: dict[str, Any], event_id: str, team: str) -> None:
    body = event(payload, event_id, team=team)
    assert (await client.post("/slack/events", data=body, headers=json_headers(body))).status == 200


async def _workspace(runtime: Runtime, team: str) -> Workspace | None:
    async with runtime.db_sessions() as db:
        query = select(Workspace).where(
            Workspace.platform == "slack", Workspace.external_id == team
        )
        return (await db.execute(query)).scalar_one_or_none()


async def _roles(runtime: Runtime, workspace_id: int) -> dict[str, str]:
    async with runtime.db_sessions() as db:
        query = select(Member.user_id, Member.role).where(Member.workspace_id == workspace_id)
        return {user: role for user, role in (await db.execute(query)).all()}


async def _rows(runtime: Runtime, model: Any, workspace_id: int) -> int:
    async with runtime.db_sessions() as db:
        query = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        return (await db.execute(query)).scalar_one()


async def test_an_uninstalled_workspace_loses_its_token_and_admin_at_once_and_its_data_later(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    await _install(client, fake, "T1", "UBOSS1")
    await _install(client, fake, "T2", "UBOSS2")
    for team, boss in (("T1", "UBOSS1"), ("T2", "UBOSS2")):
        assert "is open" in await _ask(client, fake, runtime, boss, "session start Onb", team)
        assert "Welcome aboard" in await _ask(client, fake, runtime, "ULEARN", "join", team)
    t2 = await _workspace(runtime, "T2")
    assert t2 is not None and t2.uninstalled_at is None
    assert await _rows(runtime, OutboxMessage, t2.id) > 0

    uninstalled_at = runtime.clock.now()
    await _event(client, {"type": "app_uninstalled", "event_ts": "1700000000.1"}, "EvU", "T2")
    async with runtime.db_sessions() as db:
        teams = set((await db.execute(select(SlackInstallation.team_id))).scalars())
        events = (
            await db.execute(
                select(MembershipEvent.kind, MembershipEvent.detail)
                .join(Member, Member.id == MembershipEvent.member_id)
                .where(Member.user_id == "UBOSS2", MembershipEvent.kind == "role_removed")
            )
        ).all()
    assert teams == {"T1"}, "the token is gone at once"
    assert (await _roles(runtime, t2.id))["UBOSS2"] == "learner", "and the installer's admin"
    assert events == [("role_removed", {"role": "admin", "by": "slack_uninstall"})]
    gone = await _workspace(runtime, "T2")
    assert gone is not None and gone.uninstalled_at is not None
    assert abs((gone.uninstalled_at - uninstalled_at).total_seconds()) < 5
    # Slack also revokes the tokens (in no set order): the delay still runs from the first.
    await runtime.clock.advance(3600)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    await _event(client, revoked, "EvR", "T2")
    again = await _workspace(runtime, "T2")
    assert again is not None and again.uninstalled_at == gone.uninstalled_at
    t1 = await _workspace(runtime, "T1")
    assert t1 is not None and t1.uninstalled_at is None
    assert (await _roles(runtime, t1.id))["UBOSS1"] == "admin"

    # Within the delay, everything stays (they may come back).
    await runtime.clock.set(gone.uninstalled_at + timedelta(days=30, seconds=-60))
    await runtime.retention.run(runtime.clock.now())
    assert await _workspace(runtime, "T2") is not None
    assert await _rows(runtime, TrainingSession, t2.id) == 1
    # Past it, the workspace and everything about it are deleted; the other one is whole.
    await runtime.clock.advance(120)
    await runtime.retention.run(runtime.clock.now())
    assert await _workspace(runtime, "T2") is None
    for model in (Member, TrainingSession, OutboxMessage):
        assert await _rows(runtime, model, t2.id) == 0
    assert set(await _roles(runtime, t1.id)) == {"UBOSS1", "ULEARN"}
    assert await _rows(runtime, TrainingSession, t1.id) == 1


async def test_a_reinstall_keeps_the_workspace_and_gives_the_installer_admin_again(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    await _install(client, fake, "T1", "UBOSS1")
    assert "is open" in await _ask(client, fake, runtime, "UBOSS1", "session start A", "T1")
    await _event(client, {"type": "app_uninstalled", "event_ts": "1700000000.1"}, "EvU", "T1")
    fake.revoke("T1")
    await runtime.clock.advance(10 * DAY)
    await _install(client, fake, "T1", "UBOSS1")
    t1 = await _workspace(runtime, "T1")
    assert t1 is not None and t1.uninstalled_at is None
    assert (await _roles(runtime, t1.id))["UBOSS1"] == "admin"
    await runtime.clock.advance(40 * DAY)
    await runtime.retention.run(runtime.clock.now())
    assert await _workspace(runtime, "T1") is not None
    assert await _rows(runtime, TrainingSession, t1.id) == 1


@pytest.fixture
async def single(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    async with slack_app(database_url, start=FRIDAY) as app:
        yield app


async def test_with_one_token_an_uninstall_is_answered_and_starts_the_retention_delay(
    single: tuple[Client, FakeSlack, Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    """No token row to delete: the workspace is marked uninstalled (its data deleted after
    the delay) and the operator is told the token no longer works; 200, not bolt's 404."""
    client, fake, runtime = single
    assert "is open" in await _ask(client, fake, runtime, "UANIM", "session start A", "T1")
    t1 = await _workspace(runtime, "T1")
    assert t1 is not None and t1.uninstalled_at is None
    # Only user tokens revoked: the bot keeps working, nothing is marked.
    users_only = {"type": "tokens_revoked", "tokens": {"oauth": ["UANIM"], "bot": []}}
    body = event(users_only, "EvR0", team="T1")
    assert (await client.post("/slack/events", data=body, headers=json_headers(body))).status == 200
    assert (await _workspace(runtime, "T1")).uninstalled_at is None  # type: ignore[union-attr]

    uninstalled = {"type": "app_uninstalled", "event_ts": "1700000000.1"}
    body = event(uninstalled, "EvU", team="T1")
    response = await client.post("/slack/events", data=body, headers=json_headers(body))
    assert response.status == 200
    gone = await _workspace(runtime, "T1")
    assert gone is not None and gone.uninstalled_at is not None
    assert any(r.getMessage() == "slack_app_uninstalled" for r in caplog.records)
    # Slack also revokes the bot's token: the delay still runs from the first event.
    await runtime.clock.advance(3600)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    body = event(revoked, "EvR", team="T1")
    assert (await client.post("/slack/events", data=body, headers=json_headers(body))).status == 200
    again = await _workspace(runtime, "T1")
    assert again is not None and again.uninstalled_at == gone.uninstalled_at
    await runtime.clock.set(gone.uninstalled_at + timedelta(days=30, seconds=60))
    await runtime.retention.run(runtime.clock.now())
    assert await _workspace(runtime, "T1") is None, "deleted after [retention] uninstalled_days"


async def test_with_one_token_a_request_after_a_reinstall_keeps_the_workspace(
    single: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = single
    assert "is open" in await _ask(client, fake, runtime, "UANIM", "session start A", "T1")
    await _event(client, {"type": "app_uninstalled", "event_ts": "1700000000.1"}, "EvU", "T1")
    marked = await _workspace(runtime, "T1")
    assert marked is not None and marked.uninstalled_at is not None
    # Installed again (a new SLACK_BOT_TOKEN): Slack sends the workspace's requests again.
    await runtime.clock.advance(10 * DAY)
    assert "Welcome aboard" in await _ask(client, fake, runtime, "ULEARN", "join", "T1")
    kept = await _workspace(runtime, "T1")
    assert kept is not None and kept.uninstalled_at is None
    await runtime.clock.advance(40 * DAY)
    await runtime.retention.run(runtime.clock.now())
    assert await _rows(runtime, TrainingSession, kept.id) == 1
