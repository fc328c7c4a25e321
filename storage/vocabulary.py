"""The closed vocabularies stored in columns: one StrEnum per vocabulary.

Each column that holds one of these is declared with `Vocabulary(<enum>)` in
storage/models.py: it is stored as the plain string (VARCHAR, no native enum type), read
back as the enum member, and the database refuses any other value (a CHECK constraint
named ck_<table>_<column>, added by migration 0021). A member is a `str`, so it compares
equal to its value, formats as its value and serializes to JSON as its value.

Adding or removing a value is a schema change: the migration that changes the CHECK
constraint goes with it (migration 0021 freezes the lists as they were then, and each later
migration that adds a vocabulary or changes one freezes its own in its `VOCABULARIES`, as
0024 did for contribution.kind and 0025 for contribution_like.kind; a test compares them,
applied in order, with these enums).
"""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """Where an outbox message stands (outbox_message.status).

    PENDING: to send (or to retry) once due. SENT: the platform has it. SUPERSEDED: a later
    message with the same coalesce key made it redundant, never sent. FAILED: parked after
    a permanent failure or too many attempts. EMPTIED: a post sent more than [retention]
    outbox_days ago; its content removed, its key, target and platform id kept (it can still
    be edited, replied to in its thread, found from a reaction).
    """

    PENDING = "pending"
    SENT = "sent"
    SUPERSEDED = "superseded"
    FAILED = "failed"
    EMPTIED = "emptied"


class OutboxKind(StrEnum):
    """What an outbox message does (outbox_message.kind).

    POST: a new message. UPDATE: an edit in place of the message sent for `update_of`.
    """

    POST = "post"
    UPDATE = "update"


class InboxStatus(StrEnum):
    """Where a recorded platform request stands (inbox_event.status).

    PENDING: to handle once due (or again, after a failure). DONE: handled. FAILED: given up
    after too many attempts.
    """

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ChallengeStatus(StrEnum):
    """A challenge's life (challenge.status).

    ACTIVE: has runs to come. FINISHED: no more runs (a one-off posted, a schedule ended).
    CANCELLED: stopped by an animator.
    """

    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class OccurrenceStatus(StrEnum):
    """What became of one planned posting of a challenge (challenge_occurrence.status).

    POSTED: posted, open for answers until it closes. SKIPPED: not posted (its reason in
    skip_reason).
    """

    POSTED = "posted"
    SKIPPED = "skipped"


class PulseStatus(StrEnum):
    """An NPS pulse's life (pulse.status).

    SCHEDULED: waiting for its sending time (or its session's close). SENDING: being sent
    to its recipients (a crash resumes it). OPEN: sent, taking answers. CLOSED: past its
    deadline, its sums frozen. CANCELLED: cancelled before it was sent.
    """

    SCHEDULED = "scheduled"
    SENDING = "sending"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PulseAnswerField(StrEnum):
    """Which part of a pulse answer changed (pulse_answer_change.field).

    SCORE: the NPS score (0-10). LSAT: the satisfaction (1-5). COMMENT: the free comment.
    """

    SCORE = "score"
    LSAT = "lsat"
    COMMENT = "comment"


class ContributionKind(StrEnum):
    """What a learner contributed (contribution.kind).

    ANSWER: an answer to a challenge occurrence. The others are shared freely (`share …`):
    SHARE: a tip (plain `share <text>`). QUESTION: a question to the community. EXPERIENCE:
    an experience report ("retour d'expérience"). WATCH: a link the learner found worth
    reading (their own "veille"), in `contribution.link`, with an optional comment.
    REPLY: a reply to a question, in the question's thread (`contribution.parent_id`);
    not a free kind (it is not shared with `share`), counted apart (`replies`).
    """

    ANSWER = "answer"
    SHARE = "share"
    QUESTION = "question"
    EXPERIENCE = "experience"
    WATCH = "watch"
    REPLY = "reply"


# What is shared freely, as opposed to challenge answers: the ladder's `shares` and the
# rollup's `shares` count all of them.
FREE_KINDS = (
    ContributionKind.SHARE,
    ContributionKind.QUESTION,
    ContributionKind.EXPERIENCE,
    ContributionKind.WATCH,
)


class ReactionKind(StrEnum):
    """What a member says of someone else's contribution (contribution_like.kind): one
    reaction per member and contribution, changeable, removable.

    LIKE: 👍 (a button or an approving emoji). DISLIKE: 👎 "not useful to me": its author
    and the animators see how many, the public post does not, and it never counts toward
    badges.
    """

    LIKE = "like"
    DISLIKE = "dislike"


class ContributionOutcome(StrEnum):
    """How an answer to a challenge went, as its author said (contribution.outcome; NULL
    for shares).

    SUCCESS: done. NOT_YET: tried, not there yet.
    """

    SUCCESS = "success"
    NOT_YET = "not_yet"


class MemberRole(StrEnum):
    """What a member may do (member.role), each role allowing what the one before allows.

    LEARNER: every member. ANIMATOR: runs sessions, challenges, pulses, mentoring rounds.
    ADMIN: also roles, exports, erasures, the audit log.
    """

    LEARNER = "learner"
    ANIMATOR = "animator"
    ADMIN = "admin"


class BadgeSource(StrEnum):
    """Why a badge level was awarded (badge_award.source).

    AUTO: the ladder's criteria were met. GRANT: an animator's `badge grant`.
    """

    AUTO = "auto"
    GRANT = "grant"


class ReferralResponse(StrEnum):
    """A referred colleague's answer to the invitation (referral.response; NULL until they
    answer).

    INTERESTED: wants the training. NOT_NOW: not now. STOP: no more invitations at all.
    """

    INTERESTED = "interested"
    NOT_NOW = "not_now"
    STOP = "stop"


class MentorStatus(StrEnum):
    """A mentor's availability (mentor_profile.status).

    ACTIVE: takes mentees (unless paused until a date). OFF: no more mentees.
    """

    ACTIVE = "active"
    OFF = "off"


class WishStatus(StrEnum):
    """Where a novice stands about mentoring (mentee_wish.status).

    WAITING: wants a mentor, none yet. PAIRED: has one. STOPPED: asked for none any more
    (or left). DECLINED: answered "no" when asked at join.
    """

    WAITING = "waiting"
    PAIRED = "paired"
    STOPPED = "stopped"
    DECLINED = "declined"


class CheckInAnswer(StrEnum):
    """An answer to a mentoring pair's check-in "Have you met?" (mentoring_pair.mentor_answer
    and novice_answer; NULL until answered).

    MET: yes. NOT_YET: not yet. ANOTHER: the novice asks for another mentor (ends the pair).
    """

    MET = "met"
    NOT_YET = "not_yet"
    ANOTHER = "another"


class PairEndReason(StrEnum):
    """Why a mentoring pair ended (mentoring_pair.end_reason; NULL while it lasts).

    ANOTHER: the novice asked for another mentor. MENTOR_OFF: the mentor stopped mentoring
    (or left). NOVICE_STOP: the novice stopped (or left). ERASED: one of them asked to be
    forgotten.
    """

    ANOTHER = "another"
    MENTOR_OFF = "mentor_off"
    NOVICE_STOP = "novice_stop"
    ERASED = "erased"


class ActorKind(StrEnum):
    """Who did what an audit entry records (audit_entry.actor_kind).

    MEMBER: a person's command. SYSTEM: the bot on its own (e.g. after an uninstall).
    """

    MEMBER = "member"
    SYSTEM = "system"


class Sentiment(StrEnum):
    """How a post's author feels about what they write (contribution_voice.sentiment), as
    the voice's classifier reads it (bot/voice/sentiment.py)."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
