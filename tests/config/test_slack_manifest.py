"""config/slack/manifest.json creates the app in one paste: it asks for exactly the scopes
and events the code uses, points at the routes the server serves, and keeps within the
limits of Slack's manifest format (https://api.slack.com/reference/manifests; the numbers
below are from Slack's published manifest schema, slackapi/manifest-schema)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.adapters.slack.app import BOT_EVENTS, BOT_SCOPES, EVENTS_PATH, REDIRECT_PATH

MANIFEST = Path(__file__).parents[2] / "config" / "slack" / "manifest.json"


def _manifest() -> dict:  # type: ignore[type-arg]
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def test_it_asks_for_what_the_code_uses_and_nothing_more() -> None:
    manifest = _manifest()
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"], "no user token is ever used"
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)


def test_every_url_points_at_a_route_the_bot_serves() -> None:
    manifest = _manifest()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ambassador" and command["should_escape"] is True
    urls = [
        command["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
    [redirect] = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith(REDIRECT_PATH)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert manifest["settings"]["socket_mode_enabled"] is False, "HTTP by default (README)"


def test_it_keeps_within_the_manifest_formats_limits() -> None:
    manifest = _manifest()
    assert set(manifest) <= {
        "_metadata",
        "display_information",
        "features",
        "oauth_config",
        "settings",
    }
    info = manifest["display_information"]
    assert 1 <= len(info["name"]) <= 35
    assert 1 <= len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])
    assert set(manifest["features"]) <= {"app_home", "bot_user", "slash_commands", "shortcuts"}
    assert 1 <= len(manifest["features"]["bot_user"]["display_name"]) <= 80
    for command in manifest["features"]["slash_commands"]:
        assert 2 <= len(command["command"]) <= 32
        assert 1 <= len(command["description"]) <= 2000
        assert 1 <= len(command["usage_hint"]) <= 1000
    assert set(manifest["settings"]) <= {
        "event_subscriptions",
        "interactivity",
        "org_deploy_enabled",
        "socket_mode_enabled",
        "token_rotation_enabled",
    }
    assert all(len(scope) <= 50 for scope in manifest["oauth_config"]["scopes"]["bot"])
