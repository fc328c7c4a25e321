"""The Slack adapter (issue 7). So far: the pure rendering of neutral replies to Block Kit."""

PLATFORM = "slack"
