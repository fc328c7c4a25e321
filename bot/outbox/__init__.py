"""The outbox: every post outside a command's direct reply, never lost.

Enqueued once (its idempotency key is unique, in the handler's transaction) and delivered
at least once: a sender that crashes after the platform accepted a message but before it
recorded so sends it again when its lease runs out (bot/outbox/sender.py), and an edit of
a live card is coalesced with the edits queued behind it."""
