"""The outbox: every post outside a command's direct reply, sent exactly once, never lost."""
