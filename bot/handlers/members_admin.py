"""Admin commands on members: roles and the community conversation."""

from __future__ import annotations

from bot import audit
from bot.core import roles
from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.parsing import fold
from bot.core.replies import Reply
from storage import members
from storage.models import Member
from storage.vocabulary import MemberRole

ROLE_WORDS = {"animator": roles.ANIMATOR, "animateur": roles.ANIMATOR, "animatrice": roles.ANIMATOR}


async def target_member(ctx: Context, args: Args, usage_key: str) -> tuple[Member, Args]:
    """The member named by the first argument (`@id`, `<@U123>`), and the remaining args."""
    if not args or args.tokens[0].mention is None:
        raise UserError(usage_key)
    user_id = args.tokens[0].mention
    assert user_id is not None
    member = await members.get_or_create(ctx.db, ctx.workspace.id, user_id, ctx.now)
    return member, Args(args.tokens[1:])


def _role_word(ctx: Context, rest: Args, usage_key: str) -> MemberRole:
    role = ROLE_WORDS.get(fold(rest.text)) if rest else None
    if role is None:
        raise UserError(usage_key)
    return role


async def role_add(ctx: Context, args: Args) -> list[Reply]:
    """`role add @user animator` (admins)."""
    member, rest = await target_member(ctx, args, "members_admin.role_add_usage")
    role = _role_word(ctx, rest, "members_admin.role_add_usage")
    role_name = ctx.t(f"roles.{role}")
    if member.role == role:
        return [
            Reply(ctx.t("members_admin.role_already", name=member.display_name, role=role_name))
        ]
    member.role = role
    await members.record_event(
        ctx.db, member.id, "role_added", ctx.now, actor_id=ctx.actor.id, detail={"role": role}
    )
    await audit.record(ctx, "role.add", subject=member, role=role)
    return [Reply(ctx.t("members_admin.role_added", name=member.display_name, role=role_name))]


async def role_remove(ctx: Context, args: Args) -> list[Reply]:
    """`role remove @user animator` (admins)."""
    member, rest = await target_member(ctx, args, "members_admin.role_remove_usage")
    role = _role_word(ctx, rest, "members_admin.role_remove_usage")
    role_name = ctx.t(f"roles.{role}")
    if member.role != role:
        return [
            Reply(ctx.t("members_admin.role_not_held", name=member.display_name, role=role_name))
        ]
    member.role = roles.LEARNER
    await members.record_event(
        ctx.db, member.id, "role_removed", ctx.now, actor_id=ctx.actor.id, detail={"role": role}
    )
    await audit.record(ctx, "role.remove", subject=member, role=role)
    return [Reply(ctx.t("members_admin.role_removed", name=member.display_name, role=role_name))]


async def community_here(ctx: Context, _args: Args) -> list[Reply]:
    """`community here` (admins): announcements go to this conversation from now on."""
    if ctx.origin.is_direct:
        raise UserError("members_admin.community_not_dm")
    ctx.workspace.community_conversation = ctx.origin.conversation
    return [Reply(ctx.t("members_admin.community_set"))]
