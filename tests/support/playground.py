"""A client of the local API, the way a script or a trainer's rehearsal drives the bot."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.server import Runtime

LOCALES = {"anim1": "en", "alice": "fr", "bob": "en", "chloe": "fr"}


def user(user_id: str, locale: str | None = None, name: str | None = None) -> dict[str, Any]:
    """A playground user; known demo ids get their usual language."""
    data: dict[str, Any] = {"id": user_id, "name": name or user_id.capitalize()}
    chosen = locale or LOCALES.get(user_id)
    if chosen:
        data["locale"] = chosen
    return data


class Playground:
    """Typed helpers over POST /local/api/command and friends."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:  # type: ignore[type-arg]
        self.client = client
        self.runtime = runtime

    async def command(
        self, who: str | dict[str, Any], text: str, conversation: str = "general"
    ) -> list[dict[str, Any]]:
        """Run `text` as `who`; return the replies (and send what the outbox holds)."""
        return await self._post("/local/api/command", who, conversation, text=text)

    async def say(self, who: str | dict[str, Any], text: str, conversation: str = "general") -> str:
        """The text of the single reply to `text`."""
        replies = await self.command(who, text, conversation)
        assert len(replies) == 1, replies
        return str(replies[0]["text"])

    async def action(
        self, who: str | dict[str, Any], action_id: str, value: str, conversation: str = "general"
    ) -> list[dict[str, Any]]:
        """Click a button as `who`."""
        return await self._post(
            "/local/api/action", who, conversation, action_id=action_id, value=value
        )

    async def react(
        self,
        who: str | dict[str, Any],
        message_id: str,
        reaction: str = "like",
        *,
        removed: bool = False,
        conversation: str = "general",
    ) -> list[dict[str, Any]]:
        """An emoji on the bot's message `message_id` as `who` (`reaction`: "like" or
        "dislike"; `removed`: taken off)."""
        return await self._post(
            "/local/api/action",
            who,
            conversation,
            action_id="contribution.react",
            value=message_id,
            reaction=reaction,
            removed=removed,
        )

    async def _post(
        self, path: str, who: str | dict[str, Any], conversation: str, **fields: str | bool
    ) -> list[dict[str, Any]]:
        body = {
            "user": user(who) if isinstance(who, str) else who,
            "conversation": conversation,
            **fields,
        }
        response = await self.client.post(path, json=body)
        assert response.status == 200, await response.text()
        replies: list[dict[str, Any]] = (await response.json())["replies"]
        await self.runtime.sender.drain()
        return replies

    async def welcomes(self, user_id: str) -> list[dict[str, Any]]:
        """The welcome DMs `user_id` received (not the other DMs a join brings)."""
        return [
            m
            for m in await self.messages(f"dm:{user_id}")
            if m["text"].startswith(("Welcome", "Bienvenue"))
        ]

    async def messages(self, conversation: str = "general") -> list[dict[str, Any]]:
        """The bot's posts in `conversation`, oldest first."""
        response = await self.client.get(f"/local/api/conversations/{conversation}/messages")
        assert response.status == 200
        messages: list[dict[str, Any]] = (await response.json())["messages"]
        return messages
