"""The Teams app package: the zip an admin uploads ("Upload a custom app" / Teams admin
center), built from config/teams/ with this deployment's bot id and address.

The zip holds manifest.json, color.png (192×192) and outline.png (32×32, white on
transparent) at its root (https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/apps-package).

config/teams/manifest.json asks for no resource-specific permission: the bot receives only
what is addressed to it. With AMBASSADOR_THREAD_REPLIES=1 the package adds
ChannelMessage.Read.Group (with the webApplicationInfo it needs), so that Teams sends the
bot every message of the team's channels, for the replies in a question's thread
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-messages-with-rsc).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CONFIG = Path(__file__).resolve().parents[3] / "config" / "teams"
PLACEHOLDER_URL = "https://ambassador.example.org"
# The Bot Framework samples' name for the bot's id (the Azure Bot's Microsoft App ID).
APP_ID_VARIABLE = "MicrosoftAppId"
# Read channel messages that do not @mention the bot (AMBASSADOR_THREAD_REPLIES=1 only).
THREAD_REPLIES_PERMISSION = {"name": "ChannelMessage.Read.Group", "type": "Application"}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """A value the package cannot be built with; the message says which and how to fix it."""


def manifest_for(
    app_id: str, public_url: str, config: Path = CONFIG, thread_replies: bool = False
) -> dict[str, Any]:
    """config/teams/manifest.json with the bot's Microsoft App ID and public address, and
    with `thread_replies` the permission to read channel messages."""
    if not _GUID.match(app_id or ""):
        raise PackageError(
            "MicrosoftAppId must be the Azure Bot's Microsoft App ID, a GUID like "
            f"6f1c7d3e-0000-4000-8000-000000000000 (got {app_id!r})"
        )
    address = urlparse(public_url or "")
    if address.scheme != "https" or not address.hostname:
        raise PackageError(
            "PUBLIC_BASE_URL must be the bot's public https:// address, the one Azure Bot's "
            f"messaging endpoint uses (got {public_url!r})"
        )
    base = public_url.rstrip("/")
    text = (config / "manifest.json").read_text(encoding="utf-8").replace(PLACEHOLDER_URL, base)
    manifest: dict[str, Any] = json.loads(text)
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    if thread_replies:
        # Resource-specific consent names the bot's app (webApplicationInfo); validDomains
        # goes back last, after them, as Microsoft's samples order them.
        manifest.pop("validDomains", None)
        manifest["webApplicationInfo"] = {"id": app_id, "resource": base}
        manifest["authorization"] = {
            "permissions": {"resourceSpecific": [dict(THREAD_REPLIES_PERMISSION)]}
        }
    manifest["validDomains"] = [address.hostname]
    return manifest


def build(
    app_id: str,
    public_url: str,
    output: Path,
    config: Path = CONFIG,
    thread_replies: bool = False,
) -> Path:
    """Write the zip to `output` (its folder created); return its path."""
    manifest = manifest_for(app_id, public_url, config, thread_replies)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in ("color.png", "outline.png"):
            archive.write(config / icon, icon)
    return output
