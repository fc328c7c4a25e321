"""The referrals section on a hand-made community, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.steering.model import COMMUNITY, ReferralRow
from bot.steering.referrals import referrals
from storage import referrals as stored
from tests.bot.steering.handmade import Community, database, scope

SEPT = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 10, 8, 0, tzinfo=UTC)


async def test_per_training_made_invited_interested_converted(database_url: str) -> None:
    async with database(database_url) as db_sessions:
        async with db_sessions() as db, db.begin():
            c = await Community.create(db)
            m = [await c.member(f"Learner {n}") for n in range(1, 6)]
            s1 = await c.session("Excel", "S1", SEPT - timedelta(days=3), m[:2])
            s2 = await c.session("Excel", "S2", OCT - timedelta(days=3), m[2:4])
            s3 = await c.session("Word", "S3", OCT - timedelta(days=3), m[:1])
            a = await c.pulse(s1, SEPT, [(m[0], 9, 5), (m[1], 10, 4)])
            b = await c.pulse(s2, OCT, [(m[2], 9, 5)])
            w = await c.pulse(s3, OCT, [(m[0], 7, 3)])
            k = await c.pulse(None, OCT, [(m[1], 8, 4)])
            # Excel in September (pulse A): three colleagues, two on the platform, one of
            # whom said "interested" and then joined a later session; a free name.
            day = SEPT + timedelta(days=1)
            await c.referral(
                a, m[0], referred_id=m[4], created_at=day, response="interested", converted_at=OCT
            )
            await c.referral(a, m[1], referred_id=m[3], created_at=day, response="not_now")
            await c.referral(a, m[1], name="Eve Martin", created_at=day)
            # Excel in October (pulse B): one, not on the platform.
            await c.referral(b, m[2], name="Zoé", created_at=OCT + timedelta(days=1))
            # Word: one stopped invitation; the community pulse: one interested.
            await c.referral(w, m[0], referred_id=m[4], created_at=OCT, response="stop")
            await c.referral(k, m[1], referred_id=m[3], created_at=OCT, response="interested")
            ws = c.workspace_id
        async with db_sessions() as db:
            everything = await referrals(db, ws, scope())
            excel = await referrals(db, ws, scope((s1, s2)))
            october = await referrals(
                db, ws, scope(start=datetime(2026, 10, 1, tzinfo=UTC), end=None)
            )
            nothing = await referrals(db, ws, scope(()))
            per_pulse = await stored.counts(db, [a, b])
    # The most referrals first; the community after the trainings with as many.
    assert everything == (
        ReferralRow("Excel", made=4, invited=2, interested=1, converted=1),
        ReferralRow("Word", made=1, invited=1, interested=0, converted=0),
        ReferralRow(COMMUNITY, made=1, invited=1, interested=1, converted=0, community=True),
    )
    # The same counts `pulse results` gives pulse by pulse, added up.
    assert everything[0].made == per_pulse[a].made + per_pulse[b].made
    assert everything[0].converted == per_pulse[a].converted + per_pulse[b].converted
    assert everything[0].interested == per_pulse[a].interested + per_pulse[b].interested
    # Excel's sessions only: the community and Word are out.
    assert excel == (ReferralRow("Excel", made=4, invited=2, interested=1, converted=1),)
    # From 1 October: Zoé for Excel, Word's and the community's.
    assert october == (
        ReferralRow("Excel", made=1, invited=0, interested=0, converted=0),
        ReferralRow("Word", made=1, invited=1, interested=0, converted=0),
        ReferralRow(COMMUNITY, made=1, invited=1, interested=1, converted=0, community=True),
    )
    assert nothing == ()
