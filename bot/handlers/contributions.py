"""Learner-generated content in the conversation: answers and shares, likes and dislikes,
hiding.

A share is of one kind (issue 19): a tip (`share <text>`), a question (`share question
<text>`), an experience report (`share experience <text>`), a watch link (`share watch
<link> [why]`: an http(s) link, with an optional comment). `share` alone opens a form that
asks for the kind, the text and a link, and goes through the same checks as the command.

Anyone but the author may react to a post: 👍 like it, or 👎 "not useful to me" — one
reaction per person, by the post's buttons or by an emoji (Slack; Teams has no 👎
reaction, its button is the way). A button toggles: the one already chosen takes the
reaction back, the other switches to it; each click is answered. An emoji sets the
reaction, taking it off removes the reaction only when it is of that emoji's kind (a 👍
taken off after a 👎 changed nothing); emojis get no answer. Slack keeps each emoji apart
and the bot one reaction per person: someone who put 👍 and ❤️ and takes ❤️ off has taken
their like back (the bot does not ask Slack which emojis are left).

The public post shows the likes only. A public dislike count would tell everyone that a
post "is not useful", which discourages its author (most of all a beginner's first
share) and invites piling on; "not useful to me" is a signal for the author and the
animators, who see both counts (`reactions <number>`, `me`, the dashboard). Dislikes never
count toward badges or as activity given (storage/activity.py).

A question can be answered in its thread (issue 19): `reply <number> <text>` (`répondre`),
the question post's Reply button (a form), or, on Slack and Teams, a message written in the
question post's thread (a `ThreadReply` event). A reply is a contribution of kind `reply`
(its own counter `replies`, not a share). The bot posts a reply made by command or form in
the question's thread, under its author's name, with the like buttons and "This helped".
A message written in the thread is already there: the bot does not post its text again, but
a compact card under it ("<name>'s reply counts as contribution #14") with "This helped",
so the asker has the number and the button. The asker's own messages in their question's
thread are conversation, not replies: not recorded; a message in the thread of a post that
is no question is ignored (people talk under tips too), while `reply` on it is refused
with how to do it right. The asker (only) marks the reply that helped: the button, or
`helped <reply number>` (`aidé`); marking another moves the mark; the reply's post shows
"✅ Helped the asker"; the replier's `me` counts their replies that helped.

Hiding is for animators, with the `hide` command and the post's number: the post carries
no Hide button, since it looks the same to everyone and learners would only be refused.

Each contribution is posted under the learner's name and kept live: its post is
re-rendered from the database whenever it is sent (likes, an edit, hiding), so every
edit shows the current state.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.commands import Args
from bot.core.context import Context
from bot.core.errors import UserError
from bot.core.events import Reaction, ThreadReply
from bot.core.replies import Button, Card, Field, Form, FormField, OutboundMessage, Reply
from bot.core.roles import allows
from bot.handlers import badges
from bot.handlers.community import community_conversation
from bot.i18n import Translator
from storage import contributions, members, outbox_keys, outbox_store
from storage.models import Contribution, Member
from storage.vocabulary import FREE_KINDS, ContributionKind, MemberRole, ReactionKind

LIKE_ACTION = "contribution.like"
DISLIKE_ACTION = "contribution.dislike"
HIDE_FORM_ACTION = "contribution.hide_form"
HIDE_ACTION = "contribution.hide"
SHARE_FORM_ACTION = "contribution.share"
REPLY_FORM_ACTION = "contribution.reply_form"
REPLY_ACTION = "contribution.reply"
HELPED_ACTION = "contribution.helped"
THREAD_REPLY = "contribution.thread_reply"
MAX_TEXT = 3000
# How much of a post's text a confirmation quotes to name it ("#12 by Bob (“Who runs…”)").
EXCERPT = 40
MAX_LINK = 500
_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
# The post's title of each free kind (answers' say their outcome).
TITLES = {
    ContributionKind.SHARE: "contributions.share_title",
    ContributionKind.QUESTION: "contributions.question_title",
    ContributionKind.EXPERIENCE: "contributions.experience_title",
    ContributionKind.WATCH: "contributions.watch_title",
}
# What the ladder counts of each free kind, besides `shares` (bot/ladder.py).
CRITERIA = {
    ContributionKind.SHARE: "shares",
    ContributionKind.QUESTION: "questions",
    ContributionKind.EXPERIENCE: "experiences",
    ContributionKind.WATCH: "watches",
}


def valid_link(link: str) -> bool:
    """A link people can open: http(s), at most MAX_LINK characters, no spaces."""
    return len(link) <= MAX_LINK and _LINK.fullmatch(link) is not None


# The link a watch starts with, as people type it or as an adapter hands it over (Slack's
# markup made neutral, bot/adapters/slack/markup.py): `https://…`, `<https://…>`,
# `<https://…|label>`, `[label](https://…)`; then the comment.
_LEADING_LINK = re.compile(
    r"\s*(?:<(?P<auto>[^<>|\s]+)(?:\|[^<>]*)?>"
    r"|\[(?:\\.|[^\[\]\\])*\]\((?P<target>[^\s()]+)\)"
    r"|(?P<plain>\S+))\s*(?P<rest>.*)",
    re.DOTALL,
)


def _unwrap(link: str) -> str:
    """A link written in any of the shapes above, made plain."""
    found = _LEADING_LINK.fullmatch(link)
    if found is None or found.group("rest"):
        return link
    return found.group("auto") or found.group("target") or found.group("plain") or link


def _leading_link(text: str) -> tuple[str, str]:
    """The link `text` starts with (in any of the shapes above), and the rest."""
    found = _LEADING_LINK.fullmatch(text)
    if found is None:
        return "", text.strip()
    rest = found.group("rest").strip()
    link = found.group("auto") or found.group("target") or ""
    if not link:
        # Typed plain, a link is often followed by punctuation of the sentence
        # ("https://example.org/a, a great read"): it is not part of the link.
        link = _without_trailing_punctuation(found.group("plain") or "")
    return link, rest


def _without_trailing_punctuation(link: str) -> str:
    """`link` without the sentence's punctuation it ends with (a closing parenthesis
    only when it opens none: Wikipedia's links end with one)."""
    end = len(link)
    while end and (
        link[end - 1] in ".,;:!?"
        or (link[end - 1] == ")" and link.count("(", 0, end) < link.count(")", 0, end))
    ):
        end -= 1
    return link[:end]


def render(
    t: Translator, contribution: Contribution, author: str, likes: int, compact: bool = False
) -> OutboundMessage:
    """The post as it should look now (hidden content shows only that it was hidden).
    `compact`: the card under a reply written in the thread (its text is already there)."""
    if contribution.hidden_at is not None:
        text = t("contributions.hidden")
        return OutboundMessage(text=text, card=Card(title=text))
    value = str(contribution.id)
    helped = (
        (t("contributions.helped_mark"),)
        if contribution.kind == ContributionKind.REPLY and contribution.helped_at is not None
        else ()
    )
    if compact:
        title = t("contributions.reply_counted_title", name=author, id=contribution.id)
        card = Card(
            title=title,
            body="\n".join(helped),
            buttons=(Button(t("contributions.helped_button"), HELPED_ACTION, value),),
        )
        return OutboundMessage(text="\n".join((title, *helped)), card=card)
    if contribution.kind == ContributionKind.ANSWER:
        title_key = f"challenges.posted_{contribution.outcome}"
    elif contribution.kind == ContributionKind.REPLY:
        title_key = "contributions.reply_title"
    else:
        title_key = TITLES[contribution.kind]
    title = t(title_key, name=author)
    buttons = [
        Button(t("contributions.like", count=likes), LIKE_ACTION, value),
        # No count: the public post shows the likes only (the module's docstring says why).
        Button(t("contributions.dislike"), DISLIKE_ACTION, value),
    ]
    if contribution.kind == ContributionKind.QUESTION:
        buttons.append(Button(t("contributions.reply_button"), REPLY_FORM_ACTION, value))
    elif contribution.kind == ContributionKind.REPLY:
        # Seen by everyone, refused (translated) to anyone but the asker: one message looks
        # the same to all (the Hide button's comment below says why).
        buttons.append(Button(t("contributions.helped_button"), HELPED_ACTION, value))
    if contribution.link:
        buttons.append(Button(t("challenges.open_link"), url=contribution.link))
    # No Hide button: the post is one message that everyone in the conversation sees the
    # same (Slack has no per-viewer buttons on a channel message; Teams shows per-viewer
    # cards only to up to 60 named people through Universal Actions' refresh:
    # https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/user-specific-views),
    # so learners would see a button that refuses them. Animators hide with
    # `hide <number> [reason]`, the number shown on the post.
    # A watch shows its address too, not only a button: people see where it leads.
    text = contribution.text
    if contribution.kind == ContributionKind.WATCH and contribution.link:
        text = (
            f"{contribution.text}\n{contribution.link}" if contribution.text else contribution.link
        )
    body = "\n\n".join((text, *helped)) if text else "\n".join(helped)
    card = Card(
        title=title,
        body=body,
        fields=(Field(t("contributions.number"), f"#{contribution.id}"),),
        buttons=tuple(buttons),
    )
    return OutboundMessage(
        text=t("general.labelled", label=title, value=body or contribution.link),
        card=card,
    )


async def refresh(db: AsyncSession, args: dict[str, Any]) -> OutboundMessage | None:
    """Outbox refresher: the contribution's post from the database, at send time."""
    contribution = await db.get(Contribution, int(args["id"]))
    if contribution is None:
        return None
    author = await db.get(Member, contribution.member_id)
    likes = await contributions.like_count(db, contribution.id)
    message = render(
        Translator(str(args.get("locale", "en"))),
        contribution,
        author.display_name if author else "?",
        likes,
        compact=bool(args.get("compact")),
    )
    thread = args.get("in_reply_to")
    return OutboundMessage(message.text, message.card, in_reply_to=thread) if thread else message


async def publish(
    ctx: Context,
    contribution: Contribution,
    conversation: str,
    locale: str,
    in_reply_to: str | None = None,
    compact: bool = False,
) -> None:
    """Post the contribution under its author's name (a thread reply for answers and
    replies; `compact`, see `render`)."""
    key = outbox_keys.contribution_post(contribution.kind, contribution.id)
    await contributions.set_post_key(ctx.db, contribution.id, key)
    likes = 0
    message = render(Translator(locale), contribution, ctx.actor.display_name, likes, compact)
    if in_reply_to:
        message = OutboundMessage(message.text, message.card, in_reply_to=in_reply_to)
    await ctx.outbox.post(
        key,
        conversation,
        message,
        refresh=outbox_keys.contribution_refresh(contribution.id, locale, in_reply_to, compact),
    )


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The first words of `text` on one line, at most `limit` characters (… when cut, at a
    word's end when one is near), without the markup characters a platform would read."""
    words = " ".join(text.replace("`", "").replace("*", "").split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip(" ,;:.") + "…"


async def post_name(ctx: Context, contribution: Contribution) -> str:
    """How a confirmation names a post: its number, its author, its first words
    ("#12 by Bob (“Who runs retros?”)"; a watch without text, its link)."""
    author = await ctx.db.get(Member, contribution.member_id)
    name = author.display_name if author is not None else "?"
    quoted = excerpt(contribution.text or contribution.link or "")
    if not quoted:
        return ctx.t("contributions.post_name_no_text", id=contribution.id, name=name)
    return ctx.t("contributions.post_name", id=contribution.id, name=name, excerpt=quoted)


# --- share -----------------------------------------------------------------------------------


async def share(ctx: Context, args: Args) -> list[Reply]:
    """`share <text>`: a tip posted to the community; `share` alone: the form (any kind)."""
    if not args:
        return share_form(ctx)
    return await _share(ctx, ContributionKind.SHARE, args.text, None)


async def share_question(ctx: Context, args: Args) -> list[Reply]:
    """`share question <text>` (`partager question`): a question to the community."""
    return await _share(ctx, ContributionKind.QUESTION, args.text, None)


async def share_experience(ctx: Context, args: Args) -> list[Reply]:
    """`share experience <text>` (`partager retour [d'expérience]`): an experience report."""
    tokens = list(args.tokens)
    if tokens and not tokens[0].quoted and tokens[0].key in ("d'experience", "d’experience"):
        tokens = tokens[1:]  # `partager retour d'expérience …`
    return await _share(ctx, ContributionKind.EXPERIENCE, Args(tuple(tokens)).text, None)


async def share_watch(ctx: Context, args: Args) -> list[Reply]:
    """`share watch <link> [why]` (`partager veille`): a link worth reading."""
    if not args:
        raise UserError("contributions.watch_usage")
    link, comment = _leading_link(args.text)
    return await _share(ctx, ContributionKind.WATCH, comment, link)


def share_form(ctx: Context) -> list[Reply]:
    """The form of `share` alone: the kind, the text, a link (required for a watch)."""
    t = ctx.t
    title = t("contributions.form_title")
    fields = (
        FormField(
            "kind",
            t("contributions.form_kind"),
            "select",
            options=tuple((t(f"contributions.form_kind_{kind}"), kind) for kind in FREE_KINDS),
            value=ContributionKind.SHARE,
        ),
        FormField("text", t("contributions.form_text"), "multiline", required=False),
        FormField("link", t("contributions.form_link"), "text", required=False),
    )
    return [Reply(title, form=Form(title=title, submit_action_id=SHARE_FORM_ACTION, fields=fields))]


async def share_submitted(ctx: Context, value: str) -> list[Reply]:
    """The `share` form, submitted: the contribution of the chosen kind, as the command
    makes it (the same checks, the same messages)."""
    try:
        fields = json.loads(value) if value else None
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise UserError("contributions.share_usage")
    chosen = str(fields.get("kind") or ContributionKind.SHARE)
    kind = next((k for k in FREE_KINDS if k == chosen), None)
    if kind is None:
        raise UserError("contributions.share_usage")
    text = str(fields.get("text") or "").strip()
    link = _unwrap(str(fields.get("link") or "").strip()) or None
    return await _share(ctx, kind, text, link)


async def _share(ctx: Context, kind: ContributionKind, text: str, link: str | None) -> list[Reply]:
    """Check, store and post a free contribution of `kind`; nothing is written on a refusal."""
    if kind == ContributionKind.WATCH and not link:
        raise UserError("contributions.watch_usage")
    if link is not None and not valid_link(link):
        raise UserError(
            "contributions.watch_bad_link"
            if kind == ContributionKind.WATCH
            else "contributions.bad_link"
        )
    if not text and kind != ContributionKind.WATCH:
        raise UserError(f"contributions.{kind}_usage")
    if len(text) > MAX_TEXT:
        raise UserError("challenges.too_long", max=MAX_TEXT)
    conversation = await community_conversation(ctx.db, ctx.workspace)
    if conversation is None:
        if ctx.origin.is_direct:
            raise UserError("contributions.no_community")
        conversation = ctx.origin.conversation
    contribution = await contributions.save_share(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        text=text,
        now=ctx.now,
        kind=kind,
        link=link,
    )
    await members.record_event(
        ctx.db,
        ctx.actor.id,
        "shared",
        ctx.now,
        detail={"contribution": contribution.id, "kind": kind},
    )
    await publish(ctx, contribution, conversation, ctx.community_translator.locale)
    await badges.promote_after(ctx, CRITERIA[kind], ctx.actor.id)
    return [Reply(ctx.t(f"contributions.shared_{kind}", id=contribution.id))]


# --- reply and helped --------------------------------------------------------------------------


async def reply(ctx: Context, args: Args) -> list[Reply]:
    """`reply <number> <text>` (`répondre`): a reply to question <number>, in its thread."""
    if len(args.tokens) < 2:
        raise UserError("contributions.reply_usage")
    question = await _contribution(ctx, args.tokens[0].value)
    return await _reply(ctx, question, Args(args.tokens[1:]).text)


async def reply_form(ctx: Context, value: str) -> list[Reply]:
    """The question post's Reply button: a form for the reply's text."""
    question = await _question(ctx, await _contribution(ctx, value))
    title = ctx.t("contributions.reply_form_title", id=question.id)
    fields = (FormField("text", ctx.t("contributions.reply_form_text"), "multiline"),)
    form = Form(title=title, submit_action_id=f"{REPLY_ACTION}:{question.id}", fields=fields)
    return [Reply(title, form=form)]


async def reply_submitted(ctx: Context, value: str, argument: str) -> list[Reply]:
    """The Reply form, submitted: as `reply <number> <text>`."""
    question = await _contribution(ctx, argument)
    try:
        fields = json.loads(value) if value else {}
    except json.JSONDecodeError:
        fields = {}
    text = str(fields.get("text") or "").strip() if isinstance(fields, dict) else ""
    return await _reply(ctx, question, text)


async def _question(ctx: Context, question: Contribution) -> Contribution:
    """`question` when it can take replies: visible, a question, not the actor's own."""
    if question.hidden_at is not None:
        raise UserError("contributions.unknown", id=str(question.id))
    if question.kind != ContributionKind.QUESTION:
        raise UserError("contributions.reply_not_question", id=question.id)
    if question.member_id == ctx.actor.id:
        raise UserError("contributions.reply_own", id=question.id)
    return question


async def _reply(ctx: Context, question: Contribution, text: str) -> list[Reply]:
    """Check, store and post a reply in the question's thread."""
    await _question(ctx, question)
    if not text:
        raise UserError("contributions.reply_usage")
    if len(text) > MAX_TEXT:
        raise UserError("challenges.too_long", max=MAX_TEXT)
    saved = await _save_reply(ctx, question, text, compact=False)
    question_name = await post_name(ctx, question)
    return [Reply(ctx.t("contributions.replied", id=saved.id, question=question_name))]


async def _save_reply(
    ctx: Context, question: Contribution, text: str, *, compact: bool
) -> Contribution:
    """Store the reply, post it (or its compact card) in the question's thread, count it."""
    saved = await contributions.save_reply(
        ctx.db,
        workspace_id=ctx.workspace.id,
        member_id=ctx.actor.id,
        question_id=question.id,
        text=text,
        now=ctx.now,
    )
    await members.record_event(
        ctx.db,
        ctx.actor.id,
        "replied",
        ctx.now,
        detail={"contribution": saved.id, "question": question.id},
    )
    posted = await outbox_store.by_key(ctx.db, question.post_key) if question.post_key else None
    conversation: str | None
    thread: str | None
    if posted is not None:
        conversation, thread = posted.target, question.post_key
    else:  # a question never posted (a bulk load): the community conversation, unthreaded
        conversation, thread = await community_conversation(ctx.db, ctx.workspace), None
    conversation = conversation or ctx.origin.conversation
    locale = ctx.community_translator.locale
    await publish(ctx, saved, conversation, locale, in_reply_to=thread, compact=compact)
    await badges.promote_after(ctx, "replies", ctx.actor.id)
    return saved


async def thread_reply(ctx: Context, event: ThreadReply) -> list[Reply]:
    """A message written in a thread (Slack, Teams): a reply when the thread is a question's
    post and the writer is not the asker; anything else is conversation, ignored. Silent:
    the compact card the bot posts under it is the answer."""
    question = await contributions.by_posted_message(
        ctx.db, ctx.workspace.id, ctx.origin.platform, event.parent.strip()[:255]
    )
    text = event.text.strip()
    if (
        question is None
        or question.kind != ContributionKind.QUESTION
        or question.hidden_at is not None
        or question.member_id == ctx.actor.id
        or not text
    ):
        return []
    await _save_reply(ctx, question, text[:MAX_TEXT], compact=True)
    return []


async def helped(ctx: Context, args: Args) -> list[Reply]:
    """`helped <reply number>` (`aidé`): the asker marks the reply that helped."""
    if not args:
        raise UserError("contributions.helped_usage")
    return await _helped(ctx, await _contribution(ctx, args.tokens[0].value))


async def helped_button(ctx: Context, value: str) -> list[Reply]:
    """The reply post's "This helped" button: the same, refused to anyone but the asker."""
    return await _helped(ctx, await _contribution(ctx, value))


async def _helped(ctx: Context, reply_: Contribution) -> list[Reply]:
    if reply_.hidden_at is not None:
        raise UserError("contributions.unknown", id=str(reply_.id))
    if reply_.kind != ContributionKind.REPLY or reply_.parent_id is None:
        raise UserError("contributions.helped_not_reply", id=reply_.id)
    question = await db_get(ctx, reply_.parent_id)
    if question is None or question.member_id != ctx.actor.id:
        raise UserError("contributions.helped_refused", id=reply_.parent_id)
    if reply_.member_id == ctx.actor.id:
        raise UserError("contributions.helped_own", id=reply_.id)
    changed = await contributions.mark_helped(ctx.db, question.id, reply_.id, ctx.now)
    named = await post_name(ctx, reply_)
    if not changed:
        return [Reply(ctx.t("contributions.helped_already", reply=named))]
    await members.record_event(
        ctx.db,
        reply_.member_id,
        "reply_helped",
        ctx.now,
        actor_id=ctx.actor.id,
        detail={"contribution": reply_.id, "question": question.id},
    )
    for reply_id in changed:
        found = await db_get(ctx, reply_id)
        if found is not None:
            await republish(ctx, found, f"helped:{ctx.now.isoformat()}")
    moved = [reply_id for reply_id in changed if reply_id != reply_.id]
    if moved:
        return [Reply(ctx.t("contributions.helped_moved", reply=named, before=moved[0]))]
    return [Reply(ctx.t("contributions.helped_done", reply=named))]


async def db_get(ctx: Context, contribution_id: int) -> Contribution | None:
    """The workspace's contribution, as stored now."""
    return await contributions.by_id(ctx.db, ctx.workspace.id, contribution_id)


# --- like ------------------------------------------------------------------------------------


async def _contribution(ctx: Context, raw: str) -> Contribution:
    digits = raw.strip().lstrip("#")
    found = (
        await contributions.by_id(ctx.db, ctx.workspace.id, int(digits))
        if digits.isdigit()
        else None
    )
    if found is None:
        raise UserError("contributions.unknown", id=raw.strip()[:12])
    return found


async def like(ctx: Context, value: str) -> list[Reply]:
    """The Like button: likes the post, or takes the like back when it was there."""
    return await _toggle(ctx, await _contribution(ctx, value), ReactionKind.LIKE)


async def dislike(ctx: Context, value: str) -> list[Reply]:
    """The "Not useful to me" button: the same toggle, for a dislike."""
    return await _toggle(ctx, await _contribution(ctx, value), ReactionKind.DISLIKE)


async def _toggle(ctx: Context, contribution: Contribution, kind: ReactionKind) -> list[Reply]:
    value = str(contribution.id)
    if contribution.hidden_at is not None:
        raise UserError("contributions.unknown", id=value[:12])
    if contribution.member_id == ctx.actor.id:
        raise UserError(f"contributions.own_{kind}")
    before: ReactionKind | None
    if await contributions.unreact(ctx.db, contribution.id, ctx.actor.id, kind) is not None:
        before, said = kind, f"contributions.{kind}_removed"
    else:
        before = await contributions.react(ctx.db, contribution.id, ctx.actor.id, kind, ctx.now)
        # `before == kind`: a click of the same person at the same moment recorded it first.
        switched = before is not None and before != kind
        said = f"contributions.switched_{kind}" if switched else f"contributions.{kind}d"
    await _show_likes(ctx, contribution, kind, before)
    return [Reply(ctx.t(said, post=await post_name(ctx, contribution)))]


async def react(ctx: Context, reaction: Reaction) -> list[Reply]:
    """An emoji added to a posted contribution, or taken off it: 👍 (and the other
    approving ones) a like, 👎 a dislike. The message reacted to is named by its platform
    id; a message that is no contribution is ignored, and so are a hidden post and the
    author's own reactions. Silent: nothing is said (the post's like count shows it)."""
    contribution = await contributions.by_posted_message(
        ctx.db, ctx.workspace.id, ctx.origin.platform, reaction.message.strip()[:255]
    )
    if (
        contribution is None
        or contribution.hidden_at is not None
        or contribution.member_id == ctx.actor.id
    ):
        return []
    kind = ReactionKind.LIKE if reaction.approving else ReactionKind.DISLIKE
    if reaction.removed:
        # Only a reaction of the emoji's kind goes: a 👍 taken off after a 👎 (which
        # replaced the like) leaves the dislike.
        if await contributions.unreact(ctx.db, contribution.id, ctx.actor.id, kind) is not None:
            await _show_likes(ctx, contribution, kind, kind)
        return []
    before = await contributions.react(ctx.db, contribution.id, ctx.actor.id, kind, ctx.now)
    if before != kind:
        await _show_likes(ctx, contribution, kind, before)
    return []


async def _show_likes(
    ctx: Context, contribution: Contribution, kind: ReactionKind, before: ReactionKind | None
) -> None:
    """Edit the post when its like count changed (a like came or went)."""
    if ReactionKind.LIKE in (kind, before):
        # One edit per change (a reaction can come and go many times): its own key.
        await republish(ctx, contribution, f"{kind}:{ctx.actor.id}:{ctx.now.isoformat()}")


async def reactions(ctx: Context, args: Args) -> list[Reply]:
    """`reactions <number>`: a post's likes and dislikes, for its author and animators."""
    if not args:
        raise UserError("contributions.reactions_usage")
    contribution = await _contribution(ctx, args.tokens[0].value)
    if contribution.member_id != ctx.actor.id and not allows(ctx.role, MemberRole.ANIMATOR):
        raise UserError("contributions.reactions_refused", id=contribution.id)
    counts = await contributions.reaction_counts(ctx.db, contribution.id)
    text = ctx.t(
        "contributions.reactions",
        id=contribution.id,
        likes=ctx.t("contributions.count_likes", count=counts.likes),
        dislikes=ctx.t("contributions.count_dislikes", count=counts.dislikes),
    )
    return [Reply(text)]


# --- hide ------------------------------------------------------------------------------------


async def hide(ctx: Context, args: Args) -> list[Reply]:
    """`hide <id> [reason]` (animators): the post is hidden and stops counting."""
    if not args:
        raise UserError("contributions.hide_usage")
    contribution = await _contribution(ctx, args.tokens[0].value)
    reason = " ".join(token.value for token in args.tokens[1:]).strip()
    return await _hide(ctx, contribution, reason)


async def hide_form(ctx: Context, value: str) -> list[Reply]:
    """The Hide button of posts made before it moved to `hide <number>` (they keep it until
    their next edit): asks animators for the reason (learners are refused)."""
    contribution = await _contribution(ctx, value)
    form = Form(
        title=ctx.t("contributions.hide_title", id=contribution.id),
        submit_action_id=f"{HIDE_ACTION}:{contribution.id}",
        fields=(FormField("reason", ctx.t("contributions.hide_reason"), "text", required=False),),
    )
    return [Reply(ctx.t("contributions.hide_title", id=contribution.id), form=form)]


async def hide_submitted(ctx: Context, value: str, argument: str) -> list[Reply]:
    """The Hide form, submitted."""
    contribution = await _contribution(ctx, argument)
    try:
        fields = json.loads(value) if value else {}
    except json.JSONDecodeError:
        fields = {}
    reason = str(fields.get("reason") or "").strip() if isinstance(fields, dict) else ""
    return await _hide(ctx, contribution, reason)


async def _hide(ctx: Context, contribution: Contribution, reason: str) -> list[Reply]:
    if not await contributions.hide(ctx.db, contribution.id, ctx.actor.id, reason[:500], ctx.now):
        return [Reply(ctx.t("contributions.already_hidden", id=contribution.id))]
    await members.record_event(
        ctx.db,
        contribution.member_id,
        "contribution_hidden",
        ctx.now,
        actor_id=ctx.actor.id,
        detail={"contribution": contribution.id, "reason": reason[:500]},
    )
    await republish(ctx, contribution, "hidden")
    return [Reply(ctx.t("contributions.hidden_done", id=contribution.id))]


async def republish(ctx: Context, contribution: Contribution, cause: str) -> None:
    """Edit the contribution's post in place to show its current state."""
    if contribution.post_key is None:
        return
    posted = await outbox_store.by_key(ctx.db, contribution.post_key)
    if posted is None:
        return
    await ctx.outbox.update(
        outbox_keys.contribution_edit(contribution.post_key, cause),
        contribution.post_key,
        posted.target,
        OutboundMessage(text=contribution.text),
        coalesce_key=outbox_keys.contribution_edits(contribution.post_key),
        refresh=posted.refresh,
    )
