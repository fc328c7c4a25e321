"""The core's neutral text as Teams shows it: lines kept (hard breaks in a text message,
paragraphs in a card), placeholders visible (never `&lt;id&gt;`), people's references left
for the sender, a one-line summary for notifications; `help` through the real app, one
command per line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.teams import rendering
from bot.adapters.teams.cards import message
from bot.core.replies import Card, Field
from bot.server import Runtime
from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import ANIM, Client, personal_activity, send, settle


def test_each_line_of_a_text_message_is_a_line_in_teams() -> None:
    text = "Here is what you can do:\n• `help` — this\n• `join [CODE]` — join\nNext: `join`."
    assert rendering.message_text(text) == (
        "Here is what you can do:  \n• `help` — this  \n• `join [CODE]` — join  \nNext: `join`."
    )


def test_blank_lines_stay_paragraphs_and_line_ends_are_not_doubled() -> None:
    text = "First paragraph\r\nstill first   \n\n\n\nSecond\n"
    assert rendering.message_text(text) == "First paragraph  \nstill first\n\nSecond"


def test_placeholders_show_as_placeholders_in_code_and_out_of_it() -> None:
    text = "• `session start <name>` — open\n• `challenge answer [<id>]` — or challenge <id>"
    shown = rendering.message_text(text)
    assert "`session start ‹name›`" in shown and "`challenge answer [‹id›]`" in shown
    assert "or challenge ‹id›" in shown
    assert "<" not in shown and "&lt;" not in shown


def test_people_and_comparisons_are_left_as_they_are() -> None:
    text = "Thanks <@b0b00000-0000-4000-8000-000000000002> — 3 < 5 and 5 > 3, <3"
    assert rendering.message_text(text) == text
    assert rendering.card_text(text) == text


def test_leading_spaces_do_not_make_a_code_block() -> None:
    assert (
        rendering.message_text("Title\n    indented") == "Title  \n\u00a0\u00a0\u00a0\u00a0indented"
    )


def test_a_card_text_puts_each_line_in_a_paragraph_of_its_own() -> None:
    # A single \n is ignored in a TextBlock; Teams asks for \n\n
    # (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format).
    text = "How likely are you to recommend it?\nYour answer is named.\n\n\nThanks <x>"
    assert rendering.card_text(text) == (
        "How likely are you to recommend it?\n\nYour answer is named.\n\nThanks ‹x›"
    )


def test_every_text_block_and_fact_of_a_card_is_rendered_inputs_are_not() -> None:
    card = {
        "type": "AdaptiveCard",
        "fallbackText": "a\nb",
        "body": [
            {"type": "TextBlock", "text": "a\nb"},
            {"type": "Container", "items": [{"type": "TextBlock", "text": "c\nd <e>"}]},
            {"type": "FactSet", "facts": [{"title": "Or type", "value": "x <what>\ny"}]},
            {"type": "Input.Text", "id": "t", "label": "a\nb", "value": "<kept>"},
        ],
    }
    rendered = rendering.adaptive_card(card)
    assert rendered["body"][0]["text"] == "a\n\nb"
    assert rendered["body"][1]["items"][0]["text"] == "c\n\nd ‹e›"
    assert rendered["body"][2]["facts"] == [{"title": "Or type", "value": "x ‹what›\n\ny"}]
    assert rendered["body"][3] == card["body"][3]
    assert rendered["fallbackText"] == "a\nb"
    assert card["body"][0]["text"] == "a\nb", "the card given is not changed"


def test_the_summary_is_one_plain_line() -> None:
    text = "Your opinion on “Management 101”\nHow likely?\nType `pulse answer <n>`."
    assert rendering.summary(text) == (
        "Your opinion on “Management 101” — How likely? Type pulse answer ‹n›."
    )
    assert len(rendering.summary("word " * 200)) == rendering.MAX_SUMMARY
    assert rendering.summary("word " * 200).endswith("…")


def test_a_card_message_carries_its_text_once_as_the_summary() -> None:
    card = Card(title="Join “Feedback”", body="Click Join\nor type `join K7`", fields=())
    activity = message("Join “Feedback” — Click Join, or type `join K7`", card)
    assert "text" not in activity
    assert activity["summary"] == "Join “Feedback” — Click Join, or type join K7"
    body = activity["attachments"][0]["content"]["body"]
    assert body[1]["text"] == "Click Join\n\nor type `join K7`"
    alone = message("Line one\nLine two", None)
    assert alone == {"type": "message", "textFormat": "markdown", "text": "Line one  \nLine two"}
    titled = message(" ", Card(title="Only a title", fields=(Field("a", "b"),)))
    assert titled["summary"] == "Only a title"


@given(st.text(max_size=400))
def test_any_text_keeps_its_lines_and_words(text: str) -> None:
    for rendered, separator in (
        (rendering.message_text(text), rendering.HARD_BREAK),
        (rendering.card_text(text), "\n\n"),
    ):
        assert "&lt;" not in rendered
        # No line of the text is lost or merged with another: every line break is one
        # Teams shows.
        lines = [
            " ".join(line.split()) for line in rendered.replace("\n\n", separator).split(separator)
        ]
        expected = [
            " ".join(line.split())
            for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if line.strip()
        ]
        shown = [line for line in lines if line]
        assert [w.replace("‹", "<").replace("›", ">") for w in shown] == [
            line.replace("‹", "<").replace("›", ">") for line in expected
        ]


async def test_help_through_teams_shows_one_command_per_line(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    asked = personal_activity(fake, ANIM, "help")
    assert (await send(client, fake, asked)).status == 202
    await settle(runtime)
    [answer] = fake.sent(asked["conversation"]["id"])
    text = answer.body["text"]
    assert answer.body["textFormat"] == "markdown" and "attachments" not in answer.body
    # Every line break is one Teams keeps (a hard break): no single `\n` to swallow.
    assert "\n" not in text.replace(rendering.HARD_BREAK, "")
    lines = text.split(rendering.HARD_BREAK)
    commands = [line for line in lines if line.startswith("• ")]
    assert len(commands) >= 30 and len(lines) == len(commands) + 2, "intro, commands, next step"
    for line in commands:
        assert line.startswith("• `") and " — " in line and line.count("`") in (2, 4), line
    assert "• `session start ‹name›` — open a join window" in text
    assert "&lt;" not in text and "<" not in text
