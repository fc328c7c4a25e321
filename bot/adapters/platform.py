"""What a platform is: the one shape every adapter fills in (bot/adapters/<name>/platform.py)
and the registry lists (bot/platforms.py).

A platform's parts live for three different lengths of time, hence three values:

- `Platform`, known before anything runs: its name, whether it can open a conversation
  with several people, whether these settings enable it, and how it connects.
- `Connection`, one per runtime (`create_runtime`): the outbox's sender, the presence
  counter and per-event observer given to the dispatcher, and what must close once the
  outbox sender has stopped (Teams' HTTP session to the Bot Connector).
- `Endpoint`, one per process that serves it (`build_app`, the `worker`): its routes, the
  handler of its recorded inbox requests, its start and stop (Slack's Socket Mode, Teams'
  typing indicator).

Frozen dataclasses of callables, not a Protocol or an abstract base class: a platform is
plugged in as a value, so a member left out fails where the value is built (and mypy checks
each callable's signature there), not when the server first reaches for it, which is how
opsdroid's connectors and errbot's backends (base classes, hooks found by method name) let a
half-built plugin load. Nothing here is inherited but the data: each platform keeps its own
classes (SlackAdapter, TeamsAdapter, LocalApi) in its folder, and only the registry and the
platform's folder name them. The hooks are handed to the dispatcher, the outbox sender and
the inbox worker by the registry, never by a constructor's side effect.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.core.context import Context, PresenceCounter
from bot.core.dispatch import Dispatcher
from bot.inbox.journal import Journal
from bot.inbox.worker import Processor
from bot.outbox.sender import PlatformSender
from bot.settings import Settings
from storage.sealing import Sealer

Observer = Callable[[Context], Awaitable[None]]
"""Per-platform work done in every event's transaction (Dispatcher.observers)."""


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Shared:
    """The runtime's parts every platform may use (built once by `create_runtime`)."""

    settings: Settings
    clock: Clock
    db_sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    journal: Journal
    # Seals secrets at rest (Slack's OAuth tokens, Teams' form origins).
    sealer: Sealer
    # Something was queued outside a dispatcher transaction: send it now.
    wake_outbox: Callable[[], None]


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """A platform as one process serves it; `Connection.attach` builds it."""

    # Mounted by build_app (none: nothing reachable over HTTP, e.g. Socket Mode only).
    routes: Sequence[web.AbstractRouteDef] = ()
    # Handles the requests the platform's routes recorded in the inbox (InboxWorker.register).
    inbox: Processor | None = None
    # Before the outbox sender and the scheduler start (`serve` only: the worker opens no
    # connection of its own); stopped first, before the inbox worker and the sender.
    start: Callable[[], Awaitable[None]] = _nothing
    stop: Callable[[], Awaitable[None]] = _nothing


@dataclass(frozen=True, kw_only=True)
class Connection:
    """A platform within one runtime; `Platform.connect` builds it."""

    # Delivers the outbox's messages on this platform (OutboxSender.register_platform).
    sender: PlatformSender
    # Builds the endpoint, in each process that serves or handles the platform's requests.
    attach: Callable[[], Endpoint]
    # How many people a conversation holds (Dispatcher.presence); None: unknown.
    presence: PresenceCounter | None = None
    observer: Observer | None = None
    # After the outbox sender stopped (it may still be sending until then).
    close: Callable[[], Awaitable[None]] = _nothing


class CommandError(Exception):
    """A platform's command could not do its work: the message says why, on one line (the
    CLI prints it and exits 2, as for a wrong setting)."""


@dataclass(frozen=True)
class Command:
    """A command a platform adds to the CLI (`ambassador-bot <name>`), such as Teams' app
    package. Run before the settings are read: it needs only what it reads itself."""

    name: str
    help: str
    description: str
    # Adds the command's own options to its parser.
    arguments: Callable[[argparse.ArgumentParser], None]
    # The exit code (0: done); CommandError for a refusal.
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Platform:
    """One platform, as the registry (bot/platforms.py) lists it."""

    # The name events carry (Origin.platform), the outbox's and the inbox's key, and the
    # prefix of an AMBASSADOR_ADMINS entry: the PLATFORM constant of the platform's folder.
    name: str
    # Whether the bot can open a conversation with several people (a mentoring pair's
    # introduction is one message there, one DM each elsewhere; bot/outbox/targets.py).
    opens_groups: bool
    # Whether these settings serve the platform at all (its section, settings.<name>).
    enabled: Callable[[Settings], bool]
    connect: Callable[[Shared], Connection]
    # Its commands in the CLI, beside serve, worker, migrate…
    commands: tuple[Command, ...] = ()


# build_app keeps each platform's endpoint here (tests reach an adapter through it).
ENDPOINTS = web.AppKey("platform_endpoints", Mapping[str, Endpoint])
