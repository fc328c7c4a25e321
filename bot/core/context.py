"""What a handler gets: the asker, their workspace, the database, the clock, the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import roles
from bot.core.errors import PermissionRefused
from bot.core.events import Origin, PlatformUser
from bot.i18n import Translator, pick_locale
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage.models import Member, Workspace
from storage.vocabulary import MemberRole

# Counts the people in a conversation when the platform can tell (None otherwise).
PresenceCounter = Callable[[AsyncSession, int, str], Awaitable[int | None]]


@dataclass
class Context:
    """Everything one handler call may use; built per inbound event, inside its transaction."""

    settings: Settings
    db: AsyncSession
    origin: Origin
    user: PlatformUser
    workspace: Workspace
    actor: Member
    role: MemberRole
    now: datetime
    outbox: Outbox
    count_present: PresenceCounter | None = None
    # The command being run, for logs (set by the router).
    command_key: str = ""

    @property
    def t(self) -> Translator:
        """Translator in the asker's language."""
        return self.translator_for(self.actor)

    def locale_of(self, member: Member) -> str:
        """A member's language: chosen, else the platform's, else the workspace's, else settings."""
        return pick_locale(
            member.locale, member.platform_locale, self.workspace.locale, self.settings.locale
        )

    def translator_for(self, member: Member) -> Translator:
        """Translator in `member`'s language (for DMs and announcements to them)."""
        return Translator(self.locale_of(member))

    @property
    def community_translator(self) -> Translator:
        """Translator for posts to a whole conversation: the workspace's language."""
        return Translator(pick_locale(self.workspace.locale, self.settings.locale))

    @property
    def timezone(self) -> str:
        """The asker's time zone, else the workspace's, else settings."""
        return self.actor.timezone or self.workspace.timezone or self.settings.timezone

    def require(self, needed: MemberRole) -> None:
        """Refuse (nothing changed) unless the asker has at least the `needed` role."""
        if not roles.allows(self.role, needed):
            raise PermissionRefused(f"errors.needs_{needed}")

    def role_of(self, member: Member) -> MemberRole:
        """The effective role of any member of this workspace."""
        return roles.effective_role(
            member.role, self.settings.is_admin(self.origin.platform, member.user_id)
        )
