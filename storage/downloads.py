"""Short-lived download links: only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Download


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    db: AsyncSession,
    *,
    workspace_id: int,
    member_id: int,
    kind: str,
    params: dict[str, Any],
    expires_at: datetime,
    now: datetime,
) -> str:
    """Store a download and return its secret token (the only copy)."""
    token = secrets.token_urlsafe(32)
    db.add(
        Download(
            token_hash=_hash(token),
            workspace_id=workspace_id,
            member_id=member_id,
            kind=kind,
            params=params,
            expires_at=expires_at,
            created_at=now,
        )
    )
    await db.flush()
    return token


async def valid(db: AsyncSession, token: str, now: datetime) -> Download | None:
    """The download of `token`, unless unknown or expired."""
    if not token or len(token) > 100:
        return None
    query = select(Download).where(Download.token_hash == _hash(token))
    found = (await db.execute(query)).scalar_one_or_none()
    return found if found is not None and found.expires_at > now else None
