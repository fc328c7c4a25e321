"""config/slack/manifest.json creates the app in one paste: it asks for exactly the scopes
and events the code uses, points at the routes the server serves, and keeps within the
limits of Slack's manifest format (https://api.slack.com/reference/manifests; the numbers
below are from Slack's published manifest schema, slackapi/manifest-schema). It reads no
channel's messages (AMBASSADOR_THREAD_REPLIES off, the default); `ambassador-bot
slack-manifest` gives the one that does, with the setting on, and this bot's address."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.slack.app import EVENTS_PATH, REDIRECT_PATH
from bot.adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES, bot_events, bot_scopes

REPO = Path(__file__).parents[2]
MANIFEST = REPO / "config" / "slack" / "manifest.json"
HISTORY = {"channels:history", "groups:history"}
CHANNEL_EVENTS = {"message.channels", "message.groups"}


def _manifest() -> dict:  # type: ignore[type-arg]
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def test_it_asks_for_what_the_code_uses_and_nothing_more() -> None:
    manifest = _manifest()
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "user" not in manifest["oauth_config"]["scopes"], "no user token is ever used"
    assert sorted(manifest["settings"]["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)
    # Nothing open by default: no channel's messages.
    assert not HISTORY & set(BOT_SCOPES) and not CHANNEL_EVENTS & set(BOT_EVENTS)


def _command(thread_replies: str | None, url: str = "https://bot.acme.example/") -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PUBLIC_BASE_URL": url}
    env.pop("AMBASSADOR_THREAD_REPLIES", None)
    if thread_replies is not None:
        env["AMBASSADOR_THREAD_REPLIES"] = thread_replies
    done = subprocess.run(
        [sys.executable, "-m", "bot", "slack-manifest"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("thread_replies", [None, "0", "1"])
def test_the_command_gives_the_manifest_of_the_setting_with_this_bots_address(
    thread_replies: str | None,
) -> None:
    on = thread_replies == "1"
    made = _command(thread_replies)
    scopes = made["oauth_config"]["scopes"]["bot"]
    events = made["settings"]["event_subscriptions"]["bot_events"]
    assert scopes == list(bot_scopes(on)) and scopes == sorted(scopes)
    assert events == list(bot_events(on)) and events == sorted(events)
    assert (set(scopes) >= HISTORY) is on and (set(events) >= CHANNEL_EVENTS) is on
    assert bool(HISTORY & set(scopes)) is on and bool(CHANNEL_EVENTS & set(events)) is on
    assert made["settings"]["event_subscriptions"]["request_url"] == (
        "https://bot.acme.example" + EVENTS_PATH
    )
    assert made["oauth_config"]["redirect_urls"] == ["https://bot.acme.example" + REDIRECT_PATH]
    # Everything else is the file's.
    file = _manifest()
    for part in ("display_information", "_metadata"):
        assert made[part] == file[part]
    if not on:
        text = MANIFEST.read_text(encoding="utf-8")
        assert made == json.loads(
            text.replace("https://ambassador.example.org", "https://bot.acme.example")
        )


def test_the_command_refuses_an_address_slack_cannot_call(tmp_path: Path) -> None:
    env = {**os.environ, "PUBLIC_BASE_URL": "http://bot.acme.example"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "slack-manifest", "--output", str(tmp_path / "m.json")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "https://" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "m.json").exists()


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
