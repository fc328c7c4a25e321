"""The badge ladder at work: promotions when something counts, `badge grant|revoke`, `badges`.

Promotions are evaluated in the transaction of whatever counted (an answer, a share, a
pulse answer, a join, a converted referral) and by the scheduler every hour (for the
"days a member" criteria: bot/jobs/badges.py), in bulk SQL (storage/badges.py). Each
promotion is announced once: a celebration card in the community conversation and a DM
to the member, under outbox keys of the award. Never an automatic demotion.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.core.commands import Args
from bot.core.context import Context, WorkspaceContext, community_locale, member_locale
from bot.core.errors import UserError
from bot.core.replies import Button, Card, OutboundMessage, Reply
from bot.handlers.community import community_conversation
from bot.handlers.members_admin import target_member
from bot.i18n import Translator
from bot.ladder import Ladder, LevelSpec
from bot.open_badges import documents
from bot.settings import Settings
from storage import badges, members, outbox_keys
from storage.badges import LevelRule, NewAward
from storage.models import BadgeAward, Member, Workspace
from storage.vocabulary import BadgeSource

# What a promotion message says if its award disappeared before it was sent.
FALLBACK_TEXT = "🎉"
# More promotions than this at once (a bulk import) make one grouped card, not a flood.
GROUP_ABOVE = 10
NAMES_IN_GROUP = 20
MAX_REASON = 500


def rules(ladder: Ladder) -> list[LevelRule]:
    """Each level's cumulative criteria, as storage evaluates them."""
    found = []
    for rank, level in enumerate(ladder.levels, start=1):
        requires, groups = ladder.cumulative(level)
        found.append(LevelRule(level.id, rank, requires, tuple(groups)))
    return found


# --- links of an award (served by bot/open_badges/routes.py) --------------------------------


def image_url(settings: Settings, level_id: str, locale: str | None = None) -> str:
    """The level's badge image; for a French reader, the one in French words when the
    ladder has one (the Open Badges documents name the plain image)."""
    url = documents.urls(settings).image(level_id)
    level = settings.ladder.find(level_id)
    if locale == "fr" and level is not None and level.image_fr:
        return f"{url}?lang=fr"
    return url


def linkedin_url(settings: Settings, award: BadgeAward, level: LevelSpec, issuer: str) -> str:
    """LinkedIn's "Add licence or certification" form, prefilled from the badge."""
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": f"{level.name_en} ambassador",
        "organizationName": issuer,
        "issueYear": award.awarded_at.year,
        "issueMonth": award.awarded_at.month,
        "certUrl": documents.urls(settings).assertion(award.uid),
        "certId": award.uid,
    }
    return "https://www.linkedin.com/profile/add?" + urlencode(query)


# --- what the member did -------------------------------------------------------------------


def achievements(t: Translator, counts: dict[str, Any], level: LevelSpec, now: datetime) -> str:
    """What earned the level, in words: "5 challenge answers · 1 pulse answer · 31 days"."""
    parts = []
    for kind in (*level.requires, *level.requires_one_of):
        value = _value(counts, kind, now)
        if value:
            parts.append(t(f"badges.count_{kind}", count=value))
    return " · ".join(dict.fromkeys(parts))


def _value(counts: dict[str, Any], kind: str, now: datetime) -> int:
    if kind == "days_member":
        joined = counts.get("joined_at")
        return (now - joined).days if joined is not None else 0
    return int(counts.get(kind) or 0)


def progress(
    t: Translator, counts: dict[str, Any], ladder: Ladder, level: LevelSpec, now: datetime
) -> str:
    """What is left for `level`: "2 of 5 challenge answers, 12 of 30 days"."""
    requires, groups = ladder.cumulative(level)
    implied = requires.get("challenge_answers", 0) + requires.get("shares", 0)
    if requires.get("contributions", 0) <= implied:
        requires.pop("contributions", None)  # "5 challenge answers" says it already
    parts = []
    for kind, needed in requires.items():
        value = min(_value(counts, kind, now), needed)
        parts.append(t(f"badges.progress_{kind}", reached=value, count=needed))
    for group in groups:
        options = [
            t(
                f"badges.progress_{kind}",
                reached=min(_value(counts, kind, now), needed),
                count=needed,
            )
            for kind, needed in group.items()
        ]
        parts.append(t("badges.one_of", options=t("badges.or").join(options)))
    return ", ".join(parts)


# --- promotion -----------------------------------------------------------------------------


async def award_due(
    db: AsyncSession,
    settings: Settings,
    now: datetime,
    *,
    workspace_id: int | None = None,
    member_ids: Iterable[int] | None = None,
) -> list[NewAward]:
    """Award what is due under the ladder (to these members, or everyone), unannounced."""
    return await badges.award_due(
        db,
        rules(settings.ladder),
        settings.ladder.daily_caps,
        settings.ladder.points,
        now,
        workspace_id=workspace_id,
        member_ids=member_ids,
    )


async def promote(ctx: WorkspaceContext, member_ids: Iterable[int]) -> list[NewAward]:
    """Award what is due to these members of the workspace and announce each promotion."""
    made = await award_due(
        ctx.db, ctx.settings, ctx.now, workspace_id=ctx.workspace.id, member_ids=member_ids
    )
    await announce(ctx, made)
    return made


async def promote_after(ctx: WorkspaceContext, counted: str, *member_ids: int) -> None:
    """Something of kind `counted` was recorded for these members: promote them if due.

    Nothing runs when the ladder does not count that kind (a join, under the default
    ladder): the evaluation is a real query, and joins come by the dozen in a session.
    """
    if member_ids and counted in ctx.settings.ladder.counted_kinds:
        await promote(ctx, member_ids)


async def announce(ctx: WorkspaceContext, made: list[NewAward]) -> None:
    """One announcement per member promoted (their highest new level), once each.

    `made` are awards of `ctx.workspace` (the hourly run announces workspace by workspace).
    """
    top: dict[int, NewAward] = {}
    for award in made:
        if award.member_id not in top or award.rank > top[award.member_id].rank:
            top[award.member_id] = award
    if not top:
        return
    awards = list(top.values())
    conversation = await community_conversation(ctx.db, ctx.workspace)
    if conversation is not None and len(awards) > GROUP_ABOVE:
        await _announce_group(ctx, conversation, awards)
    elif conversation is not None:
        for award in awards:
            await ctx.outbox.post(
                outbox_keys.award_celebration(award.id),
                conversation,
                OutboundMessage(text=FALLBACK_TEXT),
                refresh=outbox_keys.award_refresh(award.id, "community"),
            )
    # One INSERT … SELECT for the DMs: a bulk import may promote thousands at once.
    await badges.enqueue_dms(ctx.db, [a.id for a in awards], FALLBACK_TEXT, ctx.now)


async def _announce_group(ctx: WorkspaceContext, conversation: str, awards: list[NewAward]) -> None:
    t = ctx.community_translator
    ids = sorted(a.id for a in awards)
    names = []
    for award in awards[:NAMES_IN_GROUP]:
        member = await ctx.db.get(Member, award.member_id)
        level = ctx.settings.ladder.find(award.level)
        if member is not None and level is not None:
            names.append(f"{member.display_name} ({level.name(t.locale)})")
    more = len(awards) - len(names)
    body = ", ".join(names) + (" " + t("badges.and_more", count=more) if more else "")
    title = t("badges.group_title", count=len(awards))
    await ctx.outbox.post(
        outbox_keys.awards_celebration(ids),
        conversation,
        OutboundMessage(text=f"{title} {body}", card=Card(title=title, body=body)),
    )


async def render(
    db: AsyncSession, args: dict[str, Any], settings: Settings
) -> OutboundMessage | None:
    """Outbox refresher: the celebration card or the member's DM, rendered at send time."""
    award = await badges.by_id(db, int(args["award_id"]))
    if award is None:
        return None
    member = await db.get(Member, award.member_id)
    workspace = await db.get(Workspace, award.workspace_id)
    level = settings.ladder.find(award.level)
    if member is None or workspace is None or level is None:
        return None
    counts = (
        await badges.counts_of(db, member.id, settings.ladder.daily_caps, settings.ladder.points)
        or {}
    )
    if args.get("to") == "community":
        t = Translator(community_locale(workspace, settings))
        title = t("badges.celebration_title", name=member.display_name, level=level.name(t.locale))
        body = _why(t, award, counts, level, "celebration", name=member.display_name)
        card = Card(title=title, body=body, image_url=image_url(settings, level.id, t.locale))
        return OutboundMessage(text=f"{title} {body}", card=card)
    t = Translator(member_locale(member, workspace, settings))
    at = documents.urls(settings)
    issuer = documents.issuer_name(workspace, settings)
    title = t("badges.dm_title", level=level.name(t.locale))
    why = _why(t, award, counts, level, "dm", name=member.display_name)
    body = t("badges.dm_body", level=level.name(t.locale), why=why)
    card = Card(
        title=title,
        body=body,
        image_url=image_url(settings, level.id, t.locale),
        buttons=(
            Button(t("badges.linkedin"), url=linkedin_url(settings, award, level, issuer)),
            Button(t("badges.download"), url=at.baked(award.uid)),
            Button(t("badges.assertion"), url=at.assertion(award.uid)),
            Button(t("badges.credential"), url=at.credential(award.uid)),
        ),
    )
    return OutboundMessage(text=f"{title} {body} {at.assertion(award.uid)}", card=card)


def _why(
    t: Translator,
    award: BadgeAward,
    counts: dict[str, Any],
    level: LevelSpec,
    kind: str,
    *,
    name: str,
) -> str:
    """Why the member holds the level, for the `kind` of announcement ("celebration" or
    "dm"): a granted badge says the animator's reason (the member may not meet the
    criteria: an animator decided); an earned one says what the member did, or, when
    nothing of it counts any more at send time (a contribution hidden meanwhile), the
    level's description, which they met."""
    if award.source == BadgeSource.GRANT:
        if award.reason:
            return t(f"badges.{kind}_granted", name=name, reason=award.reason)
        return t(f"badges.{kind}_granted_no_reason", name=name)
    did = achievements(t, counts, level, award.awarded_at)
    if did:
        return t(f"badges.{kind}_earned", name=name, did=did)
    return t(f"badges.{kind}_described", name=name, description=level.description(t.locale))


# --- commands ------------------------------------------------------------------------------


def _level_arg(ctx: Context, rest: Args, usage: str) -> tuple[LevelSpec, str]:
    if not rest:
        raise UserError(usage)
    level = ctx.settings.ladder.find(rest.tokens[0].value)
    if level is None:
        names = ", ".join(lvl.name(ctx.t.locale) for lvl in ctx.settings.ladder.levels)
        raise UserError("badges.unknown_level", word=rest.tokens[0].value[:30], levels=names)
    reason = " ".join(token.value for token in rest.tokens[1:]).strip()
    if len(reason) > MAX_REASON:
        raise UserError("badges.reason_too_long", max=MAX_REASON)
    return level, reason


async def grant(ctx: Context, args: Args) -> list[Reply]:
    """`badge grant @member <level> [reason]`: award it (and the levels below) by hand."""
    member, rest = await target_member(ctx, args, "badges.grant_usage")
    level, reason = _level_arg(ctx, rest, "badges.grant_usage")
    if member.joined_at is None:
        raise UserError("badges.not_a_member", name=member.display_name)
    ladder = ctx.settings.ladder
    rank = ladder.rank(level.id)
    made = []
    for lower_rank, lower in enumerate(ladder.levels[:rank], start=1):
        award_id = await badges.grant(
            ctx.db,
            workspace_id=ctx.workspace.id,
            member_id=member.id,
            level=lower.id,
            rank=lower_rank,
            granted_by_id=ctx.actor.id,
            reason=reason or None,
            now=ctx.now,
        )
        if award_id is not None:
            made.append(NewAward(award_id, member.id, ctx.workspace.id, lower.id, lower_rank))
    if not any(a.level == level.id for a in made):
        raise UserError(
            "badges.already_held", name=member.display_name, level=level.name(ctx.t.locale)
        )
    await badges.refresh_levels(ctx.db, {member.id})
    await members.record_event(
        ctx.db,
        member.id,
        "badge_granted",
        ctx.now,
        actor_id=ctx.actor.id,
        detail={"levels": [a.level for a in made], "reason": reason},
    )
    await audit.record(ctx, "badge.grant", subject=member, level=level.id)
    await announce(ctx, made)
    return [
        Reply(ctx.t("badges.granted", name=member.display_name, level=level.name(ctx.t.locale)))
    ]


async def revoke(ctx: Context, args: Args) -> list[Reply]:
    """`badge revoke @member <level> <reason>`: revoke it and the levels above; kept with why."""
    member, rest = await target_member(ctx, args, "badges.revoke_usage")
    level, reason = _level_arg(ctx, rest, "badges.revoke_usage")
    if not reason:
        raise UserError("badges.revoke_needs_reason")
    ladder = ctx.settings.ladder
    above = [lvl.id for lvl in ladder.levels[ladder.rank(level.id) - 1 :]]
    revoked = await badges.revoke(ctx.db, member.id, above, ctx.actor.id, reason, ctx.now)
    if revoked == 0:
        raise UserError("badges.not_held", name=member.display_name, level=level.name(ctx.t.locale))
    await badges.refresh_levels(ctx.db, {member.id})
    await members.record_event(
        ctx.db,
        member.id,
        "badge_revoked",
        ctx.now,
        actor_id=ctx.actor.id,
        detail={"levels": above, "reason": reason},
    )
    # The level named, not the reason: the log never keeps what people typed.
    await audit.record(ctx, "badge.revoke", subject=member, level=level.id)
    return [
        Reply(ctx.t("badges.revoked", name=member.display_name, level=level.name(ctx.t.locale)))
    ]


async def ladder_list(ctx: Context, _args: Args) -> list[Reply]:
    """`badges`: the ladder, each level with what it takes."""
    t = ctx.t
    lines = [t("badges.ladder_title")]
    ladder = ctx.settings.ladder
    for rank, level in enumerate(ladder.levels, start=1):
        parts = [t(f"badges.count_{kind}", count=needed) for kind, needed in level.requires.items()]
        if level.requires_one_of:
            options = [
                t(f"badges.count_{kind}", count=needed)
                for kind, needed in level.requires_one_of.items()
            ]
            parts.append(t("badges.one_of", options=t("badges.or").join(options)))
        key = "badges.ladder_line" if rank == 1 else "badges.ladder_line_above"
        lines.append(t(key, level=level.name(t.locale), criteria=", ".join(parts)))
    caps = ladder.daily_caps
    if caps:
        capped = ", ".join(t(f"badges.count_{kind}", count=cap) for kind, cap in caps.items())
        lines.append(t("badges.daily_cap", caps=capped))
    return [Reply("\n".join(lines))]
