"""Where an outbox message goes: a conversation id, `dm:<user>`, or `group:<u1>,<u2>` — a
conversation of those people and the bot, on the platforms that let a bot open one.

Slack opens a group DM for a bot (conversations.open with several users); Teams does not
let a bot create a group chat, and the playground has no such thing: there, a group
message is one DM to each instead (the caller decides with `supports_groups`).

Which platforms can is each platform's own declaration (Platform.opens_groups), handed
over by the registry when a runtime is built (bot/platforms.py `connect`): the handlers
that ask may not import the adapters, nor the registry that does.
"""

from __future__ import annotations

from collections.abc import Iterable

GROUP_PREFIX = "group:"
_group_platforms: frozenset[str] = frozenset()


def declare_groups(platforms: Iterable[str]) -> None:
    """The platforms on which the bot can open a conversation with several people."""
    global _group_platforms
    _group_platforms = frozenset(platforms)


def supports_groups(platform: str) -> bool:
    """Whether the bot can open a conversation with several people on `platform`."""
    return platform in _group_platforms


def group(user_ids: list[str]) -> str:
    """The target of a conversation with these people (order kept: it is also the key)."""
    return GROUP_PREFIX + ",".join(user_ids)


def group_members(target: str) -> list[str] | None:
    """The people of a group target; None for any other target."""
    if not target.startswith(GROUP_PREFIX):
        return None
    return [user for user in target.removeprefix(GROUP_PREFIX).split(",") if user]
