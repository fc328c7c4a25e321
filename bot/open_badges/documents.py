"""The Open Badges documents of an award: 2.0 Issuer, BadgeClass, Assertion, RevocationList
(hosted verification, JSON-LD) and the 3.0 OpenBadgeCredential.

Their URLs are stable: they derive from PUBLIC_BASE_URL, the workspace's issuer key
(`issuer_key`: a random public id, never guessable), the level and the award's random uid.
The recipient is identified by a salted SHA-256 hash of their email when the platform
gives one, else of their profile URL; never by name. A revocation is published with a
neutral reason only (REVOCATION_REASON). A badge granted by hand carries Evidence whose
narrative is the animator's reason, not the criteria it may not meet. The playground's
workspace issues under an issuer that says it is one (`PLAYGROUND_ISSUER`), never the
configured organisation.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.adapters import local
from bot.ladder import LevelSpec
from bot.settings import Settings
from storage.models import BadgeAward, Member, Workspace
from storage.vocabulary import BadgeSource

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
OB3_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]

# What the public documents say about any revocation. The animator's own words
# (`badge revoke … <reason>`, e.g. "HR case 4711") are personal data about the holder: they
# stay in the database (badge_award.revoke_reason), never in a public document. Open Badges
# 2.0 makes `revocationReason` optional free text; one neutral sentence, in English like
# the rest of the documents, tells a verifier all it needs: the issuer withdrew the badge.
REVOCATION_REASON = "Revoked by the issuer."

# A badge granted by hand (`badge grant`) was not necessarily earned by the BadgeClass's
# criteria: its assertion and credential carry Evidence saying so, with the animator's
# reason as the narrative (the grant command tells them it is published). The criteria stay
# the level's: they describe the badge, not this award. Earned badges carry no evidence.
GRANTED_EVIDENCE_NAME = "Granted by the issuer"
GRANTED_WITHOUT_REASON = "Granted by the issuer, without a stated reason."
# Markdown that would make a narrative more than text in a displayer (links, images, HTML,
# emphasis), escaped with a backslash (CommonMark's backslash escapes:
# https://spec.commonmark.org/0.31.2/#backslash-escapes).
_MARKDOWN = re.compile(r"([\\`*_\[\]<>])")

# The issuer of the playground's badges (platform "local"): anyone who reaches the playground
# can earn them, so they must never pass for the configured organisation's badges. Its
# email is on the reserved .invalid domain (RFC 2606): nobody answers for these badges.
PLAYGROUND_ISSUER = {
    "name": "Ambassador playground (test badges, not a real issuer)",
    "email": "nobody@ambassador-playground.invalid",
    "description": (
        "Badges earned while trying the Ambassador bot in its playground. They are test "
        "badges: they certify nothing about anyone, for any organisation."
    ),
}


@dataclass(frozen=True)
class Urls:
    """Where each document of the badges of one bot lives."""

    base: str

    def issuer(self, key: str) -> str:
        """The Issuer Profile of a workspace (its organisation); `key` is `issuer_key`'s."""
        return f"{self.base}/badges/issuers/{key}"

    def badge_class(self, key: str, level_id: str) -> str:
        """The BadgeClass (3.0: Achievement) of one level."""
        return f"{self.issuer(key)}/levels/{level_id}"

    def criteria(self, key: str, level_id: str) -> str:
        """What the level takes, in words."""
        return f"{self.badge_class(key, level_id)}/criteria"

    def revocations(self, key: str) -> str:
        """The issuer's RevocationList."""
        return f"{self.issuer(key)}/revocations"

    def assertion(self, uid: str) -> str:
        """The hosted Assertion of one award."""
        return f"{self.base}/badges/assertions/{uid}"

    def baked(self, uid: str) -> str:
        """The badge image with the assertion baked in."""
        return f"{self.assertion(uid)}/badge.png"

    def credential(self, uid: str) -> str:
        """The signed 3.0 credential (compact JWS)."""
        return f"{self.assertion(uid)}/credential"

    def image(self, level_id: str) -> str:
        """The level's badge image."""
        return f"{self.base}/badges/images/{level_id}.png"

    def key(self, kid: str) -> str:
        """One public key, as a JWK (the JWS header's `kid`)."""
        return f"{self.base}/badges/keys/{kid}"

    def profile(self, key: str, member: Member) -> str:
        """The member's profile URL, when there is no email to identify them by (only ever
        published hashed: it is not served)."""
        return f"{self.base}/badges/members/{key}/{member.user_id}"


def urls(settings: Settings) -> Urls:
    """The URLs under this bot's public address."""
    return Urls(settings.base_url)


def issuer_key(workspace: Workspace) -> str:
    """The workspace's segment in every public badge URL.

    A random public id (`Workspace.public_id`, 128 bits), so the issuers cannot be
    enumerated: /badges/issuers/1, /2, … once named every installed workspace. The one
    exception is a workspace that had already issued badges under its numeric id before
    the public ids existed (`legacy_badge_urls`, set by migration 0012 only): Open Badges
    name their BadgeClass and issuer by URL, and the bot promises those URLs stay valid
    (signed 3.0 credentials and baked PNGs out there carry them, and cannot be changed).
    Such a workspace keeps its numeric URLs for all its badges, old and new, so that it
    stays one issuer with one id; its name stays as findable as it already was. No other
    workspace answers at a numeric URL, and a new workspace never gets one.
    """
    return str(workspace.id) if workspace.legacy_badge_urls else workspace.public_id


def is_playground(workspace: Workspace) -> bool:
    """True for the playground's workspace (the local platform), whose badges are tests."""
    return workspace.platform == local.PLATFORM


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def salt_of(award: BadgeAward) -> str:
    """The award's salt: random (from its random uid), published next to the hash."""
    return award.uid.replace("-", "")[:16]


def recipient_identity(
    award: BadgeAward, member: Member, workspace: Workspace, settings: Settings
) -> tuple[str, str]:
    """(kind, "sha256$…") of the member's email, else of their profile URL, with the salt."""
    profile = urls(settings).profile(issuer_key(workspace), member)
    kind, plain = ("email", member.email) if member.email else ("url", profile)
    digest = hashlib.sha256((plain + salt_of(award)).encode()).hexdigest()
    return kind, f"sha256${digest}"


def issuer_name(workspace: Workspace, settings: Settings) -> str:
    """The organisation that issues the badges (the playground says it is one)."""
    if is_playground(workspace):
        return PLAYGROUND_ISSUER["name"]
    return settings.issuer.name or workspace.name or "Ambassador programme"


def _issuer_contact(workspace: Workspace, settings: Settings) -> dict[str, str]:
    """The issuer's name, url, email (and, for the playground, what its badges are)."""
    if is_playground(workspace):
        # The bot's own address, never the configured organisation's [badges] issuer_url.
        return {**PLAYGROUND_ISSUER, "url": settings.base_url}
    return {
        "name": issuer_name(workspace, settings),
        "url": settings.issuer.url or settings.base_url,
        "email": settings.issuer.email,
    }


def issuer(workspace: Workspace, settings: Settings) -> dict[str, Any]:
    """The 2.0 Issuer Profile."""
    at, key = urls(settings), issuer_key(workspace)
    return {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": at.issuer(key),
        **_issuer_contact(workspace, settings),
        "revocationList": at.revocations(key),
    }


def badge_class(workspace: Workspace, level: LevelSpec, settings: Settings) -> dict[str, Any]:
    """The 2.0 BadgeClass of a level (in English; the criteria page is bilingual)."""
    at, key = urls(settings), issuer_key(workspace)
    return {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": at.badge_class(key, level.id),
        "name": f"{level.name_en} ambassador",
        "description": level.description("en"),
        "image": at.image(level.id),
        "criteria": {
            "id": at.criteria(key, level.id),
            "narrative": level.description("en"),
        },
        "issuer": at.issuer(key),
        "tags": ["ambassador", level.id],
    }


def assertion(
    award: BadgeAward, member: Member, workspace: Workspace, settings: Settings
) -> dict[str, Any]:
    """The 2.0 hosted Assertion of an award."""
    at = urls(settings)
    kind, identity = recipient_identity(award, member, workspace, settings)
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": at.assertion(award.uid),
        "recipient": {"type": kind, "hashed": True, "salt": salt_of(award), "identity": identity},
        "badge": at.badge_class(issuer_key(workspace), award.level),
        "issuedOn": _iso(award.awarded_at),
        "image": at.baked(award.uid),
        "verification": {"type": "hosted"},
    }
    narrative = granted_narrative(award)
    if narrative is not None:
        document["evidence"] = [
            {"type": "Evidence", "name": GRANTED_EVIDENCE_NAME, "narrative": narrative}
        ]
    return document


def granted_narrative(award: BadgeAward) -> str | None:
    """What the evidence of a granted award says (its reason, as plain text); None for an
    award earned by the criteria."""
    if award.source != BadgeSource.GRANT:
        return None
    if not award.reason:
        return GRANTED_WITHOUT_REASON
    return _MARKDOWN.sub(r"\\\1", award.reason)


def revoked_assertion(uid: str, settings: Settings) -> dict[str, Any]:
    """What a revoked assertion's URL answers (with 410 Gone): the neutral reason only (also
    for the badges of people who asked to be forgotten)."""
    return {
        "@context": OB2_CONTEXT,
        "id": urls(settings).assertion(uid),
        "revoked": True,
        "revocationReason": REVOCATION_REASON,
    }


def revocation_list(workspace: Workspace, revoked: list[str], settings: Settings) -> dict[str, Any]:
    """The issuer's 2.0 RevocationList (`revoked`: the uids of revoked and erased awards)."""
    at, key = urls(settings), issuer_key(workspace)
    return {
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": at.revocations(key),
        "issuer": at.issuer(key),
        "revokedAssertions": [
            {"id": at.assertion(uid), "revocationReason": REVOCATION_REASON} for uid in revoked
        ],
    }


def credential(
    award: BadgeAward, member: Member, workspace: Workspace, level: LevelSpec, settings: Settings
) -> dict[str, Any]:
    """The 3.0 OpenBadgeCredential of an award (unsigned; `credentials.sign` makes the JWT)."""
    at, key = urls(settings), issuer_key(workspace)
    kind, identity = recipient_identity(award, member, workspace, settings)
    document: dict[str, Any] = {
        "@context": OB3_CONTEXT,
        "id": at.credential(award.uid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": at.issuer(key),
            "type": ["Profile"],
            **_issuer_contact(workspace, settings),
        },
        "validFrom": _iso(award.awarded_at),
        "name": f"{level.name_en} ambassador",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": identity,
                    "identityType": "emailAddress" if kind == "email" else "ext:profileUrl",
                    "salt": salt_of(award),
                }
            ],
            "achievement": {
                "id": at.badge_class(key, level.id),
                "type": ["Achievement"],
                "name": f"{level.name_en} ambassador",
                "description": level.description("en"),
                "criteria": {
                    "id": at.criteria(key, level.id),
                    "narrative": level.description("en"),
                },
                "image": {"id": at.image(level.id), "type": "Image"},
            },
        },
    }
    narrative = granted_narrative(award)
    if narrative is not None:
        document["evidence"] = [
            {"type": ["Evidence"], "name": GRANTED_EVIDENCE_NAME, "narrative": narrative}
        ]
    return document
