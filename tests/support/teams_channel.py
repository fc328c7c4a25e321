"""A Teams channel's traffic as Teams sends it, for the tests.

Every new post in a channel is its own conversation, `<channel>;messageid=<the post's id>`;
replies in its thread share that id; a button of the bot's card clicked in a thread comes
back as a `message` carrying the button's data as `value` and the card's id as
`replyToId`, in that thread. Built from captured traffic (the botbuilder-js integration
bot's recordings: tests/bot/adapters/teams/golden/message_channel_post_botbuilderjs.json
and message_channel_card_submit_botbuilderjs.json, see SOURCES.md there), pointed at the
tests' fake Bot Connector, tenant, bot and people. Each post gets a thread of its own, so
tests see what one fixed conversation id hid: two posts of one channel are two
conversations to Teams.
"""

from __future__ import annotations

import copy
import html
import json
from dataclasses import dataclass
from typing import Any

from tests.support.fake_connector import FakeConnector
from tests.support.teams_wire import BOT, GOLDEN, TENANT, new_activity_id

# The channel of the recordings (the team's General channel: same id as the team).
RECORDED_CHANNEL = "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
BOT_NAME = "Ambassador"
THREAD = ";messageid="


def _recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GOLDEN / name).read_text())
    return loaded


_POST = _recorded("message_channel_post_botbuilderjs.json")
_CLICK = _recorded("message_channel_card_submit_botbuilderjs.json")


@dataclass(frozen=True)
class Channel:
    """One channel of a team: new posts, replies in their threads, clicks on cards."""

    fake: FakeConnector
    id: str = RECORDED_CHANNEL
    team: str = RECORDED_CHANNEL

    def thread(self, root: str) -> str:
        """The conversation id of the thread whose root post is `root`."""
        return f"{self.id}{THREAD}{root}"

    def post(self, who: str, text: str) -> dict[str, Any]:
        """A new post by `who` (an AAD object id) @mentioning the bot: a new thread, whose
        root is the post itself."""
        made = self._from(_POST, who)
        made["id"] = new_activity_id()
        made["conversation"]["id"] = self.thread(made["id"])
        self._say(made, text)
        return made

    def reply(self, thread: str, who: str, text: str) -> dict[str, Any]:
        """A reply by `who` @mentioning the bot in `thread` (a conversation id from `thread`,
        or a post's `["conversation"]["id"]`)."""
        made = self._from(_POST, who)
        made["id"] = new_activity_id()
        made["conversation"]["id"] = thread
        self._say(made, text)
        return made

    def click(self, thread: str, who: str, data: Any, card_activity_id: str) -> dict[str, Any]:
        """`who` clicking an Action.Submit (its `data`) of the bot's card
        `card_activity_id`, shown in `thread`."""
        made = self._from(_CLICK, who)
        made["id"] = f"f:{new_activity_id()}"
        made["conversation"]["id"] = thread
        made["value"] = copy.deepcopy(data)
        made["replyToId"] = card_activity_id
        return made

    def _from(self, recorded: dict[str, Any], who: str) -> dict[str, Any]:
        made = copy.deepcopy(recorded)
        made["serviceUrl"] = self.fake.service_url
        made["from"] = {"id": f"29:{who}", "name": who[:8].capitalize(), "aadObjectId": who}
        made["recipient"] = {"id": BOT, "name": BOT_NAME}
        made["conversation"]["tenantId"] = TENANT
        channel_data = made["channelData"]
        channel_data["tenant"] = {"id": TENANT}
        channel_data["channel"] = {"id": self.id}
        channel_data["team"] = {"id": self.team}
        for legacy, value in (("teamsChannelId", self.id), ("teamsTeamId", self.team)):
            if legacy in channel_data:
                channel_data[legacy] = value
        return made

    @staticmethod
    def _say(made: dict[str, Any], text: str) -> None:
        """The text as the recording writes it: the bot's mention, then the words."""
        mention = f"<at>{BOT_NAME}</at>"
        made["text"] = f"{mention}{text}\n"
        made["entities"][0] = {
            "mentioned": {"id": BOT, "name": BOT_NAME},
            "text": mention,
            "type": "mention",
        }
        made["attachments"][0]["content"] = (
            '<div><div><span itemscope="" itemtype="http://schema.skype.com/Mention" '
            f'itemid="0">{BOT_NAME}</span>{html.escape(text)}</div>\n</div>'
        )
