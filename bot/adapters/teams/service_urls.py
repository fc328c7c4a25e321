"""Which Bot Connector addresses the bot may call (an activity's `serviceUrl`).

The bot sends its own access token to the service URL it answers to, so an activity that
named any URL would make the bot call — and hand its token to — anyone (a blind SSRF).
With credentials, only Microsoft's documented Teams service hosts are trusted: the public
cloud's `smba.trafficmanager.net` and the GCC, GCC High and DoD clouds'
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages,
the M365 Agents SDK's TeamsServiceEndpoints), always over HTTPS, plus the addresses listed in
TEAMS_SERVICE_URLS (a proxy, a sovereign cloud, a test double). Without credentials (local
development), only this machine and that list.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.adapters.teams.settings import TeamsSettings
from bot.settings import is_loopback_host

TEAMS_SERVICE_HOSTS = frozenset(
    {
        "smba.trafficmanager.net",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    }
)


class ServiceUrls:
    """The rule for one deployment: `trusted(url)`."""

    def __init__(self, teams: TeamsSettings) -> None:
        self._authenticated = teams.authenticated
        self._extra = tuple(_normalised(url) for url in teams.extra_service_urls)

    def trusted(self, url: str) -> bool:
        """Whether the bot may call this service URL."""
        normalised = _normalised(url)
        if any(normalised == extra or normalised.startswith(extra + "/") for extra in self._extra):
            return True
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            return False
        if parts.username or parts.password:
            return False
        if self._authenticated:
            return parts.scheme == "https" and host in TEAMS_SERVICE_HOSTS
        return parts.scheme in ("http", "https") and is_loopback_host(host)


def _normalised(url: str) -> str:
    return url.strip().rstrip("/").lower()
