"""The pulses section on a hand-made community, figures worked out by hand, on both
databases; and `pulse results all` gives the same figures."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.core.stats import correlation, lsat_mean, nps
from bot.steering import pulses as section
from bot.steering.model import COMMUNITY, Pulses
from bot.steering.pulses import pulses
from storage import pulses as stored
from storage.models import Pulse, PulseAnswer, Workspace
from storage.pulses import PulseSums
from tests.bot.steering.handmade import Community, database, scope
from tests.support.playground import Playground

PARIS = "Europe/Paris"
# Pulse B is sent at 23:30 UTC on 30 September: 1 October, 01:30 in Paris.
SENT_A = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
SENT_B = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
SENT_C = datetime(2026, 10, 15, 8, 0, tzinfo=UTC)
SENT_D = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)


async def _build(db: object) -> dict[str, int]:
    """Excel (sessions S1 and S2), Word (S3), and a community pulse:

    A  Excel S1  10/09  (10,5) (9,4) (7,3) (3,1) (8,—)   closed, grid kept
    B  Word  S3  30/09 23:30 UTC  (6,2) (10,5) (9,5)     open
    C  community 15/10  (5,3) (9,4)                      open
    D  Excel S2  05/11  (10,4) (8,3) (2,1)               closed before grids were kept
    """
    c = await Community.create(db)  # type: ignore[arg-type]
    m = [await c.member(f"Learner {n}") for n in range(1, 7)]
    s1 = await c.session("Excel", "S1", SENT_A - timedelta(days=5), m[:5])
    s2 = await c.session("Excel", "S2", SENT_D - timedelta(days=5), m[2:5])
    s3 = await c.session("Word", "S3", SENT_B - timedelta(days=5), [m[0], m[1], m[5]])
    a = await c.pulse(
        s1,
        SENT_A,
        [(m[0], 10, 5), (m[1], 9, 4), (m[2], 7, 3), (m[3], 3, 1), (m[4], 8, None)],
        recipients=6,
    )
    b = await c.pulse(s3, SENT_B, [(m[0], 6, 2), (m[1], 10, 5), (m[5], 9, 5)], recipients=4)
    cc = await c.pulse(None, SENT_C, [(m[0], 5, 3), (m[1], 9, 4)], recipients=10)
    d = await c.pulse(s2, SENT_D, [(m[2], 10, 4), (m[3], 8, 3), (m[4], 2, 1)], recipients=3)
    for pulse_id in (a, d):
        pulse = await c.db.get(Pulse, pulse_id)  # type: ignore[attr-defined]
        assert pulse is not None
        await stored.freeze_sums(c.db, pulse)
        pulse.status, pulse.closed_at = "closed", pulse.sent_at + timedelta(days=7)
        if pulse_id == d:
            pulse.final_grid = None  # closed before migration 0020
    # Learner 1 recommended Excel (pulse A) to Learner 6 and to a colleague not on the platform.
    await c.referral(a, m[0], referred_id=m[5])
    await c.referral(a, m[0], name="Eve Martin")
    return {"ws": c.workspace_id, "s1": s1, "s2": s2, "s3": s3, "a": a, "b": b, "c": cc, "d": d}


async def _figures(url: str, **kwargs: object) -> tuple[dict[str, int], Pulses]:
    async with database(url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
        async with db_sessions() as db:
            return ids, await pulses(db, ids["ws"], scope(**kwargs))  # type: ignore[arg-type]


async def test_the_whole_workspace_worked_out_by_hand(database_url: str) -> None:
    ids, found = await _figures(database_url, timezone=PARIS)
    total = found.total
    # 13 answers: promoters 10,9,10,9,9,10 (6), detractors 3,6,5,2 (4), passives 7,8,8 (3);
    # NPS = (6 − 4) / 13 × 100 = +15.38.
    assert (total.answers, total.promoters, total.passives, total.detractors) == (13, 6, 3, 4)
    assert nps(total) == pytest.approx(200 / 13)
    # 12 answers with an LSAT: Σy = 5+4+3+1+2+5+5+3+4+4+3+1 = 40, mean 40/12.
    assert lsat_mean(total) == pytest.approx(40 / 12)
    # Σx = 88, Σx² = 730, Σy² = 156, Σxy = 334, n = 12:
    # r = (12·334 − 88·40) / √((12·730 − 88²)(12·156 − 40²)) = 488 / √(1016 · 272) = 0.92830…
    r = correlation(total)
    assert r.n == 12 and r.r == pytest.approx(488 / math.sqrt(1016 * 272))
    assert r.r == pytest.approx(0.92830, abs=1e-5)
    assert found.asked == 6 + 4 + 10 + 3
    # The scatter: (score, LSAT) → answers, the answer without LSAT left out.
    assert found.grid == {
        (10, 5): 2,
        (9, 4): 2,
        (7, 3): 1,
        (3, 1): 1,
        (6, 2): 1,
        (9, 5): 1,
        (5, 3): 1,
        (10, 4): 1,
        (8, 3): 1,
        (2, 1): 1,
    }
    assert [p.label for p in found.per_pulse] == [
        f"#{ids['a']} Excel",
        f"#{ids['b']} Word",
        f"#{ids['c']} {COMMUNITY}",
        f"#{ids['d']} Excel",
    ]
    assert [p.community for p in found.per_pulse] == [False, False, True, False]
    # Sent days in Paris: B's 23:30 UTC is already 1 October there.
    assert [p.when.isoformat() for p in found.per_pulse] == [
        "2026-09-10",
        "2026-10-01",
        "2026-10-15",
        "2026-11-05",
    ]
    assert [p.asked for p in found.per_pulse] == [6, 4, 10, 3]
    # C has 2 answers: too few for an NPS of its own.
    assert [nps(p.sums) for p in found.per_pulse] == [
        pytest.approx(20.0),  # 2 promoters, 1 detractor out of 5
        pytest.approx(100 / 3),  # (2 − 1) / 3
        None,
        pytest.approx(0.0),  # 1 − 1 out of 3
    ]
    # Excel's two sessions add up: A + D, first sent on 10 September.
    assert [(p.label, p.sums.answers, p.asked, p.community) for p in found.per_training] == [
        ("Excel", 8, 9, False),
        ("Word", 3, 4, False),
        (COMMUNITY, 2, 10, True),
    ]
    assert found.per_training[0].when.isoformat() == "2026-09-10"
    # Excel: promoters 10,9,10 − detractors 3,2 over 8 answers = +12.5; LSAT 21/7 = 3.
    excel = found.per_training[0].sums
    assert nps(excel) == pytest.approx(12.5) and lsat_mean(excel) == pytest.approx(3.0)


async def test_months_are_the_viewers(database_url: str) -> None:
    _, paris = await _figures(database_url, timezone=PARIS)
    # In Paris, B (30 September 23:30 UTC) is an October pulse: 5 answers each month.
    assert [(p.label, p.when.isoformat(), p.sums.answers, p.asked) for p in paris.per_month] == [
        ("2026-09", "2026-09-01", 5, 6),
        ("2026-10", "2026-10-01", 5, 14),
        ("2026-11", "2026-11-01", 3, 3),
    ]
    # Paris October: 6,10,9 and 5,9 → promoters 3, detractors 2 → +20.
    assert nps(paris.per_month[1].sums) == pytest.approx(20.0)


async def test_in_utc_the_same_pulse_is_a_september_one(database_url: str) -> None:
    _, utc = await _figures(database_url, timezone="UTC")
    assert [(p.label, p.sums.answers) for p in utc.per_month] == [
        ("2026-09", 8),
        ("2026-10", 2),
        ("2026-11", 3),
    ]
    assert utc.per_pulse[1].when.isoformat() == "2026-09-30"


async def test_a_training_a_session_and_a_period_narrow_the_figures(database_url: str) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
        async with db_sessions() as db:
            ws = ids["ws"]
            excel = await pulses(db, ws, scope((ids["s1"], ids["s2"]), timezone=PARIS))
            s2 = await pulses(db, ws, scope((ids["s2"],), timezone=PARIS))
            # October in Paris: from 1 October 00:00 (30 September 22:00 UTC) to 1 November.
            october = await pulses(
                db,
                ws,
                scope(
                    start=datetime(2026, 9, 30, 22, 0, tzinfo=UTC),
                    end=datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
                    timezone=PARIS,
                ),
            )
            nothing = await pulses(db, ws, scope((), timezone=PARIS))
            other = await pulses(db, ws + 1000, scope(timezone=PARIS))
            # The page's view: the latest pulse listed, every one still added up.
            latest = await pulses(db, ws, scope((ids["s1"], ids["s2"]), timezone=PARIS), latest=1)
    # Excel: A and D only (the community pulse is nobody's training).
    assert [p.label for p in excel.per_pulse] == [f"#{ids['a']} Excel", f"#{ids['d']} Excel"]
    assert excel.total.answers == 8 and nps(excel.total) == pytest.approx(12.5)
    assert excel.asked == 9
    assert sum(excel.grid.values()) == 7
    assert excel.pulses_in_scope is None and latest.pulses_in_scope == 2
    assert latest.per_pulse == excel.per_pulse[-1:]
    assert (latest.total, latest.asked, latest.grid) == (excel.total, excel.asked, excel.grid)
    assert latest.per_month == excel.per_month and latest.per_training == excel.per_training
    # Session S2: D alone, 10, 8, 2 → (1 − 1) / 3 = 0; LSAT (4+3+1)/3.
    assert s2.total.answers == 3 and nps(s2.total) == pytest.approx(0.0)
    assert lsat_mean(s2.total) == pytest.approx(8 / 3)
    assert s2.grid == {(10, 4): 1, (8, 3): 1, (2, 1): 1}
    # October: B and C; 6,10,9,5,9 → +20; Σy = 2+5+5+3+4 = 19 over 5.
    assert [p.label for p in october.per_pulse] == [f"#{ids['b']} Word", f"#{ids['c']} community"]
    assert nps(october.total) == pytest.approx(20.0)
    assert lsat_mean(october.total) == pytest.approx(19 / 5)
    for empty in (nothing, other):
        assert empty.per_pulse == () and empty.total == PulseSums() and empty.grid == {}
        assert empty.named == () and empty.asked == 0


async def test_kept_sums_and_grids_are_read_not_recounted(database_url: str) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
            # Erasing a learner deletes their answers; a closed pulse's kept figures stay,
            # exactly as `pulse results` reads them (storage.pulses.results_sums).
            await db.execute(delete(PulseAnswer).where(PulseAnswer.pulse_id == ids["a"]))
        async with db_sessions() as db:
            found = await pulses(db, ids["ws"], scope((ids["s1"],)))
            kept = await stored.results_sums(db, [p for p in await _sent(db, ids["ws"])])
            # The page's view adds up the same kept figures in the database.
            page = await pulses(db, ids["ws"], scope((ids["s1"],)), latest=1)
            whole = await pulses(db, ids["ws"], scope(timezone=PARIS))
            whole_page = await pulses(db, ids["ws"], scope(timezone=PARIS), latest=2)
    assert found.total.answers == 5 and found.total == kept[ids["a"]]
    assert sum(found.grid.values()) == 4
    for full, cut in ((found, page), (whole, whole_page)):
        assert (cut.total, cut.asked, cut.grid) == (full.total, full.asked, full.grid)
        assert cut.per_month == full.per_month and cut.per_training == full.per_training
        assert cut.per_pulse == full.per_pulse[-len(cut.per_pulse) :]
        assert cut.named == full.named and cut.pulses_in_scope == len(full.per_pulse)


async def _sent(db: object, workspace_id: int) -> list[Pulse]:
    query = select(Pulse).where(Pulse.workspace_id == workspace_id)
    return list((await db.execute(query)).scalars())  # type: ignore[attr-defined]


async def test_named_answers_latest_first_with_whom_they_recommend(database_url: str) -> None:
    ids, found = await _figures(database_url, timezone=PARIS)
    assert len(found.named) == 13
    assert [a.answered_at for a in found.named] == sorted(
        (a.answered_at for a in found.named), reverse=True
    )
    latest = found.named[0]
    # D's last answer: Learner 5, 2, LSAT 1, the third of its answers (a comment).
    assert (latest.name, latest.pulse_label, latest.score, latest.lsat, latest.comment) == (
        "Learner 5",
        f"#{ids['d']} Excel",
        2,
        1,
        "comment 2",
    )
    first_of_a = next(a for a in found.named if a.pulse_label == f"#{ids['a']} Excel")
    assert first_of_a.name == "Learner 5" and first_of_a.lsat is None  # (8, —)
    recommender = next(
        a for a in found.named if a.pulse_label.startswith(f"#{ids['a']} ") and a.score == 10
    )
    assert recommender.name == "Learner 1"
    assert recommender.recommends == ("Learner 6", "Eve Martin")
    # Learner 1's other answers recommended nothing.
    others = [a for a in found.named if a.name == "Learner 1" and a is not recommender]
    assert len(others) == 2 and all(a.recommends == () for a in others)


async def test_named_answers_read_a_few_pulses_at_a_time_in_order(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two answers shown, two pulses a query: the open pulses first, then by closing date.
    monkeypatch.setattr(section, "NAMED_SHOWN", 2)
    monkeypatch.setattr(section, "NAMED_CHUNK", 1)
    ids, found = await _figures(database_url)
    assert [(a.pulse_label, a.score) for a in found.named] == [
        (f"#{ids['d']} Excel", 2),
        (f"#{ids['d']} Excel", 8),
    ]
    async with database(database_url) as db_sessions, db_sessions() as db:
        unnamed = await pulses(db, ids["ws"], scope(), named=False)
    assert unnamed.named == () and unnamed.total == found.total


async def test_pulse_results_all_gives_the_pages_figures(bot: Playground) -> None:
    for who in ("alice", "bob", "chloe", "dana"):
        await bot.command(who, "hello")
    await bot.command("anim1", "session start Excel")
    card = next(m for m in reversed(await bot.messages()) if m["card"])["card"]
    code = str(card["buttons"][0]["value"])
    for who in ("alice", "bob", "chloe", "dana"):
        await bot.command(who, f"join {code}")
    await bot.command("anim1", f"session close {code}")
    await bot.command("anim1", "pulse send")
    # 10, 9, 6, 8 with LSAT 5, 4, 2, 3: (2 − 1) / 4 = +25; LSAT 14/4 = 3.50;
    # Σx = 33, Σy = 14, Σx² = 281, Σy² = 54, Σxy = 50 + 36 + 12 + 24 = 122:
    # r = (4·122 − 33·14) / √((4·281 − 33²)(4·54 − 14²)) = 26 / √(35 · 20) = 0.98270…
    for who, score, lsat in (("alice", 10, 5), ("bob", 9, 4), ("chloe", 6, 2), ("dana", 8, 3)):
        await bot.action(who, "pulse.score", f"1:{score}", f"dm:{who}")
        await bot.action(who, "pulse.lsat", f"1:{lsat}", f"dm:{who}")
    chat = await bot.say("anim1", "pulse results all")
    async with bot.runtime.db_sessions() as db:
        workspace_id = (await db.execute(select(Workspace.id))).scalar_one()
        page = await pulses(db, workspace_id, scope(timezone=PARIS))
    assert nps(page.total) == pytest.approx(25.0)
    assert correlation(page.total).r == pytest.approx(26 / math.sqrt(700))
    assert chat.splitlines() == [
        "All pulses",
        "4 answers in all · NPS +25 (promoters: 2 · passives: 1 · detractors: 1)",
        "Satisfaction: 3.50 / 5 (n = 4)",
        "NPS ↔ satisfaction: r = 0.98 (n = 4)",
        "Per training:",
        "Excel · 4 answers · NPS +25 · LSAT 3.50",
        "Per month:",
        "2026-11 · 4 answers · NPS +25 · LSAT 3.50",
    ]


@pytest.mark.parametrize("head", [1, 2, 50])
async def test_the_pages_named_answers_read_the_head_of_the_queue_first(
    database_url: str, monkeypatch: pytest.MonkeyPatch, head: int
) -> None:
    # However few closed pulses the page looks at first, it names the same answers.
    monkeypatch.setattr(section, "NAMED_SHOWN", 3)
    monkeypatch.setattr(section, "NAMED_CHUNK", 1)
    monkeypatch.setattr(section, "CLOSED_HEAD", head)
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            ids = await _build(db)
        async with db_sessions() as db:
            full = await pulses(db, ids["ws"], scope(timezone=PARIS))
            page = await pulses(db, ids["ws"], scope(timezone=PARIS), latest=1)
    assert len(full.named) == 3 and page.named == full.named
