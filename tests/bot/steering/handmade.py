"""A small hand-made community for the steering figures' tests: rows written straight to
the database (no bot), so that each test states exactly what happened and when."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.steering.filters import Filters
from bot.steering.model import Scope
from storage.db import create_engine, session_factory
from storage.models import (
    BadgeAward,
    Member,
    Pulse,
    PulseAnswer,
    Referral,
    SessionParticipation,
    TrainingSession,
    Workspace,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def scope(
    session_ids: tuple[int, ...] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    timezone: str = "UTC",
) -> Scope:
    """A Scope as the resolver would give it (built by hand: the resolver is not tested here)."""
    return Scope(
        filters=Filters(), session_ids=session_ids, start=start, end=end, timezone=timezone
    )


@asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database, its engine disposed of afterwards."""
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@dataclass
class Community:
    """Writes a workspace's rows; each helper flushes and returns the new id."""

    db: AsyncSession
    workspace_id: int = 0
    animator_id: int = 0

    @classmethod
    async def create(cls, db: AsyncSession, external_id: str = "w") -> Community:
        workspace = Workspace(platform="local", external_id=external_id, created_at=T0)
        db.add(workspace)
        await db.flush()
        made = cls(db, workspace.id)
        made.animator_id = await made.member("Animator", role="animator", joined_at=None)
        return made

    async def _add(self, row: Any) -> int:
        self.db.add(row)
        await self.db.flush()
        return int(row.id)

    async def member(
        self,
        name: str,
        *,
        role: str = "learner",
        joined_at: datetime | None = T0,
        level: str | None = None,
        **values: Any,
    ) -> int:
        return await self._add(
            Member(
                workspace_id=self.workspace_id,
                user_id=name.lower().replace(" ", "."),
                display_name=name,
                role=role,
                joined_at=joined_at,
                level=level,
                created_at=T0,
                **values,
            )
        )

    async def session(
        self,
        name: str,
        code: str,
        opened_at: datetime,
        members: list[int] = [],  # noqa: B006
    ) -> int:
        session_id = await self._add(
            TrainingSession(
                workspace_id=self.workspace_id,
                name=name,
                code=code,
                conversation="general",
                opened_by_id=self.animator_id,
                opened_at=opened_at,
                closed_at=opened_at,
                closed_by_id=self.animator_id,
            )
        )
        for member_id in members:
            took_part = SessionParticipation(
                session_id=session_id, member_id=member_id, joined_at=opened_at
            )
            self.db.add(took_part)
        await self.db.flush()
        return session_id

    async def pulse(
        self,
        session_id: int | None,
        sent_at: datetime,
        answers: list[tuple[int, int, int | None]],
        *,
        recipients: int | None = None,
        status: str = "open",
        closed_at: datetime | None = None,
        answered_at: datetime | None = None,
    ) -> int:
        """A sent pulse and its answers (member, score, LSAT), answered in list order,
        one minute apart from `answered_at` (default: an hour after sending)."""
        pulse_id = await self._add(
            Pulse(
                workspace_id=self.workspace_id,
                session_id=session_id,
                created_by_id=self.animator_id,
                conversation="general",
                status=status,
                sent_at=sent_at,
                send_at=sent_at,
                closed_at=closed_at,
                reminders_sent=0,
                recipients=len(answers) if recipients is None else recipients,
                created_at=sent_at,
            )
        )
        first = answered_at or sent_at.replace(hour=(sent_at.hour + 1) % 24)
        for number, (member_id, score, lsat) in enumerate(answers):
            at = first.replace(minute=number % 60)
            self.db.add(
                PulseAnswer(
                    pulse_id=pulse_id,
                    member_id=member_id,
                    score=score,
                    lsat=lsat,
                    comment=f"comment {number}" if number % 2 == 0 else None,
                    created_at=at,
                    updated_at=at,
                )
            )
        await self.db.flush()
        return pulse_id

    async def referral(
        self,
        pulse_id: int,
        referrer_id: int,
        *,
        referred_id: int | None = None,
        name: str = "",
        created_at: datetime = T0,
        response: str | None = None,
        converted_at: datetime | None = None,
    ) -> int:
        pulse = await self.db.get(Pulse, pulse_id)
        assert pulse is not None
        key = f"m:{referred_id}" if referred_id is not None else f"n:{name.lower()}"
        return await self._add(
            Referral(
                workspace_id=self.workspace_id,
                pulse_id=pulse_id,
                session_id=pulse.session_id,
                referrer_id=referrer_id,
                referred_member_id=referred_id,
                referred_name=name,
                referred_key=key,
                response=response,
                converted_at=converted_at,
                created_at=created_at,
            )
        )

    async def award(
        self,
        member_id: int,
        level: str,
        rank: int,
        awarded_at: datetime,
        *,
        revoked_at: datetime | None = None,
    ) -> int:
        return await self._add(
            BadgeAward(
                uid=f"{member_id}-{level}-{awarded_at.timestamp()}",
                workspace_id=self.workspace_id,
                member_id=member_id,
                level=level,
                rank=rank,
                awarded_at=awarded_at,
                source="auto",
                revoked_at=revoked_at,
            )
        )
