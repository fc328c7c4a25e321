"""Shares, likes and hiding: learner-generated content that counts, until hidden."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import ContributionLike
from tests.support.playground import Playground


def _number(message: dict) -> str:  # type: ignore[type-arg]
    return str(message["card"]["fields"][0]["value"]).lstrip("#")


async def test_share_posts_under_the_name_in_the_community_conversation(
    playground: Playground,
) -> None:
    await playground.command("anim1", "community here", conversation="ambassadors")
    assert "Shared" in await playground.say("bob", "share Tip: start 1:1s with a success", "room-b")
    posted = await playground.messages("ambassadors")
    assert len(posted) == 1 and posted[0]["card"]["title"] == "Bob shares"
    assert posted[0]["card"]["body"] == "Tip: start 1:1s with a success"
    assert "0 successes, 0 not-yets, 1 share" in await playground.say("bob", "me")


async def test_share_needs_text_and_a_place(playground: Playground) -> None:
    assert "Write what you want to share" in await playground.say("bob", "share")
    assert "community here" in await playground.say("bob", "share Hello", "dm:bob")
    assert await playground.messages("dm:bob") == []


async def test_likes_count_once_per_member_and_show_on_the_post(playground: Playground) -> None:
    await playground.command("bob", "share A question: how do you say no kindly?")
    post = (await playground.messages())[0]
    like = post["card"]["buttons"][0]
    assert like["label"] == "👍 0"
    first = await playground.action("alice", like["action_id"], like["value"])
    assert first[0]["text"] == "Vous avez aimé cette contribution."
    await playground.action("chloe", like["action_id"], like["value"])
    again = await playground.action("alice", like["action_id"], like["value"])
    assert again[0]["text"] == "Vous avez déjà aimé cette contribution."
    post = (await playground.messages())[0]
    assert post["card"]["buttons"][0]["label"] == "👍 2"


async def test_the_author_cannot_like_their_own_contribution_in_either_language(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Ask one open question per meeting")
    await playground.command("alice", "share Je note mes réussites chaque vendredi")
    bob_post, alice_post = await playground.messages()
    for who, post, refusal in (
        ("bob", bob_post, "You cannot like your own contribution"),
        ("alice", alice_post, "Impossible d'aimer votre propre contribution\u00a0:"),
    ):
        like = post["card"]["buttons"][0]
        replies = await playground.action(who, like["action_id"], like["value"])
        assert len(replies) == 1 and replies[0]["text"].startswith(refusal), replies
        assert (
            "Nothing was counted" in replies[0]["text"]
            or "Rien n'a été compté" in (replies[0]["text"])
        )
        # A reaction of the author's own on the post: silent, and it counts nothing either.
        assert await playground.action(who, "contribution.react", post["id"]) == []
    assert await _likes(playground) == 0
    assert [m["card"]["buttons"][0]["label"] for m in await playground.messages()] == ["👍 0"] * 2
    # Someone else's like and reaction count (once).
    like = bob_post["card"]["buttons"][0]
    assert (await playground.action("alice", like["action_id"], like["value"]))[0]["text"] == (
        "Vous avez aimé cette contribution."
    )
    reacted = await playground.action("chloe", "contribution.react", bob_post["id"])
    assert [r["text"] for r in reacted] == ["Vous avez aimé cette contribution."]
    assert await _likes(playground) == 2


async def _likes(playground: Playground) -> int:
    async with playground.runtime.db_sessions() as db:
        return int((await db.execute(select(func.count(ContributionLike.id)))).scalar_one())


async def test_posts_carry_no_hide_button_and_animators_hide_with_the_command(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Buy my crypto")
    post = (await playground.messages())[0]
    number = _number(post)
    # The post looks the same to everyone: no button that would refuse learners.
    assert [b["action_id"] for b in post["card"]["buttons"]] == ["contribution.like"]
    assert (await playground.say("bob", f"hide {number}")).startswith("Only animators")
    assert (await playground.say("alice", f"masquer {number} spam")).startswith(
        "Seuls les animateurs"
    )
    assert "0 successes, 0 not-yets, 1 share" in await playground.say("bob", "me")
    done = await playground.say("anim1", f"hide {number} spam")
    assert f"#{number} is hidden" in done
    post = (await playground.messages())[0]
    assert post["card"]["title"] == "Hidden by an animator." and post["card"]["buttons"] == []
    assert "0 shares" in await playground.say("bob", "me")
    assert "already hidden" in await playground.say("anim1", f"hide {number} again")
    assert "no contribution #999" in await playground.say("anim1", "hide 999 x")
    # The help says where hiding is now: by the number shown on the post.
    assert "by the number shown on its post" in await playground.say("anim1", "help")


async def test_the_hide_button_of_older_posts_still_works_for_animators_only(
    playground: Playground,
) -> None:
    """Posts made before hiding moved to the command keep their button until their next
    edit: the button still answers, as it did (its action id and value unchanged)."""
    await playground.command("bob", "share Buy my crypto")
    number = _number((await playground.messages())[0])
    refused = await playground.action("alice", "contribution.hide_form", number)
    assert refused[0]["text"].startswith("Seuls les animateurs")
    form = (await playground.action("anim1", "contribution.hide_form", number))[0]["form"]
    done = await playground.action("anim1", form["submit_action_id"], '{"reason": "spam"}')
    assert f"#{number} is hidden" in done[0]["text"]
    post = (await playground.messages())[0]
    assert post["card"]["title"] == "Hidden by an animator." and post["card"]["buttons"] == []
