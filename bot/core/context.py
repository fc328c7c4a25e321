"""What work in one workspace gets: the workspace, the database, the clock, the outbox.

`WorkspaceContext` is the shape of any work done in one workspace inside one transaction:
a scheduled job builds one with `WorkspaceContext.for_workspace`; the dispatcher builds a
`Context` (the same, plus the asker) for each inbound event. A helper written for jobs
takes a `WorkspaceContext`, so a command calls it with its own context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import roles
from bot.core.errors import PermissionRefused
from bot.core.events import Origin, PlatformUser
from bot.i18n import Translator, pick_locale
from bot.outbox.queue import Outbox
from bot.settings import Settings
from storage.models import Member, Workspace
from storage.vocabulary import MemberRole

if TYPE_CHECKING:
    # For the annotation only: the router runs handlers with a Context, so importing it
    # here at run time would make the two modules import each other.
    from bot.core.routing import Router

# Counts the people in a conversation when the platform can tell (None otherwise).
PresenceCounter = Callable[[AsyncSession, int, str], Awaitable[int | None]]


def member_locale(member: Member | None, workspace: Workspace | None, settings: Settings) -> str:
    """A member's language: chosen, else the platform's, else the workspace's, else settings.

    The one place this fallback is spelled: commands, jobs, the badge pages and the
    dashboard all address a member in the same language.
    """
    return pick_locale(
        member.locale if member else None,
        member.platform_locale if member else None,
        workspace.locale if workspace else None,
        settings.locale,
    )


def community_locale(workspace: Workspace, settings: Settings) -> str:
    """The language of posts to a whole conversation: the workspace's, else settings."""
    return pick_locale(workspace.locale, settings.locale)


@dataclass
class WorkspaceContext:
    """Work done in one workspace inside one transaction (a scheduled job's, or a command's)."""

    settings: Settings
    db: AsyncSession
    workspace: Workspace
    now: datetime
    # Enqueues in this transaction, for this workspace (sent once it commits).
    outbox: Outbox

    @staticmethod
    def for_workspace(
        db: AsyncSession, settings: Settings, workspace: Workspace, now: datetime
    ) -> WorkspaceContext:
        """The context of work nobody asked for right now (a scheduled job, a platform's
        notice): the workspace's outbox, in the transaction of `db`, at `now`."""
        return WorkspaceContext(
            settings=settings,
            db=db,
            workspace=workspace,
            now=now,
            outbox=Outbox(db, workspace.platform, workspace.id, now),
        )

    def locale_of(self, member: Member) -> str:
        """A member's language: chosen, else the platform's, else the workspace's, else settings."""
        return member_locale(member, self.workspace, self.settings)

    def translator_for(self, member: Member) -> Translator:
        """Translator in `member`'s language (for DMs and announcements to them)."""
        return Translator(self.locale_of(member))

    @property
    def community_translator(self) -> Translator:
        """Translator for posts to a whole conversation: the workspace's language."""
        return Translator(community_locale(self.workspace, self.settings))

    def timezone_of(self, member: Member) -> str:
        """A member's time zone, else the workspace's, else settings."""
        return member.timezone or self.workspace.timezone or self.settings.timezone


@dataclass
class Context(WorkspaceContext):
    """Everything one handler call may use; built per inbound event, inside its transaction."""

    origin: Origin
    user: PlatformUser
    actor: Member
    role: str
    # The command and action tables this event is routed through (`help` lists them; a
    # home-page shortcut runs a command as if typed).
    router: Router
    count_present: PresenceCounter | None = None
    # The command being run, for logs (set by the router).
    command_key: str = ""

    @property
    def t(self) -> Translator:
        """Translator in the asker's language."""
        return self.translator_for(self.actor)

    @property
    def timezone(self) -> str:
        """The asker's time zone, else the workspace's, else settings."""
        return self.timezone_of(self.actor)

    def require(self, needed: MemberRole) -> None:
        """Refuse (nothing changed) unless the asker has at least the `needed` role."""
        if not roles.allows(self.role, needed):
            raise PermissionRefused(f"errors.needs_{needed}")

    def role_of(self, member: Member) -> MemberRole:
        """The effective role of any member of this workspace."""
        return roles.effective_role(
            member.role, self.settings.is_admin(self.origin.platform, member.user_id)
        )
