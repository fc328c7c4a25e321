"""The assertion link a person opens: a readable page for browsers, the JSON-LD for verifiers
(content negotiation on Accept), in the earner's language, escaping what people typed; and the
3.0 credential as a named download."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.open_badges.page import wants_html
from tests.support.playground import Playground

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


class _Page(HTMLParser):
    """The visible text and the image sources of an HTML page (scripts would be counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found.get("src") or "")
        if tag == "a":
            self.links.append(found.get("href") or "")
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    parsed = _Page()
    parsed.feed(html)
    return parsed


async def _badge(bot: Playground, who: dict[str, str], start: bool = True) -> str:
    """The assertion URL of `who`'s first badge (Junior), earned in the playground."""
    if start:  # one open session: with two, `join` asks which
        await bot.command("anim1", "session start Feedback")
    await bot.command(who, "join")
    # Each a different story: the same text twice is not counted twice.
    await bot.command(who, f"share {who['id']} starts 1:1s with a success")
    return await _assertion(bot, who["id"])


async def _assertion(bot: Playground, user_id: str) -> str:
    """The path of the assertion the last badge DM to `user_id` links to."""
    dm = [m for m in await bot.messages(f"dm:{user_id}") if m["card"] and m["card"]["buttons"]]
    assert dm, await bot.messages(f"dm:{user_id}")
    paths = {urlsplit(b["url"]).path for b in dm[-1]["card"]["buttons"]}
    [assertion] = [path for path in paths if path.split("/")[-2] == "assertions"]
    return assertion


async def _get(bot: Playground, path: str, accept: str | None, status: int) -> Any:
    headers = {"Accept": accept} if accept is not None else {}
    response = await bot.client.get(path, headers=headers)
    assert response.status == status, await response.text()
    return response


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/ld+json", False),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("", False),
        ("application/ld+json, text/html;q=0.5", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html;q=0, */*", False),
        ("text/html, application/ld+json", False),  # a tie: verifiers keep their JSON
        ("text/html;q=junk", False),
    ],
)
def test_only_a_request_preferring_html_gets_the_page(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html


async def test_a_browser_gets_a_readable_escaped_page_verifiers_the_json_ld(
    bot: Playground,
) -> None:
    who = {"id": "eve", "name": "Eve <script>alert(1)</script> & co", "locale": "en"}
    path = await _badge(bot, who)
    response = await _get(bot, path, BROWSER, 200)
    assert response.content_type == "text/html"
    assert "Accept" in response.headers["Vary"]
    html = await response.text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    page = _parse(html)
    text = " ".join(page.text)
    assert page.scripts == 0
    assert "Eve <script>alert(1)</script> & co holds the Junior ambassador badge" in text
    assert "Issued by Ambassador playground" in text
    assert "Criteria of this level" in text and "How to verify" in text
    assert [urlsplit(src).path for src in page.images] == ["/badges/images/junior.png"]
    assert any(urlsplit(link).path == f"{path}/credential" for link in page.links)
    # The image the page shows is served.
    image = await bot.client.get(urlsplit(page.images[0]).path)
    assert image.status == 200 and (await image.read()).startswith(b"\x89PNG")
    # A verifier asking for JSON-LD, JSON or anything gets the hosted assertion as before.
    for accept in ("application/ld+json", "application/json", "*/*", None):
        response = await _get(bot, path, accept, 200)
        assert response.content_type == "application/ld+json"
        assert json.loads(await response.read())["type"] == "Assertion"


async def test_the_page_speaks_the_earners_language(bot: Playground) -> None:
    who = {"id": "zoe", "name": "Zoé", "locale": "fr"}
    path = await _badge(bot, who)
    html = await (await _get(bot, path, BROWSER, 200)).text()
    text = " ".join(_parse(html).text)
    assert "<html lang='fr'>" in html
    assert "Zoé détient le badge" in text and "des ambassadeurs" in text
    assert "Comment le vérifier\u00a0:" in text


async def test_a_granted_badge_shows_the_reason_escaped(bot: Playground) -> None:
    await bot.command("bob", "join")
    await bot.command("anim1", "badge grant @bob junior <b>ran</b> the launch")
    html = await (await _get(bot, await _assertion(bot, "bob"), BROWSER, 200)).text()
    assert "<b>" not in html
    assert "“<b>ran</b> the launch”" in " ".join(_parse(html).text)
    # Without a reason: said of the holder, not to them (the page is public).
    await bot.command("anim1", "badge grant @bob confirmed")
    html = await (await _get(bot, await _assertion(bot, "bob"), BROWSER, 200)).text()
    assert "The animators granted it." in html and "you" not in html.lower()


async def test_a_revoked_or_erased_badge_shows_a_neutral_page_with_410(bot: Playground) -> None:
    bob = {"id": "bob", "name": "Bob Secret", "locale": "en"}
    chloe = {"id": "chloe", "name": "Chloé Secret", "locale": "fr"}
    revoked = await _badge(bot, bob)
    erased = await _badge(bot, chloe, start=False)
    await bot.command("anim1", "badge revoke @bob junior HR case 4711")
    response = await _get(bot, revoked, BROWSER, 410)
    assert response.content_type == "text/html"
    html = await response.text()
    text = " ".join(_parse(html).text)
    assert "This badge is no longer valid" in text and "Revoked by the issuer." in text
    assert "Bob" not in html and "4711" not in html
    # Verifiers still get the JSON 410.
    gone = await _get(bot, revoked, "application/ld+json", 410)
    assert json.loads(await gone.read())["revoked"] is True

    [confirm] = await bot.command(chloe, "forget me")
    erase = confirm["card"]["buttons"][0]
    await bot.action(chloe, erase["action_id"], erase["value"])
    html = await (await _get(bot, erased, BROWSER, 410)).text()
    assert "Chloé" not in html and "This badge is no longer valid" in html
    await _get(bot, erased, "application/json", 410)


async def test_an_unknown_badge_is_still_404_for_a_browser(bot: Playground) -> None:
    await _get(bot, "/badges/assertions/00000000000000000000000000000000", BROWSER, 404)
    await _get(bot, "/badges/assertions/<script>", BROWSER, 404)


async def test_the_3_0_credential_downloads_as_a_named_vc_jwt(bot: Playground) -> None:
    path = await _badge(bot, {"id": "bob", "name": "Bob", "locale": "en"})
    response = await _get(bot, f"{path}/credential", None, 200)
    assert response.content_type == "application/vc+jwt"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="junior-open-badge-3.jwt"'
    assert (await response.text()).count(".") == 2  # a compact JWS
