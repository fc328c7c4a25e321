"""The Bot Framework shapes the bot accepts and sends (JSON only: no SDK class here)."""

from __future__ import annotations

import json

from bot.adapters.teams import protocol
from tests.support.teams_wire import GOLDEN


def test_activities_as_teams_sends_them_are_accepted() -> None:
    for name in (
        "message_channel_mention_teamsnet.json",
        "message_with_value_messageback_docs.json",
    ):
        assert protocol.problem_with(json.loads((GOLDEN / name).read_text())) is None, name


def test_wrong_shapes_are_named() -> None:
    for wrong in ({"from": "x"}, {"recipient": 3}, {"attachments": {"a": 1}}):
        problem = protocol.problem_with({"type": "message", **wrong})
        assert problem is not None and "wrong shape" in problem


def test_what_the_bot_sends() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}
    assert protocol.message(None, card, summary="Hi") == {
        "type": "message",
        "summary": "Hi",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    assert protocol.message("Hi") == {"type": "message", "textFormat": "markdown", "text": "Hi"}
    assert protocol.typing() == {"type": "typing"}
    assert protocol.personal_conversation("28:bot", "29:alice", "t1") == {
        "isGroup": False,
        "bot": {"id": "28:bot"},
        "members": [{"id": "29:alice"}],
        "channelData": {"tenant": {"id": "t1"}},
        "tenantId": "t1",
    }
