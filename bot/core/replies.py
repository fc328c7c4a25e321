"""The neutral reply model every adapter renders (Block Kit, Adaptive Cards, playground JSON).

Text is always present: it is the fallback for notifications, screen readers and
platforms that cannot show the card.

Neutral text (what people wrote, as the core keeps and repeats it) names a person
`<@id>`, a channel `<#id>`, and a link `<https://…>` or `[text](https://…)` (CommonMark);
everything else is plain text, shown as typed. Each adapter reads its platform's markup
into these forms and renders them back (bot/adapters/slack/markup.py; Teams' mentions).

Where a reply goes. A `Reply` is the answer to the person who asked, seen by them alone:
that is all it means, on every platform. What others should see (a post in a channel, a
DM to someone, a thread under a post) is an `OutboundMessage` the handler gives the
outbox (`ctx.outbox`), which says where it goes and survives a crash or a rate limit.
The model once also had `Visibility.CONVERSATION` and `Visibility.DM` and a
`Reply.in_reply_to`: no handler ever set them (every answer to everyone already went
through the outbox), yet each adapter branched on them, and differently. A value nobody
sets cannot be tested against what people see, so they were removed with those branches;
a handler that one day needs a reply seen by others posts it through the outbox.

How each platform honours a handler's replies (value → Slack / Teams / playground):

- text, and the card if any, for the asker alone →
  Slack: an ephemeral message, to the request's response_url (slash command, click),
  else `chat.postEphemeral` in the channel (an @mention, a modal opened from a channel),
  else a message in the DM with the bot (asked there, or from the App Home tab);
  Teams: a message through the outbox (Teams has no ephemeral message), in the 1:1 chat
  with the bot: where it was asked when asked there, else the asker's own;
  playground: in the API's answer (`replies`), shown to the asker only.
- a form →
  Slack: a modal (`views.open` with the request's trigger_id; its text is not posted);
  Teams: a card of inputs in the 1:1 chat, carrying where it was opened;
  playground: in `replies`, drawn as a form.
- several replies →
  Slack: one message each, in order; Teams: one outbox message each, in order;
  playground: the list, in order.
- `home`, when the App Home tab is opened (Slack only) → every reply drawn in the tab
  (`views.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A button: an action (action_id + value) or a link (url)."""

    label: str
    action_id: str = ""
    value: str = ""
    url: str | None = None
    style: str | None = None  # "primary" | "danger" | None

    def to_json(self) -> dict[str, Any]:
        """The playground/API shape of this button."""
        data: dict[str, Any] = {"label": self.label}
        if self.url:
            data["url"] = self.url
        else:
            data["action_id"] = self.action_id
            data["value"] = self.value
        if self.style:
            data["style"] = self.style
        return data


@dataclass(frozen=True)
class Field:
    """A label/value pair shown on a card."""

    label: str
    value: str


@dataclass(frozen=True)
class Card:
    """A rich message: title, body, fields and as many buttons as the feature needs."""

    title: str
    body: str = ""
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()
    image_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The playground/API shape of this card (CARD in docs/COMMANDS.md)."""
        data: dict[str, Any] = {
            "title": self.title,
            "body": self.body,
            "fields": [{"label": f.label, "value": f.value} for f in self.fields],
            "buttons": [b.to_json() for b in self.buttons],
        }
        if self.image_url:
            data["image_url"] = self.image_url
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Card:
        """Rebuild a card stored as JSON (outbox payloads)."""
        return cls(
            title=str(data.get("title", "")),
            body=str(data.get("body", "")),
            fields=tuple(Field(str(f["label"]), str(f["value"])) for f in data.get("fields", [])),
            buttons=tuple(
                Button(
                    label=str(b["label"]),
                    action_id=str(b.get("action_id", "")),
                    value=str(b.get("value", "")),
                    url=b.get("url"),
                    style=b.get("style"),
                )
                for b in data.get("buttons", [])
            ),
            image_url=data.get("image_url"),
        )


# The platforms whose people picker can leave people out. Slack's multi_users_select lists
# the whole directory, with no way to exclude anyone
# (https://api.slack.com/reference/block-kit/block-elements#users_multi_select); the
# playground's picker lists the people the bot knows less a form's `exclude`, and Teams'
# form offers a field's `options` (a static choice set: Adaptive Cards 1.5 has no people
# picker), from which the handler leaves them out.
_EXCLUDING_PICKERS = frozenset({"local", "teams"})


def picker_can_exclude(platform: str) -> bool:
    """Whether a `users` field's `exclude` has any effect on `platform` (else it is not
    worth computing, nor storing with the form)."""
    return platform in _EXCLUDING_PICKERS


@dataclass(frozen=True)
class FormField:
    """One input of a form."""

    id: str
    label: str
    kind: str = "text"  # text | multiline | datetime | select | users
    # (label, value) for select; for users, (name, user id) of people the bot knows, for
    # platforms whose forms cannot search the directory (Teams; Slack's picker can).
    options: tuple[tuple[str, str], ...] = ()
    required: bool = True
    value: str = ""  # the initial value, when editing
    # For `users`: people the picker should not offer (user ids), where it can leave them
    # out (`picker_can_exclude`); the handler still checks what comes back.
    exclude: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The playground/API shape of this field."""
        data: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "kind": self.kind,
            "options": [{"label": label, "value": value} for label, value in self.options],
            "required": self.required,
            "value": self.value,
        }
        if self.kind == "users":
            data["exclude"] = list(self.exclude)
        return data


@dataclass(frozen=True)
class Form:
    """A form every platform renders (Slack modal, Teams card form, playground form)."""

    title: str
    submit_action_id: str
    fields: tuple[FormField, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The playground/API shape of this form (FORM in docs/COMMANDS.md)."""
        return {
            "title": self.title,
            "submit_action_id": self.submit_action_id,
            "fields": [f.to_json() for f in self.fields],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Form:
        """Rebuild a form stored as JSON (an outbox payload, for platforms that post forms)."""
        return cls(
            title=str(data.get("title", "")),
            submit_action_id=str(data.get("submit_action_id", "")),
            fields=tuple(
                FormField(
                    id=str(f["id"]),
                    label=str(f.get("label", "")),
                    kind=str(f.get("kind", "text")),
                    options=tuple((str(o["label"]), str(o["value"])) for o in f.get("options", [])),
                    required=bool(f.get("required", True)),
                    value=str(f.get("value", "")),
                    exclude=tuple(str(user_id) for user_id in f.get("exclude", [])),
                )
                for f in data.get("fields", [])
            ),
        )


@dataclass(frozen=True)
class Reply:
    """What the bot answers the person who asked, for them alone: text always, optionally
    a card or a form."""

    text: str
    card: Card | None = None
    form: Form | None = None

    def to_json(self) -> dict[str, Any]:
        """The playground/API shape of this reply (REPLY in docs/COMMANDS.md)."""
        return {
            # Who sees it, as the API has always said: the asker, and only them.
            "visibility": "user",
            "text": self.text,
            "card": self.card.to_json() if self.card else None,
            "form": self.form.to_json() if self.form else None,
        }


@dataclass(frozen=True)
class OutboundMessage:
    """A message for the outbox: a post (or an edit) of text and an optional card."""

    text: str
    card: Card | None = None
    in_reply_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Serialise for the outbox payload column."""
        return {
            "text": self.text,
            "card": self.card.to_json() if self.card else None,
            "in_reply_to": self.in_reply_to,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboundMessage:
        """Rebuild from the outbox payload column."""
        card = data.get("card")
        return cls(
            text=str(data.get("text", "")),
            card=Card.from_json(card) if card else None,
            in_reply_to=data.get("in_reply_to"),
            extra=dict(data.get("extra") or {}),
        )
