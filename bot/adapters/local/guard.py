"""Who may use the playground: the checks every page and API call of it passes first.

The playground acts as whoever the request names, admins included, so it is a door to
guard like the platforms' (SECURITY.md, "The doors"):

- Host: only this bot's own names (its listening address, PUBLIC_BASE_URL's host, loopback
  names). A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) sends
  its own name as Host and is refused.
- Cross-site: a browser names the page that made the request in `Origin` and says
  `Sec-Fetch-Site: cross-site`; either pointing elsewhere is refused, so another site open
  in the same browser cannot drive the API (https://owasp.org/www-community/attacks/csrf).
- Body: POSTs are `application/json` only. A cross-site form or a `text/plain` fetch (the
  "simple requests" browsers send without asking, https://fetch.spec.whatwg.org/#cors-safelisted-request-header)
  cannot have that type.
- Token: with AMBASSADOR_PLAYGROUND_TOKEN, every request carries it, as
  `Authorization: Bearer …` or as the cookie set when the page is opened once with
  `/?token=…` (HttpOnly, SameSite=Strict, compared in constant time).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web

from bot.settings import Settings, is_loopback_host

COOKIE = "ambassador_playground"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _hostname(value: str) -> str:
    """The host part of a Host header or a URL's netloc, lower-cased, without the port."""
    try:
        return (urlsplit(f"//{value}").hostname or "").lower()
    except ValueError:
        return ""


class PlaygroundGuard:
    """Decides whether a request may reach the playground; `refusal` says why not."""

    def __init__(self, settings: Settings) -> None:
        names = set(_LOOPBACK_NAMES)
        if settings.host not in ("0.0.0.0", "::", ""):
            names.add(settings.host.strip("[]").lower())
        if settings.public_url:
            names.add((urlsplit(settings.public_url).hostname or "").lower())
        self._names = frozenset(name for name in names if name)
        self._token = settings.playground_token.encode()
        self._secure_cookie = settings.public_url.startswith("https://")

    def refusal(self, request: web.Request) -> web.Response | None:
        """The 4xx answer for a request that may not use the playground, else None."""
        host = _hostname(request.headers.get("Host", ""))
        if host not in self._names and not is_loopback_host(host):
            return _refuse(
                421, "this address is not this bot's: open the playground by its own address"
            )
        if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
            return _refuse(403, "requests from another site are refused")
        origin = request.headers.get("Origin")
        if origin is not None and not self._same_origin(origin, request):
            return _refuse(403, "requests from another site are refused")
        if self._token and not self._has_token(request):
            return _refuse(
                401,
                "this playground needs its token: open /?token=<AMBASSADOR_PLAYGROUND_TOKEN> "
                "once, or send `Authorization: Bearer <token>`",
            )
        if request.method == "POST" and request.content_type != "application/json":
            return _refuse(415, "send the body as JSON, with Content-Type: application/json")
        return None

    def token_in_query(self, request: web.Request) -> bool:
        """Whether the page was opened with the right `?token=`."""
        given = request.query.get("token", "")
        return bool(self._token) and hmac.compare_digest(given.encode(), self._token)

    def remember_token(self, response: web.StreamResponse) -> None:
        """Keep the token in a cookie the browser sends back to this site only."""
        response.set_cookie(
            COOKIE,
            self._token.decode(),
            httponly=True,
            samesite="Strict",
            secure=self._secure_cookie,
            path="/",
        )

    def _has_token(self, request: web.Request) -> bool:
        scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
        given = bearer.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE, "")
        return hmac.compare_digest(given.encode(), self._token)

    def _same_origin(self, origin: str, request: web.Request) -> bool:
        # "null" (sandboxed frames, file://) and any other site are foreign; the page's own
        # origin names the same host and port the request was sent to.
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        return parts.netloc.lower() == request.headers.get("Host", "").lower()


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
