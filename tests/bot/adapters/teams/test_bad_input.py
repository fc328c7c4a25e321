"""/api/messages with authenticated activities of shapes Teams never sends: refused at the
door (400) or handled by the worker without failing — never a 500, never a handling that
fails and is retried (a `locale` that was an object failed in the worker)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select

from bot.server import Runtime
from storage.models import InboxEvent
from tests.support import teams_wire
from tests.support.fake_connector import FakeConnector
from tests.support.random_shapes import random_shape
from tests.support.teams_wire import Client

_KEYS = (
    "type", "id", "from", "recipient", "conversation", "channelData", "entities",
    "membersAdded", "membersRemoved", "reactionsAdded", "attachments", "text", "serviceUrl",
    "value", "name", "aadObjectId", "tenant", "tenantId", "conversationType", "action",
    "data", "action_id", "locale", "localTimezone", "replyToId", "channelId", "timestamp",
    "textFormat", "isGroup", "team", "eventType", "content", "contentType",
)  # fmt: skip
_WORDS = (
    "message", "invoke", "conversationUpdate", "messageReaction", "installationUpdate",
    "adaptiveCard/action", "personal", "channel", "mention", "like", "signup.join#0", "join",
    teams_wire.TENANT, teams_wire.ANIM, "29:x", "2026-01-01T00:00:00Z", "",
)  # fmt: skip


def _shape(rng: random.Random) -> Any:
    return random_shape(rng, _KEYS, _WORDS)


async def test_authenticated_activities_of_any_shape_are_never_a_500(
    teams: tuple[Client, FakeConnector, Runtime],
) -> None:
    client, fake, runtime = teams
    rng = random.Random(5)  # the same activities on every run
    for _ in range(300):
        made = teams_wire.activity(fake, teams_wire.ANIM, "help") if rng.random() < 0.6 else {}
        for _ in range(rng.randint(1, 4)):
            made[rng.choice(_KEYS)] = _shape(rng)
        if rng.random() < 0.8:
            made["type"] = rng.choice(_WORDS)
        response = await teams_wire.send(client, fake, made)
        # 501 is the Bot Framework's answer to an invoke a bot does not handle, not a failure.
        unhandled_invoke = made.get("type") == "invoke" and response.status == 501
        assert response.status < 500 or unhandled_invoke, made
    await teams_wire.settle(runtime)
    async with runtime.db_sessions() as db:
        retried = await db.execute(select(func.count()).where(InboxEvent.attempts > 0))
        assert retried.scalar_one() == 0, "whatever was accepted was handled"
