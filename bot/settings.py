"""Typed settings, read once at start-up from the environment and config/ambassador.toml.

Secrets come only from the environment. A wrong value raises SettingsError with one
line naming the setting; the CLI turns it into exit code 2 without a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.adapters.slack import settings as slack_section
from bot.adapters.slack.settings import SlackSettings
from bot.adapters.teams import settings as teams_section
from bot.adapters.teams.settings import TeamsSettings
from bot.env_values import SettingsError, parse_bool
from bot.ladder import DEFAULT_LADDER, Ladder, LadderError, parse_ladder
from bot.mentoring.weights import Weights
from storage.sealing import HOW_TO_MAKE_A_KEY, KeyFormatError, SecretKey

# SettingsError is imported from here by its callers; it is defined in bot/env_values.py, below
# this module and the platforms' own sections (bot/adapters/<name>/settings.py), which raise it.
SUPPORTED_LOCALES = ("en", "fr")
DEFAULT_CONFIG_PATH = "config/ambassador.toml"
DEFAULT_DATABASE_URL = "sqlite:///var/ambassador.db"
# The platforms an AMBASSADOR_ADMINS entry may name (bot/platforms.py registers the same ones;
# tests/bot/test_platforms.py checks it: this module cannot import that registry, which imports
# every adapter, which import these settings).
ADMIN_PLATFORMS = ("local", "slack", "teams")


@dataclass(frozen=True)
class OutboxSettings:
    """How the outbox sender polls and retries."""

    poll_interval: float = 1.0
    max_attempts: int = 12
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    # How long a claimed batch is reserved for its sender; after a crash, it waits that long.
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class PulseSettings:
    """Defaults of NPS pulses (used by the pulses issue; validated from day one)."""

    deadline_days: int = 7
    reminders: int = 1
    reminder_after_days: int = 3


@dataclass(frozen=True)
class ChallengeSettings:
    """How long challenge occurrences stay open, and how late a missed run may still post."""

    open_days: int = 7
    missed_grace_hours: float = 6.0


@dataclass(frozen=True)
class BadgeIssuerSettings:
    """Who issues the Open Badges (the Issuer Profile); empty name/url: the workspace's
    name and the bot's public address."""

    name: str = ""
    email: str = "badges@example.org"
    url: str = ""


@dataclass(frozen=True)
class MentoringSettings:
    """Mentoring ([mentoring]): who may mentor, rounds, check-ins, the matcher's weights."""

    weights: Weights = field(default_factory=Weights)
    # The lowest badge level that may volunteer; members below it are novices.
    mentor_level: str = "confirmed"
    default_capacity: int = 2
    round_every_days: int = 14
    check_in_days: int = 14


@dataclass(frozen=True)
class RateLimitSettings:
    """Messages per second the sender allows itself per conversation, per platform."""

    slack_per_conversation_per_second: float = 1.0
    # Posts to one channel allowed back to back before the per-second pace applies.
    slack_channel_burst: int = 3
    # Slack keeps a workspace-wide limit on chat.postMessage too, unpublished; a 429
    # beyond it is still honoured (Retry-After).
    slack_workspace_posts_per_minute: float = 600.0
    # chat.update is a Tier 3 method (50+ per minute per workspace).
    slack_workspace_edits_per_minute: float = 50.0
    slack_edit_burst: int = 10
    teams_per_conversation_per_second: float = 7.0
    # Teams allows 50 requests/s per app per tenant; the bot keeps some margin.
    teams_tenant_per_second: float = 40.0


@dataclass(frozen=True)
class RetentionSettings:
    """How long each kind of record is kept ([retention]; the daily purge, bot/retention.py).

    Days are whole days counted from the moment named in each comment of the config file.
    """

    # When the daily purge starts, in the [general] time zone ("HH:MM").
    daily_at: str = "03:30"
    inbox_days: int = 7
    failed_days: int = 30
    outbox_days: int = 30
    dedupe_days: int = 2
    uninstalled_days: int = 30
    playground_days: int = 90
    audit_days: int = 365
    # Rows per transaction, and the pause between two transactions (milliseconds).
    batch_size: int = 1000
    pause_ms: int = 20


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment, typed and validated."""

    host: str = "127.0.0.1"
    port: int = 3978
    locale: str = "en"
    timezone: str = "Europe/Paris"
    config_path: str = DEFAULT_CONFIG_PATH
    admins: frozenset[tuple[str, str]] = frozenset()
    database_url: str = DEFAULT_DATABASE_URL
    log_format: str = "text"
    local_clock_control: bool = False
    signup_code_length: int = 6
    ladder: Ladder = DEFAULT_LADDER
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    pulse: PulseSettings = field(default_factory=PulseSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    challenges: ChallengeSettings = field(default_factory=ChallengeSettings)
    # Where people reach this bot from their browser (download links, Open Badges URLs);
    # PUBLIC_BASE_URL (or AMBASSADOR_PUBLIC_URL); "" = host and port.
    public_url: str = ""
    issuer: BadgeIssuerSettings = field(default_factory=BadgeIssuerSettings)
    mentoring: MentoringSettings = field(default_factory=MentoringSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    teams: TeamsSettings = field(default_factory=TeamsSettings)
    # The local playground (page and /local/api): served only when asked, or by default on
    # a loopback address with no platform configured (see _playground).
    playground: bool = True
    # With it, every page and API call of the playground needs this token.
    playground_token: str = ""
    # AMBASSADOR_THREAD_REPLIES=1: read the messages people write in channel threads, so
    # that one under a posted question counts as a reply (Slack's channels:history and
    # groups:history scopes, Teams' RSC permission ChannelMessage.Read.Group: the platform
    # then sends the bot every message of its channels). Off by default: replies are
    # typed with `reply` or the question's Reply button, and no channel message is read.
    thread_replies: bool = False
    # AMBASSADOR_VOICE=0: the community's themes and feeling are not computed (no model
    # loaded, no post read by the voice job; `themes` says so). On by default; the dashboard
    # bench turns it off so that it measures the page, not the reading of its million posts.
    voice: bool = True
    # AMBASSADOR_SECRET_KEY: seals tokens and the signing key at rest. None: a SQLite
    # deployment's key file, resolved at start-up (bot/secret_key.py). Never in a repr.
    secret_key: SecretKey | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """The bot's address for links it gives out (PUBLIC_BASE_URL, else host:port; a
        wildcard bind address such as the image's 0.0.0.0 is no address to open: localhost)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{link_host(self.host)}:{self.port}"

    def is_admin(self, platform: str, user_id: str) -> bool:
        """True when `platform:user_id` is listed in AMBASSADOR_ADMINS."""
        return (platform, user_id) in self.admins


def _parse_port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(
            "AMBASSADOR_PORT must be a number between 0 and 65535 (0 picks a free port), "
            f"got {value!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"AMBASSADOR_PORT must be between 0 and 65535, got {port}")
    return port


def _parse_locale(name: str, value: str) -> str:
    locale = value.strip().lower()
    if locale not in SUPPORTED_LOCALES:
        raise SettingsError(f"{name} must be one of {', '.join(SUPPORTED_LOCALES)}, got {value!r}")
    return locale


def _parse_timezone(name: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name} must be an IANA time zone such as Europe/Paris, got {value!r}"
        ) from None
    return value


def parse_admins(value: str) -> frozenset[tuple[str, str]]:
    """Parse AMBASSADOR_ADMINS: comma-separated `platform:user id` entries.

    The platform prefix is mandatory so that an id on one platform never grants
    rights on another.
    """
    admins: set[tuple[str, str]] = set()
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        platform, sep, user_id = entry.partition(":")
        if not sep or platform not in ADMIN_PLATFORMS or not user_id.strip():
            raise SettingsError(
                "AMBASSADOR_ADMINS entries must look like local:anim1, slack:U0123ABCD or "
                f"teams:<AAD object id>, got {entry!r}"
            )
        admins.add((platform, user_id.strip()))
    return frozenset(admins)


def _read_config(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise SettingsError(f"AMBASSADOR_CONFIG: no such file {path!r}")
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"AMBASSADOR_CONFIG: {path} is not valid TOML ({exc})") from None


def _mentoring(config: Mapping[str, Any], path: str, ladder: Ladder) -> MentoringSettings:
    weights = Weights(
        **{
            name: _number(config, "mentoring", name, default, path)
            for name, default in (
                ("pair", 10.0),
                ("topic", 3.0),
                ("session", 2.0),
                ("timezone", 1.0),
                ("spread", 1.0),
            )
        }
    )
    level = config.get("mentoring", {}).get("mentor_level", "confirmed")
    found = ladder.find(level) if isinstance(level, str) else None
    if found is None:
        names = ", ".join(lvl.id for lvl in ladder.levels)
        raise SettingsError(f"{path}: [mentoring] mentor_level must be one of {names}")
    return MentoringSettings(
        weights=weights,
        mentor_level=found.id,
        default_capacity=int(_number(config, "mentoring", "default_capacity", 2, path)),
        round_every_days=int(_number(config, "mentoring", "round_every_days", 14, path)),
        check_in_days=int(_number(config, "mentoring", "check_in_days", 14, path)),
    )


def _ladder(config: Mapping[str, Any], path: str) -> Ladder:
    try:
        return parse_ladder(config, path)
    except LadderError as exc:
        raise SettingsError(str(exc)) from None


def _number(config: Mapping[str, Any], section: str, key: str, default: float, path: str) -> float:
    value = config.get(section, {}).get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SettingsError(f"{path}: [{section}] {key} must be a positive number, got {value!r}")
    return float(value)


def _rate_limits(config: Mapping[str, Any], path: str) -> RateLimitSettings:
    defaults = RateLimitSettings()
    values: dict[str, Any] = {}
    for name in RateLimitSettings.__dataclass_fields__:
        default = getattr(defaults, name)
        value = _number(config, "rate_limits", name, default, path)
        if isinstance(default, int):
            if value != int(value):
                raise SettingsError(f"{path}: [rate_limits] {name} must be a whole number")
            value = int(value)
        values[name] = value
    return RateLimitSettings(**values)


# [retention] day counts: (lowest, highest) allowed. Replay keys must outlive every platform
# retry, hence at least a day: Slack retries an event within 5 minutes (its opt-in "delayed
# events" hourly for 24 hours, https://docs.slack.dev/apis/events-api/), a signed request is
# valid 5 minutes (https://api.slack.com/authentication/verifying-requests-from-slack), the
# Bot Connector retries within minutes.
_RETENTION_DAYS = {
    "inbox_days": (1, 3650),
    "failed_days": (1, 3650),
    "outbox_days": (1, 3650),
    "dedupe_days": (1, 3650),
    "uninstalled_days": (1, 3650),
    "playground_days": (1, 3650),
    "audit_days": (1, 3650),
}
_RETENTION_LIMITS = {"batch_size": (10, 100_000), "pause_ms": (0, 10_000)}


def _retention(config: Mapping[str, Any], path: str) -> RetentionSettings:
    section = config.get("retention", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [retention] must be a table of settings")
    known = {"daily_at", *_RETENTION_DAYS, *_RETENTION_LIMITS}
    for key in section:
        if key not in known:
            # A misspelt key would silently keep the default: a DPO must see it refused.
            raise SettingsError(
                f"{path}: [retention] has no setting {key!r} (known: {', '.join(sorted(known))})"
            )
    defaults = RetentionSettings()
    values: dict[str, Any] = {}
    for key, (low, high) in {**_RETENTION_DAYS, **_RETENTION_LIMITS}.items():
        value = section.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            unit = "a whole number of days" if key.endswith("_days") else "a whole number"
            raise SettingsError(
                f"{path}: [retention] {key} must be {unit} between {low} and {high}, got {value!r}"
            )
        values[key] = value
    daily_at = section.get("daily_at", defaults.daily_at)
    hours, sep, minutes = daily_at.partition(":") if isinstance(daily_at, str) else ("", "", "")
    if not (
        sep
        and len(minutes) == 2
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise SettingsError(
            f'{path}: [retention] daily_at must be a time of day such as "03:30", got {daily_at!r}'
        )
    return RetentionSettings(daily_at=f"{int(hours):02d}:{minutes}", **values)


def _issuer(config: Mapping[str, Any], path: str) -> BadgeIssuerSettings:
    section = config.get("badges", {})
    values = {key: section.get(key, "") for key in ("issuer_name", "issuer_email", "issuer_url")}
    if not all(isinstance(value, str) for value in values.values()):
        raise SettingsError(f"{path}: [badges] issuer_name, issuer_email, issuer_url are text")
    email = values["issuer_email"] or BadgeIssuerSettings.email
    if email.count("@") != 1 or " " in email:
        raise SettingsError(f"{path}: [badges] issuer_email must be an email address")
    url = values["issuer_url"]
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(f"{path}: [badges] issuer_url must start with http:// or https://")
    return BadgeIssuerSettings(values["issuer_name"], email, url)


# Bind addresses meaning "every interface" (https://docs.python.org/3/library/socket.html):
# nobody can open a link to them, so links name localhost instead.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]", "*"})


def link_host(host: str) -> str:
    """How a link names the bind address `host`: localhost for a wildcard, IPv6 in brackets."""
    name = host.strip()
    if name in WILDCARD_HOSTS:
        return "localhost"
    return f"[{name}]" if ":" in name and not name.startswith("[") else name


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or an address) only reaches this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _playground(
    env: Mapping[str, str], host: str, slack: SlackSettings, teams: TeamsSettings
) -> tuple[bool, str]:
    """Whether the playground is served, and the token it then needs (may be empty).

    It lets anyone who reaches it act as any person, admins included: asked for with
    AMBASSADOR_PLAYGROUND=1, else served only on a loopback address of a bot that serves
    no platform. Reachable from other machines, it needs AMBASSADOR_PLAYGROUND_TOKEN.
    """
    asked = env.get("AMBASSADOR_PLAYGROUND", "").strip()
    if asked:
        enabled = parse_bool("AMBASSADOR_PLAYGROUND", asked)
    else:
        enabled = is_loopback_host(host) and not (slack.enabled or teams.authenticated)
    token = env.get("AMBASSADOR_PLAYGROUND_TOKEN", "").strip()
    if token and len(token) < 24:
        raise SettingsError(
            "AMBASSADOR_PLAYGROUND_TOKEN must be at least 24 characters (e.g. the output of "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if enabled and not token and not is_loopback_host(host):
        raise SettingsError(
            f"AMBASSADOR_PLAYGROUND=1 on AMBASSADOR_HOST={host} (reachable from other "
            "machines) lets anyone act as any user: also set AMBASSADOR_PLAYGROUND_TOKEN "
            "(at least 24 random characters), or listen on 127.0.0.1"
        )
    return enabled, token if enabled else ""


def _parse_public_url(value: str) -> str:
    url = value.strip()
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(
            f"PUBLIC_BASE_URL must start with http:// or https:// (got {url[:80]!r})"
        )
    return url


def _secret_key(env: Mapping[str, str], database_url: str) -> SecretKey | None:
    value = env.get("AMBASSADOR_SECRET_KEY", "").strip()
    if not value:
        if database_url.startswith("sqlite"):
            return None  # the key file beside the database (bot/secret_key.py)
        raise SettingsError(
            "AMBASSADOR_SECRET_KEY is not set: with PostgreSQL it seals Slack tokens and the "
            f"badge signing key at rest; make one with: {HOW_TO_MAKE_A_KEY}"
        )
    try:
        return SecretKey.parse(value, "AMBASSADOR_SECRET_KEY")
    except KeyFormatError as exc:
        raise SettingsError(str(exc)) from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming the first wrong one."""
    env = os.environ if env is None else env
    config_path = env.get("AMBASSADOR_CONFIG", DEFAULT_CONFIG_PATH)
    config = _read_config(config_path)
    general = config.get("general", {})

    locale = _parse_locale(
        "AMBASSADOR_LOCALE" if "AMBASSADOR_LOCALE" in env else f"{config_path}: locale",
        env.get("AMBASSADOR_LOCALE", str(general.get("locale", "en"))),
    )
    timezone = _parse_timezone(
        "AMBASSADOR_TIMEZONE" if "AMBASSADOR_TIMEZONE" in env else f"{config_path}: timezone",
        env.get("AMBASSADOR_TIMEZONE", str(general.get("timezone", "Europe/Paris"))),
    )
    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format!r}")
    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not database_url.startswith(("sqlite", "postgresql", "postgres://")):
        raise SettingsError(
            "DATABASE_URL must start with sqlite:/// or postgresql://, got "
            f"{database_url.split(':', 1)[0]}:…"
        )
    code_length = int(_number(config, "signup", "code_length", 6, config_path))
    if not 4 <= code_length <= 12:
        raise SettingsError(f"{config_path}: [signup] code_length must be between 4 and 12")
    outbox = OutboxSettings(
        poll_interval=_number(config, "outbox", "poll_interval", 1.0, config_path),
        max_attempts=int(_number(config, "outbox", "max_attempts", 12, config_path)),
        backoff_base=_number(config, "outbox", "backoff_base", 2.0, config_path),
        backoff_cap=_number(config, "outbox", "backoff_cap", 600.0, config_path),
        lease_seconds=_number(config, "outbox", "lease_seconds", 60.0, config_path),
    )
    reminders = int(_number(config, "pulse", "reminders", 1, config_path))
    if reminders > 2:
        raise SettingsError(
            f"{config_path}: [pulse] reminders must be 1 or 2 (never more than two)"
        )
    pulse = PulseSettings(
        deadline_days=int(_number(config, "pulse", "deadline_days", 7, config_path)),
        reminders=reminders,
        reminder_after_days=int(_number(config, "pulse", "reminder_after_days", 3, config_path)),
    )
    rate_limits = _rate_limits(config, config_path)
    ladder = _ladder(config, config_path)
    host = env.get("AMBASSADOR_HOST", "127.0.0.1").strip() or "127.0.0.1"
    slack, teams = slack_section.load(env), teams_section.load(env)
    playground, playground_token = _playground(env, host, slack, teams)
    if teams.allow_unauthenticated and not is_loopback_host(host):
        raise SettingsError(
            f"TEAMS_ALLOW_UNAUTHENTICATED=1 lets anyone who reaches AMBASSADOR_HOST={host} act "
            "as any Teams user: use it only on 127.0.0.1, or set the bot's Teams credentials"
        )
    return Settings(
        host=host,
        port=_parse_port(env.get("AMBASSADOR_PORT", "3978")),
        public_url=_parse_public_url(
            env.get("PUBLIC_BASE_URL") or env.get("AMBASSADOR_PUBLIC_URL", "")
        ),
        issuer=_issuer(config, config_path),
        mentoring=_mentoring(config, config_path, ladder),
        retention=_retention(config, config_path),
        slack=slack,
        teams=teams,
        playground=playground,
        playground_token=playground_token,
        thread_replies=parse_bool(
            "AMBASSADOR_THREAD_REPLIES", env.get("AMBASSADOR_THREAD_REPLIES", "0")
        ),
        voice=parse_bool("AMBASSADOR_VOICE", env.get("AMBASSADOR_VOICE", "1")),
        locale=locale,
        timezone=timezone,
        config_path=config_path,
        admins=parse_admins(env.get("AMBASSADOR_ADMINS", "")),
        database_url=database_url,
        secret_key=_secret_key(env, database_url),
        log_format=log_format,
        local_clock_control=parse_bool("LOCAL_CLOCK_CONTROL", env.get("LOCAL_CLOCK_CONTROL", "0")),
        signup_code_length=code_length,
        ladder=ladder,
        outbox=outbox,
        pulse=pulse,
        rate_limits=rate_limits,
        challenges=ChallengeSettings(
            open_days=int(_number(config, "challenges", "open_days", 7, config_path)),
            missed_grace_hours=_number(config, "challenges", "missed_grace_hours", 6, config_path),
        ),
    )
