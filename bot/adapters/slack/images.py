"""Images in Slack messages and views: sent only from where Slack can fetch them, and never
at the cost of the message.

Slack downloads the `image_url` of an image block when the message is posted, and refuses
the whole message or view when it cannot (`invalid_blocks`, "downloading image failed
[json-pointer:/blocks/3/image_url]", https://api.slack.com/reference/block-kit/blocks#image).
The badge images are served by the bot itself, under PUBLIC_BASE_URL; where Slack cannot
reach that address (the default `http://127.0.0.1:3978`, a closed network in Socket Mode),
a badge announcement, a badge DM or the Home tab would be lost for an image. So:

- `reachable`: an image is sent only from an https address whose host is a public name or
  address (not loopback, private, link-local, `localhost`, `.local`, `.internal`…);
- `sending`, `without`: when Slack still refuses a message that carries images, it is sent
  again without them (the text and the buttons are what matters).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

T = TypeVar("T")
# Names that never resolve on the public internet (RFC 6761, RFC 8375, common private TLDs).
_PRIVATE_SUFFIXES = (
    ".localhost",
    ".local",
    ".internal",
    ".intranet",
    ".lan",
    ".home.arpa",
    ".corp",
    ".test",
    ".invalid",
    ".example",
)


def reachable(url: str | None) -> bool:
    """Whether Slack's servers can fetch an image at `url`: https, to a public host."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if parts.scheme != "https" or not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a name: public when it has a dot and no private suffix
        return "." in host and host != "localhost" and not host.endswith(_PRIVATE_SUFFIXES)
    return address.is_global


def _blocks_of(arguments: dict[str, Any]) -> list[Any]:
    view = arguments.get("view")
    found = view.get("blocks") if isinstance(view, dict) else arguments.get("blocks")
    return found if isinstance(found, list) else []


def _is_image(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "image"


def present(arguments: dict[str, Any]) -> bool:
    """Whether a call's blocks (a message's, or a view's) carry an image."""
    return any(
        _is_image(block) or (isinstance(block, dict) and _is_image(block.get("accessory")))
        for block in _blocks_of(arguments)
    )


def without(arguments: dict[str, Any]) -> dict[str, Any]:
    """The same call with no image: image blocks dropped, image accessories removed."""
    kept: list[Any] = []
    for block in _blocks_of(arguments):
        if _is_image(block):
            continue
        if isinstance(block, dict) and _is_image(block.get("accessory")):
            block = {key: value for key, value in block.items() if key != "accessory"}
        kept.append(block)
    view = arguments.get("view")
    if isinstance(view, dict):
        return {**arguments, "view": {**view, "blocks": kept}}
    return {**arguments, "blocks": kept}


def refused(answer: Any) -> bool:
    """Whether Slack's answer (a Web API response's data, or a response_url's text) refuses
    the blocks: `invalid_blocks`, or an error that names an image."""
    if isinstance(answer, str):
        return "invalid_blocks" in answer or "image" in answer.lower()
    if not isinstance(answer, dict):
        return False
    if answer.get("error") == "invalid_blocks":
        return True
    metadata = answer.get("response_metadata")
    messages = metadata.get("messages") if isinstance(metadata, dict) else None
    errors = answer.get("errors")
    details = [
        *(errors if isinstance(errors, list) else []),
        *(messages if isinstance(messages, list) else []),
    ]
    return any("image" in str(detail).lower() for detail in details)


async def sending(call: Callable[..., Awaitable[T]], **arguments: Any) -> T:
    """`call(**arguments)` (a Web API method); sent again without images when Slack refuses
    them."""
    try:
        return await call(**arguments)
    except SlackApiError as exc:
        if not (present(arguments) and refused(exc.response.data)):
            raise
        note(getattr(call, "__name__", "call"))
        return await call(**without(arguments))


def note(method: str) -> None:
    """One line saying that a message went out without its image (PUBLIC_BASE_URL, or the
    image itself, is out of Slack's reach)."""
    log.warning(
        "slack_image_refused",
        extra={
            "method": method,
            "meaning": "sent without its image: Slack could not fetch it from PUBLIC_BASE_URL",
        },
    )
