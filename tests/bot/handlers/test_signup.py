"""The in-training sign-up, end to end through the local API, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import Translator
from storage.models import MenteeWish, OutboxMessage
from tests.support.playground import Playground, user


async def _card(playground: Playground, conversation: str = "general") -> dict:
    cards = [m for m in await playground.messages(conversation) if m["card"]]
    assert cards, "no join card posted"
    return cards[0]


async def test_three_learners_in_two_languages_join_and_the_card_counts_them(
    playground: Playground,
) -> None:
    started = await playground.say("anim1", "session start Management 101")
    card = await _card(playground)
    code = card["card"]["fields"][0]["value"]
    assert code in started and len(code) == 6

    assert "Bienvenue" in await playground.say("alice", "rejoindre")
    assert "Welcome aboard" in await playground.say("bob", f"join {code}")
    replies = await playground.action("chloe", "signup.join", code)
    assert "3 apprenants" in replies[0]["text"]

    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == "3 learners joined"
    assert card["updated_at"] > card["created_at"]
    assert len([m for m in await playground.messages() if m["card"]]) == 1, "edited, not reposted"

    dm_alice = await playground.welcomes("alice")
    dm_bob = await playground.welcomes("bob")
    welcome = "Bienvenue parmi les ambassadeurs de Management 101\u202f!"
    assert len(dm_alice) == 1 and welcome in dm_alice[0]["text"]
    assert len(dm_bob) == 1 and "Welcome, ambassador of Management 101" in dm_bob[0]["text"]

    closed = await playground.say("anim1", "session close")
    assert "3 learners joined" in closed
    messages = await playground.messages()
    summary = messages[-1]["text"]
    assert "3 learners joined out of 3 present" in summary
    card = await _card(playground)
    assert card["card"]["buttons"] == []


async def test_joining_twice_changes_nothing(playground: Playground) -> None:
    await playground.command("anim1", "session start Onboarding")
    await playground.command("bob", "join")
    again = await playground.say("bob", "join")
    assert "already in" in again
    assert len(await playground.welcomes("bob")) == 1
    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == "1 learner joined"


async def test_an_ambassador_joining_another_session_takes_part_without_a_second_welcome(
    playground: Playground,
) -> None:
    await playground.command("anim1", "session start Day 1", conversation="room-a")
    await playground.command("bob", "join", conversation="room-a")
    await playground.command("anim1", "session start Day 2", conversation="room-b")
    reply = await playground.say("bob", "join", conversation="room-b")
    assert "also take part" in reply
    assert len(await playground.welcomes("bob")) == 1
    card = await _card(playground, "room-b")
    assert card["card"]["fields"][1]["value"] == "1 learner joined"


async def test_wrong_and_closed_codes_say_how_to_get_the_right_one(playground: Playground) -> None:
    await playground.command("anim1", "session start Onboarding")
    code = (await _card(playground))["card"]["fields"][0]["value"]
    wrong = await playground.say("bob", "join ZZZZZZ")
    assert "No session has the code" in wrong and "join card" in wrong
    await playground.command("anim1", "session close")
    closed = await playground.say("bob", f"join {code.lower()}")
    assert "is closed" in closed and "session list" in closed
    assert await playground.welcomes("bob") == []


async def test_learners_cannot_start_or_close_a_session(playground: Playground) -> None:
    refused = await playground.say("bob", "session start Hack")
    assert refused.startswith("Only animators")
    assert await playground.messages() == []
    await playground.command("anim1", "session start Real")
    refused = await playground.say("alice", "session fermer")
    assert refused.startswith("Cela est réservé à l'équipe d'animation")
    assert "open" in await playground.say("anim1", "session list")


async def test_join_without_open_session_joins_the_community(playground: Playground) -> None:
    reply = await playground.say("bob", "join")
    assert "Welcome to the ambassador community" in reply
    assert "already an ambassador" in await playground.say("bob", "join")
    assert len(await playground.welcomes("bob")) == 1


async def test_several_open_sessions_ask_which_one_with_buttons(playground: Playground) -> None:
    await playground.command("anim1", "session start Morning")
    await playground.command("anim1", "session start Afternoon")
    replies = await playground.command("bob", "join")
    buttons = replies[0]["card"]["buttons"]
    assert [b["label"] for b in buttons] == ["Morning", "Afternoon"]
    chosen = await playground.action("bob", buttons[1]["action_id"], buttons[1]["value"])
    assert "Afternoon" in chosen[0]["text"]


async def test_status_lists_who_joined_by_name(playground: Playground) -> None:
    await playground.command("anim1", "session start Onboarding")
    await playground.command({"id": "u7", "name": "Zoé Martin", "locale": "fr"}, "join")
    status = await playground.command("anim1", "session status")
    assert "Zoé Martin" in status[0]["text"]
    assert status[0]["card"]["title"] == "“Onboarding”: 1 learner joined"
    refused = await playground.say("bob", "session status")
    assert refused.startswith("Only animators")


async def test_session_start_needs_a_name_and_a_channel(playground: Playground) -> None:
    assert "Give the session a name" in await playground.say("anim1", "session start")
    assert "not in a direct message" in await playground.say(
        "anim1", "session start X", conversation="dm:anim1"
    )
    assert "too long" in await playground.say("anim1", "session start " + "x" * 151)
    assert await playground.messages() == []


async def test_a_trainer_who_joins_their_own_session_is_counted_in_neither_figure(
    playground: Playground,
) -> None:
    await playground.command("anim1", "session start Trainers count")
    await playground.command("anim1", "join")
    for learner in ("alice", "bob"):
        await playground.command(learner, "join")
    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == "2 learners joined"

    closed = await playground.say("anim1", "session close")
    assert "2 learners joined" in closed
    summary = (await playground.messages())[-1]["text"]
    # Present: anim1, alice, bob were seen; the trainer is neither present nor a learner.
    assert "2 learners joined out of 2 present" in summary
    listed = await playground.say("anim1", "session list")
    assert "2 learners" in listed or "2 learner" in listed


async def test_join_in_a_direct_chat_offers_the_one_open_session(playground: Playground) -> None:
    await playground.command("anim1", "session start Live Day")
    offer = await playground.command("bob", "join", conversation="dm:bob")
    assert len(offer) == 1
    card = offer[0]["card"]
    assert "Live Day" in card["title"]
    joins = [b for b in card["buttons"] if b["action_id"] == "signup.join"]
    assert len(joins) == 1
    assert not await playground.welcomes("bob"), "an offer joins nobody"

    replies = await playground.action("bob", "signup.join", joins[0]["value"], "dm:bob")
    assert "Live Day" in replies[0]["text"]
    welcome = await playground.welcomes("bob")
    assert len(welcome) == 1 and "Welcome, ambassador of Live Day" in welcome[0]["text"]
    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == "1 learner joined"


async def test_join_in_a_direct_chat_offers_each_open_session_or_the_community(
    playground: Playground,
) -> None:
    await playground.command("anim1", "session start Morning", conversation="room-a")
    await playground.command("anim1", "session start Afternoon", conversation="room-b")
    offer = await playground.command("alice", "rejoindre", conversation="dm:alice")
    buttons = offer[0]["card"]["buttons"]
    assert [b["label"] for b in buttons] == [
        "Rejoindre «\u00a0Afternoon\u00a0»",
        "Rejoindre «\u00a0Morning\u00a0»",
        "La communauté seulement",
    ]
    community = buttons[-1]
    replies = await playground.action(
        "alice", community["action_id"], community["value"], "dm:alice"
    )
    assert "communauté" in replies[0]["text"]
    welcome = await playground.welcomes("alice")
    assert len(welcome) == 1
    assert "Bienvenue dans la communauté des ambassadeurs" in welcome[0]["text"]
    assert "avec votre groupe" not in welcome[0]["text"]


async def test_join_in_a_direct_chat_with_no_session_open_joins_the_community(
    playground: Playground,
) -> None:
    replies = await playground.command("bob", "join", conversation="dm:bob")
    assert replies[0]["card"] is None
    welcome = await playground.welcomes("bob")
    assert len(welcome) == 1
    assert welcome[0]["text"].startswith("Welcome to the ambassador community!")
    assert "ambassador of the ambassador community" not in welcome[0]["text"]


async def _keys(playground: Playground, like: str) -> list[str]:
    async with playground.runtime.db_sessions() as db:
        query = (
            select(OutboxMessage.idempotency_key)
            .where(OutboxMessage.idempotency_key.like(like))
            .order_by(OutboxMessage.id)
        )
        return list((await db.execute(query)).scalars())


async def test_one_message_per_join_the_welcome_asks_about_a_mentor_in_both_languages(
    playground: Playground,
) -> None:
    await playground.command("anim1", "session start Management 101")
    await playground.command("bob", "join")
    await playground.command("alice", "rejoindre")
    for user_id, question, yes_label, no_label, noted in (
        ("bob", "Would you like a mentor?", "Yes, I'd like a mentor", "No thanks", "Noted"),
        ("alice", "Souhaitez-vous un mentor\u202f?", "Oui, je veux un mentor", "Non merci", "noté"),
    ):
        dms = await playground.messages(f"dm:{user_id}")
        assert len(dms) == 1, "the welcome and the question are one message"
        [welcome] = dms
        card = welcome["card"]
        assert card["title"].startswith(("Welcome", "Bienvenue"))
        assert [f["label"] for f in card["fields"]][1] == question
        assert question in welcome["text"], "the text fallback asks it too"
        assert [(b["label"], b["action_id"], b["value"]) for b in card["buttons"]] == [
            (yes_label, "mentoring.consent", "yes"),
            (no_label, "mentoring.consent", "no"),
        ]
        # The answer flow is the same: yes puts them on the waiting list, twice is once.
        yes = card["buttons"][0]
        for _ in range(2):
            replies = await playground.action(user_id, yes["action_id"], yes["value"], "dm:x")
            assert noted in replies[0]["text"]
    async with playground.runtime.db_sessions() as db:
        wishes = (await db.execute(select(MenteeWish.status))).scalars().all()
    assert wishes == ["waiting", "waiting"]
    assert await _keys(playground, "mentoring:ask:%") == [], "no second DM any more"
    assert len(await _keys(playground, "welcome:%")) == 2


async def test_back_after_leave_one_welcome_per_join_asked_again_only_if_never_answered(
    playground: Playground,
) -> None:
    await playground.command("bob", "join")
    await playground.command("bob", "leave")
    await playground.command("bob", "join")  # within the same second: still a new key
    await playground.command("chloe", "join")
    no = (await playground.welcomes("chloe"))[0]["card"]["buttons"][1]
    assert (
        "Pas de souci"
        in (await playground.action("chloe", no["action_id"], no["value"]))[0]["text"]
    )
    await playground.command("chloe", "leave")
    await playground.command("chloe", "rejoindre")
    bob = await playground.welcomes("bob")
    assert len(bob) == 2 and all(len(m["card"]["buttons"]) == 2 for m in bob), (
        "never answered: asked again"
    )
    chloe = await playground.welcomes("chloe")
    assert len(chloe) == 2 and chloe[1]["card"]["buttons"] == [], "answered no: not asked again"
    assert "Souhaitez-vous un mentor" not in chloe[1]["text"]
    assert len(await playground.messages("dm:chloe")) == 2, "one message per join"
    keys = await _keys(playground, "welcome:%")
    assert len(keys) == len(set(keys)) == 4
    assert [k.split(":back:")[1] for k in keys if ":back:" in k] == ["2", "2"]


async def test_a_sessions_posts_are_in_the_language_of_the_trainer_who_opened_it(
    playground: Playground,
) -> None:
    fr = Translator("fr")
    french_trainer = user("anim1", locale="fr")
    await playground.command(french_trainer, "session démarrer Management 101")
    card = await _card(playground)
    assert card["card"]["title"] == fr("signup.card_title", name="Management 101")
    # An English-speaking learner joins: the room's card stays in the trainer's language,
    # the learner's own reply is in theirs.
    assert "Welcome aboard" in await playground.say("bob", "join")
    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == fr("signup.joined_count", count=1)
    assert card["card"]["buttons"][0]["label"] == fr("signup.join_button")
    await playground.command(french_trainer, "session fermer")
    summary = (await playground.messages())[-1]["text"]
    assert summary.startswith(
        fr("signup.summary", name="Management 101", count=1, duration="")[:30]
    )
    card = await _card(playground)
    assert card["card"]["fields"][1]["value"] == fr("signup.joined_count", count=1)
    assert card["card"]["buttons"] == []
