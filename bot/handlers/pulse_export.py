"""`pulse export [<id>]`: the named answers as CSV, behind a link valid for one hour.

A link rather than a file upload works the same on Slack, Teams and the playground;
its token is random and only its hash is stored (storage/downloads.py). Every cell goes
through bot/csv_safe.py (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, csv_safe
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Button, Card, Reply
from bot.handlers.pulses import default_pulse, pulse_arg
from storage import downloads, pulses, referrals

KIND = "pulse_answers"
LINK_LIFETIME = timedelta(hours=1)
HEADER = (
    "pulse",
    "member_id",
    "name",
    "score",
    "category",
    "lsat",
    "comment",
    "recommended_to",
    "answered_at",
)


async def export(ctx: Context, args: Args) -> list[Reply]:
    """Reply with a download link to the pulse's named answers (animators)."""
    pulse = await pulse_arg(ctx, args, "pulses.export_usage") or await default_pulse(ctx)
    if pulse is None:
        raise UserError("pulses.none_yet")
    token = await downloads.create(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        kind=KIND,
        params={"pulse_id": pulse.id},
        expires_at=ctx.now + LINK_LIFETIME,
        now=ctx.now,
    )
    await audit.record(ctx, "pulse.export", pulse=pulse.id)
    url = f"{ctx.settings.base_url}/downloads/{token}"
    title = ctx.t("pulses.export_title", id=pulse.id)
    body = ctx.t("pulses.export_body")
    card = Card(title=title, body=body, buttons=(Button(ctx.t("pulses.export_button"), url=url),))
    return [Reply(f"{title} {body} {url}", card=card)]


def _category(score: int) -> str:
    return "promoter" if score >= 9 else "detractor" if score <= 6 else "passive"


async def csv_chunks(db: AsyncSession, pulse_id: int) -> AsyncIterator[bytes]:
    """The CSV of a pulse's named answers, with a byte-order mark for spreadsheet apps."""
    named = await referrals.of_pulse(db, pulse_id)
    recommended: dict[int, list[str]] = defaultdict(list)
    for referral in named:
        recommended[referral.referrer_member_id].append(referral.referred)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(csv_safe.row(HEADER))
    for answer in await pulses.named_answers(db, pulse_id):
        # Every column is neutralised, ids included: a platform user id is text from outside.
        writer.writerow(
            csv_safe.row(
                (
                    pulse_id,
                    answer.user_id,
                    answer.name,
                    answer.score,
                    _category(answer.score),
                    answer.lsat,
                    answer.comment,
                    "; ".join(recommended.get(answer.member_id, [])),
                    answer.updated_at.isoformat(),
                )
            )
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
