"""The live cards' refreshers: each name a queued message may carry in `refresh`
(spelled in storage/outbox_keys.py) → what renders it from the database at send time."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.replies import OutboundMessage
from bot.handlers import badges, contributions, signup
from bot.outbox.sender import Refresher
from bot.settings import Settings
from storage import outbox_keys


def refreshers(settings: Settings) -> dict[str, Refresher]:
    """Every refresher by its name (the outbox sender registers each)."""

    async def badge(db: AsyncSession, args: dict[str, Any]) -> OutboundMessage | None:
        return await badges.render(db, args, settings)

    return {
        outbox_keys.SIGNUP_CARD: signup.refresh_card,
        outbox_keys.CONTRIBUTION: contributions.refresh,
        outbox_keys.BADGE_DM: badge,
    }
