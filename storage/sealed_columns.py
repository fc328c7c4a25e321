"""Which columns are sealed at rest, the key check, and the two passes over them:
start-up (check the key, seal what an older version left in clear) and rotation.

The check row (`secret_key_check`) holds a known text sealed under the key in use: a wrong
key is caught by opening it, before any token is needed. It is written with the first key
the database meets, and replaced by `ambassador-bot rotate-key`, in the transaction that
re-seals everything.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SecretKeyCheck, SigningKey, SlackInstallation
from storage.sealing import Sealer, SealError, is_sealed, key_id_of
from storage.upsert import insert_for

log = logging.getLogger(__name__)

CHECK_PURPOSE = "secret_key_check"
CHECK_TEXT = "the Ambassador bot's secret key"


@dataclass(frozen=True)
class SealedColumn:
    """A text column whose values are sealed (the purpose binds a value to its column)."""

    model: Any
    column: str

    @property
    def purpose(self) -> str:
        """`table.column`: what a value is sealed for."""
        return f"{self.model.__tablename__}.{self.column}"


# Everything secret the database holds. Not here, on purpose: download links (only the
# SHA-256 of their token is kept), OAuth states (signed, and only their spent nonce is
# kept), Open Badges' public keys and salts (published).
SLACK_BOT_TOKEN = SealedColumn(SlackInstallation, "bot_token")
SLACK_REFRESH_TOKEN = SealedColumn(SlackInstallation, "bot_refresh_token")
SIGNING_KEY = SealedColumn(SigningKey, "private_pem")
SEALED = (SLACK_BOT_TOKEN, SLACK_REFRESH_TOKEN, SIGNING_KEY)


class WrongKey(Exception):
    """The key given does not open this database's secrets.

    `sealed_under` is the id of the key they need (None when no key check is stored yet).
    """

    def __init__(self, sealed_under: str | None) -> None:
        super().__init__(f"sealed under key id {sealed_under}")
        self.sealed_under = sealed_under


async def stored_check(db: AsyncSession) -> SecretKeyCheck | None:
    """The key check, read before migrating (None before any key, or before the table)."""

    def has_table(sync_session: Any) -> bool:
        return bool(inspect(sync_session.connection()).has_table(SecretKeyCheck.__tablename__))

    if not await db.run_sync(has_table):
        return None
    return await db.get(SecretKeyCheck, 1)


def opens(row: SecretKeyCheck, sealer: Sealer) -> bool:
    """Whether `sealer` opens the key check (the database's secrets are sealed under it)."""
    try:
        return sealer.open(CHECK_PURPOSE, row.sealed_check) == CHECK_TEXT
    except SealError:
        return False


async def _values(db: AsyncSession, sealed: SealedColumn) -> list[tuple[int, str]]:
    column = getattr(sealed.model, sealed.column)
    query = select(sealed.model.id, column).where(column.is_not(None))
    return [(int(row_id), str(value)) for row_id, value in (await db.execute(query)).all()]


async def _replace(db: AsyncSession, sealed: SealedColumn, row_id: int, old: str, new: str) -> None:
    column = getattr(sealed.model, sealed.column)
    # Only if unchanged meanwhile: a replica starting at the same moment may have sealed it.
    await db.execute(
        update(sealed.model)
        .where(sealed.model.id == row_id, column == old)
        .values({sealed.column: new})
    )


async def _record_check(db: AsyncSession, sealer: Sealer, now: datetime, *, replace: bool) -> None:
    values = {
        "key_id": sealer.current.id,
        "sealed_check": sealer.seal(CHECK_PURPOSE, CHECK_TEXT),
        "updated_at": now,
    }
    statement = insert_for(db, SecretKeyCheck).values(id=1, **values)
    if replace:
        await db.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))
    else:
        await db.execute(statement.on_conflict_do_nothing(index_elements=["id"]))


async def unlock(db: AsyncSession, sealer: Sealer, now: datetime) -> int:
    """Check `sealer`'s key against the database (WrongKey if it does not open it); on
    first use record the key check; seal the values still in clear. Returns how many
    values were sealed now."""
    check = await db.get(SecretKeyCheck, 1)
    if check is not None and not opens(check, sealer):
        raise WrongKey(check.key_id)
    sealed_now = 0
    strangers: Counter[str] = Counter()
    for sealed in SEALED:
        for row_id, value in await _values(db, sealed):
            if not is_sealed(value):
                await _replace(db, sealed, row_id, value, sealer.seal(sealed.purpose, value))
                sealed_now += 1
            elif check is None:
                # No key check yet (a database that lost it): its sealed values must open.
                try:
                    sealer.open(sealed.purpose, value)
                except SealError:
                    raise WrongKey(key_id_of(value)) from None
            elif key_id_of(value) != sealer.current.id:
                strangers[sealed.purpose] += 1
    if check is None:
        # Two processes meeting a fresh database at once: the first check recorded counts,
        # and the other process's key must open it too.
        await _record_check(db, sealer, now, replace=False)
        recorded = await db.get(SecretKeyCheck, 1, populate_existing=True)
        if recorded is None or not opens(recorded, sealer):
            raise WrongKey(recorded.key_id if recorded else None)
    for purpose, count in strangers.items():
        # Written by a process that still ran with the old key during a rotation: these
        # values cannot be opened; they must be written again (a Slack reinstall).
        log.error("sealed_under_another_key", extra={"column": purpose, "count": count})
    return sealed_now


async def rotate(db: AsyncSession, sealer: Sealer, now: datetime) -> dict[str, int]:
    """Re-seal every value under `sealer`'s current key (it also knows the old key) and
    record the new key check; WrongKey when the old key does not open the database.
    Returns the number of values re-sealed per column (`table.column`)."""
    check = await db.get(SecretKeyCheck, 1)
    if check is not None and not opens(check, sealer):
        raise WrongKey(check.key_id)
    counts: dict[str, int] = {}
    for sealed in SEALED:
        counts[sealed.purpose] = 0
        for row_id, value in await _values(db, sealed):
            if sealer.needs_resealing(value):
                plaintext = sealer.open(sealed.purpose, value)  # SealError: nothing commits
                await _replace(db, sealed, row_id, value, sealer.seal(sealed.purpose, plaintext))
                counts[sealed.purpose] += 1
    await _record_check(db, sealer, now, replace=True)
    return counts
