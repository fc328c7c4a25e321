"""The Microsoft Teams adapter (issue 8). So far: the pure rendering of neutral replies,
cards and forms as Adaptive Cards, and the reading back of what a card submits."""

PLATFORM = "teams"
