"""The Open Badges documents of an award: 2.0 Issuer, BadgeClass, Assertion, RevocationList
(hosted verification, JSON-LD) and the 3.0 OpenBadgeCredential.

Their URLs are stable: they derive from PUBLIC_BASE_URL, the workspace, the level and the
award's random uid. The recipient is identified by a salted SHA-256 hash of their email
when the platform gives one, else of their profile URL; never by name. A revocation is
published with a neutral reason only (REVOCATION_REASON).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.ladder import LevelSpec
from bot.settings import Settings
from storage.models import BadgeAward, Member, Workspace

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


@dataclass(frozen=True)
class Urls:
    """Where each document of the badges of one bot lives."""

    base: str

    def issuer(self, workspace_id: int) -> str:
        """The Issuer Profile of a workspace (its organisation)."""
        return f"{self.base}/badges/issuers/{workspace_id}"

    def badge_class(self, workspace_id: int, level_id: str) -> str:
        """The BadgeClass (3.0: Achievement) of one level."""
        return f"{self.issuer(workspace_id)}/levels/{level_id}"

    def criteria(self, workspace_id: int, level_id: str) -> str:
        """What the level takes, in words."""
        return f"{self.badge_class(workspace_id, level_id)}/criteria"

    def revocations(self, workspace_id: int) -> str:
        """The issuer's RevocationList."""
        return f"{self.issuer(workspace_id)}/revocations"

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

    def profile(self, member: Member) -> str:
        """The member's profile URL, when there is no email to identify them by."""
        return f"{self.base}/badges/members/{member.workspace_id}/{member.user_id}"


def urls(settings: Settings) -> Urls:
    """The URLs under this bot's public address."""
    return Urls(settings.base_url)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def salt_of(award: BadgeAward) -> str:
    """The award's salt: random (from its random uid), published next to the hash."""
    return award.uid.replace("-", "")[:16]


def recipient_identity(award: BadgeAward, member: Member, settings: Settings) -> tuple[str, str]:
    """(kind, "sha256$…") of the member's email, else of their profile URL, with the salt."""
    kind, plain = (
        ("email", member.email) if member.email else ("url", urls(settings).profile(member))
    )
    digest = hashlib.sha256((plain + salt_of(award)).encode()).hexdigest()
    return kind, f"sha256${digest}"


def issuer_name(workspace: Workspace, settings: Settings) -> str:
    """The organisation that issues the badges."""
    return settings.issuer.name or workspace.name or "Ambassador programme"


def issuer(workspace: Workspace, settings: Settings) -> dict[str, Any]:
    """The 2.0 Issuer Profile."""
    at = urls(settings)
    return {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": at.issuer(workspace.id),
        "name": issuer_name(workspace, settings),
        "url": settings.issuer.url or settings.base_url,
        "email": settings.issuer.email,
        "revocationList": at.revocations(workspace.id),
    }


def badge_class(workspace: Workspace, level: LevelSpec, settings: Settings) -> dict[str, Any]:
    """The 2.0 BadgeClass of a level (in English; the criteria page is bilingual)."""
    at = urls(settings)
    return {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": at.badge_class(workspace.id, level.id),
        "name": f"{level.name_en} ambassador",
        "description": level.description("en"),
        "image": at.image(level.id),
        "criteria": {
            "id": at.criteria(workspace.id, level.id),
            "narrative": level.description("en"),
        },
        "issuer": at.issuer(workspace.id),
        "tags": ["ambassador", level.id],
    }


def assertion(award: BadgeAward, member: Member, settings: Settings) -> dict[str, Any]:
    """The 2.0 hosted Assertion of an award."""
    at = urls(settings)
    kind, identity = recipient_identity(award, member, settings)
    return {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": at.assertion(award.uid),
        "recipient": {"type": kind, "hashed": True, "salt": salt_of(award), "identity": identity},
        "badge": at.badge_class(award.workspace_id, award.level),
        "issuedOn": _iso(award.awarded_at),
        "image": at.baked(award.uid),
        "verification": {"type": "hosted"},
    }


def revoked_assertion(award: BadgeAward, settings: Settings) -> dict[str, Any]:
    """What a revoked assertion's URL answers (with 410 Gone): the neutral reason only."""
    return {
        "@context": OB2_CONTEXT,
        "id": urls(settings).assertion(award.uid),
        "revoked": True,
        "revocationReason": REVOCATION_REASON,
    }


def revocation_list(
    workspace: Workspace, revoked: list[BadgeAward], settings: Settings
) -> dict[str, Any]:
    """The issuer's 2.0 RevocationList."""
    at = urls(settings)
    return {
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": at.revocations(workspace.id),
        "issuer": at.issuer(workspace.id),
        "revokedAssertions": [
            {"id": at.assertion(a.uid), "revocationReason": REVOCATION_REASON} for a in revoked
        ],
    }


def credential(
    award: BadgeAward, member: Member, workspace: Workspace, level: LevelSpec, settings: Settings
) -> dict[str, Any]:
    """The 3.0 OpenBadgeCredential of an award (unsigned; `credentials.sign` makes the JWT)."""
    at = urls(settings)
    kind, identity = recipient_identity(award, member, settings)
    return {
        "@context": OB3_CONTEXT,
        "id": at.credential(award.uid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": at.issuer(workspace.id),
            "type": ["Profile"],
            "name": issuer_name(workspace, settings),
            "url": settings.issuer.url or settings.base_url,
            "email": settings.issuer.email,
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
                "id": at.badge_class(workspace.id, level.id),
                "type": ["Achievement"],
                "name": f"{level.name_en} ambassador",
                "description": level.description("en"),
                "criteria": {
                    "id": at.criteria(workspace.id, level.id),
                    "narrative": level.description("en"),
                },
                "image": {"id": at.image(level.id), "type": "Image"},
            },
        },
    }
