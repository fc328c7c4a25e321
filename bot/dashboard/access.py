"""Who may see the dashboard: a one-hour link from the chat, exchanged for a cookie.

`dashboard` in the chat (bot/handlers/dashboard.py) stores a *link*: a random token whose
SHA-256 alone is kept in the `download` table (storage/downloads.py), bound to the
workspace and the member who asked, expiring an hour later; a new one on each ask.

Why a random token with its hash stored is as strong as a signed link, and better here:
a signature (HMAC of workspace, member and expiry) is unforgeable because its key is
secret; this token is unguessable because it is 256 random bits, and the database holds
only its hash, so a leaked database (or backup) yields no working link either. Both are
checked on the server. But the stored row can be *revoked* — deleted, or refused because
the member's role dropped or the member was erased (the row cascades away) — where a
signature stays valid until it expires unless a deny-list is kept, and it needs no key to
rotate. The cost, one indexed lookup per request, is nothing next to the page's queries.

Opening the link (`open_link`) is audited (`dashboard.open`) and stores a second token of
the same kind, the *session*, for the link's remaining life: the cookie carries that one,
so the token that travelled through the chat and the address bar is never what later
requests present. Every request re-reads the member and their role (`viewer`): an
animator made a learner since is refused at once, not an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot.core import roles
from bot.core.context import member_locale
from bot.settings import Settings
from storage import downloads
from storage.models import Download, Member, Workspace

LINK_KIND = "dashboard_link"
SESSION_KIND = "dashboard_session"
LINK_LIFETIME = timedelta(hours=1)
COOKIE = "ambassador_dashboard"
COOKIE_PATH = "/dashboard"


@dataclass(frozen=True)
class Viewer:
    """The animator looking at the page, as of this request."""

    workspace: Workspace
    member: Member
    role: str
    locale: str
    timezone: str
    expires_at: datetime


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused; `locale` when the reader is known (else both languages)."""

    reason: str  # "missing" | "expired" | "role"
    locale: str | None = None


async def create_link(db: AsyncSession, *, workspace_id: int, member_id: int, now: datetime) -> str:
    """A new link token for this member of this workspace, valid one hour (the only copy)."""
    return await downloads.create(
        db,
        workspace_id=workspace_id,
        member_id=member_id,
        kind=LINK_KIND,
        params={},
        expires_at=now + LINK_LIFETIME,
        now=now,
    )


def link_path(token: str) -> str:
    """The path of a link (the base URL goes in front)."""
    return f"{COOKIE_PATH}/open/{token}"


async def open_link(
    db: AsyncSession, settings: Settings, token: str, now: datetime
) -> tuple[Viewer, str] | Refusal:
    """Exchange a valid link for a session token (audited), or say why not.

    The caller commits: the audit entry and the session are written together.
    """
    link = await downloads.valid(db, token, now)
    if link is None or link.kind != LINK_KIND:
        return Refusal("expired" if token else "missing")
    found = await _viewer(db, settings, link)
    if isinstance(found, Refusal):
        return found
    session_token = await downloads.create(
        db,
        workspace_id=link.workspace_id,
        member_id=link.member_id,
        kind=SESSION_KIND,
        params={"link": link.id},
        expires_at=link.expires_at,
        now=now,
    )
    await audit.record_as(
        db,
        workspace_id=link.workspace_id,
        platform=found.workspace.platform,
        now=now,
        action="dashboard.open",
        actor_id=link.member_id,
        link=link.id,
    )
    return found, session_token


async def viewer(
    db: AsyncSession, settings: Settings, session_token: str | None, now: datetime
) -> Viewer | Refusal:
    """The viewer a session cookie stands for, or why it does not (missing, expired, role)."""
    if not session_token:
        return Refusal("missing")
    session = await downloads.valid(db, session_token, now)
    if session is None or session.kind != SESSION_KIND:
        return Refusal("expired")
    return await _viewer(db, settings, session)


async def _viewer(db: AsyncSession, settings: Settings, row: Download) -> Viewer | Refusal:
    workspace = await db.get(Workspace, row.workspace_id)
    member = await db.get(Member, row.member_id)
    if workspace is None or member is None or member.workspace_id != workspace.id:
        return Refusal("expired")
    locale = member_locale(member, workspace, settings)
    role = roles.effective_role(member.role, settings.is_admin(workspace.platform, member.user_id))
    if not roles.allows(role, roles.ANIMATOR):
        return Refusal("role", locale)
    timezone = member.timezone or workspace.timezone or settings.timezone
    return Viewer(workspace, member, role, locale, timezone, row.expires_at)


def set_cookie(
    response: web.StreamResponse,
    settings: Settings,
    session_token: str,
    expires_at: datetime,
    now: datetime,
) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
    page can make the browser send it), Path=/dashboard, Secure when the bot is served over
    https, living as long as the link it came from (Max-Age)."""
    response.set_cookie(
        COOKIE,
        session_token,
        max_age=max(0, int((expires_at - now).total_seconds())),
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=settings.base_url.startswith("https://"),
    )
