"""Shares, likes and dislikes, hiding: learner-generated content that counts, until hidden."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.clock import Clock
from bot.handlers import contributions as contributions_handler
from bot.server import build_app, create_runtime
from storage.models import Contribution, ContributionLike, Member
from storage.vocabulary import ReactionKind
from tests.conftest import FRIDAY, make_settings
from tests.support.playground import Playground


def _number(message: dict) -> str:  # type: ignore[type-arg]
    return str(message["card"]["fields"][0]["value"]).lstrip("#")


async def test_share_posts_under_the_name_in_the_community_conversation(
    playground: Playground,
) -> None:
    await playground.command("anim1", "community here", conversation="ambassadors")
    said = await playground.say("bob", "share Tip: start 1:1s with a success", "room-b")
    posted = await playground.messages("ambassadors")
    assert said == f"Your tip is shared with the community as #{_number(posted[0])}. Thank you!"
    assert len(posted) == 1 and posted[0]["card"]["title"] == "Tip from Bob"
    assert posted[0]["card"]["body"] == "Tip: start 1:1s with a success"
    assert "0 successes, 0 not-yets, 1 tip, 0 questions" in await playground.say("bob", "me")


async def test_share_needs_text_and_a_place(playground: Playground) -> None:
    assert "Write your question" in await playground.say("bob", "share question")
    assert "community here" in await playground.say("bob", "share Hello", "dm:bob")
    assert await playground.messages("dm:bob") == []


def _buttons(post: dict) -> list[str]:  # type: ignore[type-arg]
    return [button["label"] for button in post["card"]["buttons"]]


async def _click(playground: Playground, who: str, post: dict, n: int) -> str:  # type: ignore[type-arg]
    button = post["card"]["buttons"][n]
    replies = await playground.action(who, button["action_id"], button["value"])
    assert len(replies) == 1, replies
    return str(replies[0]["text"])


LIKE, DISLIKE = 0, 1


async def test_the_buttons_like_dislike_switch_and_take_back_and_the_post_shows_likes_only(
    playground: Playground,
) -> None:
    await playground.command("bob", "share A question: how do you say no kindly?")
    post = (await playground.messages())[0]
    assert _buttons(post) == ["👍 0", "👎 Not useful to me"]
    assert [b["action_id"] for b in post["card"]["buttons"]] == [
        "contribution.like",
        "contribution.dislike",
    ]
    # Each confirmation names the post: its number, its author, its first words.
    number = _number(post)
    fr = f"n°\u00a0{number} de Bob («\u00a0A question: how do you say no kindly?\u00a0»)"
    en = f"#{number} by Bob (“A question: how do you say no kindly?”)"
    assert await _click(playground, "alice", post, LIKE) == (
        f"Votre 👍 sur la contribution {fr} est compté."
    )
    assert await _click(playground, "anim1", post, LIKE) == f"Your 👍 on post {en} is counted."
    # The same button again takes the like back.
    taken_back = await _click(playground, "alice", post, LIKE)
    assert taken_back == f"Votre 👍 sur la contribution {fr} est retiré."
    assert _buttons((await playground.messages())[0]) == ["👍 1", "👎 Not useful to me"]
    # "Not useful to me": said privately, not shown on the post.
    disliked = await _click(playground, "chloe", post, DISLIKE)
    assert disliked.startswith(f"C'est noté\u00a0: la contribution {fr} n'est pas utile pour vous.")
    # The other button switches: one reaction per person.
    switched = await _click(playground, "anim1", post, DISLIKE)
    assert switched.startswith(f"Noted: post {en} is not useful to you now (your 👍 is taken back)")
    assert _buttons((await playground.messages())[0]) == ["👍 0", "👎 Not useful to me"]
    back = await _click(playground, "anim1", post, LIKE)
    assert back == f"Your 👍 on post {en} is counted (your “not useful to me” is taken back)."
    assert await _click(playground, "chloe", post, DISLIKE) == (
        f"Votre «\u00a0pas utile pour moi\u00a0» sur la contribution {fr} est retiré."
    )
    assert await _reactions(playground) == [("anim1", ReactionKind.LIKE)]
    assert _buttons((await playground.messages())[0]) == ["👍 1", "👎 Not useful to me"]


async def test_the_author_cannot_react_to_their_own_contribution_in_either_language(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Ask one open question per meeting")
    await playground.command("alice", "share Je note mes réussites chaque vendredi")
    bob_post, alice_post = await playground.messages()
    for who, post, refusals in (
        (
            "bob",
            bob_post,
            ("You cannot like your own contribution", "You cannot mark your own contribution"),
        ),
        (
            "alice",
            alice_post,
            (
                "Impossible d'aimer votre propre contribution\u00a0:",
                "Impossible de marquer votre propre contribution comme pas utile\u00a0:",
            ),
        ),
    ):
        for n, refusal in enumerate(refusals):
            refused = await _click(playground, who, post, n)
            assert refused.startswith(refusal), refused
            assert "Nothing was counted" in refused or "Rien n'a été compté" in refused
        # Reactions of the author's own on the post: silent, and they count nothing either.
        assert await playground.react(who, post["id"]) == []
        assert await playground.react(who, post["id"], "dislike") == []
    assert await _reactions(playground) == []
    assert [_buttons(m)[0] for m in await playground.messages()] == ["👍 0"] * 2


async def test_emojis_set_a_reaction_silently_and_taking_one_off_removes_only_its_kind(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Tip: thank people by name")
    post = (await playground.messages())[0]
    assert await playground.react("chloe", post["id"]) == []  # 👍: a like, no answer
    assert await playground.react("chloe", post["id"]) == []  # a second like emoji: still one
    assert await _reactions(playground) == [("chloe", ReactionKind.LIKE)]
    assert _buttons((await playground.messages())[0])[0] == "👍 1"
    assert await playground.react("chloe", post["id"], "dislike") == []  # 👎: switches
    assert await _reactions(playground) == [("chloe", ReactionKind.DISLIKE)]
    # The 👍 taken off afterwards: it is no longer her reaction, nothing changes.
    assert await playground.react("chloe", post["id"], removed=True) == []
    assert await _reactions(playground) == [("chloe", ReactionKind.DISLIKE)]
    assert await playground.react("chloe", post["id"], "dislike", removed=True) == []
    assert await _reactions(playground) == []
    # A removal with nothing to remove, and a reaction on a message that is no post.
    assert await playground.react("alice", post["id"], removed=True) == []
    assert await playground.react("alice", "999999") == []
    assert await _reactions(playground) == []
    assert _buttons((await playground.messages())[0])[0] == "👍 0"


async def test_the_playground_refuses_an_unknown_reaction(playground: Playground) -> None:
    body = {
        "user": {"id": "alice", "name": "Alice"},
        "conversation": "general",
        "action_id": "contribution.react",
        "value": "1",
    }
    for bad, field in (({"reaction": "love"}, "reaction"), ({"removed": "yes"}, "removed")):
        response = await playground.client.post("/local/api/action", json={**body, **bad})
        assert response.status == 400
        assert (await response.json())["field"] == field


async def test_a_hidden_post_takes_no_reaction(playground: Playground) -> None:
    await playground.command("bob", "share Buy my crypto")
    post = (await playground.messages())[0]
    number = _number(post)
    await playground.say("anim1", f"hide {number} spam")
    for n in (LIKE, DISLIKE):
        refused = await playground.action("chloe", post["card"]["buttons"][n]["action_id"], number)
        assert refused[0]["text"] == f"Il n'y a pas de contribution n°\u00a0{number}."
    assert await playground.react("chloe", post["id"]) == []
    assert await playground.react("chloe", post["id"], "dislike") == []
    assert await _reactions(playground) == []


async def test_reactions_shows_both_counts_to_the_author_and_animators_only(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Tip: write down one win a day")
    post = (await playground.messages())[0]
    number = _number(post)
    await _click(playground, "alice", post, LIKE)
    await _click(playground, "anim1", post, LIKE)
    await _click(playground, "chloe", post, DISLIKE)
    assert await playground.say("bob", f"reactions {number}") == (
        f"Contribution #{number}: 2 likes, 1 “not useful to me”."
    )
    assert await playground.say("anim1", f"reactions #{number}") == (
        f"Contribution #{number}: 2 likes, 1 “not useful to me”."
    )
    refused = await playground.say("alice", f"réactions {number}")
    assert refused == (
        f"Les réactions à la contribution n°\u00a0{number} ne sont visibles que par la personne"
        " qui l'a publiée et par les animateurs."
    )
    assert (await playground.say("chloe", f"reactions {number}")).startswith("Les réactions")
    assert "`reactions 12`" in await playground.say("bob", "reactions")
    assert "no contribution #999" in await playground.say("bob", "reactions 999")
    # `me`: what the author's posts received, in the reader's language and plural rules.
    assert "Reactions received: 2 likes, 1 “not useful to me”" in await playground.say("bob", "me")
    await _click(playground, "anim1", post, LIKE)  # taken back
    await _click(playground, "chloe", post, DISLIKE)  # taken back
    assert "Reactions received: 1 like, 0 “not useful to me”" in await playground.say("bob", "me")
    await playground.command("alice", "share Je partage aussi")
    alice_post = (await playground.messages())[1]
    await _click(playground, "bob", alice_post, DISLIKE)
    received = "Réactions reçues\u00a0: 0 «\u00a0j'aime\u00a0», 1 «\u00a0pas utile pour moi\u00a0»"
    assert received in await playground.say("alice", "moi")


async def _reactions(playground: Playground) -> list[tuple[str, ReactionKind]]:
    async with playground.runtime.db_sessions() as db:
        rows = await db.execute(
            select(Member.user_id, ContributionLike.kind)
            .join(Member, Member.id == ContributionLike.member_id)
            .order_by(Member.user_id)
        )
        return [(user_id, kind) for user_id, kind in rows.all()]


async def test_posts_carry_no_hide_button_and_animators_hide_with_the_command(
    playground: Playground,
) -> None:
    await playground.command("bob", "share Buy my crypto")
    post = (await playground.messages())[0]
    number = _number(post)
    # The post looks the same to everyone: no button that would refuse learners.
    assert [b["action_id"] for b in post["card"]["buttons"]] == [
        "contribution.like",
        "contribution.dislike",
    ]
    assert (await playground.say("bob", f"hide {number}")).startswith("Only animators")
    assert (await playground.say("alice", f"masquer {number} spam")).startswith(
        "Cela est réservé à l'équipe d'animation"
    )
    assert "0 successes, 0 not-yets, 1 tip, 0 questions" in await playground.say("bob", "me")
    done = await playground.say("anim1", f"hide {number} spam")
    assert f"#{number} is hidden" in done
    post = (await playground.messages())[0]
    assert post["card"]["title"] == "Hidden by an animator." and post["card"]["buttons"] == []
    assert "0 not-yets, 0 tips" in await playground.say("bob", "me")
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
    assert refused[0]["text"].startswith("Cela est réservé à l'équipe d'animation")
    form = (await playground.action("anim1", "contribution.hide_form", number))[0]["form"]
    done = await playground.action("anim1", form["submit_action_id"], '{"reason": "spam"}')
    assert f"#{number} is hidden" in done[0]["text"]
    post = (await playground.messages())[0]
    assert post["card"]["title"] == "Hidden by an animator." and post["card"]["buttons"] == []


# --- kinds of contribution (issue 19) ------------------------------------------------------


async def _contributions(playground: Playground) -> list[tuple[str, str, str | None]]:
    async with playground.runtime.db_sessions() as db:
        rows = await db.execute(
            select(Contribution.kind, Contribution.text, Contribution.link).order_by(
                Contribution.id
            )
        )
        return [(str(kind), text, link) for kind, text, link in rows.all()]


@pytest.mark.parametrize(
    ("who", "command", "title", "thanks", "kind", "text"),
    [
        (
            "bob",
            "share question How do you say no kindly?",
            "Question from Bob",
            "Your question is posted",
            "question",
            "How do you say no kindly?",
        ),
        (
            "alice",
            "partager question Comment dire non avec tact ?",
            "Question from Alice",  # the post speaks the community's language
            "Votre question est publiée",
            "question",
            "Comment dire non avec tact ?",
        ),
        (
            "bob",
            "share experience I asked for feedback at the end of my 1:1",
            "Experience report from Bob",
            "Your experience report is shared",
            "experience",
            "I asked for feedback at the end of my 1:1",
        ),
        (
            "alice",
            "partager retour J'ai demandé un retour en fin de 1:1",
            "Experience report from Alice",
            "Votre retour d'expérience est partagé",
            "experience",
            "J'ai demandé un retour en fin de 1:1",
        ),
        (
            "alice",
            "partager retour d'expérience J'ai testé la météo d'équipe",
            "Experience report from Alice",
            "Votre retour d'expérience est partagé",
            "experience",
            "J'ai testé la météo d'équipe",
        ),
        (
            "alice",
            "partager expérience J'ai testé la météo d'équipe",
            "Experience report from Alice",
            "Votre retour d'expérience est partagé",
            "experience",
            "J'ai testé la météo d'équipe",
        ),
    ],
)
async def test_each_kind_is_posted_with_its_title(
    playground: Playground, who: str, command: str, title: str, thanks: str, kind: str, text: str
) -> None:
    await playground.command("anim1", "community here", conversation="ambassadors")
    assert thanks in await playground.say(who, command, "room-b")
    [post] = await playground.messages("ambassadors")
    assert post["card"]["title"] == title
    assert post["card"]["body"] == text
    assert await _contributions(playground) == [(kind, text, None)]


@pytest.mark.parametrize(
    ("who", "command"),
    [
        ("bob", "share watch https://example.org/feedback A clear take"),
        ("alice", "partager veille https://example.org/feedback A clear take"),
        ("alice", "partager watch https://example.org/feedback A clear take"),
        ("bob", "share veille <https://example.org/feedback|example.org> A clear take"),
    ],
)
async def test_a_watch_is_a_link_with_an_optional_comment_and_a_button(
    playground: Playground, who: str, command: str
) -> None:
    thanks = await playground.say(who, command)
    assert "watch link is shared" in thanks or "Votre veille est partagée" in thanks
    [post] = await playground.messages()
    expected = f"Watch shared by {who.capitalize()}"
    assert post["card"]["title"] == expected
    # The comment, then the address itself (not only behind a button).
    assert post["card"]["body"] == "A clear take\nhttps://example.org/feedback"
    link = post["card"]["buttons"][-1]
    assert link["url"] == "https://example.org/feedback"
    assert await _contributions(playground) == [
        ("watch", "A clear take", "https://example.org/feedback")
    ]
    # Without a comment: the link alone.
    await playground.command(who, "share watch https://example.org/other")
    assert (await _contributions(playground))[-1] == ("watch", "", "https://example.org/other")


@pytest.mark.parametrize(
    ("typed", "link", "comment"),
    [
        ("https://example.org/a, a great read", "https://example.org/a", "a great read"),
        ("https://example.org/a. Read it!", "https://example.org/a", "Read it!"),
        ("https://example.org/a!", "https://example.org/a", ""),
        ("(https://example.org/a) worth it", "(https://example.org/a)", "worth it"),
        (
            "https://en.wikipedia.org/wiki/Feedback_(disambiguation); see",
            "https://en.wikipedia.org/wiki/Feedback_(disambiguation)",
            "see",
        ),
    ],
)
async def test_a_watch_link_leaves_the_sentence_s_punctuation_out(
    playground: Playground, typed: str, link: str, comment: str
) -> None:
    reply = await playground.say("bob", f"share watch {typed}")
    if link.startswith("("):  # not a link at all: refused, nothing written
        assert "A watch needs a link that starts" in reply
        assert await _contributions(playground) == []
        return
    assert await _contributions(playground) == [("watch", comment, link)]
    [post] = await playground.messages()
    assert post["card"]["buttons"][-1]["url"] == link


@pytest.mark.parametrize(
    ("who", "command", "refusal"),
    [
        ("bob", "share watch", "Give the link"),
        ("bob", "share watch example.org/feedback Worth it", "A watch needs a link that starts"),
        ("bob", "share watch ftp://example.org/file", "A watch needs a link that starts"),
        ("alice", "partager veille", "Donnez le lien"),
        ("alice", "partager veille www.exemple.fr Super", "Une veille a besoin d'un lien"),
        ("bob", "share watch https://" + "x" * 500, "A watch needs a link that starts"),
        ("bob", "share experience", "Tell what you tried"),
        ("alice", "partager retour", "Racontez ce que vous avez essayé"),
    ],
)
async def test_a_bad_kind_says_how_to_do_it_and_writes_nothing(
    playground: Playground, who: str, command: str, refusal: str
) -> None:
    answer = await playground.say(who, command)
    assert answer.startswith(refusal), answer
    assert await _contributions(playground) == []
    assert await playground.messages() == []


async def _form(playground: Playground, who: str) -> dict[str, Any]:
    [reply] = await playground.command(who, "share")
    form: dict[str, Any] = reply["form"]
    return form


async def test_share_alone_opens_a_form_that_makes_each_kind(playground: Playground) -> None:
    form = await _form(playground, "bob")
    assert form["title"] == "Share with the community"
    kind, text, link = form["fields"]
    assert kind["kind"] == "select" and kind["value"] == "share"
    assert [o["value"] for o in kind["options"]] == ["share", "question", "experience", "watch"]
    assert [o["label"] for o in kind["options"]][1] == "A question"
    assert text["kind"] == "multiline" and link["required"] is False
    french = await _form(playground, "alice")
    assert french["title"] == "Partager avec la communauté"
    assert [o["label"] for o in french["fields"][0]["options"]][2] == "Un retour d'expérience"

    submit = form["submit_action_id"]
    for values in (
        {"kind": "question", "text": "Who runs retros?", "link": ""},
        {"kind": "experience", "text": "Retro went well", "link": "https://example.org/retro"},
        {"kind": "watch", "text": "", "link": "https://example.org/read"},
        {"kind": "share", "text": "A tip"},
    ):
        replies = await playground.action("bob", submit, json.dumps(values))
        assert "Thank you" in replies[0]["text"], replies
    assert await _contributions(playground) == [
        ("question", "Who runs retros?", None),
        ("experience", "Retro went well", "https://example.org/retro"),
        ("watch", "", "https://example.org/read"),
        ("share", "A tip", None),
    ]
    titles = [m["card"]["title"] for m in await playground.messages()]
    assert titles == [
        "Question from Bob",
        "Experience report from Bob",
        "Watch shared by Bob",
        "Tip from Bob",
    ]


async def test_the_form_refuses_as_the_command_does(playground: Playground) -> None:
    submit = (await _form(playground, "bob"))["submit_action_id"]
    for values, refusal in (
        ({"kind": "watch", "text": "Nice", "link": ""}, "Give the link"),
        ({"kind": "watch", "text": "Nice", "link": "example.org"}, "A watch needs a link"),
        ({"kind": "question", "text": "Hm?", "link": "nope"}, "A link must start with"),
        ({"kind": "question", "text": ""}, "Write your question"),
        ({"kind": "rumour", "text": "x"}, "Write what you want to share"),
    ):
        replies = await playground.action("bob", submit, json.dumps(values))
        assert replies[0]["text"].startswith(refusal), (values, replies)
    french = await playground.action(
        "alice", submit, json.dumps({"kind": "watch", "text": "x", "link": "exemple.fr"})
    )
    assert french[0]["text"].startswith("Une veille a besoin d'un lien")
    assert await _contributions(playground) == []


async def test_me_counts_each_kind_in_both_languages(playground: Playground) -> None:
    await playground.command("bob", "share A tip")
    await playground.command("bob", "share question One?")
    await playground.command("bob", "share question Two?")
    await playground.command("bob", "share experience It went well")
    await playground.command("bob", "share watch https://example.org/a")
    assert (
        "0 successes, 0 not-yets, 1 tip, 2 questions, 1 experience report, 1 watch link"
        in await playground.say("bob", "me")
    )
    await playground.command("alice", "partager retour Essai")
    await playground.command("alice", "partager retour Deuxième essai")
    await playground.command("alice", "partager veille https://exemple.fr")
    assert "0 astuce, 0 question, 2 retours d'expérience, 1 lien de veille" in await playground.say(
        "alice", "moi"
    )


@pytest.fixture
async def bot_fr(database_url: str) -> AsyncIterator[Playground]:
    """The playground of a community whose language is French."""
    runtime = create_runtime(
        make_settings(database_url, AMBASSADOR_LOCALE="fr"), Clock(controllable=True, start=FRIDAY)
    )
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    yield Playground(client, runtime)
    await client.close()
    await runtime.engine.dispose()


async def test_a_french_community_reads_each_kind_s_title_in_french(bot_fr: Playground) -> None:
    await bot_fr.command("bob", "share question How do you say no kindly?")
    await bot_fr.command("alice", "partager retour J'ai demandé un retour")
    await bot_fr.command("alice", "partager veille https://exemple.fr/article Très clair")
    await bot_fr.command("alice", "partager Une astuce")
    posts = await bot_fr.messages()
    assert [p["card"]["title"] for p in posts] == [
        "Question posée par Bob",
        "Retour d'expérience partagé par Alice",
        "Veille partagée par Alice",
        "Astuce partagée par Alice",
    ]
    assert posts[2]["card"]["buttons"][-1] == {
        **posts[2]["card"]["buttons"][-1],
        "label": "Ouvrir le lien",
        "url": "https://exemple.fr/article",
    }


async def test_a_question_or_a_watch_counts_toward_the_ladder_as_a_share(
    playground: Playground,
) -> None:
    # The shipped ladder's junior: one contribution (answers + shares of every kind).
    await playground.command("anim1", "session start Feedback")
    for who in ("bob", "alice"):
        await playground.command(who, "join")
    assert "Level: none yet" in await playground.say("bob", "me")
    await playground.command("bob", "share question Who runs retros?")
    assert "Level: Junior" in await playground.say("bob", "me")
    await playground.command("alice", "partager veille https://exemple.fr")
    assert "Niveau\u00a0: Junior" in await playground.say("alice", "moi")


def test_a_confirmation_quotes_the_first_words_of_a_long_post_on_one_line() -> None:
    long = "How do you   say *no* kindly\nto a manager who keeps `asking` for more?"
    assert contributions_handler.excerpt(long) == "How do you say no kindly to a manager…"
    assert contributions_handler.excerpt("Short one") == "Short one"
    assert contributions_handler.excerpt("x" * 60) == "x" * 39 + "…"
