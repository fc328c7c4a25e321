"""Errors a handler raises to refuse politely; the dispatcher rolls back and translates them."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Bad input or a refused request: nothing is changed, the user reads `key` translated."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class PermissionRefused(UserError):
    """The asker's role does not allow this command."""
