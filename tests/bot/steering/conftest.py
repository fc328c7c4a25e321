"""Fixtures of the steering tests."""

from tests.bot.steering.activity_community import made

__all__ = ["made"]
