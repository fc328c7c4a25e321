"""The platforms this bot serves, and their wiring into a runtime and a process.

Adding a platform is one folder under bot/adapters/ (its `platform.py` builds a `Platform`,
bot/adapters/platform.py) and one entry in PLATFORMS. The server and the CLI only iterate:
the dispatcher, the outbox sender, the inbox worker and the outbox's targets get each
platform's hooks here, never from an adapter's constructor.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.local import platform as local
from bot.adapters.platform import Connection, Endpoint, Platform, Shared
from bot.adapters.slack import platform as slack
from bot.adapters.teams import platform as teams
from bot.inbox.worker import InboxWorker
from bot.outbox import targets
from bot.outbox.sender import OutboxSender

PLATFORMS: tuple[Platform, ...] = (local.PLUGIN, slack.PLUGIN, teams.PLUGIN)


def connect(
    shared: Shared, sender: OutboxSender, platforms: tuple[Platform, ...] = PLATFORMS
) -> dict[str, Connection]:
    """Each platform these settings enable, connected: its sender registered with the
    outbox sender, its presence counter and observer with the dispatcher."""
    targets.declare_groups(p.name for p in platforms if p.opens_groups)
    connections: dict[str, Connection] = {}
    for platform in platforms:
        if not platform.enabled(shared.settings):
            continue
        connection = connections[platform.name] = platform.connect(shared)
        sender.register_platform(platform.name, connection.sender)
        if connection.presence is not None:
            shared.dispatcher.presence[platform.name] = connection.presence
        if connection.observer is not None:
            shared.dispatcher.observers[platform.name] = connection.observer
    return connections


def attach(connections: Mapping[str, Connection], inbox: InboxWorker) -> dict[str, Endpoint]:
    """Each connected platform's endpoint for this process, its recorded requests' handler
    registered with the inbox worker (a `worker` process handles what `serve --web-only`
    records)."""
    endpoints: dict[str, Endpoint] = {}
    for name, connection in connections.items():
        endpoint = endpoints[name] = connection.attach()
        if endpoint.inbox is not None:
            inbox.register(name, endpoint.inbox)
    return endpoints
