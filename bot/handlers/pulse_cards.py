"""What a pulse looks like in a learner's DM: the NPS question, then LSAT, then details."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.replies import Button, Card, Field, Form, FormField, OutboundMessage
from bot.i18n import Translator
from storage.models import Pulse, TrainingSession

SCORE_ACTION = "pulse.score"
LSAT_ACTION = "pulse.lsat"
DETAILS_ACTION = "pulse.details"
SCORES = range(11)  # NPS: 0-10
LSATS = range(1, 6)  # learner satisfaction: 1-5


async def training_name(db: AsyncSession, pulse: Pulse, t: Translator) -> str:
    """What the pulse is about: its session's name, or the ambassador community."""
    if pulse.session_id is not None:
        session = await db.get(TrainingSession, pulse.session_id)
        if session is not None:
            return session.name
    return t("pulses.the_community")


def question(
    t: Translator, pulse: Pulse, training: str, closes_at: datetime, zone: str, *, reminder: bool
) -> OutboundMessage:
    """The DM asking the NPS question, with one button per score (0 to 10)."""
    title = t("pulses.reminder_title" if reminder else "pulses.question_title", training=training)
    body = t("pulses.question", training=training) + "\n" + t("pulses.named_notice")
    card = Card(
        title=title,
        body=body,
        fields=(
            Field(t("pulses.scale_label"), t("pulses.scale_hint")),
            Field(t("pulses.closes_label"), t.datetime(closes_at, zone)),
        ),
        buttons=tuple(Button(str(n), SCORE_ACTION, f"{pulse.id}:{n}") for n in SCORES),
    )
    return OutboundMessage(text=f"{title}\n{body}", card=card)


def lsat_card(t: Translator, pulse_id: int, training: str, score: int) -> Card:
    """After a score: thanks, and the satisfaction question (1 to 5)."""
    return Card(
        title=t("pulses.score_saved", score=score),
        body=t("pulses.lsat_question", training=training),
        fields=(Field(t("pulses.lsat_scale_label"), t("pulses.lsat_scale_hint")),),
        buttons=tuple(Button(str(n), LSAT_ACTION, f"{pulse_id}:{n}") for n in LSATS),
    )


def details_form(
    t: Translator,
    pulse_id: int,
    comment: str,
    people: tuple[tuple[str, str], ...] = (),
    not_offered: tuple[str, ...] = (),
) -> Form:
    """After LSAT: an optional comment and the colleagues they would recommend it to
    (`people`: the (name, user id) of those the bot knows, for platforms whose forms
    cannot search the directory themselves, Teams; `not_offered`: user ids the picker
    leaves out where it can — the learner, trainers, participants)."""
    return Form(
        title=t("pulses.details_title"),
        submit_action_id=f"{DETAILS_ACTION}:{pulse_id}",
        fields=(
            FormField(
                "comment", t("pulses.comment_label"), "multiline", required=False, value=comment
            ),
            FormField(
                "referrals",
                t("pulses.referrals_label"),
                "users",
                people,
                required=False,
                exclude=not_offered,
            ),
        ),
    )
