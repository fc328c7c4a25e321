"""Slack's settings section: SlackSettings and its reading from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.env_values import SettingsError


@dataclass(frozen=True)
class SlackSettings:
    """Slack's credentials, all from the environment (see the README's Slack set-up).

    One workspace: SLACK_BOT_TOKEN. Several: OAuth (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET,
    SLACK_STATE_SECRET), installations kept in the database. Requests arrive over HTTP
    (SLACK_SIGNING_SECRET checks them) or over Socket Mode (SLACK_APP_TOKEN).
    """

    bot_token: str = ""
    signing_secret: str = ""
    app_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    state_secret: str = ""
    api_base_url: str = "https://slack.com/api/"

    @property
    def enabled(self) -> bool:
        """Whether Slack is configured at all."""
        return bool((self.bot_token or self.client_id) and (self.signing_secret or self.app_token))

    @property
    def oauth(self) -> bool:
        """Several workspaces, installed through OAuth."""
        return bool(self.client_id)

    @property
    def socket_mode(self) -> bool:
        """Requests arrive over a WebSocket opened by the bot (no public URL needed)."""
        return bool(self.app_token)


def load(env: Mapping[str, str]) -> SlackSettings:
    """SLACK_* read and checked together; SettingsError names what is missing or wrong."""
    names = {
        "bot_token": "SLACK_BOT_TOKEN",
        "signing_secret": "SLACK_SIGNING_SECRET",
        "app_token": "SLACK_APP_TOKEN",
        "client_id": "SLACK_CLIENT_ID",
        "client_secret": "SLACK_CLIENT_SECRET",
        "state_secret": "SLACK_STATE_SECRET",
    }
    values = {field_name: env.get(name, "").strip() for field_name, name in names.items()}
    slack = SlackSettings(
        **values,
        api_base_url=_parse_api_url(
            env.get("SLACK_API_BASE_URL", "").strip() or "https://slack.com/api/"
        ),
    )
    if slack.bot_token and slack.client_id:
        raise SettingsError(
            "Set SLACK_BOT_TOKEN for one workspace or SLACK_CLIENT_ID (OAuth, several "
            "workspaces), not both"
        )
    if slack.client_id and not (slack.client_secret and slack.state_secret):
        raise SettingsError(
            "SLACK_CLIENT_ID is set: also set SLACK_CLIENT_SECRET (Basic Information > App "
            "Credentials) and SLACK_STATE_SECRET (any long random text)"
        )
    if (slack.bot_token or slack.client_id) and not (slack.signing_secret or slack.app_token):
        raise SettingsError(
            "Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)"
        )
    if slack.client_id and not slack.signing_secret:
        raise SettingsError(
            "OAuth installs arrive over HTTP: SLACK_CLIENT_ID needs SLACK_SIGNING_SECRET too"
        )
    if slack.app_token and not slack.app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    return slack


def _parse_api_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise SettingsError(
            f"SLACK_API_BASE_URL must start with http:// or https:// (got {value!r})"
        )
    return value if value.endswith("/") else value + "/"
