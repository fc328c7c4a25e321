"""The playground as a platform (bot/adapters/platform.py): always connected, so that its
workspace's scheduled posts are delivered; its page and API mounted only when
settings.playground says so (it lets anyone act as anyone)."""

from __future__ import annotations

from bot.adapters.local import PLATFORM
from bot.adapters.local.api import LocalApi
from bot.adapters.local.presence import LocalPresence
from bot.adapters.local.sender import LocalSender
from bot.adapters.platform import Connection, Endpoint, Platform, Shared
from bot.settings import Settings


def _always(_settings: Settings) -> bool:
    return True


def connect(shared: Shared) -> Connection:
    """The sender writing to the playground's message table, and its presence hooks."""
    presence = LocalPresence()

    def attach() -> Endpoint:
        api = LocalApi(
            shared.settings, shared.clock, shared.db_sessions, shared.dispatcher, presence
        )
        # The playground acts as anyone: only when settings.playground (asked for, or a
        # loopback address with no platform configured: bot/settings.py _playground).
        return Endpoint(routes=api.routes() if shared.settings.playground else ())

    return Connection(
        sender=LocalSender(shared.db_sessions, shared.clock),
        attach=attach,
        presence=presence.count_present,
        observer=presence.observe,
    )


PLUGIN = Platform(name=PLATFORM, opens_groups=False, enabled=_always, connect=connect)
