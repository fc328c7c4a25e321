"""The Teams app package: the zip holds the manifest and both icons at its root; the
manifest, with this bot's id and address, validates against Microsoft's published Teams
app manifest schema (tests/config/schemas, source in its SOURCES.md); the icons have
Teams' sizes, the outline white on transparent; wrong values stop with one clear line."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from bot.adapters.teams import package

REPO = Path(__file__).resolve().parents[4]
SCHEMA = REPO / "tests" / "config" / "schemas" / "MicrosoftTeams.v1.17.schema.json"
APP_ID = "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"


def _zip(tmp_path: Path) -> zipfile.ZipFile:
    built = package.build(APP_ID, "https://bot.acme.example/", tmp_path / "teams.zip")
    return zipfile.ZipFile(built)


def test_the_zip_holds_a_valid_manifest_with_this_bots_id_and_address(tmp_path: Path) -> None:
    archive = _zip(tmp_path)
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(manifest)] == []
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.acme.example"]
    assert manifest["developer"]["privacyUrl"] == "https://bot.acme.example/privacy"
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert "help" in titles and "join" in titles


@pytest.mark.parametrize("thread_replies", [False, True])
def test_the_permission_to_read_channel_messages_only_when_threads_are_read(
    tmp_path: Path, thread_replies: bool
) -> None:
    """AMBASSADOR_THREAD_REPLIES off (the default): no resource-specific permission, Teams
    sends the bot only what @mentions it; on: ChannelMessage.Read.Group, naming this bot's
    app. Valid against Microsoft's schema either way."""
    built = package.build(
        APP_ID, "https://bot.acme.example/", tmp_path / "t.zip", thread_replies=thread_replies
    )
    manifest = json.loads(zipfile.ZipFile(built).read("manifest.json"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(manifest)] == []
    if thread_replies:
        assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
            {"name": "ChannelMessage.Read.Group", "type": "Application"}
        ]
        assert manifest["webApplicationInfo"] == {
            "id": APP_ID,
            "resource": "https://bot.acme.example",
        }
    else:
        assert "authorization" not in manifest and "webApplicationInfo" not in manifest
        assert "ChannelMessage" not in json.dumps(manifest)
    assert manifest["validDomains"] == ["bot.acme.example"]


@pytest.mark.parametrize(("value", "reads"), [(None, False), ("0", False), ("1", True)])
def test_the_command_reads_the_setting(tmp_path: Path, value: str | None, reads: bool) -> None:
    env = {**os.environ, "MicrosoftAppId": APP_ID, "PUBLIC_BASE_URL": "https://bot.acme.example"}
    env.pop("AMBASSADOR_THREAD_REPLIES", None)
    if value is not None:
        env["AMBASSADOR_THREAD_REPLIES"] = value
    done = subprocess.run(
        [sys.executable, "-m", "bot", "teams-package", "--output", str(tmp_path / "t.zip")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(zipfile.ZipFile(tmp_path / "t.zip").read("manifest.json"))
    assert ("authorization" in manifest) is reads


def test_the_icons_have_teams_sizes_and_the_outline_is_white_on_transparent(
    tmp_path: Path,
) -> None:
    archive = _zip(tmp_path)
    color = Image.open(io.BytesIO(archive.read("color.png")))
    assert color.format == "PNG" and color.size == (192, 192)
    outline = Image.open(io.BytesIO(archive.read("outline.png"))).convert("RGBA")
    assert outline.size == (32, 32)
    pixels = list(outline.getdata())
    assert any(alpha == 0 for *_, alpha in pixels), "a transparent background"
    drawn = [(red, green, blue) for red, green, blue, alpha in pixels if alpha]
    assert drawn and all(pixel == (255, 255, 255) for pixel in drawn), "white only"


@pytest.mark.parametrize(
    ("app_id", "url", "says"),
    [
        ("", "https://bot.acme.example", "MicrosoftAppId"),
        ("not-a-guid", "https://bot.acme.example", "GUID"),
        (APP_ID, "", "PUBLIC_BASE_URL"),
        (APP_ID, "http://bot.acme.example", "https://"),
    ],
)
def test_wrong_values_stop_with_one_clear_line(
    tmp_path: Path, app_id: str, url: str, says: str
) -> None:
    env = {**os.environ, "MicrosoftAppId": app_id, "PUBLIC_BASE_URL": url}
    env.pop("AMBASSADOR_PUBLIC_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "teams-package", "--output", str(tmp_path / "x.zip")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and not (tmp_path / "x.zip").exists()


def test_the_command_writes_the_zip(tmp_path: Path) -> None:
    env = {**os.environ, "MicrosoftAppId": APP_ID, "PUBLIC_BASE_URL": "https://bot.acme.example"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "teams-package", "--output", str(tmp_path / "t.zip")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert zipfile.ZipFile(tmp_path / "t.zip").namelist()
