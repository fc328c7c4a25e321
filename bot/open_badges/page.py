"""The badge page people see: the same assertion URL as the JSON-LD, negotiated on Accept.

A person opening the link the bot gives out (a browser asks for text/html) gets a readable
page: the badge image, the earner's name, the level and what it takes, the issue date and
how to verify it. A verifier (application/ld+json, application/json, or */* alone) gets the
Open Badges 2.0 hosted assertion as before: hosted verification fetches that URL and expects
JSON (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html#HostedBadge).
Everything taken from the database (names, reasons) is HTML-escaped: it is user data.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bot.core.context import member_locale
from bot.i18n import Translator
from bot.ladder import LevelSpec
from bot.open_badges import documents
from bot.settings import Settings
from storage.models import BadgeAward, Member, Workspace
from storage.vocabulary import BadgeSource

HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/ld+json", "application/json")

# No script, no third-party resource: the page only shows images from the bot itself.
CSP = "default-src 'none'; img-src 'self' https: http:; style-src 'unsafe-inline'"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}img{width:10rem;height:auto}"
    ".note{background:#f3f4f6;padding:.75rem 1rem;border-radius:.5rem;font-size:.95em}"
)


def _weights(accept: str) -> dict[str, float]:
    """The q-value of each media range of an Accept header (RFC 9110 §12.5.1)."""
    weights: dict[str, float] = {}
    for item in accept.split(","):
        parts = [part.strip() for part in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        weights[media] = max(q, weights.get(media, 0.0))
    return weights


def wants_html(accept: str | None) -> bool:
    """Whether a request with this Accept header asks for the page rather than JSON-LD: only
    when it names text/html (as browsers do) above any JSON type it names. No header, */*
    alone, or a JSON type at least as wanted: the JSON-LD verifiers expect."""
    weights = _weights(accept or "")
    html = max((weights.get(media, 0.0) for media in HTML_TYPES), default=0.0)
    json = max((weights.get(media, 0.0) for media in JSON_TYPES), default=0.0)
    return html > 0 and html > json


@dataclass(frozen=True)
class Shown:
    """What the page of a live award shows."""

    award: BadgeAward
    member: Member
    workspace: Workspace
    level: LevelSpec


def locale_of(settings: Settings, member: Member | None, workspace: Workspace | None) -> str:
    """The earner's language, else the workspace's, else the bot's default."""
    return member_locale(member, workspace, settings)


def _document(locale: str, title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='{locale}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def badge_page(shown: Shown, settings: Settings) -> str:
    """The HTML page of a live award, in its earner's (or workspace's) language."""
    award, member, workspace, level = shown.award, shown.member, shown.workspace, shown.level
    locale = locale_of(settings, member, workspace)
    t = Translator(locale)
    at, key = documents.urls(settings), documents.issuer_key(workspace)
    level_name = level.name(locale)
    title = t("badges.page_title", name=member.display_name, level=level_name)
    issued = t(
        "badges.page_issued",
        issuer=documents.issuer_name(workspace, settings),
        date=t.date(award.awarded_at, workspace.timezone or settings.timezone),
    )
    parts = [
        f"<img src='{escape(at.image(level.id))}' alt='{escape(level_name)}'>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(issued)}</p>",
        f"<h2>{escape(t('badges.page_criteria'))}</h2>",
        f"<p>{escape(level.description(locale))}</p>",
    ]
    if award.source == BadgeSource.GRANT:
        reason = (
            t("badges.page_granted", reason=award.reason)
            if award.reason
            else t("badges.page_granted_no_reason")
        )
        parts.append(f"<p>{escape(reason)}</p>")
    parts += [
        f"<p><a href='{escape(at.baked(award.uid))}'>{escape(t('badges.download'))}</a> · "
        f"<a href='{escape(at.credential(award.uid))}'>{escape(t('badges.credential'))}</a> · "
        f"<a href='{escape(at.criteria(key, level.id))}'>{escape(t('badges.page_criteria'))}</a>"
        "</p>",
        f"<p class='note'>{escape(t('badges.page_verify', url=at.assertion(award.uid)))}</p>",
    ]
    return _document(locale, title, "".join(parts))


def gone_page(locale: str) -> str:
    """The neutral page of a revoked badge, or of one whose holder asked to be forgotten:
    it names nobody and gives no reason beyond the issuer's withdrawal."""
    t = Translator(locale)
    title = t("badges.page_gone_title")
    body = f"<h1>{escape(title)}</h1><p>{escape(t('badges.page_gone'))}</p>"
    return _document(locale, title, body)
