"""The Slack adapter: the slack-bolt app (HTTP events behind validation.py's checks,
Socket Mode, OAuth installs), the handling of recorded requests into neutral events, Block
Kit rendering and Slack's markup, the outbox's Slack sender, profiles, images and
uninstalls; `platform.py` plugs it in (bot/adapters/platform.py)."""

PLATFORM = "slack"
