"""Several workspaces through Slack's OAuth, at the wire: the install page and redirect,
tokens kept per workspace in the database, the installer as admin, uninstall and
revocation deleting the tokens, and rotating tokens refreshed once across replicas."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.adapters.slack.installations import SlackTokens
from bot.adapters.slack.manifest import BOT_SCOPES, bot_scopes
from bot.adapters.slack.sender import client as slack_client
from bot.server import Runtime
from storage import slack_installations, workspaces
from storage.models import Member, OutboxMessage, SlackInstallation
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import command, command_fields, event, json_headers, sign
from tests.support.slack_wire import handle_recorded, slack_app

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def oauth(database_url: str) -> AsyncIterator[tuple[Client, FakeSlack, Runtime]]:
    async with slack_app(database_url, oauth=True) as app:
        yield app


async def _start_install(client: Client) -> tuple[str, str]:
    """Open the install page: the state in the Slack link, and the cookie that pairs with it."""
    page = await client.get("/slack/install")
    assert page.status == 200
    html = await page.text()
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', html)
    assert link, html
    # Exactly the scopes the code uses, in their order (config/slack/manifest.json's).
    assert "scope=" + ",".join(BOT_SCOPES) + "&" in link.group(1)
    state = re.search(r"state=([^&]+)", link.group(1))
    assert state
    cookie = page.headers["Set-Cookie"].split(";")[0]
    return state.group(1), cookie


@pytest.mark.parametrize("thread_replies", ["0", "1"])
async def test_the_install_link_asks_for_thread_scopes_only_when_threads_are_read(
    database_url: str, thread_replies: str
) -> None:
    """AMBASSADOR_THREAD_REPLIES off (the default): no channels:history nor groups:history;
    on: both, in the manifest's order."""
    async with slack_app(database_url, oauth=True, AMBASSADOR_THREAD_REPLIES=thread_replies) as (
        client,
        _fake,
        _runtime,
    ):
        page = await client.get("/slack/install")
        link = re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', await page.text())
        assert link
        scopes = re.search(r"scope=([^&]+)&", link.group(1))
        assert scopes
        asked = scopes.group(1).split(",")
    assert asked == list(bot_scopes(thread_replies == "1"))
    history = {"channels:history", "groups:history"}
    assert history & set(asked) == (history if thread_replies == "1" else set())


async def _redirect(client: Client, code: str, state: str, cookie: str) -> Any:
    return await client.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
    )


async def _install(client: Client, fake: FakeSlack, team: str, installer: str) -> None:
    fake.codes[f"code-{team}"] = (team, installer)
    state, cookie = await _start_install(client)
    response = await _redirect(client, f"code-{team}", state, cookie)
    assert response.status == 200, await response.text()


async def _ask(
    client: Client, fake: FakeSlack, runtime: Runtime, user: str, text: str, team: str
) -> dict[str, Any]:
    """A slash command; its answer, posted to the response_url once the inbox handled it."""
    name = f"{user}-{len(fake.calls)}"
    body = command(user, text, team=team, response_url=fake.response_url(name))
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    [answer] = fake.responses[name]
    return answer


async def _installations(runtime: Runtime) -> dict[str, SlackInstallation]:
    async with runtime.db_sessions() as db:
        rows = (await db.execute(select(SlackInstallation))).scalars()
        return {row.team_id: row for row in rows}


async def _token(runtime: Runtime, team: str) -> str:
    async with runtime.db_sessions() as db:
        found = await slack_installations.find(db, runtime.sealer, team)
    assert found is not None
    return found.bot_token


async def test_two_workspaces_install_and_each_is_served_with_its_own_token(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    await _install(client, fake, "T1", "UBOSS1")
    await _install(client, fake, "T2", "UBOSS2")
    stored = await _installations(runtime)
    assert set(stored) == {"T1", "T2"} and stored["T2"].installer_user_id == "UBOSS2"
    opened = {team: await _token(runtime, team) for team in ("T1", "T2")}
    assert opened["T1"] != opened["T2"]

    # The installer is that workspace's admin: they may open a session; a colleague may not.
    opened = await _ask(client, fake, runtime, "UBOSS2", "session start Onboarding", "T2")
    assert "is open" in opened["text"]
    refused = await _ask(client, fake, runtime, "UOTHER", "session start Other", "T2")
    assert "is open" not in refused["text"]
    async with runtime.db_sessions() as db:
        t2 = await workspaces.find(db, "slack", "T2")
        assert t2 is not None and t2.name == "Team T2"
        query = select(Member.user_id, Member.role).where(Member.workspace_id == t2.id)
        roles = {user: role for user, role in (await db.execute(query)).all()}
    assert roles["UBOSS2"] == "admin" and "UOTHER" not in roles  # refused: nothing stored

    await runtime.sender.drain()
    posts = [n for n, (method, _) in enumerate(fake.calls) if method == "chat.postMessage"]
    assert posts and {fake.teams[n] for n in posts} == {"T2"}, "with T2's own token"


async def test_a_workspace_of_an_enterprise_grid_organization_is_served_too(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    """Its installation is kept under (organization, workspace), and its requests name both;
    the worker and the outbox, which know only the workspace, find its token as well."""
    client, fake, runtime = oauth
    fake.enterprises["T5"] = "E5"
    await _install(client, fake, "T5", "UBOSS5")
    assert (await _installations(runtime))["T5"].enterprise_id == "E5"
    fields = command_fields("UBOSS5", "session start Grid", team="T5")
    body = urlencode({**fields, "enterprise_id": "E5", "response_url": fake.response_url("grid")})
    assert (await client.post("/slack/events", data=body, headers=sign(body))).status == 200
    await handle_recorded(runtime)
    [answer] = fake.responses["grid"]
    assert "is open" in answer["text"]
    await runtime.sender.drain()
    posts = [n for n, (method, _) in enumerate(fake.calls) if method == "chat.postMessage"]
    assert posts and {fake.teams[n] for n in posts} == {"T5"}, "the sign-up card, with T5's token"


async def test_a_state_works_once_and_a_forged_one_installs_nothing(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    fake.codes["code-a"] = ("T1", "UBOSS")
    fake.codes["code-b"] = ("T2", "UBOSS")
    state, cookie = await _start_install(client)
    forged = state[:-4] + ("0000" if not state.endswith("0000") else "1111")
    response = await _redirect(client, "code-b", forged, cookie.replace(state, forged))
    assert response.status != 200 or "Thank you" not in await response.text()
    assert await _installations(runtime) == {}
    assert "code-b" in fake.codes, "a forged state never reaches Slack"

    assert (await _redirect(client, "code-a", state, cookie)).status == 200
    replayed = await _redirect(client, "code-b", state, cookie)
    assert replayed.status != 200 or "Thank you" not in await replayed.text()
    assert set(await _installations(runtime)) == {"T1"}


async def test_uninstalling_deletes_the_workspace_tokens_and_parks_its_messages(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    await _install(client, fake, "T1", "UBOSS1")
    await _install(client, fake, "T2", "UBOSS2")
    body = event({"type": "app_uninstalled", "event_ts": "1700000000.1"}, "EvU", team="T2")
    response = await client.post("/slack/events", data=body, headers=json_headers(body))
    assert response.status == 200
    assert set(await _installations(runtime)) == {"T1"}
    fake.revoke("T2")

    # A message still waiting for T2 cannot be sent: parked with a clear reason.
    async with runtime.db_sessions() as db, db.begin():
        t2 = await workspaces.get_or_create(db, "slack", "T2", runtime.clock.now())
        from bot.core.replies import OutboundMessage
        from bot.outbox.queue import Outbox

        await Outbox(db, "slack", t2.id, runtime.clock.now()).post(
            "late", "C1", OutboundMessage("Too late")
        )
    await runtime.sender.drain()
    async with runtime.db_sessions() as db:
        row = (
            await db.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key == "late"))
        ).scalar_one()
    assert row.status == "failed" and "no Slack token" in (row.last_error or "")

    # A command from the uninstalled workspace changes nothing; the user is told, in both
    # languages (nobody's language is known there any more), how to get the app back.
    body = command("UBOSS2", "session start Ghost", team="T2", response_url=fake.response_url())
    ghost = await client.post("/slack/events", data=body, headers=sign(body))
    assert ghost.status < 500 and "Traceback" not in await ghost.text()
    told = [b["text"] for m, b in fake.calls if m == "response_url"]
    assert told and "/slack/install" in told[-1] and "réinstaller" in told[-1]
    async with runtime.db_sessions() as db:
        assert (await db.execute(select(Member).where(Member.user_id == "UBOSS2"))).first()


async def test_revoked_bot_tokens_are_deleted(oauth: tuple[Client, FakeSlack, Runtime]) -> None:
    client, fake, runtime = oauth
    await _install(client, fake, "T1", "UBOSS1")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    body = event(revoked, "EvR", team="T1")
    assert (await client.post("/slack/events", data=body, headers=json_headers(body))).status == 200
    assert await _installations(runtime) == {}


async def test_a_rotating_token_is_refreshed_once_even_by_two_replicas(
    oauth: tuple[Client, FakeSlack, Runtime],
) -> None:
    client, fake, runtime = oauth
    fake.rotate_expires_in = 12 * 3600
    await _install(client, fake, "T1", "UBOSS")
    first = (await _installations(runtime))["T1"]
    assert first.bot_refresh_token and first.bot_token_expires_at
    first_token = await _token(runtime, "T1")
    await runtime.clock.advance(12 * 3600 - 60)  # one minute left: due for a refresh

    def replica() -> SlackTokens:
        api = slack_client("", fake.base_url)
        return SlackTokens(
            runtime.db_sessions,
            runtime.clock,
            api,
            fake.client_id,
            fake.client_secret,
            runtime.sealer,
        )

    one, two = replica(), replica()
    found = await asyncio.gather(one.bot("T1"), two.bot("T1"), one.bot("T1"), two.bot("T1"))
    assert fake.refreshes == 1
    tokens = {token.bot_token for token in found if token is not None}
    assert len(tokens) == 1 and first_token not in tokens
    async with runtime.db_sessions() as db:
        saved = await slack_installations.find(db, runtime.sealer, "T1")
    assert saved is not None and saved.bot_token in tokens
    assert fake.tokens[saved.bot_token] == "T1", "the refreshed token works on Slack"
    assert json.dumps(sorted(tokens))  # the same token for everyone
