"""Settings are read once, typed, and a wrong value names itself."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings, parse_admins
from tests.support.secret_keys import TEST_SECRET_KEY

CONFIG = str(Path(__file__).resolve().parents[2] / "config" / "ambassador.toml")


def test_defaults() -> None:
    settings = load_settings({"AMBASSADOR_CONFIG": CONFIG})
    assert (settings.host, settings.port) == ("127.0.0.1", 3978)
    assert settings.database_url == "sqlite:///var/ambassador.db"
    assert settings.locale == "en" and settings.timezone == "Europe/Paris"
    assert [level.id for level in settings.ladder.levels] == ["junior", "confirmed", "senior"]
    assert settings.ladder.levels[1].name("fr") == "Confirmé"
    assert not settings.local_clock_control
    assert not settings.thread_replies, "nothing open by default: no channel's messages read"


def test_environment_overrides_the_config_file() -> None:
    settings = load_settings(
        {
            "AMBASSADOR_CONFIG": CONFIG,
            "AMBASSADOR_PORT": "8080",
            "AMBASSADOR_LOCALE": "fr",
            "AMBASSADOR_TIMEZONE": "America/Montreal",
            "DATABASE_URL": "postgresql://u@h/db",
            "AMBASSADOR_SECRET_KEY": TEST_SECRET_KEY,
            "LOG_FORMAT": "json",
            "AMBASSADOR_THREAD_REPLIES": "1",
        }
    )
    assert settings.port == 8080 and settings.locale == "fr" and settings.thread_replies
    assert settings.timezone == "America/Montreal"
    assert settings.database_url == "postgresql://u@h/db" and settings.log_format == "json"


def test_admins_are_scoped_to_their_platform() -> None:
    admins = parse_admins("local:anim1, slack:U0123ABCD,teams:29:1abc")
    assert ("slack", "U0123ABCD") in admins and ("teams", "29:1abc") in admins
    settings = load_settings({"AMBASSADOR_CONFIG": CONFIG, "AMBASSADOR_ADMINS": "slack:U1"})
    assert settings.is_admin("slack", "U1")
    assert not settings.is_admin("teams", "U1") and not settings.is_admin("local", "U1")


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("AMBASSADOR_PORT", "eighty", "AMBASSADOR_PORT"),
        ("AMBASSADOR_PORT", "70000", "AMBASSADOR_PORT"),
        ("AMBASSADOR_LOCALE", "de", "AMBASSADOR_LOCALE"),
        ("AMBASSADOR_TIMEZONE", "Mars/Olympus", "AMBASSADOR_TIMEZONE"),
        ("AMBASSADOR_ADMINS", "U0123", "AMBASSADOR_ADMINS"),
        ("AMBASSADOR_ADMINS", "discord:1", "AMBASSADOR_ADMINS"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("LOCAL_CLOCK_CONTROL", "maybe", "LOCAL_CLOCK_CONTROL"),
        ("AMBASSADOR_THREAD_REPLIES", "maybe", "AMBASSADOR_THREAD_REPLIES"),
        ("AMBASSADOR_CONFIG", "/nonexistent.toml", "AMBASSADOR_CONFIG"),
        ("AMBASSADOR_SECRET_KEY", "hunter2", r"AMBASSADOR_SECRET_KEY.*token_urlsafe"),
        ("AMBASSADOR_SECRET_KEY", TEST_SECRET_KEY[:-4], "AMBASSADOR_SECRET_KEY"),
        ("AMBASSADOR_SECRET_KEY", "é" * 43, "AMBASSADOR_SECRET_KEY"),
    ],
)
def test_a_wrong_value_names_the_setting(name: str, value: str, named: str) -> None:
    env = {"AMBASSADOR_CONFIG": CONFIG, name: value}
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_postgresql_needs_a_secret_key_and_says_how_to_make_one() -> None:
    env = {"AMBASSADOR_CONFIG": CONFIG, "DATABASE_URL": "postgresql://u@h/db"}
    with pytest.raises(SettingsError, match=r"AMBASSADOR_SECRET_KEY is not set.*token_urlsafe"):
        load_settings(env)
    # SQLite needs none: its key file is made at start-up, beside the database.
    assert load_settings({"AMBASSADOR_CONFIG": CONFIG}).secret_key is None


def test_the_secret_key_is_read_in_its_usual_spellings_and_never_shown() -> None:
    raw = bytes(range(224, 256))  # its standard base64 has "+" and "/"
    spellings = [
        base64.urlsafe_b64encode(raw).decode().rstrip("="),  # secrets.token_urlsafe(32)
        base64.b64encode(raw).decode(),  # openssl rand -base64 32
        f"  {base64.urlsafe_b64encode(raw).decode()}\n",  # pasted from a file
    ]
    keys = [
        load_settings({"AMBASSADOR_CONFIG": CONFIG, "AMBASSADOR_SECRET_KEY": value}).secret_key
        for value in spellings
    ]
    assert keys[0] is not None and all(key is not None and key.id == keys[0].id for key in keys)
    settings = load_settings({"AMBASSADOR_CONFIG": CONFIG, "AMBASSADOR_SECRET_KEY": spellings[1]})
    assert spellings[1] not in repr(settings) and spellings[0] not in repr(settings)
    assert spellings[0] not in repr(settings.secret_key)


def test_a_broken_config_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[general\nlocale = 'en'")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"AMBASSADOR_CONFIG": str(broken)})
    bad_ladder = tmp_path / "ladder.toml"
    bad_ladder.write_text("[[ladder.levels]]\nname_en = 'No id'\n")
    with pytest.raises(SettingsError, match="ladder level #1 needs an id"):
        load_settings({"AMBASSADOR_CONFIG": str(bad_ladder)})


def test_pulse_and_rate_limit_defaults_are_typed_and_checked(tmp_path: Path) -> None:
    settings = load_settings({"AMBASSADOR_CONFIG": CONFIG})
    assert settings.pulse.deadline_days == 7 and settings.pulse.reminders == 1
    assert settings.rate_limits.slack_per_conversation_per_second == 1.0
    too_many = tmp_path / "pulse.toml"
    too_many.write_text("[pulse]\nreminders = 3\n")
    with pytest.raises(SettingsError, match="never more than two"):
        load_settings({"AMBASSADOR_CONFIG": str(too_many)})
    negative = tmp_path / "limits.toml"
    negative.write_text("[rate_limits]\nslack_per_conversation_per_second = -1\n")
    with pytest.raises(SettingsError, match="slack_per_conversation_per_second"):
        load_settings({"AMBASSADOR_CONFIG": str(negative)})


def test_retention_defaults_are_the_documented_ones() -> None:
    retention = load_settings({"AMBASSADOR_CONFIG": CONFIG}).retention
    assert (retention.inbox_days, retention.failed_days, retention.outbox_days) == (7, 30, 30)
    assert (retention.dedupe_days, retention.uninstalled_days) == (2, 30)
    assert (retention.playground_days, retention.audit_days) == (90, 365)
    assert (retention.daily_at, retention.batch_size, retention.pause_ms) == ("03:30", 1000, 20)


def _with_retention(tmp_path: Path, line: str) -> dict[str, str]:
    """The shipped config file, its [retention] section (the last one) holding only `line`."""
    text = Path(CONFIG).read_text().split("\n[retention]\n")[0]
    (tmp_path / "badges").symlink_to(Path(CONFIG).parent / "badges")
    (tmp_path / "bot.toml").write_text(f"{text}\n[retention]\n{line}\n")
    return {"AMBASSADOR_CONFIG": str(tmp_path / "bot.toml")}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("inbox_days = 0", r"\[retention\] inbox_days must be a whole number of days between 1"),
        ("inbox_days = 2.5", r"\[retention\] inbox_days must be a whole number of days"),
        ('inbox_days = "7"', r"inbox_days .* got '7'"),
        ("inbox_days = true", r"inbox_days .* got True"),
        ("inbox_days = 99999", r"inbox_days must be a whole number of days between 1 and 3650"),
        ("inbox_day = 3", r"\[retention\] has no setting 'inbox_day' \(known: .*inbox_days"),
        ('daily_at = "25:00"', r'daily_at must be a time of day such as "03:30", got \'25:00\''),
        ('daily_at = "3h"', r"daily_at must be a time of day"),
        ("daily_at = 3", r"daily_at must be a time of day"),
        ("batch_size = 1", r"\[retention\] batch_size must be a whole number between 10"),
        ("pause_ms = -1", r"\[retention\] pause_ms must be a whole number between 0"),
    ],
)
def test_a_wrong_retention_value_is_one_line_naming_its_key(
    tmp_path: Path, line: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        load_settings(_with_retention(tmp_path, line))
    assert "\n" not in str(refused.value) and str(refused.value).startswith(str(tmp_path))


def test_retention_values_are_read(tmp_path: Path) -> None:
    retention = load_settings(_with_retention(tmp_path, 'inbox_days = 3\ndaily_at = "4:05"'))
    assert retention.retention.inbox_days == 3 and retention.retention.daily_at == "04:05"


def test_mentoring_weights_are_read_and_checked(tmp_path: Path) -> None:
    settings = load_settings({"AMBASSADOR_CONFIG": CONFIG})
    assert settings.mentoring.weights.pair == 10.0 and settings.mentoring.weights.spread == 1.0
    text = Path(CONFIG).read_text().replace("spread = 1.0", "spread = -1")
    (tmp_path / "badges").symlink_to(Path(CONFIG).parent / "badges")
    (tmp_path / "bot.toml").write_text(text)
    with pytest.raises(SettingsError, match=r"\[mentoring\] spread must be a positive number"):
        load_settings({"AMBASSADOR_CONFIG": str(tmp_path / "bot.toml")})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1.2"}, "not both"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "xapp-"),
        ({"MicrosoftAppId": "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f"}, "MicrosoftAppPassword"),
        (
            {"MicrosoftAppId": "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f", "MicrosoftAppPassword": "p"},
            "MicrosoftAppTenantId",
        ),
        ({"MicrosoftAppType": "Anything"}, "MicrosoftAppType"),
        ({"MicrosoftAppType": "UserAssignedMSI"}, "not supported: register the Azure Bot as"),
    ],
)
def test_platform_credentials_that_cannot_work_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings({"AMBASSADOR_CONFIG": CONFIG, **env})


def test_platform_credentials_that_work() -> None:
    slack = load_settings(
        {"AMBASSADOR_CONFIG": CONFIG, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    ).slack
    assert slack.enabled and slack.socket_mode and not slack.oauth
    teams = load_settings(
        {
            "AMBASSADOR_CONFIG": CONFIG,
            "MicrosoftAppId": "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f",
            "MicrosoftAppPassword": "p",
            "MicrosoftAppTenantId": "56653e9d-2158-46ee-90d7-675c39642038",
        }
    ).teams
    assert teams.authenticated
    assert teams.token_endpoint == (
        "https://login.microsoftonline.com/56653e9d-2158-46ee-90d7-675c39642038/oauth2/v2.0/token"
    )
    local = load_settings({"AMBASSADOR_CONFIG": CONFIG})
    assert not local.slack.enabled and not local.teams.authenticated


SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
TEAMS_ENV = {
    "MicrosoftAppId": "6f1c7d3e-2b4a-4c5d-8e9f-0a1b2c3d4e5f",
    "MicrosoftAppPassword": "p",
    "MicrosoftAppTenantId": "56653e9d-2158-46ee-90d7-675c39642038",
}
TOKEN = "x" * 32


@pytest.mark.parametrize(
    ("env", "served"),
    [
        ({}, True),  # a bare bot on 127.0.0.1: `ambassador-bot serve` on a laptop
        ({"AMBASSADOR_HOST": "::1"}, True),
        ({"AMBASSADOR_HOST": "localhost"}, True),
        (SLACK_ENV, False),  # a platform is configured: only when asked
        (TEAMS_ENV, False),
        ({"AMBASSADOR_HOST": "0.0.0.0"}, False),  # reachable from elsewhere: only when asked
        ({"AMBASSADOR_HOST": "10.0.0.5"}, False),
        ({**SLACK_ENV, "AMBASSADOR_PLAYGROUND": "1"}, True),
        ({"AMBASSADOR_PLAYGROUND": "0"}, False),
        (
            {
                "AMBASSADOR_HOST": "0.0.0.0",
                "AMBASSADOR_PLAYGROUND": "1",
                "AMBASSADOR_PLAYGROUND_TOKEN": TOKEN,
            },
            True,
        ),
    ],
)
def test_the_playground_is_served_only_when_asked_or_safe(
    env: dict[str, str], served: bool
) -> None:
    assert load_settings({"AMBASSADOR_CONFIG": CONFIG, **env}).playground is served


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"AMBASSADOR_HOST": "0.0.0.0", "AMBASSADOR_PLAYGROUND": "1"},
            "AMBASSADOR_PLAYGROUND_TOKEN",
        ),
        ({"AMBASSADOR_PLAYGROUND_TOKEN": "short"}, "at least 24 characters"),
        ({"AMBASSADOR_PLAYGROUND": "maybe"}, "AMBASSADOR_PLAYGROUND must be 1 or 0"),
        ({**TEAMS_ENV, "TEAMS_ALLOW_UNAUTHENTICATED": "1"}, "unset it when MicrosoftAppId"),
        ({"TEAMS_SERVICE_URLS": "smba.example.com"}, "TEAMS_SERVICE_URLS"),
        ({"TEAMS_ALLOW_UNAUTHENTICATED": "1", "AMBASSADOR_HOST": "0.0.0.0"}, "only on 127.0.0.1"),
    ],
)
def test_an_unsafe_playground_or_teams_setting_is_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings({"AMBASSADOR_CONFIG": CONFIG, **env})


def test_teams_without_credentials_is_off_unless_asked() -> None:
    assert not load_settings({"AMBASSADOR_CONFIG": CONFIG}).teams.enabled
    asked = load_settings({"AMBASSADOR_CONFIG": CONFIG, "TEAMS_ALLOW_UNAUTHENTICATED": "1"})
    assert asked.teams.enabled and not asked.teams.authenticated
    assert load_settings({"AMBASSADOR_CONFIG": CONFIG, **TEAMS_ENV}).teams.enabled


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("0.0.0.0", "http://localhost:3978"),  # the image's bind address
        ("::", "http://localhost:3978"),
        ("127.0.0.1", "http://127.0.0.1:3978"),
        ("::1", "http://[::1]:3978"),
        ("bot.internal", "http://bot.internal:3978"),
    ],
)
def test_links_never_name_a_wildcard_bind_address(host: str, base_url: str) -> None:
    env = {"AMBASSADOR_CONFIG": CONFIG, "AMBASSADOR_HOST": host, "AMBASSADOR_PLAYGROUND": "0"}
    assert load_settings(env).base_url == base_url
    public = {**env, "PUBLIC_BASE_URL": "https://bot.example.org/"}
    assert load_settings(public).base_url == "https://bot.example.org"
