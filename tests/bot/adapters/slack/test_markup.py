"""Slack's markup ↔ the core's neutral text (bot/adapters/slack/markup.py), on the forms of
https://api.slack.com/reference/surfaces/formatting#retrieving-messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack.markup import to_mrkdwn, to_neutral
from bot.core.parsing import tokenize

CASES = [
    # (what Slack sends, the neutral text, what the bot sends back)
    ("Thanks <@U0BOB0001|bob>", "Thanks <@U0BOB0001>", "Thanks <@U0BOB0001>"),
    ("hi <@W0ENT0001>", "hi <@W0ENT0001>", "hi <@W0ENT0001>"),
    ("in <#C0GENERAL|general>", "in <#C0GENERAL>", "in <#C0GENERAL>"),
    (
        "see <https://example.org/a?b=1&amp;c=2|the guide>",
        "see [the guide](https://example.org/a?b=1&c=2)",
        "see <https://example.org/a?b=1&amp;c=2|the guide>",
    ),
    ("<https://example.org>", "<https://example.org>", "<https://example.org>"),
    (
        "<http://example.org|example.org>",
        "[example.org](http://example.org)",
        "<http://example.org|example.org>",
    ),
    (
        "<mailto:bob@example.org|bob@example.org>",
        "<mailto:bob@example.org>",
        "<mailto:bob@example.org>",
    ),
    (
        "<https://en.wikipedia.org/wiki/Tea_(meal)|tea [1]>",
        "[tea \\[1\\]](https://en.wikipedia.org/wiki/Tea_%28meal%29)",
        "<https://en.wikipedia.org/wiki/Tea_%28meal%29|tea [1]>",
    ),
    ("&lt;script&gt; &amp; co", "<script> & co", "&lt;script&gt; &amp; co"),
    ("&amp;lt;", "&lt;", "&amp;lt;"),
    # Broadcasts someone wrote are words: the bot never pings a channel in their name.
    ("<!here> <!channel> <!everyone>", "@here @channel @everyone", "@here @channel @everyone"),
    ("<!subteam^S0TEAM|@design>", "@design", "@design"),
    ("<!date^1392734382^{date}|Feb 18th, 2014>", "Feb 18th, 2014", "Feb 18th, 2014"),
    # Slack's markup typed as text arrives escaped: it stays text.
    ("&lt;!channel&gt;", "<!channel>", "&lt;!channel&gt;"),
    ("&lt;https://evil.example|bank&gt;", "<https://evil.example|bank>", None),
    ("<slack://open|the app>", "the app", "the app"),
]


@pytest.mark.parametrize(("slack", "neutral", "back"), CASES)
def test_slacks_markup_becomes_neutral_text_and_back(
    slack: str, neutral: str, back: str | None
) -> None:
    assert to_neutral(slack) == neutral
    assert to_mrkdwn(neutral) == (back if back is not None else slack)


def test_neutral_people_and_channels_are_what_the_core_reads() -> None:
    tokens = tokenize(to_neutral("role add <@U0BOB0001|bob> in <#C0GENERAL|general>"))
    assert [t.mention for t in tokens] == [None, None, "U0BOB0001", None, None]
    assert tokens[-1].value == "<#C0GENERAL>"


def test_only_web_and_mail_links_are_links() -> None:
    assert to_mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert to_mrkdwn("<ftp://example.org>") == "&lt;ftp://example.org&gt;"
    assert to_mrkdwn("<@lowercase>") == "&lt;@lowercase&gt;"


@given(st.text())
def test_whatever_people_type_shows_as_typed(typed: str) -> None:
    """Typed text (escaped by Slack) comes back as Slack would have it, unless it spells
    one of the neutral forms (then it is that person, channel or link: no more than the
    person could post themselves)."""
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    neutral = to_neutral(escaped)
    assert neutral == typed
    if "<" not in typed and "[" not in typed:
        assert to_mrkdwn(neutral) == escaped
