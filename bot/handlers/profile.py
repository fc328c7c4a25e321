"""`me`: a member's own page — level, when and where they joined, what they contributed,
the likes and dislikes ("not useful to me") their posts received.

With the ladder's progress toward the next level ("2 of 5 challenge answers, 12 of 30 days").
"""

from __future__ import annotations

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.replies import Card, Field, Reply
from bot.handlers.badges import image_url, progress
from storage import badges, contributions, training_sessions
from storage.vocabulary import ContributionKind, ContributionOutcome


async def me(ctx: Context, _args: Args) -> list[Reply]:
    """Show the asker's profile."""
    member, t = ctx.actor, ctx.t
    ladder = ctx.settings.ladder
    level = ladder.find(member.level) if member.level else None
    if member.joined_at is None:
        joined = t("profile.not_joined")
    else:
        session = (
            await training_sessions.by_id(ctx.db, member.joined_session_id)
            if member.joined_session_id
            else None
        )
        when = t.date(member.joined_at, ctx.timezone)
        joined = (
            t("profile.joined_session", date=when, session=session.name)
            if session
            else t("profile.joined", date=when)
        )
    counts = await contributions.counts_by_outcome(ctx.db, member.id)
    # One plural message per count, so each agrees with its own number ("1 success, 2 tips").
    shared = ", ".join(
        t(f"profile.count_{kind}", count=counts.get(counted, 0))
        for kind, counted in (
            ("success", ContributionOutcome.SUCCESS),
            ("not_yet", ContributionOutcome.NOT_YET),
            ("tips", ContributionKind.SHARE),
            ("questions", ContributionKind.QUESTION),
            ("experiences", ContributionKind.EXPERIENCE),
            ("watches", ContributionKind.WATCH),
            ("replies", ContributionKind.REPLY),
        )
    )
    helped = await contributions.helped_count(ctx.db, member.id)
    if helped:
        shared = ", ".join((shared, t("profile.count_helped", count=helped)))
    fields = [
        Field(t("profile.role_label"), t(f"roles.{ctx.role}")),
        Field(t("profile.level_label"), level.name(t.locale) if level else t("profile.no_level")),
        Field(t("profile.joined_label"), joined),
        Field(t("profile.contributions_label"), shared),
    ]
    # What others said of them: the likes, and the "not useful to me" only they see.
    received = await contributions.reactions_received(ctx.db, member.id)
    said = (
        t("contributions.count_likes", count=received.likes),
        t("contributions.count_dislikes", count=received.dislikes),
    )
    fields.append(Field(t("profile.reactions_label"), ", ".join(said)))
    rank = ladder.rank(level.id) if level else 0
    counted = await badges.counts_of(ctx.db, member.id, ladder.daily_caps, ladder.points)
    if counted is not None and rank < len(ladder.levels):
        following = ladder.levels[rank]
        left = progress(t, counted, ladder, following, ctx.now)
        fields.append(Field(t("profile.next_level_label", level=following.name(t.locale)), left))
    elif counted is not None:
        fields.append(Field(t("profile.next_level_label_top"), t("profile.top_level")))
    title = t("profile.title", name=member.display_name)
    text = "\n".join(
        [title, *(t("general.labelled", label=f.label, value=f.value) for f in fields)]
    )
    image = image_url(ctx.settings, level.id, t.locale) if level else None
    return [Reply(text, card=Card(title=title, fields=tuple(fields), image_url=image))]
