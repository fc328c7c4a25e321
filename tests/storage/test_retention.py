"""Each retention rule deletes exactly what is past its delay, and nothing else, in batches
(storage/retention.py), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import activity, retention
from storage.db import create_engine, session_factory
from storage.models import (
    AuditEntry,
    BadgeAward,
    Base,
    Challenge,
    ChallengeOccurrence,
    Contribution,
    ContributionLike,
    ContributionVoice,
    ConversationPresence,
    Download,
    ErasedBadge,
    ErasureSweep,
    InboxEvent,
    LocalMessage,
    Member,
    MembershipEvent,
    MenteeWish,
    MentoringAllowance,
    MentoringPair,
    MentoringRound,
    MentorProfile,
    OutboxMessage,
    Pulse,
    PulseAnswer,
    PulseAnswerChange,
    PulseRecipient,
    Referral,
    ReplayKey,
    SessionParticipation,
    SlackInstallation,
    TeamsConversation,
    TeamsMember,
    ThemeMap,
    TrainingSession,
    Workspace,
)
from storage.retention import Batch

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=7)
JUST_BEFORE = CUTOFF - timedelta(seconds=1)
LONG_AGO = CUTOFF - timedelta(days=300)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def db_sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def _add(db_sessions: Sessions, *rows: Base) -> None:
    async with db_sessions() as db, db.begin():
        db.add_all(rows)


async def _workspace(db_sessions: Sessions, platform: str = "slack", external: str = "T1") -> int:
    async with db_sessions() as db, db.begin():
        workspace = Workspace(platform=platform, external_id=external, created_at=LONG_AGO)
        db.add(workspace)
        await db.flush()
        return workspace.id


async def _purge_all(
    db_sessions: Sessions, batch: Batch, cutoff: datetime, limit: int
) -> list[int]:
    """Run `batch` in its own transaction until it comes back short: each batch's count."""
    counts = []
    while True:
        async with db_sessions() as db, db.begin():
            done = await batch(db, cutoff, limit)
        counts.append(done)
        if done < limit:
            return counts


async def _ids(db_sessions: Sessions, model: type[Base]) -> set[Any]:
    async with db_sessions() as db:
        [key] = list(model.__table__.primary_key.columns)  # type: ignore[attr-defined]
        return set((await db.execute(select(key))).scalars())


def _inbox(row_id: int, status: str, received: datetime, done: datetime | None) -> InboxEvent:
    return InboxEvent(
        id=row_id,
        platform="slack",
        kind="command",
        payload={"text": f"secret text {row_id}"},
        status=status,
        attempts=0,
        received_at=received,
        next_attempt_at=received,
        done_at=done,
    )


async def test_handled_requests_go_a_week_after_handling_in_batches(db_sessions: Sessions) -> None:
    rows = [_inbox(n, "done", LONG_AGO, LONG_AGO + timedelta(minutes=n)) for n in range(1, 8)]
    rows += [
        _inbox(20, "done", JUST_BEFORE - timedelta(hours=1), JUST_BEFORE),  # handled 7 d + 1 s ago
        _inbox(21, "done", JUST_BEFORE, CUTOFF),  # handled exactly 7 days ago: kept
        _inbox(22, "done", NOW, NOW),
        _inbox(23, "pending", LONG_AGO, None),  # never handled: never purged
        _inbox(24, "failed", LONG_AGO, None),  # failed: its own, longer delay
    ]
    await _add(db_sessions, *rows)
    counts = await _purge_all(db_sessions, retention.handled_requests, CUTOFF, 3)
    assert counts == [3, 3, 2]
    assert await _ids(db_sessions, InboxEvent) == {21, 22, 23, 24}


async def test_failed_requests_go_after_their_own_delay(db_sessions: Sessions) -> None:
    await _add(
        db_sessions,
        _inbox(1, "failed", JUST_BEFORE, None),
        _inbox(2, "failed", CUTOFF, None),
        _inbox(3, "done", LONG_AGO, LONG_AGO),
        _inbox(4, "pending", LONG_AGO, None),
    )
    assert await _purge_all(db_sessions, retention.failed_requests, CUTOFF, 10) == [1]
    assert await _ids(db_sessions, InboxEvent) == {2, 3, 4}


def _message(
    workspace: int,
    key: str,
    *,
    target: str = "C1",
    kind: str = "post",
    status: str = "sent",
    created: datetime = LONG_AGO,
    sent: datetime | None = LONG_AGO,
) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key,
        platform="slack",
        workspace_id=workspace,
        target=target,
        kind=kind,
        update_of="card" if kind == "update" else None,
        payload={"text": f"what {key} said"},
        refresh={"name": "contribution", "id": 7, "locale": "en"} if key == "card" else None,
        status=status,
        attempts=0,
        next_attempt_at=created,
        created_at=created,
        sent_at=sent if status == "sent" else None,
        last_error="boom" if status == "failed" else None,
        platform_message_id=f"C1:{key}" if status == "sent" else None,
    )


async def test_sent_posts_keep_an_empty_stub_and_dms_and_edits_go(db_sessions: Sessions) -> None:
    w = await _workspace(db_sessions)
    await _add(
        db_sessions,
        _message(w, "card"),  # a post in a channel: may still be edited
        _message(w, "old-post", created=JUST_BEFORE, sent=JUST_BEFORE),
        _message(w, "recent-post", created=JUST_BEFORE, sent=CUTOFF),  # sent at the cutoff
        _message(w, "dm", target="dm:U1"),
        _message(w, "group-dm", target="group:U1,U2"),
        _message(w, "edit", kind="update"),
        _message(w, "superseded", kind="update", status="superseded"),
        _message(w, "superseded-recent", kind="update", status="superseded", created=CUTOFF),
        _message(w, "recent-dm", target="dm:U1", created=JUST_BEFORE, sent=NOW),
        _message(w, "pending", target="dm:U1", status="pending"),
        _message(w, "failed", target="dm:U1", status="failed"),
    )
    assert await _purge_all(db_sessions, retention.empty_sent_posts, CUTOFF, 1) == [1, 1, 0]
    assert await _purge_all(db_sessions, retention.sent_messages, CUTOFF, 10) == [4]
    async with db_sessions() as db:
        rows = {m.idempotency_key: m for m in (await db.execute(select(OutboxMessage))).scalars()}
    assert set(rows) == {
        "card",
        "old-post",
        "recent-post",
        "superseded-recent",
        "recent-dm",
        "pending",
        "failed",
    }
    card = rows["card"]
    assert card.status == "emptied" and card.payload == retention.EMPTIED_PAYLOAD
    assert card.platform_message_id == "C1:card" and card.target == "C1"
    assert card.refresh == {"name": "contribution", "id": 7, "locale": "en"}, "ids, no text"
    assert rows["old-post"].status == "emptied"
    assert rows["recent-post"].status == "sent" and "said" in rows["recent-post"].payload["text"]
    assert rows["failed"].status == "failed", "failed ones have their own delay"
    # A second purge finds nothing more to do.
    assert await _purge_all(db_sessions, retention.empty_sent_posts, CUTOFF, 10) == [0]


async def test_failed_messages_go_after_their_own_delay(db_sessions: Sessions) -> None:
    w = await _workspace(db_sessions)
    await _add(
        db_sessions,
        _message(w, "failed-old", status="failed", created=JUST_BEFORE),
        _message(w, "failed-new", status="failed", created=CUTOFF),
        _message(w, "sent-old", target="dm:U1"),
    )
    assert await _purge_all(db_sessions, retention.failed_messages, CUTOFF, 10) == [1]
    async with db_sessions() as db:
        keys = set((await db.execute(select(OutboxMessage.idempotency_key))).scalars())
    assert keys == {"failed-new", "sent-old"}


async def test_replay_keys_go_past_the_retry_windows_unless_a_request_still_waits(
    db_sessions: Sessions,
) -> None:
    await _add(
        db_sessions,
        *(ReplayKey(key=f"slack:Ev{n}", received_at=LONG_AGO) for n in range(5)),
        ReplayKey(key="request:slack:a", received_at=JUST_BEFORE),
        ReplayKey(key="request:slack:b", received_at=CUTOFF),
    )
    assert await _purge_all(db_sessions, retention.replay_keys, CUTOFF, 2) == [2, 2, 2, 0]
    async with db_sessions() as db:
        keys = set((await db.execute(select(ReplayKey.key))).scalars())
    assert keys == {"request:slack:b"}

    # A request recorded long ago and still waiting keeps every key since it arrived.
    waiting = LONG_AGO + timedelta(days=100)
    await _add(
        db_sessions,
        _inbox(1, "pending", waiting, None),
        ReplayKey(key="teams:before", received_at=waiting - timedelta(seconds=1)),
        ReplayKey(key="teams:its-own", received_at=waiting),
        ReplayKey(key="teams:after", received_at=JUST_BEFORE),
    )
    assert await _purge_all(db_sessions, retention.replay_keys, CUTOFF, 10) == [1]
    async with db_sessions() as db:
        keys = set((await db.execute(select(ReplayKey.key))).scalars())
    assert keys == {"request:slack:b", "teams:its-own", "teams:after"}


async def test_expired_downloads_go_at_once(db_sessions: Sessions) -> None:
    w = await _workspace(db_sessions)
    async with db_sessions() as db, db.begin():
        member = Member(workspace_id=w, user_id="U1", display_name="Ann", created_at=LONG_AGO)
        db.add(member)
        await db.flush()
        for n, expires in enumerate((NOW - timedelta(seconds=1), NOW, NOW + timedelta(hours=1))):
            db.add(
                Download(
                    token_hash=f"{n:064d}",
                    workspace_id=w,
                    member_id=member.id,
                    kind="pulse_csv",
                    params={},
                    expires_at=expires,
                    created_at=NOW - timedelta(hours=2),
                )
            )
    assert await _purge_all(db_sessions, retention.expired_downloads, NOW, 10) == [1]
    async with db_sessions() as db:
        left = sorted((await db.execute(select(Download.expires_at))).scalars())
    assert left == [NOW, NOW + timedelta(hours=1)]


async def test_playground_messages_go_after_their_last_change(db_sessions: Sessions) -> None:
    def local(row_id: int, created: datetime, updated: datetime) -> LocalMessage:
        return LocalMessage(
            id=row_id,
            conversation="general",
            text="demo",
            created_at=created,
            updated_at=updated,
        )

    await _add(
        db_sessions,
        local(1, LONG_AGO, LONG_AGO),
        local(2, LONG_AGO, JUST_BEFORE),
        local(3, LONG_AGO, CUTOFF),  # a card posted long ago, edited since: kept
        local(4, NOW, NOW),
    )
    assert await _purge_all(db_sessions, retention.playground_messages, CUTOFF, 10) == [2]
    assert await _ids(db_sessions, LocalMessage) == {3, 4}


def test_every_table_of_a_workspace_is_purged_with_it() -> None:
    """A new table holding a workspace's rows must be added to WORKSPACE_ROWS (one line):
    otherwise only the final cascade would delete them, in one unbounded statement."""
    with_workspace = {
        table.name
        for table in Base.metadata.sorted_tables
        if "workspace_id" in table.columns and table.name != "workspace"
    }
    listed = {model.__tablename__ for model in retention.WORKSPACE_ROWS}
    assert with_workspace == listed, with_workspace ^ listed


async def _populate(db_sessions: Sessions, w: int, prefix: str) -> None:
    """One row (at least) in every table that holds a workspace's data."""
    at = LONG_AGO
    async with db_sessions() as db, db.begin():
        ann = Member(workspace_id=w, user_id=f"{prefix}U1", display_name="Ann", created_at=at)
        bob = Member(workspace_id=w, user_id=f"{prefix}U2", display_name="Bob", created_at=at)
        db.add_all([ann, bob])
        await db.flush()
        db.add(
            AuditEntry(
                workspace_id=w,
                at=at,
                platform="teams",
                actor_kind="member",
                actor_member_id=ann.id,
                action="role.add",
                subject_member_id=bob.id,
                detail={"role": "animator"},
            )
        )
        session = TrainingSession(
            workspace_id=w,
            name="Onboarding",
            code=f"{prefix}CODE",
            conversation="C1",
            opened_by_id=ann.id,
            opened_at=at,
        )
        challenge = Challenge(
            workspace_id=w,
            created_by_id=ann.id,
            text="Give feedback",
            conversation="C1",
            locale="en",
            created_at=at,
        )
        pulse = Pulse(workspace_id=w, created_by_id=ann.id, conversation="C1", created_at=at)
        mentoring_round = MentoringRound(
            workspace_id=w, pairs=1, waiting=0, repeats_avoided=0, score=1.0, created_at=at
        )
        db.add_all([session, challenge, pulse, mentoring_round])
        await db.flush()
        occurrence = ChallengeOccurrence(
            challenge_id=challenge.id,
            workspace_id=w,
            conversation="C1",
            planned_at=at,
            status="posted",
        )
        db.add(occurrence)
        await db.flush()
        contribution = Contribution(
            workspace_id=w,
            member_id=bob.id,
            kind="answer",
            occurrence_id=occurrence.id,
            text="I did it",
            created_at=at,
            updated_at=at,
        )
        db.add(contribution)
        await db.flush()
        await activity.rebuild(db, w)  # the dashboard's rollup of that answer
        db.add_all(
            [
                SessionParticipation(session_id=session.id, member_id=bob.id, joined_at=at),
                MembershipEvent(member_id=bob.id, kind="joined", created_at=at),
                ContributionLike(contribution_id=contribution.id, member_id=ann.id, created_at=at),
                ContributionVoice(
                    contribution_id=contribution.id,
                    workspace_id=w,
                    language="en",
                    sentiment="positive",
                    vector=bytes(1024),
                    theme=0,
                ),
                ThemeMap(
                    workspace_id=w,
                    computed_at=at,
                    posts=1,
                    model="use-m3",
                    centres=bytes(2048),
                    means=bytes(2048),
                    languages="en",
                    names={"0": {"en": ["done"]}},
                ),
                PulseRecipient(pulse_id=pulse.id, member_id=bob.id, asked_at=at),
                PulseAnswer(
                    pulse_id=pulse.id, member_id=bob.id, score=9, created_at=at, updated_at=at
                ),
                PulseAnswerChange(
                    pulse_id=pulse.id, member_id=bob.id, field="score", value="9", created_at=at
                ),
                Referral(
                    workspace_id=w,
                    pulse_id=pulse.id,
                    referrer_id=bob.id,
                    referred_name="Cy",
                    referred_key="n:cy",
                    created_at=at,
                ),
                Download(
                    token_hash=f"{prefix}".ljust(64, "0"),
                    workspace_id=w,
                    member_id=ann.id,
                    kind="pulse_csv",
                    params={},
                    expires_at=NOW + timedelta(days=1),
                    created_at=at,
                ),
                BadgeAward(
                    uid=f"{prefix}-award",
                    workspace_id=w,
                    member_id=bob.id,
                    level="junior",
                    rank=1,
                    awarded_at=at,
                    source="auto",
                ),
                ErasedBadge(uid=f"{prefix}-erased", workspace_id=w, level="junior", erased_at=at),
                ErasureSweep(workspace_id=w, user_id="U9", traces={}, due_at=NOW),
                MentoringPair(
                    workspace_id=w,
                    round_id=mentoring_round.id,
                    mentor_id=ann.id,
                    novice_id=bob.id,
                    created_at=at,
                    check_in_at=at,
                ),
                MentoringAllowance(
                    workspace_id=w, mentor_id=ann.id, novice_id=bob.id, created_at=at
                ),
                MentorProfile(
                    workspace_id=w,
                    member_id=ann.id,
                    status="active",
                    capacity=2,
                    languages="en",
                    updated_at=at,
                ),
                MenteeWish(workspace_id=w, member_id=bob.id, status="paired", updated_at=at),
                _message(w, f"{prefix}-post"),
                ConversationPresence(workspace_id=w, conversation="C1", user_id="U1", seen_at=at),
            ]
        )


async def _count_per_table(db_sessions: Sessions) -> dict[str, int]:
    async with db_sessions() as db:
        return {
            table.name: (await db.execute(select(func.count()).select_from(table))).scalar_one()
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize("limit", [1, 7])
async def test_an_uninstalled_workspace_goes_whole_after_its_delay_and_only_it(
    db_sessions: Sessions, limit: int
) -> None:
    gone = await _workspace(db_sessions, "teams", "tenant-gone")
    kept = await _workspace(db_sessions, "teams", "tenant-kept")
    recent = await _workspace(db_sessions, "slack", "T-recent")
    for w, prefix in ((gone, "g"), (kept, "k"), (recent, "r")):
        await _populate(db_sessions, w, prefix)
    async with db_sessions() as db, db.begin():
        for tenant in ("tenant-gone", "tenant-kept"):
            db.add(
                TeamsConversation(
                    tenant_id=tenant,
                    conversation_id="19:c@thread.tacv2",
                    service_url="https://smba.trafficmanager.net/emea/",
                    conversation_type="channel",
                    bot_id="28:bot",
                    updated_at=LONG_AGO,
                )
            )
            db.add(
                TeamsMember(
                    tenant_id=tenant,
                    aad_object_id="aad-1",
                    user_id="29:1",
                    service_url="https://smba.trafficmanager.net/emea/",
                    updated_at=LONG_AGO,
                )
            )
        db.add(
            SlackInstallation(
                team_id="T-recent",
                bot_token="sealed",
                installed_at=LONG_AGO,
                updated_at=LONG_AGO,
            )
        )
        (await db.get(Workspace, gone)).uninstalled_at = JUST_BEFORE  # type: ignore[union-attr]
        (await db.get(Workspace, recent)).uninstalled_at = CUTOFF  # type: ignore[union-attr]
    before = await _count_per_table(db_sessions)

    counts = await _purge_all(db_sessions, retention.uninstalled_workspaces, CUTOFF, limit)
    after = await _count_per_table(db_sessions)

    # Full batches (across tables) until the last: every transaction holds `limit` rows.
    assert counts[-1] < limit and set(counts[:-1]) == {limit}
    deleted = {table: before[table] - after[table] for table in before}
    assert sum(deleted.values()) == sum(counts)
    assert {table for table, n in deleted.items() if n} == {
        *(model.__tablename__ for model in retention.WORKSPACE_ROWS),
        "session_participation",
        "membership_event",
        "contribution_like",
        "pulse_recipient",
        "pulse_answer",
        "pulse_answer_change",
        "teams_conversation",
        "teams_member",
        "workspace",
    }
    # Exactly one workspace's worth: the other two (one still within its delay) are whole.
    assert deleted["workspace"] == 1 and deleted["member"] == 2
    async with db_sessions() as db:
        left = set((await db.execute(select(Workspace.id))).scalars())
        tenants = set((await db.execute(select(TeamsConversation.tenant_id))).scalars())
    assert left == {kept, recent} and tenants == {"tenant-kept"}
    assert after["slack_installation"] == 1


async def test_a_reinstall_stops_the_deletion_at_the_next_batch(db_sessions: Sessions) -> None:
    gone = await _workspace(db_sessions)
    await _populate(db_sessions, gone, "g")
    async with db_sessions() as db, db.begin():
        (await db.get(Workspace, gone)).uninstalled_at = LONG_AGO  # type: ignore[union-attr]
    async with db_sessions() as db, db.begin():
        assert await retention.uninstalled_workspaces(db, CUTOFF, 1) == 1
    async with db_sessions() as db, db.begin():
        (await db.get(Workspace, gone)).uninstalled_at = None  # installed again
    before = await _count_per_table(db_sessions)
    assert await _purge_all(db_sessions, retention.uninstalled_workspaces, CUTOFF, 1) == [0]
    assert await _count_per_table(db_sessions) == before


async def test_ids_are_never_given_again_after_a_purge_emptied_the_table(
    db_sessions: Sessions,
) -> None:
    """Ids name effects (`inbox-<id>`, `teams:<id>:reply:<n>`): once the purge has emptied
    the inbox, SQLite would start its ids again (without AUTOINCREMENT, migration 0018) and
    a new request would pass for one already handled."""
    async with db_sessions() as db, db.begin():
        for n in range(3):
            db.add(
                InboxEvent(
                    platform="slack",
                    kind="command",
                    payload={"n": n},
                    status="done",
                    attempts=1,
                    received_at=LONG_AGO,
                    next_attempt_at=LONG_AGO,
                    done_at=LONG_AGO,
                )
            )
    async with db_sessions() as db:
        highest = max((await db.execute(select(InboxEvent.id))).scalars())
    async with db_sessions() as db, db.begin():
        assert await retention.handled_requests(db, CUTOFF, 100) == 3
    async with db_sessions() as db, db.begin():
        db.add(
            InboxEvent(
                platform="slack",
                kind="command",
                payload={"n": "new"},
                status="pending",
                attempts=0,
                received_at=CUTOFF,
                next_attempt_at=CUTOFF,
            )
        )
    async with db_sessions() as db:
        [new_id] = (await db.execute(select(InboxEvent.id))).scalars().all()
    assert new_id > highest
