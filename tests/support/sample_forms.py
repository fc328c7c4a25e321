"""Neutral forms rendered by every platform's tests (the same input, each platform's shape)."""

from __future__ import annotations

from bot.core.replies import Form, FormField

# One field of each kind but people: multiline, datetime, select, text.
CHALLENGE_FORM = Form(
    title="Schedule a challenge for the whole community",
    submit_action_id="challenge.form",
    fields=(
        FormField("text", "Challenge", "multiline", value="Share one win"),
        FormField("first", "First date and time", "datetime", required=False),
        FormField(
            "recurrence",
            "Repeat",
            "select",
            options=(("Once", "once"), ("Every week", "weekly")),
            required=False,
            value="weekly",
        ),
        FormField("until", "Until", "text", required=False),
    ),
)
