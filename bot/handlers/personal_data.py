"""Each person's rights over their data, from the chat (GDPR Art. 15, 17, 20, 21):

- `my data` / `mes données`: everything the bot holds on them, as JSON, behind a link
  valid one hour, sent by DM (the link is random; only its hash is stored);
- `leave` / `quitter`: no longer an ambassador, and no message of any kind until they
  `join` again (bot/outbox/queue.py drops unsolicited DMs to them);
- `forget me` / `oublie-moi`, then the confirm button: erasure (storage/erasure.py);
  an admin can do it for someone: `member forget @user`, confirmed the same way.

PRIVACY.md says what is stored, why, for how long, and who sees it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import audit
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.replies import Button, Card, OutboundMessage, Reply, Visibility
from bot.handlers import mentoring, signup
from bot.handlers.members_admin import target_member
from bot.open_badges.documents import Urls
from storage import activity, downloads, erasure, members, personal_data, training_sessions
from storage.models import Member, Workspace
from storage.vocabulary import MemberRole

log = logging.getLogger(__name__)

KIND = "personal_data"
LINK_LIFETIME = timedelta(hours=1)
FORGET_ME_ACTION = "privacy.forget_me"
FORGET_MEMBER_ACTION = "privacy.forget_member"
CANCEL_ACTION = "privacy.cancel"


async def my_data(ctx: Context, _args: Args) -> list[Reply]:
    """`my data`: a one-hour link to the JSON of everything held on the asker, by DM."""
    token = await downloads.create(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        kind=KIND,
        params={"member_id": ctx.actor.id},
        expires_at=ctx.now + LINK_LIFETIME,
        now=ctx.now,
    )
    url = f"{ctx.settings.base_url}/downloads/{token}"
    title, body = ctx.t("privacy.export_title"), ctx.t("privacy.export_body")
    card = Card(title=title, body=body, buttons=(Button(ctx.t("privacy.export_button"), url=url),))
    await audit.record(ctx, "data.export")
    await ctx.outbox.post(
        f"privacy:export:{token[:16]}",
        f"dm:{ctx.actor.user_id}",
        OutboundMessage(f"{title} {body} {url}", card=card),
        solicited=True,
    )
    return [Reply(ctx.t("privacy.export_sent"))]


async def leave(ctx: Context, _args: Args) -> list[Reply]:
    """`leave`: no longer an ambassador; no message of any kind until `join`."""
    member = ctx.actor
    if member.left_at is not None:
        return [Reply(ctx.t("privacy.already_left"))]
    await audit.record(ctx, "member.leave")
    await activity.left(ctx.db, member.id, ctx.now)  # the dashboard's community sizes
    member.left_at = ctx.now
    member.joined_at = None
    member.invitations_off_at = member.invitations_off_at or ctx.now
    await mentoring.withdraw(ctx, member, named=True)
    return [Reply(ctx.t("privacy.left"))]


async def forget_me(ctx: Context, _args: Args) -> list[Reply]:
    """`forget me`: what will be erased, and the button that does it."""
    return [_confirmation(ctx, ctx.t("privacy.forget_me_confirm"), FORGET_ME_ACTION, "me")]


async def forget_member(ctx: Context, args: Args) -> list[Reply]:
    """`member forget @user` (admins): the same erasure, for someone who asked elsewhere."""
    member, rest = await target_member(ctx, args, "privacy.forget_member_usage")
    if rest:
        raise UserError("privacy.forget_member_usage")
    if member.id == ctx.actor.id:
        return await forget_me(ctx, args)
    text = ctx.t("privacy.forget_member_confirm", name=member.display_name)
    return [_confirmation(ctx, text, FORGET_MEMBER_ACTION, member.user_id)]


def _confirmation(ctx: Context, text: str, action_id: str, value: str) -> Reply:
    card = Card(
        title=ctx.t("privacy.forget_title"),
        body=text,
        buttons=(
            Button(ctx.t("privacy.forget_button"), action_id, value, style="danger"),
            Button(ctx.t("privacy.cancel_button"), CANCEL_ACTION, "", style=None),
        ),
    )
    return Reply(text, Visibility.USER, card=card)


async def cancel(ctx: Context, _value: str) -> list[Reply]:
    """The confirmation's Cancel button: nothing happens."""
    return [Reply(ctx.t("privacy.forget_cancelled"))]


async def forget_me_confirmed(ctx: Context, value: str) -> list[Reply]:
    """The person confirmed: erase them (the reply reaches them before the last sweep)."""
    if value != "me":
        raise UserError("errors.unknown_action")
    goodbye = ctx.t("privacy.forgotten")
    await audit.record(ctx, "member.forget")  # before the erasure: it names the row
    await _erase(ctx, ctx.actor)
    return [Reply(goodbye)]


async def forget_member_confirmed(ctx: Context, value: str) -> list[Reply]:
    """An admin confirmed the erasure of someone else."""
    ctx.require(MemberRole.ADMIN)
    member = await members.find(ctx.db, ctx.workspace.id, value)
    if member is None or member.user_id == erasure.FORMER_MEMBER_ID:
        raise UserError("privacy.already_forgotten")
    if member.id == ctx.actor.id:
        return await forget_me_confirmed(ctx, "me")
    await audit.record(ctx, "member.forget", subject=member)
    await _erase(ctx, member)
    return [Reply(ctx.t("privacy.member_forgotten"))]


async def _erase(ctx: Context, member: Member) -> None:
    """Tell their mentoring partners (without their name), empty their posts on the
    platform, then erase them."""
    await mentoring.withdraw(ctx, member, named=False)
    sessions = await training_sessions.joined_by(ctx.db, member.id)
    await ctx.db.flush()
    ctx.db.expunge(member)  # deleted with Core statements: the session must not flush it
    done, _traces = await erasure.erase(ctx.db, ctx.workspace, member, ctx.now)
    removed = OutboundMessage(ctx.community_translator("privacy.post_removed"))
    for key, target in done.posts:
        await ctx.outbox.update(f"privacy:erase:{key}", key, target, removed)
    # Their join no longer counts on the cards of sessions still open.
    await signup.recount(ctx, sessions, f"erasure-{uuid.uuid4().hex}")


async def json_file(db: AsyncSession, base_url: str, member_id: int) -> bytes | None:
    """The JSON file of one member's data, or None when they are no longer there."""
    member = await db.get(Member, member_id)
    if member is None:
        return None
    workspace = await db.get(Workspace, member.workspace_id)
    assert workspace is not None
    data = await personal_data.gather(db, workspace, member, Urls(base_url))
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def make_due_work(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> tuple[Callable[[datetime], Awaitable[int]], Callable[[], Awaitable[datetime | None]]]:
    """The scheduler's erasure sweeps (the second step of `forget me`, storage/erasure.py)."""

    async def run_due(now: datetime) -> int:
        done = 0
        async with sessions() as db, db.begin():
            for row in await erasure.due_sweeps(db, now):
                await erasure.sweep(db, row)
                done += 1
        if done:
            await erasure.truncate_wal(engine)
            log.info("erasure_swept", extra={"count": done})
        return done

    async def next_due() -> datetime | None:
        async with sessions() as db:
            return await erasure.next_sweep(db)

    return run_due, next_due
