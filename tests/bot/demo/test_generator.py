"""The demo community: the same seed gives the same rows, and the rows keep the bot's own
invariants (loaded on both databases, read back through the bot's storage code)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core import stats
from bot.demo import community, texts
from bot.demo.generator import TABLES, Rows, final_sums, session_code
from bot.demo.loader import insert_rows, move_sequences, rebuild_rollups
from bot.handlers.badges import rules
from bot.ladder import DEFAULT_LADDER
from bot.mentoring.matcher import LANGUAGE_FULL, NO_LANGUAGE, ONLY_PREVIOUS, OUTNUMBERED
from storage import badges, pulses
from storage.db import create_engine, session_factory
from storage.models import Contribution, Pulse, WeeklyActivity
from storage.pulses import PulseSums

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
MEMBERS = 80


@pytest.fixture(scope="module")
def rows() -> Rows:
    return community(MEMBERS, NOW, 7, {})


def test_the_same_seed_gives_the_same_community_and_another_seed_another() -> None:
    first = community(40, NOW, 3, {})
    assert first == community(40, NOW, 3, {})
    assert first != community(40, NOW, 4, {})


def test_every_participant_joined_at_their_first_session(rows: Rows) -> None:
    members = {m["id"]: m for m in rows["member"]}
    sessions = {s["id"]: s for s in rows["training_session"]}
    first: dict[int, dict[str, Any]] = {}
    for taken in sorted(rows["session_participation"], key=lambda p: p["joined_at"]):
        member = members[taken["member_id"]]
        assert member["joined_at"] is not None
        assert member["joined_at"] <= taken["joined_at"]
        session = sessions[taken["session_id"]]
        assert session["opened_at"] <= taken["joined_at"] <= session["closed_at"]
        first.setdefault(member["id"], taken)
    for member_id, taken in first.items():
        assert members[member_id]["joined_session_id"] == taken["session_id"]
        assert members[member_id]["joined_at"] == taken["joined_at"]
    # Everyone who joined took part in a session (the demo has no community-only joins),
    # and every join is in the member's history.
    joined = {m["id"] for m in rows["member"] if m["joined_at"] is not None}
    assert joined == set(first)
    events = Counter(e["member_id"] for e in rows["membership_event"] if e["kind"] == "joined")
    assert set(events) == joined and set(events.values()) == {1}


def test_sessions_have_8_to_25_learners_and_at_least_as_many_present(rows: Rows) -> None:
    joined = Counter(p["session_id"] for p in rows["session_participation"])
    trainers = {s["opened_by_id"] for s in rows["training_session"]}
    assert not trainers & {p["member_id"] for p in rows["session_participation"]}
    for session in rows["training_session"]:
        assert session["present_count"] >= joined[session["id"]]
        assert session["closed_at"] is not None
    # The last session takes whoever is left, so only the others keep to the range.
    sizes = [joined[s["id"]] for s in rows["training_session"][:-1]]
    assert sizes and all(8 <= size <= 25 for size in sizes)
    names = {s["name"] for s in rows["training_session"]}
    assert len(names) >= 4


def test_closed_pulses_carry_the_sums_of_their_answers(rows: Rows) -> None:
    answers = defaultdict(list)
    for answer in rows["pulse_answer"]:
        answers[answer["pulse_id"]].append(answer)
    statuses = Counter(p["status"] for p in rows["pulse"])
    assert statuses["closed"] > 0
    for pulse in rows["pulse"]:
        if pulse["status"] == "closed":
            assert pulse["final_sums"] == final_sums(answers[pulse["id"]])
        else:
            assert pulse["final_sums"] is None
        if pulse["status"] == "scheduled":
            assert not answers[pulse["id"]] and pulse["sent_at"] is None
        for answer in answers[pulse["id"]]:
            assert pulse["sent_at"] <= answer["created_at"] < pulse["closes_at"]
            assert 0 <= answer["score"] <= 10 and answer["lsat"] in (None, 1, 2, 3, 4, 5)
    recipients = Counter(r["pulse_id"] for r in rows["pulse_recipient"])
    for pulse in rows["pulse"]:
        assert pulse["recipients"] == recipients[pulse["id"]]
        assert len(answers[pulse["id"]]) <= pulse["recipients"]


def test_the_nps_is_positive_and_promoters_give_a_higher_lsat(rows: Rows) -> None:
    total = PulseSums()
    for pulse in rows["pulse"]:
        if pulse["final_sums"] is not None:
            total = total + PulseSums(**pulse["final_sums"])
    nps = stats.nps(total)
    assert nps is not None and 10 <= nps <= 55
    r = stats.correlation(total).r
    assert r is not None and r > 0.3


def test_award_levels_match_the_members_level(rows: Rows) -> None:
    held: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for award in rows["badge_award"]:
        held[award["member_id"]].append(award)
        assert award["rank"] == DEFAULT_LADDER.rank(award["level"])
        assert award["awarded_at"] <= NOW
    for member in rows["member"]:
        awards = held.get(member["id"], [])
        if not awards:
            assert member["level"] is None
            continue
        assert member["joined_at"] is not None
        assert member["level"] == max(awards, key=lambda a: a["rank"])["level"]
        for award in awards:
            assert award["awarded_at"] >= member["joined_at"]
    levels = Counter(m["level"] for m in rows["member"] if m["joined_at"] is not None)
    assert levels["junior"] and levels["confirmed"]


def test_converted_referrals_name_someone_who_joined_a_later_session(rows: Rows) -> None:
    members = {m["id"]: m for m in rows["member"]}
    converted = [r for r in rows["referral"] if r["converted_at"] is not None]
    assert converted
    for referral in rows["referral"]:
        target = referral["referred_member_id"]
        if referral["converted_at"] is None:
            if target is not None:
                assert members[target]["joined_at"] is None  # never took part since
            continue
        joined = members[target]
        assert referral["created_at"] < referral["converted_at"] == joined["joined_at"]
        assert referral["converted_session_id"] == joined["joined_session_id"]


def test_mentoring_pairs_never_repeat_and_check_ins_are_answered_once_due(rows: Rows) -> None:
    pairs = rows["mentoring_pair"]
    assert pairs
    assert len({(p["mentor_id"], p["novice_id"]) for p in pairs}) == len(pairs)
    mentors = {p["member_id"] for p in rows["mentor_profile"]}
    levels = {m["id"]: m["level"] for m in rows["member"]}
    for pair in pairs:
        assert pair["mentor_id"] in mentors and pair["mentor_id"] != pair["novice_id"]
        assert (pair["checked_at"] is not None) == (pair["check_in_at"] <= NOW)
    assert all(levels[m] in ("confirmed", "senior") for m in mentors)
    reasons = {NO_LANGUAGE, LANGUAGE_FULL, ONLY_PREVIOUS, OUTNUMBERED, None}
    for wish in rows["mentee_wish"]:
        assert wish["waiting_reason"] in reasons
        assert wish["status"] == "waiting" or wish["waiting_reason"] is None


def test_ids_start_at_the_offsets_given_and_unique_keys_hold_across_two_communities() -> None:
    first = community(30, NOW, 1, {})
    offsets = {
        table: max((r["id"] for r in first.get(table, [])), default=0) + 1 for table in TABLES
    }
    second = community(30, NOW, 1, offsets, workspace_id=1, animator_id=1)
    for table, found in second.items():
        ids = [r["id"] for r in found]
        assert sorted(ids) == list(range(offsets[table], offsets[table] + len(ids))), table
    both = {t: first.get(t, []) + second.get(t, []) for t in TABLES}
    keys = {
        "member": ("workspace_id", "user_id"),
        "training_session": ("workspace_id", "code"),
        "session_participation": ("session_id", "member_id"),
        "contribution_like": ("contribution_id", "member_id"),
        "pulse_recipient": ("pulse_id", "member_id"),
        "pulse_answer": ("pulse_id", "member_id"),
        "referral": ("pulse_id", "referrer_id", "referred_key"),
        "badge_award": ("uid",),
        "mentor_profile": ("member_id",),
        "mentee_wish": ("member_id",),
        "challenge_occurrence": ("challenge_id", "planned_at"),
    }
    for table, columns in keys.items():
        values = [tuple(r[c] for c in columns) for r in both[table]]
        assert len(values) == len(set(values)), table
    answers = [
        (r["occurrence_id"], r["member_id"]) for r in both["contribution"] if r["kind"] == "answer"
    ]
    assert len(answers) == len(set(answers))
    active = [(r["member_id"], r["level"]) for r in both["badge_award"]]
    assert len(active) == len(set(active))


def test_session_codes_differ_for_different_ids() -> None:
    codes = {session_code(n) for n in range(1, 20_000)}
    assert len(codes) == 19_999 and all(len(code) == 6 for code in codes)


async def test_loaded_the_bot_reads_it_as_its_own_history(rows: Rows, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db, db.begin():
            await insert_rows(db, rows)
            await move_sequences(db, rows)
        async with session_factory(engine)() as db, db.begin():
            query = select(Pulse.id, Pulse.final_sums).where(Pulse.status == "closed")
            closed = (await db.execute(query)).all()
            computed = await pulses.sums(db, [p.id for p in closed])
            for pulse in closed:
                assert pulse.final_sums == computed.get(pulse.id, PulseSums()).__dict__
            # Where the schema keeps a closed pulse's (score, LSAT) grid too (migration 0020),
            # it is the one storage/pulses.freeze_sums keeps.
            frozen_grid = getattr(pulses, "frozen_grid", None)
            cells = getattr(pulses, "cells", None)
            if frozen_grid is not None and cells is not None:
                kept = await cells(db, [p.id for p in closed])
                for pulse in (await db.execute(select(Pulse))).scalars():
                    if pulse.status == "closed":
                        expected = frozen_grid(kept.get(pulse.id, {}))
                        assert getattr(pulse, "final_grid", None) == expected
            # Nothing more to award: the hourly promotion agrees with the demo's badges.
            made = await badges.award_due(
                db, rules(DEFAULT_LADDER), DEFAULT_LADDER.daily_caps, DEFAULT_LADDER.points, NOW
            )
            assert made == []
            await db.rollback()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def larger() -> Rows:
    """A community big enough for every kind of the learner voice to show."""
    return community(300, NOW, 2026, {})


def _language(text: str) -> str | None:
    pools = (texts.SHARES, texts.QUESTIONS, texts.EXPERIENCES, texts.WATCHES, texts.REPLIES)
    return next((lang for pool in pools for lang in pool if text in pool[lang]), None)


def test_every_kind_of_contribution_shows_in_both_languages_in_proportion(larger: Rows) -> None:
    made = larger["contribution"]
    kinds = Counter(row["kind"] for row in made)
    free = sum(kinds[kind] for kind in ("share", "question", "experience", "watch"))
    assert kinds["answer"] > free > 0
    # Mostly tips, then questions, experience reports and watch links.
    assert kinds["share"] > max(kinds["question"], kinds["experience"], kinds["watch"]) > 0
    assert min(kinds["question"], kinds["experience"], kinds["watch"]) >= free * 0.08
    for kind in ("share", "question", "experience", "watch", "reply"):
        languages = {_language(row["text"]) for row in made if row["kind"] == kind}
        assert {"fr", "en"} <= languages, kind
    assert all(row["link"] for row in made if row["kind"] == "watch")
    assert not any(row["link"] for row in made if row["kind"] in ("question", "experience"))


def test_questions_get_replies_and_their_askers_mark_the_one_that_helped(larger: Rows) -> None:
    by_id = {row["id"]: row for row in larger["contribution"]}
    replies = [row for row in larger["contribution"] if row["kind"] == "reply"]
    questions = [row for row in by_id.values() if row["kind"] == "question"]
    answered = {reply["parent_id"] for reply in replies}
    assert len(answered) >= len(questions) / 2  # most questions find someone
    helped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for reply in replies:
        question = by_id[reply["parent_id"]]
        assert question["kind"] == "question" and question["hidden_at"] is None
        assert reply["member_id"] != question["member_id"]
        assert question["created_at"] < reply["created_at"] <= NOW
        assert reply["id"] > question["id"]  # ids follow time, as the bot's do
        if reply["helped_at"] is not None:
            assert reply["hidden_at"] is None and reply["created_at"] < reply["helped_at"] <= NOW
            helped[question["id"]].append(reply)
    assert helped and all(len(marked) == 1 for marked in helped.values())
    assert len(helped) < len(answered)  # not every asker says which one helped
    assert all(row["parent_id"] is None for row in by_id.values() if row["kind"] != "reply")


def test_some_reactions_are_not_useful_to_me_and_nobody_reacts_to_their_own(
    larger: Rows,
) -> None:
    reactions = larger["contribution_like"]
    kinds = Counter(reaction["kind"] for reaction in reactions)
    assert 0 < kinds["dislike"] < kinds["like"] * 0.15
    authors = {row["id"]: row["member_id"] for row in larger["contribution"]}
    assert all(authors[r["contribution_id"]] != r["member_id"] for r in reactions)
    on_replies = {r["contribution_id"] for r in reactions} & {
        row["id"] for row in larger["contribution"] if row["kind"] == "reply"
    }
    assert on_replies  # replies are reacted to as well


async def test_loaded_the_rollup_counts_each_kind_replies_and_dislikes(
    larger: Rows, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db, db.begin():
            await insert_rows(db, larger)
            await move_sequences(db, larger)
            [workspace] = larger["workspace"]
            assert await rebuild_rollups(db, workspace["id"])
        async with session_factory(engine)() as db:
            columns = ("shares", "questions", "experiences", "watches", "replies")
            query = select(*(func.sum(getattr(WeeklyActivity, c)) for c in columns))
            sums = dict(zip(columns, (await db.execute(query)).one(), strict=True))
            query = select(func.sum(WeeklyActivity.dislikes_received))
            dislikes = (await db.execute(query)).scalar_one()
            # The "helped" marks, as the bot reads them (storage/contributions.helped_count).
            helped = (
                await db.execute(select(func.count()).where(Contribution.helped_at.is_not(None)))
            ).scalar_one()
    finally:
        await engine.dispose()
    visible = [row for row in larger["contribution"] if row["hidden_at"] is None]
    kinds = Counter(row["kind"] for row in visible)
    assert sums == {
        "shares": kinds["share"] + kinds["question"] + kinds["experience"] + kinds["watch"],
        "questions": kinds["question"],
        "experiences": kinds["experience"],
        "watches": kinds["watch"],
        "replies": kinds["reply"],
    }
    assert dislikes and helped == sum(row["helped_at"] is not None for row in visible)
