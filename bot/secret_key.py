"""The deployment's secret key at start-up, and `ambassador-bot rotate-key`.

Where the key comes from:
- AMBASSADOR_SECRET_KEY (any database; PostgreSQL refuses to start without it: settings);
- else, on SQLite, the key file beside the database (`<database file>.key`), made on first
  start (mode 0600, one log line saying where), so that `make run` needs no setting.
  It is not the database: a copy of the database file alone does not open the secrets.

Start-up (serve, worker and migrate) opens the database's key check with it
(`resolve`, storage/sealed_columns.py) before migrating: a missing or wrong key stops the
bot in one line and changes nothing. After migrating, `unlock` records the check on first
use and seals the values an older version left in clear.

Rotation re-seals every secret in one transaction. With AMBASSADOR_SECRET_KEY, the new key
is AMBASSADOR_SECRET_KEY and the current one AMBASSADOR_OLD_SECRET_KEY (environment only:
never a key on a command line, where `ps` shows it). With a key file, a new key is
generated: written to `<key file>.new` first, the database committed, then the file
renamed over the old one; a crash between the two is finished at the next start (the
`.new` file opens the database, the old one no longer does).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.settings import Settings
from storage import sealed_columns
from storage.db import async_url, compact_sqlite, is_sqlite, session_factory
from storage.models import SecretKeyCheck
from storage.sealing import HOW_TO_MAKE_A_KEY, KeyFormatError, Sealer, SealError, SecretKey

log = logging.getLogger(__name__)

OLD_KEY_VARIABLE = "AMBASSADOR_OLD_SECRET_KEY"


class SecretKeyError(Exception):
    """The key is missing, malformed or wrong: one line telling the operator what to do."""


def key_file(database_url: str) -> Path | None:
    """Where a SQLite deployment keeps its key (None for PostgreSQL or :memory:)."""
    if not is_sqlite(database_url):
        return None
    database = make_url(async_url(database_url)).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.key")


def _pending(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def read_key_file(path: Path) -> SecretKey:
    """The key in a key file (SecretKeyError when unreadable or not a key)."""
    source = f"the key file {path}"
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyError(f"cannot read {source}: {exc}") from None
    if path.stat().st_mode & 0o077:
        # Like ssh with its private keys: the key is for the bot's user alone.
        path.chmod(0o600)
        log.warning("secret_key_file_mode_tightened", extra={"path": str(path)})
    try:
        return SecretKey.parse(text, source)
    except KeyFormatError as exc:
        raise SecretKeyError(str(exc)) from None


def write_key_file(path: Path, key: SecretKey) -> None:
    """Write a new key file, readable by this user only (refuses to overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key.encoded() + "\n")
        file.flush()
        os.fsync(file.fileno())


def key_for_runtime(settings: Settings) -> SecretKey:
    """The key a runtime seals with: the setting, else the SQLite key file (made when
    missing). The CLI resolves it with `unlock` first; this serves embedders and tests."""
    if settings.secret_key is not None:
        return settings.secret_key
    path = key_file(settings.database_url)
    if path is None:
        return SecretKey.generate("a key for this in-memory database")
    if not path.exists():
        # FileExistsError: made by another process meanwhile; use theirs.
        with contextlib.suppress(FileExistsError):
            write_key_file(path, SecretKey.generate(f"the key file {path}"))
    return read_key_file(path)


async def _stored_check(engine: AsyncEngine) -> SecretKeyCheck | None:
    async with session_factory(engine)() as db:
        return await sealed_columns.stored_check(db)


def _wrong(key: SecretKey, sealed_under: str | None) -> SecretKeyError:
    return SecretKeyError(
        f"{key.source} does not open this database's secrets (they are sealed under key id "
        f"{sealed_under}, this key's id is {key.id}): give the key they were sealed with, or "
        "re-seal them with `ambassador-bot rotate-key`"
    )


async def resolve(engine: AsyncEngine, settings: Settings) -> SecretKey:
    """The key that opens this database, checked against its key check before anything
    else (before migrations: a wrong key changes nothing). On a fresh SQLite database the
    key file is made here. SecretKeyError when the key is missing or wrong."""
    check = await _stored_check(engine)
    path = None if settings.secret_key is not None else key_file(settings.database_url)
    if path is None:
        key = key_for_runtime(settings)
    elif path.exists():
        key = read_key_file(path)
    elif check is not None:
        raise SecretKeyError(
            f"this database's secrets are sealed under key id {check.key_id} but its key file "
            f"{path} is missing: put that file back, or set AMBASSADOR_SECRET_KEY to the key"
        )
    else:
        key = SecretKey.generate(f"the key file {path}")
        write_key_file(path, key)
        log.warning(
            "secret_key_file_created",
            extra={
                "path": str(path),
                "meaning": "it opens the sealed secrets in the database: back it up, apart "
                "from the database's backups",
            },
        )
    pending = _pending(path) if path is not None else None
    if check is None or sealed_columns.opens(check, Sealer(key)):
        if pending is not None and pending.exists():
            pending.unlink()  # a rotation that stopped before its commit: nothing changed
            log.warning("secret_key_rotation_abandoned", extra={"path": str(pending)})
        return key
    if path is not None and pending is not None and pending.exists():
        # A rotation that stopped between its commit and its rename: finish it.
        newer = read_key_file(pending)
        if sealed_columns.opens(check, Sealer(newer)):
            os.replace(pending, path)
            log.warning("secret_key_rotation_finished", extra={"path": str(path)})
            return SecretKey.parse(newer.encoded(), key.source)
    raise _wrong(key, check.key_id)


async def unlock(engine: AsyncEngine, key: SecretKey, clock: Clock) -> None:
    """After migrations: record the key check on first use, seal what an older version
    left in clear (then scrub it from a SQLite file). SecretKeyError when the key is wrong."""
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            sealed_now = await sealed_columns.unlock(db, Sealer(key), clock.now())
    except sealed_columns.WrongKey as exc:
        raise _wrong(key, exc.sealed_under) from None
    if sealed_now:
        compact_sqlite(str(engine.url))  # the plaintexts they replaced: gone from the file
        log.info("secrets_sealed", extra={"count": sealed_now, "key_id": key.id})


@dataclass(frozen=True)
class Rotation:
    """The keys of one `rotate-key`: re-seal what `old` sealed under `new`; with a key
    file, the file that takes the new key once the database is committed."""

    old: SecretKey
    new: SecretKey
    key_file: Path | None = None


def plan_rotation(
    settings: Settings, env: Mapping[str, str], current: SecretKey | None
) -> Rotation:
    """Which keys a rotation uses (see the module's docstring); SecretKeyError when the
    environment does not say it clearly. `current`: the key file's key, as `resolve`
    checked it (only needed when there is no AMBASSADOR_SECRET_KEY)."""
    old_value = env.get(OLD_KEY_VARIABLE, "").strip()
    if settings.secret_key is not None:
        if not old_value:
            raise SecretKeyError(
                "rotate-key re-seals under AMBASSADOR_SECRET_KEY (the new key) what is sealed "
                f"under {OLD_KEY_VARIABLE} (the current one): set both; make a new key with: "
                f"{HOW_TO_MAKE_A_KEY}"
            )
        try:
            old = SecretKey.parse(old_value, OLD_KEY_VARIABLE)
        except KeyFormatError as exc:
            raise SecretKeyError(str(exc)) from None
        if old.same_as(settings.secret_key):
            raise SecretKeyError(
                f"{OLD_KEY_VARIABLE} and AMBASSADOR_SECRET_KEY are the same key: put a new one "
                f"in AMBASSADOR_SECRET_KEY (make one with: {HOW_TO_MAKE_A_KEY})"
            )
        return Rotation(old, settings.secret_key)
    path = key_file(settings.database_url)
    if old_value:
        raise SecretKeyError(
            f"{OLD_KEY_VARIABLE} is set: put the new key in AMBASSADOR_SECRET_KEY too (or set "
            "neither, to rotate the key file of a SQLite database)"
        )
    if path is None or current is None:
        raise SecretKeyError("this database has no key file to rotate: set AMBASSADOR_SECRET_KEY")
    return Rotation(current, SecretKey.generate(f"the key file {path}"), path)


async def check_old_key(engine: AsyncEngine, rotation: Rotation) -> bool:
    """Before migrating: SecretKeyError, and nothing changed, when the old key is wrong.
    True when the database is already sealed under the new key (a rotation run twice)."""
    check = await _stored_check(engine)
    if check is not None and not sealed_columns.opens(check, Sealer(rotation.new, rotation.old)):
        raise _wrong_old(rotation, check.key_id)
    return check is not None and check.key_id == rotation.new.id


def _wrong_old(rotation: Rotation, sealed_under: str | None) -> SecretKeyError:
    return SecretKeyError(
        f"{rotation.old.source} does not open this database's secrets (they are sealed "
        f"under key id {sealed_under}, this key's id is {rotation.old.id}): nothing changed"
    )


async def rotate(engine: AsyncEngine, rotation: Rotation, clock: Clock) -> dict[str, int]:
    """Re-seal everything under the new key in one transaction (then replace the key file);
    the number of values re-sealed per column. SecretKeyError when the old key is wrong."""
    pending = _pending(rotation.key_file) if rotation.key_file is not None else None
    if pending is not None:
        pending.unlink(missing_ok=True)
        write_key_file(pending, rotation.new)
    db_sessions = session_factory(engine)
    try:
        async with db_sessions() as db, db.begin():
            sealer = Sealer(rotation.new, rotation.old)
            counts = await sealed_columns.rotate(db, sealer, clock.now())
    except (sealed_columns.WrongKey, SealError) as exc:
        if pending is not None:
            pending.unlink(missing_ok=True)
        if isinstance(exc, SealError):
            raise SecretKeyError(f"{exc}: nothing changed") from None
        raise _wrong_old(rotation, exc.sealed_under) from None
    if rotation.key_file is not None and pending is not None:
        os.replace(pending, rotation.key_file)
    compact_sqlite(str(engine.url))  # what the old key sealed: gone from the file
    log.info(
        "secret_key_rotated",
        extra={
            "key_id": rotation.new.id,
            "previous_key_id": rotation.old.id,
            "count": sum(counts.values()),
        },
    )
    return counts
