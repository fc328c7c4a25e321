"""Roles and what they may do: learner < animator < admin."""

from __future__ import annotations

from storage.vocabulary import MemberRole

# The stored vocabulary's members (storage/vocabulary.py), under the names callers use.
LEARNER = MemberRole.LEARNER
ANIMATOR = MemberRole.ANIMATOR
ADMIN = MemberRole.ADMIN
RANK: dict[str, int] = {LEARNER: 0, ANIMATOR: 1, ADMIN: 2}


def allows(role: str, needed: str) -> bool:
    """True when `role` is at least `needed`."""
    return RANK.get(role, 0) >= RANK[needed]


def effective_role(stored_role: MemberRole, is_settings_admin: bool) -> MemberRole:
    """Admins from AMBASSADOR_ADMINS are admins whatever the database says."""
    return ADMIN if is_settings_admin else stored_role
