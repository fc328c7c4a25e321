"""Shares, likes and hiding: learner-generated content that counts, until hidden."""

from __future__ import annotations

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
    assert "0 successes, 0 not-yets, 1 shares" in await playground.say("bob", "me")


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
    assert first[0]["text"] == "Vous l'aimez."
    await playground.action("chloe", like["action_id"], like["value"])
    again = await playground.action("alice", like["action_id"], like["value"])
    assert again[0]["text"] == "Vous l'aimez déjà."
    post = (await playground.messages())[0]
    assert post["card"]["buttons"][0]["label"] == "👍 2"


async def test_animators_hide_content_with_a_reason_and_it_stops_counting(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Buy my crypto")
    post = (await playground.messages())[0]
    number = _number(post)
    hide_button = post["card"]["buttons"][-1]
    refused = await playground.action("alice", hide_button["action_id"], hide_button["value"])
    assert refused[0]["text"].startswith("Seuls les animateurs")
    form = (await playground.action("anim1", hide_button["action_id"], hide_button["value"]))[0][
        "form"
    ]
    done = await playground.action("anim1", form["submit_action_id"], '{"reason": "spam"}')
    assert f"#{number} is hidden" in done[0]["text"]
    post = (await playground.messages())[0]
    assert post["card"]["title"] == "Hidden by an animator." and post["card"]["buttons"] == []
    assert "0 shares" in await playground.say("bob", "me")
    assert "already hidden" in await playground.say("anim1", f"hide {number} again")
    assert (await playground.say("bob", f"hide {number}")).startswith("Only animators")
    assert "no contribution #999" in await playground.say("anim1", "hide 999 x")
