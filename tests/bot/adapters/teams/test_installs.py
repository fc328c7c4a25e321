"""Teams removing the bot, at the wire (bot/adapters/teams/installs.py): the place it was
removed from is forgotten at once; removed from the last one, the tenant is uninstalled, its
references forgotten, and its data deleted after [retention] uninstalled_days."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import (
    Member,
    OutboxMessage,
    TeamsConversation,
    TeamsMember,
    TrainingSession,
    Workspace,
)
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import (
    ANIM,
    BOT,
    CHANNEL,
    CHANNEL_ROOT,
    GOLDEN,
    TENANT,
    Client,
    activity,
    new_activity_id,
    personal_activity,
    send,
    settle,
)

LEARNER = "00000001-0000-4000-8000-000000000000"
TEAM_A = "19:66P469zibfbsGI-_a0aN_toLTZpyzS6u7CT3TsXdgPw1@thread.tacv2"  # the golden's team
TEAM_B = "19:teamB0000000000000000000000000@thread.tacv2"
CHANNEL_B = "19:channelB00000000000000000000000@thread.tacv2"


def _in_team_b(fake: FakeConnector, who: str, text: str) -> dict[str, Any]:
    """A message in a channel of another team of the same tenant."""
    made = activity(fake, who, text)
    made["conversation"] = {**made["conversation"], "id": f"{CHANNEL_B};messageid=1"}
    made["channelData"] = {
        "channel": {"id": CHANNEL_B},
        "team": {"id": TEAM_B},
        "tenant": {"id": TENANT},
    }
    return made


def _uninstalled_from(fake: FakeConnector, team: str, channel: str) -> dict[str, Any]:
    """Teams' installationUpdate `remove` (Microsoft's documented shape) for one team."""
    sample = json.loads((GOLDEN / "installationUpdate_remove_channel_docs.json").read_text())
    made = copy.deepcopy(sample)
    made["id"] = f"f:{new_activity_id()}"
    made["serviceUrl"] = fake.service_url
    made["recipient"] = {"id": BOT, "name": "Ambassador"}
    made["from"] = {"id": f"29:{ANIM}", "aadObjectId": ANIM}
    made["conversation"].update(id=channel, tenantId=TENANT)
    made["channelData"]["channel"] = {"id": channel}
    made["channelData"]["settings"]["selectedChannel"] = {"id": channel}
    made["channelData"]["team"]["id"] = team
    made["channelData"]["tenant"] = {"id": TENANT}
    return made


def _bot_removed_from(fake: FakeConnector, team: str, deleted: bool = False) -> dict[str, Any]:
    """The older signal: conversationUpdate with the bot among membersRemoved (its
    conversation id is the team's, channelData.eventType teamMemberRemoved); or the whole
    team deleted (eventType teamDeleted)."""
    made = activity(fake, ANIM, type="conversationUpdate")
    if not deleted:
        made["membersRemoved"] = [{"id": BOT}]
    made["conversation"] = {
        "id": team,
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": TENANT,
    }
    made["channelData"] = {
        "team": {"id": team},
        "eventType": "teamDeleted" if deleted else "teamMemberRemoved",
        "tenant": {"id": TENANT},
    }
    return made


async def _deliver(client: Client, fake: FakeConnector, runtime: Runtime, body: Any) -> None:
    assert (await send(client, fake, body)).status == 202
    await settle(runtime)


async def _references(runtime: Runtime) -> list[tuple[str, str | None, str]]:
    async with runtime.db_sessions() as db:
        rows = await db.execute(
            select(
                TeamsConversation.conversation_id,
                TeamsConversation.team_id,
                TeamsConversation.conversation_type,
            ).where(TeamsConversation.tenant_id == TENANT)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _workspace(runtime: Runtime) -> Workspace | None:
    async with runtime.db_sessions() as db:
        query = select(Workspace).where(
            Workspace.platform == "teams", Workspace.external_id == TENANT
        )
        return (await db.execute(query)).scalar_one_or_none()


async def _count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.db_sessions() as db:
        query = select(func.count()).select_from(model).where(*where)
        return (await db.execute(query)).scalar_one()


async def _community_in_two_teams(
    client: Client, fake: FakeConnector, runtime: Runtime
) -> Workspace:
    await _deliver(client, fake, runtime, activity(fake, ANIM, "session start Feedback"))
    await _deliver(client, fake, runtime, activity(fake, LEARNER, "join"))
    await _deliver(client, fake, runtime, _in_team_b(fake, ANIM, "help"))
    workspace = await _workspace(runtime)
    assert workspace is not None
    references = await _references(runtime)
    teams = {team for _, team, kind in references if kind == "channel"}
    assert teams == {TEAM_A, TEAM_B}, references
    assert any(kind == "personal" for _, _, kind in references), "the 1:1 chats opened"
    return workspace


async def test_removed_from_one_team_forgets_it_and_from_the_last_uninstalls_the_tenant(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    workspace = await _community_in_two_teams(client, fake, runtime)

    await _deliver(client, fake, runtime, _uninstalled_from(fake, TEAM_A, CHANNEL_ROOT))
    references = await _references(runtime)
    assert not [r for r in references if r[0].startswith(CHANNEL_ROOT)], "team A forgotten"
    # Team B's channel and the thread the command was typed in, both kept.
    kept = {r[0] for r in references if r[1] == TEAM_B}
    assert kept == {CHANNEL_B, f"{CHANNEL_B};messageid=1"}
    still = await _workspace(runtime)
    assert still is not None and still.uninstalled_at is None, "team B still has the bot"

    removed_at = runtime.clock.now()
    await _deliver(client, fake, runtime, _bot_removed_from(fake, TEAM_B))
    assert await _references(runtime) == [], "every reference of the tenant, 1:1 chats too"
    assert await _count(runtime, TeamsMember, TeamsMember.tenant_id == TENANT) == 0
    gone = await _workspace(runtime)
    assert gone is not None and gone.uninstalled_at is not None
    assert abs((gone.uninstalled_at - removed_at).total_seconds()) < 5
    # Teams may send both signals: the second changes nothing.
    await _deliver(client, fake, runtime, _uninstalled_from(fake, TEAM_B, CHANNEL_B))
    again = await _workspace(runtime)
    assert again is not None and again.uninstalled_at == gone.uninstalled_at

    await runtime.clock.set(gone.uninstalled_at + timedelta(days=30, seconds=-60))
    await runtime.retention.run(runtime.clock.now())
    assert await _count(runtime, Member, Member.workspace_id == workspace.id) == 2
    await runtime.clock.advance(120)
    await runtime.retention.run(runtime.clock.now())
    assert await _workspace(runtime) is None
    for model in (Member, TrainingSession, OutboxMessage):
        assert await _count(runtime, model, model.workspace_id == workspace.id) == 0


async def test_the_bot_back_in_the_tenant_keeps_its_data(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    workspace = await _community_in_two_teams(client, fake, runtime)
    await _deliver(client, fake, runtime, _bot_removed_from(fake, TEAM_A))
    assert {r[1] for r in await _references(runtime) if r[2] == "channel"} == {TEAM_B}
    await _deliver(client, fake, runtime, _bot_removed_from(fake, TEAM_B, deleted=True))
    gone = await _workspace(runtime)
    assert gone is not None and gone.uninstalled_at is not None
    await runtime.clock.advance(86400)

    # Installed again (Teams then posts the bot's arrival in the channel), or simply used:
    # the tenant has the bot, its community stays.
    added = activity(fake, ANIM, type="conversationUpdate")
    added["membersAdded"] = [{"id": BOT}]
    await _deliver(client, fake, runtime, added)
    back = await _workspace(runtime)
    assert back is not None and back.uninstalled_at is None
    assert {r[0] for r in await _references(runtime)} == {CHANNEL, CHANNEL_ROOT}
    await runtime.clock.advance(40 * 86400)
    await runtime.retention.run(runtime.clock.now())
    assert await _count(runtime, Member, Member.workspace_id == workspace.id) == 2


async def test_a_person_removing_the_app_forgets_their_chat_only(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    other = "00000002-0000-4000-8000-000000000000"
    for who in (LEARNER, other):
        await _deliver(client, fake, runtime, personal_activity(fake, who, "help"))
    removal = personal_activity(fake, LEARNER, type="installationUpdate", action="remove")
    await _deliver(client, fake, runtime, removal)
    assert [r[0] for r in await _references(runtime)] == [f"a:1:1-with-{other}"]
    workspace = await _workspace(runtime)
    assert workspace is not None and workspace.uninstalled_at is None, "others still use it"

    # The last person using it (no team, no group chat) removes it: the tenant is gone.
    last = personal_activity(fake, other, type="installationUpdate", action="remove")
    await _deliver(client, fake, runtime, last)
    assert await _references(runtime) == []
    workspace = await _workspace(runtime)
    assert workspace is not None and workspace.uninstalled_at is not None
