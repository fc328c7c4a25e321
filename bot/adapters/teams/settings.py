"""Teams' settings section: TeamsSettings and its reading from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.env_values import SettingsError, parse_bool


@dataclass(frozen=True)
class TeamsSettings:
    """Teams' credentials, under the Bot Framework samples' names (MicrosoftAppId, …).

    None set: Teams is off (every activity refused) unless TEAMS_ALLOW_UNAUTHENTICATED=1
    asks for local development without tokens; the start-up log then says so loudly.
    """

    app_id: str = ""
    app_password: str = ""
    tenant_id: str = ""
    app_type: str = "SingleTenant"
    # Where the bot's own tokens come from (client credentials); a test double in tests.
    token_url: str = ""
    # Where the keys that sign the Bot Connector's requests are published.
    openid_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    # Only these tenants may use the bot (empty: any tenant that installs it).
    allowed_tenants: frozenset[str] = frozenset()
    # TEAMS_ALLOW_UNAUTHENTICATED=1: no credentials, unsigned activities accepted (local
    # development only; never inferred from where a request comes from).
    allow_unauthenticated: bool = False
    # TEAMS_SERVICE_URLS: service URLs trusted besides Bot Framework's documented Teams hosts.
    extra_service_urls: tuple[str, ...] = ()

    @property
    def authenticated(self) -> bool:
        """Whether credentials are configured (requests must then carry a valid token)."""
        return bool(self.app_id and self.app_password)

    @property
    def enabled(self) -> bool:
        """Whether /api/messages accepts activities at all."""
        return self.authenticated or self.allow_unauthenticated

    @property
    def token_endpoint(self) -> str:
        """The token endpoint: the tenant's for single-tenant bots, else Bot Framework's."""
        if self.token_url:
            return self.token_url
        authority = self.tenant_id if self.app_type == "SingleTenant" else "botframework.com"
        return f"https://login.microsoftonline.com/{authority}/oauth2/v2.0/token"


def load(env: Mapping[str, str]) -> TeamsSettings:
    """MicrosoftApp* and TEAMS_* read and checked together; SettingsError names what is
    missing or wrong."""
    names = {
        "app_id": "MicrosoftAppId",
        "app_password": "MicrosoftAppPassword",
        "tenant_id": "MicrosoftAppTenantId",
        "token_url": "TEAMS_TOKEN_URL",
    }
    values = {field_name: env.get(name, "").strip() for field_name, name in names.items()}
    values["openid_url"] = env.get("TEAMS_OPENID_URL", "").strip() or TeamsSettings.openid_url
    app_type = env.get("MicrosoftAppType", "").strip() or "SingleTenant"
    if app_type == "UserAssignedMSI":
        # A managed identity's token comes from the Azure host (IMDS), not a client secret.
        raise SettingsError(
            "MicrosoftAppType UserAssignedMSI is not supported: register the Azure Bot as "
            "SingleTenant and give MicrosoftAppPassword (a client secret)"
        )
    if app_type not in ("SingleTenant", "MultiTenant"):
        raise SettingsError(
            f"MicrosoftAppType must be SingleTenant (the default) or MultiTenant, got {app_type!r}"
        )
    allowed = frozenset(
        tenant.strip()
        for tenant in env.get("TEAMS_ALLOWED_TENANTS", "").split(",")
        if tenant.strip()
    )
    teams = TeamsSettings(
        **values,
        app_type=app_type,
        allowed_tenants=allowed,
        allow_unauthenticated=parse_bool(
            "TEAMS_ALLOW_UNAUTHENTICATED", env.get("TEAMS_ALLOW_UNAUTHENTICATED", "0")
        ),
        extra_service_urls=_service_urls(env.get("TEAMS_SERVICE_URLS", "")),
    )
    if bool(teams.app_id) != bool(teams.app_password):
        raise SettingsError("Teams needs both MicrosoftAppId and MicrosoftAppPassword (or neither)")
    if teams.authenticated and teams.allow_unauthenticated:
        raise SettingsError(
            "TEAMS_ALLOW_UNAUTHENTICATED=1 is for local development without credentials: "
            "unset it when MicrosoftAppId and MicrosoftAppPassword are set"
        )
    if teams.authenticated and app_type == "SingleTenant" and not teams.tenant_id:
        raise SettingsError(
            "A single-tenant bot needs MicrosoftAppTenantId (the Azure Bot's tenant id)"
        )
    return teams


def _service_urls(value: str) -> tuple[str, ...]:
    urls = tuple(url.strip().rstrip("/") for url in value.split(",") if url.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(
                f"TEAMS_SERVICE_URLS entries must start with https:// (got {url[:80]!r})"
            )
    return urls
