"""Replies to questions in their thread, and the reply that helped (issue 19), through the
playground on both databases: `reply <number> <text>` and the question's Reply button post
the reply in the question's thread; the asker alone marks the reply that helped (button or
`helped`), the mark moves; `me` counts the replies and those that helped."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.models import Contribution, WeeklyActivity
from tests.support.playground import Playground


def _number(message: dict[str, Any]) -> str:
    return str(message["card"]["fields"][0]["value"]).lstrip("#")


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    [found] = [b for b in message["card"]["buttons"] if b.get("action_id") == action_id]
    return found


async def _question(playground: Playground, who: str = "bob") -> dict[str, Any]:
    await playground.command(who, "share question How do you say no kindly?")
    return (await playground.messages())[-1]


async def _rows(playground: Playground) -> list[tuple[str, int | None, bool]]:
    async with playground.runtime.db_sessions() as db:
        found = await db.execute(
            select(Contribution.kind, Contribution.parent_id, Contribution.helped_at)
            .where(Contribution.kind == "reply")
            .order_by(Contribution.id)
        )
        return [(kind, parent, helped is not None) for kind, parent, helped in found.all()]


async def test_a_reply_is_posted_in_the_question_s_thread_and_counts(
    playground: Playground,
) -> None:
    question = await _question(playground)
    number = _number(question)
    assert "💬 Reply" in [b["label"] for b in question["card"]["buttons"]]
    said = await playground.say("alice", f"répondre {number} Je propose une alternative")
    reply = (await playground.messages())[-1]
    # The confirmation names the reply by its number, and the question by its number,
    # author and first words.
    thanks = (
        f"Votre réponse (n°\u00a0{_number(reply)}) est publiée dans le fil de la question"
        f" n°\u00a0{number} de Bob («\u00a0How do you say no kindly?\u00a0»). Merci\u202f!"
    )
    assert said == thanks
    assert reply["in_reply_to"] == question["id"]
    assert reply["card"]["title"] == "Reply from Alice"  # the community's language
    assert reply["card"]["body"] == "Je propose une alternative"
    assert "✔ This helped" in [b["label"] for b in reply["card"]["buttons"]]
    assert await _rows(playground) == [("reply", int(number), False)]
    assert "1 réponse à une question" in await playground.say("alice", "moi")
    assert "0 replies to questions" in await playground.say("bob", "me")
    async with playground.runtime.db_sessions() as db:
        weeks = (await db.execute(select(WeeklyActivity.shares, WeeklyActivity.replies))).all()
    assert sum(r for _, r in weeks) == 1 and sum(s for s, _ in weeks) == 1  # not a share


async def test_the_reply_button_opens_a_form_that_replies(playground: Playground) -> None:
    question = await _question(playground)
    button = _button(question, "contribution.reply_form")
    [opened] = await playground.action("chloe", button["action_id"], button["value"])
    form = opened["form"]
    assert form["title"] == f"Répondre à la question n°\u00a0{_number(question)}"
    replies = await playground.action(
        "chloe", form["submit_action_id"], json.dumps({"text": "Avec le sourire"})
    )
    assert "Merci" in replies[0]["text"]
    assert (await playground.messages())[-1]["in_reply_to"] == question["id"]
    empty = await playground.action("chloe", form["submit_action_id"], json.dumps({"text": ""}))
    assert "Indiquez quelle question" in empty[0]["text"]
    assert len(await _rows(playground)) == 1


async def test_a_reply_to_what_is_no_question_is_refused_and_says_how(
    playground: Playground,
) -> None:
    await playground.command("bob", "share A tip")
    tip = _number((await playground.messages())[-1])
    said = await playground.say("alice", f"reply {tip} Merci")
    assert said.startswith(f"La contribution n°\u00a0{tip} n'est pas une question")
    assert "`reply <its number> <your reply>`" in await playground.say(
        "anim1", f"reply {tip} Thanks"
    )
    assert "Say which question" in await playground.say("anim1", "reply")
    assert "There is no contribution #999" in await playground.say("anim1", "reply 999 Hi")
    question = _number(await _question(playground))
    assert "is yours" in await playground.say("bob", f"reply {question} Me again")
    assert await _rows(playground) == []


async def test_the_asker_alone_marks_the_reply_that_helped_and_the_mark_moves(
    playground: Playground,
) -> None:
    question = await _question(playground)
    number = _number(question)
    await playground.command("alice", f"répondre {number} Première idée")
    await playground.command("anim1", f"reply {number} Second idea")
    first, second = (await playground.messages())[-2:]
    helped = _button(first, "contribution.helped")
    # Anyone else is refused, in their language; nothing is marked.
    [refused] = await playground.action("anim1", helped["action_id"], helped["value"])
    only = f"Only the person who asked question #{number} can mark the reply that helped."
    assert refused["text"] == only
    [refused_fr] = await playground.action("alice", helped["action_id"], helped["value"])
    assert refused_fr["text"].startswith("Seule la personne qui a posé la question")
    assert await _rows(playground) == [("reply", int(number), False)] * 2
    # The asker marks the first one: its post says so.
    [done] = await playground.action("bob", helped["action_id"], helped["value"])
    assert done["text"].startswith(
        f"Noted: reply #{_number(first)} by Alice (“Première idée”) is the one that helped you"
    )
    first_now = next(m for m in await playground.messages() if m["id"] == first["id"])
    assert "✅ Helped the asker" in first_now["card"]["body"]
    assert "1 réponse utile à la personne qui demandait" in await playground.say("alice", "moi")
    already = await playground.say("bob", f"helped {_number(first)}")
    assert already.startswith(f"Reply #{_number(first)} by Alice (“Première idée”) is already")
    # The command moves the mark to the second one.
    moved = await playground.say("bob", f"helped {_number(second)}")
    assert moved == (
        f"Noted: reply #{_number(second)} by Anim1 (“Second idea”) is now the one that helped"
        f" you (the mark moved from reply #{_number(first)})."
    )
    assert await _rows(playground) == [("reply", int(number), False), ("reply", int(number), True)]
    posts = {m["id"]: m for m in await playground.messages()}
    assert "✅" not in posts[first["id"]]["card"]["body"]
    assert "✅ Helped the asker" in posts[second["id"]]["card"]["body"]
    assert "reply that helped its asker" not in await playground.say("alice", "moi")
    assert "1 reply that helped its asker" in await playground.say("anim1", "me")
    # What is no reply cannot be marked; the French command is `utile`.
    assert "is not a reply to a question" in await playground.say("bob", f"helped {number}")
    assert "Indiquez quelle réponse" in await playground.say("alice", "utile")


async def test_a_hidden_question_takes_no_reply_and_a_hidden_reply_no_mark(
    playground: Playground,
) -> None:
    number = _number(await _question(playground))
    await playground.command("alice", f"répondre {number} Une idée")
    reply = _number((await playground.messages())[-1])
    await playground.command("anim1", f"hide {reply} off-topic")
    assert f"There is no contribution #{reply}" in await playground.say("bob", f"helped {reply}")
    await playground.command("anim1", f"hide {number} off-topic")
    assert f"There is no contribution #{number}" in await playground.say(
        "anim1", f"reply {number} Late"
    )
    assert len(await _rows(playground)) == 1
