"""Everything the bot holds on one person: gathered for `my data` (GDPR Art. 15 and 20).

One read transaction; the result is plain JSON-ready data, in the person's own terms
(names of sessions and levels, dates), never other people's free texts about them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import referrals
from storage.models import (
    BadgeAward,
    Challenge,
    ChallengeOccurrence,
    Contribution,
    ContributionLike,
    ConversationPresence,
    Member,
    MembershipEvent,
    MenteeWish,
    MentoringPair,
    MentorProfile,
    OutboxMessage,
    PulseAnswer,
    PulseAnswerChange,
    PulseRecipient,
    Referral,
    SessionParticipation,
    TrainingSession,
    Workspace,
)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


async def gather(
    db: AsyncSession, workspace: Workspace, member: Member, badge_urls: Any
) -> dict[str, Any]:
    """The person's data as one JSON object. `badge_urls` gives an award's public URLs
    (bot.open_badges.documents.Urls)."""
    return {
        "format": "ambassador-bot personal data export, version 1",
        "platform": workspace.platform,
        "workspace": workspace.name or workspace.external_id,
        "member": _member(member),
        "sessions": await _sessions(db, member),
        "history": await _history(db, member),
        "contributions": await _contributions(db, member),
        "likes_given": await _likes(db, member),
        "pulses": await _pulses(db, member),
        "referrals_made": await _referrals_made(db, member),
        "referrals_received": await _referrals_received(db, member),
        "badges": await _badges(db, member, badge_urls),
        "mentoring": await _mentoring(db, member),
        "messages_to_you": await _messages(db, workspace, member),
        "conversations_seen_in": await _presence(db, workspace, member),
    }


async def _messages(db: AsyncSession, workspace: Workspace, member: Member) -> list[dict[str, Any]]:
    """The bot's direct messages to them still on record (sent ones are kept a while, see
    `[retention]`), with their text as sent."""
    rows = await db.execute(
        select(OutboxMessage.payload, OutboxMessage.created_at, OutboxMessage.sent_at)
        .where(
            OutboxMessage.workspace_id == workspace.id,
            OutboxMessage.target == f"dm:{member.user_id}",
        )
        .order_by(OutboxMessage.id)
    )
    return [
        {"text": payload.get("text"), "queued_at": _iso(queued), "sent_at": _iso(sent)}
        for payload, queued, sent in rows
    ]


async def _presence(db: AsyncSession, workspace: Workspace, member: Member) -> list[dict[str, Any]]:
    """Where the bot saw them write (the playground counts who is present this way)."""
    rows = await db.execute(
        select(ConversationPresence.conversation, ConversationPresence.seen_at).where(
            ConversationPresence.workspace_id == workspace.id,
            ConversationPresence.user_id == member.user_id,
        )
    )
    return [{"conversation": where, "first_seen_at": _iso(at)} for where, at in rows]


def _member(member: Member) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "display_name": member.display_name,
        "email": member.email,
        "role": member.role,
        "level": member.level,
        "first_seen_at": _iso(member.created_at),
        "joined_at": _iso(member.joined_at),
        "left_at": _iso(member.left_at),
        "settings": {
            "language": member.locale,
            "language_from_platform": member.platform_locale,
            "timezone": member.timezone,
            "invitations": "off" if member.invitations_off_at else "on",
        },
    }


async def _sessions(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(TrainingSession.name, TrainingSession.code, SessionParticipation.joined_at)
        .join(SessionParticipation, SessionParticipation.session_id == TrainingSession.id)
        .where(SessionParticipation.member_id == member.id)
        .order_by(SessionParticipation.joined_at)
    )
    return [{"session": name, "code": code, "joined_at": _iso(at)} for name, code, at in rows]


async def _history(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(MembershipEvent.kind, MembershipEvent.created_at)
        .where(MembershipEvent.member_id == member.id)
        .order_by(MembershipEvent.id)
    )
    return [{"event": kind, "at": _iso(at)} for kind, at in rows]


async def _contributions(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(Contribution, Challenge.text)
        .outerjoin(ChallengeOccurrence, ChallengeOccurrence.id == Contribution.occurrence_id)
        .outerjoin(Challenge, Challenge.id == ChallengeOccurrence.challenge_id)
        .where(Contribution.member_id == member.id)
        .order_by(Contribution.id)
    )
    return [
        {
            "kind": contribution.kind,
            "outcome": contribution.outcome,
            "challenge": challenge,
            "text": contribution.text,
            "link": contribution.link,
            "created_at": _iso(contribution.created_at),
            "updated_at": _iso(contribution.updated_at),
            "hidden_at": _iso(contribution.hidden_at),
        }
        for contribution, challenge in rows
    ]


async def _likes(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """Their reactions to others' contributions: likes, and dislikes ("not useful to me"),
    under the key they always had (`likes_given`), each with its kind."""
    rows = await db.execute(
        select(ContributionLike.contribution_id, ContributionLike.kind, ContributionLike.created_at)
        .where(ContributionLike.member_id == member.id)
        .order_by(ContributionLike.id)
    )
    return [{"contribution": cid, "kind": str(kind), "at": _iso(at)} for cid, kind, at in rows]


async def _pulses(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    asked: dict[int, datetime] = {
        pulse_id: at
        for pulse_id, at in await db.execute(
            select(PulseRecipient.pulse_id, PulseRecipient.asked_at).where(
                PulseRecipient.member_id == member.id
            )
        )
    }
    answers = {
        answer.pulse_id: answer
        for answer in (
            await db.execute(select(PulseAnswer).where(PulseAnswer.member_id == member.id))
        ).scalars()
    }
    changes: dict[int, list[dict[str, Any]]] = {}
    for change in (
        await db.execute(
            select(PulseAnswerChange)
            .where(PulseAnswerChange.member_id == member.id)
            .order_by(PulseAnswerChange.id)
        )
    ).scalars():
        changes.setdefault(change.pulse_id, []).append(
            {"field": change.field, "value": change.value, "at": _iso(change.created_at)}
        )
    found: list[dict[str, Any]] = []
    for pulse_id in sorted(set(asked) | set(answers)):
        asked_at, answer = asked.get(pulse_id), answers.get(pulse_id)
        found.append(
            {
                "pulse": pulse_id,
                "asked_at": _iso(asked_at),
                "answer": None
                if answer is None
                else {
                    "score": answer.score,
                    "satisfaction": answer.lsat,
                    "comment": answer.comment,
                    "answered_at": _iso(answer.created_at),
                    "updated_at": _iso(answer.updated_at),
                },
                "changes": changes.get(pulse_id, []),
            }
        )
    return found


async def _referrals_made(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    rows = (
        await db.execute(
            select(Referral).where(Referral.referrer_id == member.id).order_by(Referral.id)
        )
    ).scalars()
    return [
        {
            "pulse": referral.pulse_id,
            "colleague": referral.referred_name,
            "at": _iso(referral.created_at),
            "their_response": referral.response,
            "joined_a_session_at": _iso(referral.converted_at),
        }
        for referral in rows
    ]


def received_condition(member: Member) -> Any:
    """Referrals that name `member`: picked from the directory, or by their name typed."""
    return or_(
        Referral.referred_member_id == member.id,
        Referral.referred_key == referrals.referred_key(member.id, ""),
        (Referral.workspace_id == member.workspace_id)
        & (Referral.referred_key == referrals.referred_key(None, member.display_name)),
    )


async def _referrals_received(db: AsyncSession, member: Member) -> list[dict[str, Any]]:
    # Who recommended them is the recommender's answer, seen by animators only: the
    # person learns that and when they were recommended, not by whom.
    rows = (
        await db.execute(select(Referral).where(received_condition(member)).order_by(Referral.id))
    ).scalars()
    return [
        {
            "pulse": referral.pulse_id,
            "at": _iso(referral.created_at),
            "your_response": referral.response,
            "joined_a_session_at": _iso(referral.converted_at),
        }
        for referral in rows
    ]


async def _badges(db: AsyncSession, member: Member, badge_urls: Any) -> list[dict[str, Any]]:
    rows = (
        await db.execute(
            select(BadgeAward).where(BadgeAward.member_id == member.id).order_by(BadgeAward.rank)
        )
    ).scalars()
    return [
        {
            "level": award.level,
            "awarded_at": _iso(award.awarded_at),
            "how": award.source,
            "revoked_at": _iso(award.revoked_at),
            "open_badge": badge_urls.assertion(award.uid),
            "image": badge_urls.baked(award.uid),
            "credential": badge_urls.credential(award.uid),
        }
        for award in rows
    ]


async def _mentoring(db: AsyncSession, member: Member) -> dict[str, Any]:
    profile = (
        await db.execute(select(MentorProfile).where(MentorProfile.member_id == member.id))
    ).scalar_one_or_none()
    wish = (
        await db.execute(select(MenteeWish).where(MenteeWish.member_id == member.id))
    ).scalar_one_or_none()
    pairs = (
        await db.execute(
            select(MentoringPair)
            .where(or_(MentoringPair.mentor_id == member.id, MentoringPair.novice_id == member.id))
            .order_by(MentoringPair.id)
        )
    ).scalars()
    others = {
        row.id: row.display_name
        for row in (
            await db.execute(
                select(Member).where(
                    Member.id.in_(
                        select(MentoringPair.mentor_id)
                        .where(MentoringPair.novice_id == member.id)
                        .union(
                            select(MentoringPair.novice_id).where(
                                MentoringPair.mentor_id == member.id
                            )
                        )
                    )
                )
            )
        ).scalars()
    }
    return {
        "as_mentor": None
        if profile is None
        else {
            "status": profile.status,
            "capacity": profile.capacity,
            "languages": profile.languages,
            "topics": profile.topics,
            "paused_until": _iso(profile.paused_until),
        },
        "as_novice": None if wish is None else {"status": wish.status, "languages": wish.languages},
        "pairs": [
            {
                "you_are": "mentor" if pair.mentor_id == member.id else "novice",
                "with": others.get(
                    pair.novice_id if pair.mentor_id == member.id else pair.mentor_id
                ),
                "since": _iso(pair.created_at),
                "ended_at": _iso(pair.ended_at),
                "your_check_in": pair.mentor_answer
                if pair.mentor_id == member.id
                else pair.novice_answer,
            }
            for pair in pairs
        ],
    }
