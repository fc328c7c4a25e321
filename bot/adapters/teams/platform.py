"""Teams as a platform (bot/adapters/platform.py): always connected, its endpoint always
mounted (without credentials it refuses each activity saying how to set Teams up, rather
than a bare 404); a bot cannot create a group chat there.

The Bot Connector client is shared by the sender, the roster (presence) and the adapter,
and closed last, once the outbox sender has stopped. Tests reach it, and the adapter, with
`connector_of` and `adapter_of` below.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.platform import (
    Command,
    CommandError,
    Connection,
    Endpoint,
    Platform,
    Shared,
)
from bot.adapters.teams import PLATFORM, package
from bot.adapters.teams.app import TeamsAdapter
from bot.adapters.teams.connector import Connector
from bot.adapters.teams.roster import Roster
from bot.adapters.teams.sender import TeamsSender
from bot.env_values import SettingsError, parse_bool
from bot.settings import Settings


@dataclass(frozen=True, kw_only=True)
class TeamsConnection(Connection):
    """Teams within one runtime, its Bot Connector client kept reachable."""

    connector: Connector


@dataclass(frozen=True, kw_only=True)
class TeamsEndpoint(Endpoint):
    """Teams as one process serves it, its adapter kept reachable."""

    adapter: TeamsAdapter


def _always(_settings: Settings) -> bool:
    return True


def connect(shared: Shared) -> TeamsConnection:
    """The Bot Connector client, the sender and the roster over it."""
    settings = shared.settings
    connector = Connector(settings.teams)

    def attach() -> Endpoint:
        adapter = TeamsAdapter(
            settings,
            shared.dispatcher,
            shared.db_sessions,
            shared.clock,
            shared.journal,
            shared.wake_outbox,
            connector,
            shared.sealer,
        )
        return TeamsEndpoint(
            routes=adapter.routes(),
            inbox=adapter.handling.process,
            stop=adapter.typing.close,
            adapter=adapter,
        )

    return TeamsConnection(
        sender=TeamsSender(shared.db_sessions, shared.clock, connector, settings.rate_limits),
        attach=attach,
        presence=Roster(connector).count_present,
        close=connector.close,
        connector=connector,
    )


def connector_of(connections: Mapping[str, Connection]) -> Connector:
    """The Bot Connector client of a runtime's Teams connection (`runtime.platforms`)."""
    found = connections[PLATFORM]
    assert isinstance(found, TeamsConnection), found
    return found.connector


def adapter_of(endpoints: Mapping[str, Endpoint]) -> TeamsAdapter:
    """The Teams adapter of an app's endpoints (`app[ENDPOINTS]`)."""
    found = endpoints[PLATFORM]
    assert isinstance(found, TeamsEndpoint), found
    return found.adapter


def _package_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", default="var/ambassador-teams.zip", help="where to write the zip"
    )


def _package(args: argparse.Namespace) -> int:
    """Write the Teams app zip (needs the app id and the public address only)."""
    try:
        public_url = os.environ.get("PUBLIC_BASE_URL") or os.environ.get("AMBASSADOR_PUBLIC_URL")
        written = package.build(
            os.environ.get(package.APP_ID_VARIABLE, "").strip(),
            (public_url or "").strip(),
            Path(args.output),
            thread_replies=parse_bool(
                "AMBASSADOR_THREAD_REPLIES", os.environ.get("AMBASSADOR_THREAD_REPLIES", "0")
            ),
        )
    except (package.PackageError, SettingsError) as exc:
        raise CommandError(str(exc)) from None
    print(f"Teams app package: {written} (upload it in Teams: Apps > Manage your apps)")
    return 0


PACKAGE = Command(
    name="teams-package",
    help="build the Teams app zip to upload (MicrosoftAppId, PUBLIC_BASE_URL, "
    "AMBASSADOR_THREAD_REPLIES)",
    description="Write the Teams app package (manifest.json and icons, with this bot's "
    "Microsoft App ID and public address; with AMBASSADOR_THREAD_REPLIES=1 the permission to "
    "read channel messages) to upload in Teams or its admin center.",
    arguments=_package_arguments,
    run=_package,
)
PLUGIN = Platform(
    name=PLATFORM, opens_groups=False, enabled=_always, connect=connect, commands=(PACKAGE,)
)
