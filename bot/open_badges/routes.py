"""The public Open Badges URLs: anyone holding a badge's link can verify it here.

Malformed ids are 404s (never a 500), revoked assertions are 410 with a neutral reason, as
the Open Badges 2.0 hosted verification specifies. An issuer is found by its random public
id; a numeric id answers only for a workspace that issued badges under it before the public
ids existed (documents.issuer_key), so nobody can walk the workspaces by number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.ladder import LevelSpec
from bot.open_badges import credentials, documents, keys, page
from bot.open_badges.baking import bake
from bot.settings import Settings
from storage.models import BadgeAward, ErasedBadge, Member, Workspace
from storage.sealing import Sealer

_UID = re.compile(r"^[0-9a-f-]{32,36}$")
_LEVEL = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
JSON_LD = "application/ld+json"
# The OB 3.0 credential is a VC-JWT (1EdTech OB 3.0 §8.2; W3C VC-JOSE-COSE), whose media type
# IANA registers as application/vc+jwt: https://www.iana.org/assignments/media-types/application/vc+jwt
VC_JWT = "application/vc+jwt"


def _json(data: dict[str, Any], status: int = 200, cache: bool = False) -> web.Response:
    return web.Response(
        body=json.dumps(data, indent=2, ensure_ascii=False).encode(),
        status=status,
        content_type=JSON_LD,
        charset="utf-8",
        headers={
            "Cache-Control": "public, max-age=300" if cache else "no-cache",
            "Access-Control-Allow-Origin": "*",  # verifiers run in browsers too
            "Vary": "Accept",  # the assertion URL also answers a page (page.wants_html)
        },
    )


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-cache",
            "Vary": "Accept",
            "Content-Security-Policy": page.CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


@dataclass(frozen=True)
class Gone:
    """A revoked award, or the uid left of an erased one, with the language of its page."""

    uid: str
    locale: str


@dataclass(frozen=True)
class Live:
    """A badge award that is not revoked, with what its documents need."""

    award: BadgeAward
    member: Member
    workspace: Workspace
    level: LevelSpec


def _not_found(what: str) -> web.Response:
    return web.json_response({"error": f"no such {what}"}, status=404)


class OpenBadgesRoutes:
    """Serves issuers, badge classes, assertions, baked images, credentials and keys."""

    def __init__(
        self,
        settings: Settings,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sealer: Sealer,
    ) -> None:
        self._settings = settings
        self._db_sessions = db_sessions
        self._clock = clock
        self._sealer = sealer  # opens the sealed signing key

    def routes(self) -> list[web.AbstractRouteDef]:
        """Every public badge URL."""
        return [
            web.get("/badges/issuers/{workspace}", self.issuer),
            web.get("/badges/issuers/{workspace}/revocations", self.revocations),
            web.get("/badges/issuers/{workspace}/levels/{level}", self.badge_class),
            web.get("/badges/issuers/{workspace}/levels/{level}/criteria", self.criteria),
            web.get("/badges/assertions/{uid}", self.assertion),
            web.get("/badges/assertions/{uid}/badge.png", self.baked),
            web.get("/badges/assertions/{uid}/credential", self.credential),
            web.get("/badges/images/{level}.png", self.image),
            web.get("/badges/keys/{kid}", self.key),
            web.get("/badges/jwks.json", self.jwks),
        ]

    async def _workspace(self, db: AsyncSession, request: web.Request) -> Workspace | None:
        """The workspace whose issuer key (documents.issuer_key) is the URL's, else None:
        each workspace answers at exactly one issuer URL, the one its badges name."""
        raw = request.match_info["workspace"]
        if _PUBLIC_ID.match(raw):
            query = select(Workspace).where(Workspace.public_id == raw)
            found = (await db.execute(query)).scalar_one_or_none()
            if found is not None and not found.legacy_badge_urls:
                return found
        if raw.isdigit() and len(raw) < 19:
            found = await db.get(Workspace, int(raw))
            if found is not None and found.legacy_badge_urls:
                return found
        return None

    def _level(self, request: web.Request) -> Any:
        raw = request.match_info["level"]
        return self._settings.ladder.find(raw) if _LEVEL.match(raw) else None

    async def _live(self, db: AsyncSession, request: web.Request) -> Live | web.Response:
        """The award named by the URL with its member, workspace and level; else the answer
        to give instead: 404 (unknown or malformed) or 410 with the reason (revoked)."""
        found = await self._find(db, request)
        if isinstance(found, Gone):
            return _json(documents.revoked_assertion(found.uid, self._settings), status=410)
        return found

    async def _find(self, db: AsyncSession, request: web.Request) -> Live | Gone | web.Response:
        """The award named by the URL: Live, Gone (revoked or erased), or a 404 answer."""
        uid = request.match_info["uid"]
        award = None
        if _UID.match(uid):
            query = select(BadgeAward).where(BadgeAward.uid == uid)
            award = (await db.execute(query)).scalar_one_or_none()
        if award is None:
            # Its recipient asked to be forgotten: only the uid remains, as revoked.
            erased = await db.get(ErasedBadge, uid) if _UID.match(uid) else None
            if erased is not None:
                workspace = await db.get(Workspace, erased.workspace_id)
                return Gone(uid, page.locale_of(self._settings, None, workspace))
            return _not_found("assertion")
        if award.revoked_at is not None:
            # The page names nobody: the workspace's language, not the holder's.
            workspace = await db.get(Workspace, award.workspace_id)
            return Gone(award.uid, page.locale_of(self._settings, None, workspace))
        member = await db.get(Member, award.member_id)
        workspace = await db.get(Workspace, award.workspace_id)
        level = self._settings.ladder.find(award.level)
        if member is None or workspace is None or level is None:
            return _not_found("assertion")
        return Live(award, member, workspace, level)

    async def issuer(self, request: web.Request) -> web.Response:
        """GET /badges/issuers/{workspace}: the 2.0 Issuer Profile."""
        async with self._db_sessions() as db:
            workspace = await self._workspace(db, request)
        if workspace is None:
            return _not_found("issuer")
        return _json(documents.issuer(workspace, self._settings), cache=True)

    async def badge_class(self, request: web.Request) -> web.Response:
        """GET …/levels/{level}: the 2.0 BadgeClass of a level."""
        async with self._db_sessions() as db:
            workspace = await self._workspace(db, request)
        level = self._level(request)
        if workspace is None or level is None:
            return _not_found("badge class")
        return _json(documents.badge_class(workspace, level, self._settings), cache=True)

    async def criteria(self, request: web.Request) -> web.Response:
        """GET …/levels/{level}/criteria: what the level takes, for people (EN and FR)."""
        level = self._level(request)
        if level is None:
            return _not_found("level")
        body = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(level.name_en)}"
            f"</title></head><body><h1>{escape(level.name_en)}</h1>"
            f"<p>{escape(level.description('en'))}</p><h1 lang='fr'>{escape(level.name_fr)}</h1>"
            f"<p lang='fr'>{escape(level.description('fr'))}</p></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def revocations(self, request: web.Request) -> web.Response:
        """GET …/revocations: the 2.0 RevocationList of the issuer."""
        async with self._db_sessions() as db:
            workspace = await self._workspace(db, request)
            if workspace is None:
                return _not_found("issuer")
            revoked = (
                await db.execute(
                    select(BadgeAward.uid)
                    .where(
                        BadgeAward.workspace_id == workspace.id,
                        BadgeAward.revoked_at.is_not(None),
                    )
                    .order_by(BadgeAward.id)
                )
            ).scalars()
            erased = (
                await db.execute(
                    select(ErasedBadge.uid)
                    .where(ErasedBadge.workspace_id == workspace.id)
                    .order_by(ErasedBadge.erased_at, ErasedBadge.uid)
                )
            ).scalars()
            uids = [*revoked, *erased]
            return _json(documents.revocation_list(workspace, uids, self._settings))

    async def assertion(self, request: web.Request) -> web.Response:
        """GET /badges/assertions/{uid}: the hosted Assertion, or 410 once revoked; for a
        browser (Accept: text/html, see page.wants_html) the badge page instead."""
        async with self._db_sessions() as db:
            found = await self._find(db, request)
        html = page.wants_html(request.headers.get("Accept"))
        if isinstance(found, Gone):
            if html:
                return _html(page.gone_page(found.locale), status=410)
            return _json(documents.revoked_assertion(found.uid, self._settings), status=410)
        if isinstance(found, web.Response):
            return found
        if html:
            shown = page.Shown(found.award, found.member, found.workspace, found.level)
            return _html(page.badge_page(shown, self._settings))
        return _json(
            documents.assertion(found.award, found.member, found.workspace, self._settings)
        )

    async def baked(self, request: web.Request) -> web.Response:
        """GET …/badge.png: the badge image with the assertion baked in."""
        async with self._db_sessions() as db:
            found = await self._live(db, request)
        if isinstance(found, web.Response):
            return found
        image = self._settings.ladder.image_path(found.level).read_bytes()
        assertion = documents.assertion(found.award, found.member, found.workspace, self._settings)
        text = json.dumps(assertion)
        name = f"{found.level.id}-badge.png"
        return web.Response(
            body=bake(image, text),
            content_type="image/png",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def credential(self, request: web.Request) -> web.Response:
        """GET …/credential: the 3.0 OpenBadgeCredential as a signed VC-JWT."""
        async with self._db_sessions() as db, db.begin():
            found = await self._live(db, request)
            if isinstance(found, web.Response):
                return found
            signer = await keys.current(db, self._sealer, self._clock.now())
        document = documents.credential(
            found.award, found.member, found.workspace, found.level, self._settings
        )
        token = credentials.sign(document, signer, documents.urls(self._settings))
        # A download with a name that says what it is: the compact JWS is not JSON, so .jwt.
        name = f"{found.level.id}-open-badge-3.jwt"
        return web.Response(
            text=token,
            content_type=VC_JWT,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def image(self, request: web.Request) -> web.StreamResponse:
        """GET /badges/images/{level}.png: the level's badge image (`?lang=fr`: the one in
        French words, for a French reader's cards, when the ladder has one)."""
        level = self._level(request)
        if level is None:
            return _not_found("badge image")
        locale = request.query.get("lang")
        return web.FileResponse(self._settings.ladder.image_path(level, locale))

    async def key(self, request: web.Request) -> web.Response:
        """GET /badges/keys/{kid}: one public key, as a JWK."""
        kid = request.match_info["kid"]
        if not _KID.match(kid):
            return _not_found("key")
        async with self._db_sessions() as db:
            published = await keys.published(db)
        found = next((jwk for jwk in published if jwk.get("kid") == kid), None)
        if found is None:
            return _not_found("key")
        return web.json_response(found, headers={"Access-Control-Allow-Origin": "*"})

    async def jwks(self, _request: web.Request) -> web.Response:
        """GET /badges/jwks.json: every public key the bot signs (or signed) with."""
        async with self._db_sessions() as db:
            published = await keys.published(db)
        return web.json_response({"keys": published}, headers={"Access-Control-Allow-Origin": "*"})
