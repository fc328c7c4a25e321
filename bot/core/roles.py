"""Roles and what they may do: learner < animator < admin."""

from __future__ import annotations

LEARNER = "learner"
ANIMATOR = "animator"
ADMIN = "admin"
RANK = {LEARNER: 0, ANIMATOR: 1, ADMIN: 2}


def allows(role: str, needed: str) -> bool:
    """True when `role` is at least `needed`."""
    return RANK.get(role, 0) >= RANK[needed]


def effective_role(stored_role: str, is_settings_admin: bool) -> str:
    """Admins from AMBASSADOR_ADMINS are admins whatever the database says."""
    return ADMIN if is_settings_admin else stored_role
