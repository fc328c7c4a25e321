"""The dashboard's way in, in a real browser (Debian's Chromium through Playwright).

The chat is another site: a page at http://localhost:<port> holds the link the bot gave,
the bot is at http://127.0.0.1:<port> (two hosts, two sites). Clicking the link is a
cross-site navigation whose answer sets the SameSite=Strict cookie; the opening page's
meta refresh is a new, same-site navigation, so the browser sends the cookie and the
dashboard shows, its address without the token. No script error, no policy violation
(Chromium reports a blocked stylesheet or image on the console). Screenshots in
var/test-artifacts/dashboard/. Skips without Chromium or Playwright, unless
AMBASSADOR_REQUIRE_BROWSER=1 (CI).

The figures are a hand-made `Dashboard` (tests/support/dashboards.py): the query layer is
not what this test is about.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.dashboard.routes import Figures
from bot.ladder import Ladder
from bot.server import DASHBOARD, build_app, create_runtime
from bot.steering.filters import Filters
from bot.steering.model import Dashboard, Scope
from tests.conftest import make_settings
from tests.support import browser as browser_support
from tests.support import dashboards, databases
from tests.support.playground import Playground

with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Page

REQUIRED_BY = "AMBASSADOR_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "dashboard"


async def _resolve(_db: AsyncSession, _ws: int, filters: Filters, _tz: str) -> Scope:
    return dashboards.scope(filters)


async def _gather(
    _sessions: async_sessionmaker[AsyncSession],
    _ws: int,
    scope: Scope,
    _now: datetime,
    _ladder: Ladder,
    *,
    full: bool = False,
) -> Dashboard:
    return dashboards.sample(scope.filters)


@dataclass
class Bot:
    """The real app on a loopback port, and the playground client to talk to it."""

    playground: Playground
    url: str  # http://127.0.0.1:<port>


@pytest.fixture
async def bot(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = make_settings(databases.fresh_sqlite(sqlite_template, tmp_path))
    runtime = create_runtime(settings, Clock(controllable=True))
    app = build_app(runtime, start_sender=False)
    app[DASHBOARD].figures = Figures(_resolve, _gather)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Bot(Playground(client, runtime), str(client.make_url("")).rstrip("/"))
    finally:
        await client.close()
        await runtime.engine.dispose()


@pytest.fixture
async def chat() -> AsyncIterator[tuple[TestServer, dict[str, str]]]:
    """Another site standing for Slack or Teams: GET / shows the link it is given."""
    held: dict[str, str] = {}

    async def index(_request: web.Request) -> web.Response:
        return web.Response(
            text='<!doctype html><link rel="icon" href="data:,">'
            f'<a id="link" href="{held["link"]}">open</a>',
            content_type="text/html",
        )

    app = web.Application()
    app.add_routes([web.get("/", index)])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, held
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with browser_support.launched(REQUIRED_BY) as launched:
        yield launched


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


async def _page(browser: Browser, locale: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": 1300, "height": 1000}, locale=locale)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    return page, errors


async def _link(bot: Bot, who: str | dict[str, str]) -> str:
    replies = await bot.playground.command(who, "dashboard")
    url: str = replies[0]["card"]["buttons"][0]["url"]
    return bot.url + url[url.index("/dashboard/open/") :]


@pytest.mark.parametrize(("who", "locale", "title"), [
    ("anim1", "en", "Steering dashboard"),
    ({"id": "carol", "name": "Carol", "locale": "fr"}, "fr", "Tableau de pilotage"),
])  # fmt: skip
async def test_a_link_clicked_in_the_chat_opens_the_dashboard(
    bot: Bot,
    chat: tuple[TestServer, dict[str, str]],
    browser: Browser,
    shots: Path,
    who: str | dict[str, str],
    locale: str,
    title: str,
) -> None:
    if who != "anim1":
        await bot.playground.command("anim1", "role add @carol animator")
    server, held = chat
    held["link"] = await _link(bot, who) + "?session=K7Q2"
    page, errors = await _page(browser, locale)
    await page.goto(f"http://localhost:{server.port}/")
    await page.click("#link")
    await page.wait_for_url(re.compile(r"/dashboard\?session=K7Q2$"))
    assert "/open/" not in page.url
    await page.wait_for_selector("#mentoring")
    assert await page.locator("h1").first.text_content() == title
    assert await page.get_attribute("html", "lang") == locale
    ids = await page.eval_on_selector_all("main > section", "nodes => nodes.map(n => n.id)")
    assert ids == [
        "kpis",
        "funnel",
        "pulses",
        "activity",
        "voice",
        "challenges",
        "referrals",
        "badges",
        "mentoring",
        "named",
    ]
    # The stylesheet applied (the policy let it in): the filters form is a flex row.
    display = await page.eval_on_selector(".filters fieldset", "n => getComputedStyle(n).display")
    assert display == "flex"
    await page.screenshot(path=str(shots / f"dashboard-{locale}.png"), full_page=True)
    await page.emulate_media(media="print")
    hidden = await page.eval_on_selector(".filters", "n => getComputedStyle(n).display")
    assert hidden == "none"
    await page.screenshot(path=str(shots / f"dashboard-{locale}-print.png"), full_page=True)

    # A CSV link downloads with the cookie.
    async with page.expect_download() as download:
        await page.emulate_media(media="screen")
        await page.click('a[href^="/dashboard/funnel.csv"]')
    assert (await download.value).suggested_filename == "dashboard-funnel.csv"
    assert errors == []
    await page.context.close()


async def test_without_the_link_the_browser_reads_the_refusal(bot: Bot, browser: Browser) -> None:
    page, errors = await _page(browser, "en")
    response = await page.goto(f"{bot.url}/dashboard")
    assert response is not None and response.status == 403
    text = await page.locator("main").inner_text()
    assert "dashboard" in text and "tableau de bord" in text
    # The 403 itself is the one console error Chromium reports.
    assert all("403" in error for error in errors)
    await page.context.close()


@pytest.mark.parametrize(("who", "locale"), [
    ("anim1", "en"),
    ({"id": "carol", "name": "Carol", "locale": "fr"}, "fr"),
])  # fmt: skip
async def test_the_weekly_table_fits_a_laptop_s_width(
    bot: Bot, browser: Browser, shots: Path, who: str | dict[str, str], locale: str
) -> None:
    """The weekly LGC table's twenty columns (every kind of share, the replies) fit the
    page's box on a 1280-pixel-wide screen, nothing overflows sideways; narrower, its box
    scrolls with the week kept in view."""
    if who != "anim1":
        await bot.playground.command("anim1", "role add @carol animator")
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    page = await context.new_page()
    await page.goto(await _link(bot, who))
    await page.wait_for_selector("#table-lgc_weeks")
    await page.eval_on_selector("#table-lgc_weeks details", "n => { n.open = true; }")
    widths = await page.eval_on_selector(
        "#table-lgc_weeks",
        """box => ({
            page: document.documentElement.scrollWidth,
            view: document.documentElement.clientWidth,
            box: box.clientWidth,
            scroll: box.querySelector('.table-scroll').scrollWidth,
            table: box.querySelector('table').getBoundingClientRect().width,
        })""",
    )
    await page.locator("#table-lgc_weeks").screenshot(path=str(shots / f"weekly-{locale}.png"))
    assert widths["page"] <= widths["view"], widths
    assert widths["scroll"] <= widths["box"] and widths["table"] <= widths["box"] + 0.5, widths

    await page.set_viewport_size({"width": 800, "height": 800})
    scroller = page.locator("#table-lgc_weeks .table-scroll")
    assert await scroller.evaluate("n => n.scrollWidth > n.clientWidth")
    await scroller.evaluate("n => { n.scrollLeft = n.scrollWidth; }")
    week = page.locator("#table-lgc_weeks tbody tr:first-child td:first-child")
    box = await week.bounding_box()
    frame = await scroller.bounding_box()
    assert box is not None and frame is not None and abs(box["x"] - frame["x"]) < 1, (box, frame)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.locator("#table-lgc_weeks").screenshot(
        path=str(shots / f"weekly-{locale}-narrow.png")
    )
    await context.close()
