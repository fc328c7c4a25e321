"""Platform-neutral handlers. Nothing here imports slack_bolt, slack_sdk or botbuilder."""
