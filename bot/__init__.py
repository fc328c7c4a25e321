"""The Ambassador bot: turns learners into ambassadors of their own training."""

__version__ = "0.1.0"
