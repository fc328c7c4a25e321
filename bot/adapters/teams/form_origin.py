"""Where a form opened from a channel or group chat came from, carried by its card.

Teams has no modals: a form is an Adaptive Card in the person's 1:1 chat with the bot, so
its submission arrives from that chat, not from where the command was typed (`@Ambassador
challenge` in a channel would be answered "post challenges in the community's channel").
Slack keeps such a thing in the modal's `private_metadata`, which Slack holds server-side;
a card's Action.Submit `data` comes back from the Teams client instead, and whoever can
submit a card can change it
(https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-actions#actionsubmit).

So the conversation is sealed (storage/sealing.py: AES-256-GCM under the deployment's
secret key) for one purpose that names the tenant and the person the form was sent to. A
value altered, made for someone else or another tenant, or sealed under a key since
rotated does not open: the submission is refused with a message saying to type the
command again where it should apply, and nothing changes. Sealing rather than signing
also keeps the conversation's id out of the card. A form sent without an origin (from the
1:1 chat itself) is submitted as from the 1:1 chat, as before.
"""

from __future__ import annotations

from typing import Any

from storage.sealing import Sealer, SealError, is_sealed

# The key of the sealed origin in a form's submit data: an object, so that
# cards.form_values never takes it for an input's value.
KEY = "ambassadorOrigin"
MAX_SEALED = 1_000


def _purpose(tenant: str, person: str) -> str:
    return f"teams.form_origin|{tenant}|{person}"


def seal(sealer: Sealer, tenant: str, person: str, conversation: str) -> str:
    """`conversation` sealed for the form sent to `person` (AAD object id) of `tenant`."""
    return sealer.seal(_purpose(tenant, person), conversation)


def stamp(card: dict[str, Any], sealed: Any) -> dict[str, Any]:
    """The form card with `sealed` in the data of its submit actions (none: unchanged)."""
    if not isinstance(sealed, str) or not sealed:
        return card
    for action in card.get("actions") or []:
        if isinstance(action, dict) and action.get("type") == "Action.Submit":
            action["data"] = {**(action.get("data") or {}), KEY: {"sealed": sealed}}
    return card


def carried(value: Any) -> str | None:
    """The sealed origin a submission carries; None when it carries none. Anything that is
    not our shape is returned as "" (refused by `open_`, never ignored)."""
    if not isinstance(value, dict) or KEY not in value:
        return None
    given = value[KEY]
    sealed = given.get("sealed") if isinstance(given, dict) else None
    return sealed if isinstance(sealed, str) and len(sealed) <= MAX_SEALED else ""


def open_(sealer: Sealer, tenant: str, person: str, sealed: str) -> str | None:
    """The conversation sealed for this person of this tenant; None when it does not open."""
    if not is_sealed(sealed):
        return None  # Sealer.open passes plain text through (values from before sealing)
    try:
        conversation = sealer.open(_purpose(tenant, person), sealed)
    except SealError:
        return None
    return conversation or None
