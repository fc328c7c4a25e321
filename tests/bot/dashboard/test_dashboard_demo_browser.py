"""The steering dashboard on the demo community, in a real browser (issue 17's "Done means").

The real app on a random loopback port (playground on, outbox sender running, controllable
clock), a fresh database filled with the demo community by `bot.demo.loader.load_demo` —
the function `ambassador-bot demo` calls — at a fixed instant and seed, 150 members. The
animator `anim1` types `dashboard` through the playground's API, Debian's Chromium opens
the private reply's link; the test reads the page as a person would (headings, key
figures, charts) and compares its NPS with what `pulse results all` says in the chat.

Runs on SQLite, and on PostgreSQL too through the `database_url` fixture when
TEST_DATABASE_URL is set (the loader and the query layer are the same code on both).

Who holds a link: the link is the animator's, a bearer token like any sign-in link. The
browser that opens it carries no chat identity, so whoever opens it within its hour sees
the animator's view, in the animator's language, audited under the animator's name. What
keeps a learner out is that the link is only ever given privately to an animator, lives
one hour, and dies with the animator's role; a learner asking for one is refused. The test
pins that behaviour down so a change to it is a decision, not an accident.

Screenshots (full page, English, French, a filtered view) in
var/test-artifacts/dashboard-demo/. Skips without Chromium or Playwright, unless
AMBASSADOR_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import Clock
from bot.dashboard.access import LINK_LIFETIME
from bot.demo import loader
from bot.i18n import Translator
from bot.server import build_app, create_runtime
from tests.conftest import make_settings
from tests.support import browser as browser_support
from tests.support.playground import Playground

with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Page, expect

REQUIRED_BY = "AMBASSADOR_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "dashboard-demo"
# The demo's instant and seed: the same community, the same figures, on every run.
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SEED = 2026
MEMBERS = 150
TIMEOUT_MS = 15_000
# The sections after the key figures, in the page's order; all but the named answers (a
# table of people, not a picture) draw at least one chart.
SECTIONS = (
    "funnel",
    "pulses",
    "activity",
    "voice",
    "challenges",
    "referrals",
    "badges",
    "mentoring",
    "named",
)
CHARTED = SECTIONS[:-1]
# A signed whole number as the chat and the page write it (+29, −12, -12, 0).
SIGNED = r"([+\-−]?\d+)"


@dataclass
class Demo:
    """The app serving the demo community, and the playground client to talk to it."""

    playground: Playground
    client: TestClient  # type: ignore[type-arg]
    url: str  # http://127.0.0.1:<port>


@pytest.fixture
async def demo(database_url: str) -> AsyncIterator[Demo]:
    settings = make_settings(database_url)
    runtime = create_runtime(settings, Clock(controllable=True, start=NOW))
    await loader.load_demo(
        runtime.engine,
        NOW,
        members=MEMBERS,
        seed=SEED,
        ladder=settings.ladder,
        timezone=settings.timezone,
    )
    client = TestClient(TestServer(build_app(runtime, start_sender=True), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Demo(Playground(client, runtime), client, str(client.make_url("")).rstrip("/"))
    finally:
        await client.close()
        await runtime.engine.dispose()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with browser_support.launched(REQUIRED_BY) as launched:
        yield launched


@pytest.fixture(scope="module")
def shots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def _number(text: str) -> int:
    """A signed figure as written (a typographic minus, a plus, narrow spaces) as an int."""
    cleaned = text.replace("−", "-").replace("+", "").replace("\u202f", "").replace("\xa0", "")
    return int(cleaned.strip())


async def _page(browser: Browser, locale: str = "en") -> tuple[Page, list[str]]:
    """A fresh context (no cookie) and page; its script errors, console errors and policy
    violations (Chromium reports those on the console) are collected."""
    context = await browser.new_context(
        viewport={"width": 1300, "height": 1000}, locale=locale, timezone_id="Europe/Paris"
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    return page, errors


async def _link(demo: Demo, who: str) -> str:
    """Type `dashboard` as `who`; the link of the private reply, on the test's port."""
    replies = await demo.playground.command(who, "dashboard")
    assert len(replies) == 1 and replies[0]["visibility"] == "user", replies
    url: str = replies[0]["card"]["buttons"][0]["url"]
    return demo.url + url[url.index("/dashboard/open/") :]


async def _open(page: Page, link: str) -> None:
    """Open a chat link: the opening page goes on to /dashboard, the token out of sight."""
    response = await page.goto(link)
    assert response is not None and response.status == 200
    await page.wait_for_url(re.compile(r"/dashboard(\?.*)?$"))
    assert "/open/" not in page.url
    await expect(page.locator("#named")).to_be_visible()


async def _kpis(page: Page) -> dict[str, str]:
    """The key figures' tiles: label → value as shown."""
    pairs: list[list[str]] = await page.eval_on_selector_all(
        "#kpis ul.kpis li",
        "items => items.map(li => [li.querySelector('.kpi-label').textContent,"
        " li.querySelector('.kpi-value').textContent])",
    )
    return {label: value for label, value in pairs}


async def _chat_nps(demo: Demo, who: str) -> int:
    """The NPS `pulse results all` gives `who` in the chat (its first line)."""
    replies = await demo.playground.command(who, "pulse results all")
    text = "\n".join(str(reply["text"]) for reply in replies)
    found = re.search(r"NPS\s+" + SIGNED, text)
    assert found is not None, text
    return _number(found.group(1))


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_every_section_shows_with_charts_and_the_chats_nps(
    demo: Demo, browser: Browser, shots: Path, lang: str
) -> None:
    t = Translator(lang)
    if lang == "fr":
        reply = await demo.playground.say("anim1", "settings language fr")
        assert "français" in reply.lower(), reply
    page, errors = await _page(browser, lang)
    await _open(page, await _link(demo, "anim1"))

    assert await page.get_attribute("html", "lang") == lang
    await expect(page.locator("h1")).to_have_text(t("dashboard.title"))
    # The playground's workspace by its name in the reader's words, not its id `local`.
    workspace = page.locator("#header dd").first
    await expect(workspace).to_have_text(t("audit.platform.local").capitalize())
    ids = await page.eval_on_selector_all("main > section", "nodes => nodes.map(n => n.id)")
    assert ids == ["kpis", *SECTIONS]
    for key in ["kpis", *SECTIONS]:
        heading = page.locator(f"#{key} > h2")
        await expect(heading).to_have_text(t(f"dashboard.section_{key}"))
    for key in CHARTED:
        charts = await page.locator(f"#{key} svg").count()
        assert charts >= 1, f"no chart in #{key}"
    # The named answers are there (the demo's pulses have named answers) with names.
    assert await page.locator("#named table tbody tr").count() >= 1
    # The stylesheet applied (the policy let it in: a blocked one is a console error).
    display = await page.eval_on_selector(".filters fieldset", "n => getComputedStyle(n).display")
    assert display == "flex"

    # The NPS on the page is the chat's, for the same workspace.
    page_nps = _number((await _kpis(page))[t("dashboard.kpi.nps")])
    assert page_nps == await _chat_nps(demo, "anim1")

    await page.screenshot(path=str(shots / f"dashboard-{lang}.png"), full_page=True)
    assert errors == []
    await page.context.close()


async def test_filters_change_the_figures_and_a_shared_view_needs_ones_own_link(
    demo: Demo, browser: Browser, shots: Path
) -> None:
    page, errors = await _page(browser)
    await _open(page, await _link(demo, "anim1"))
    everything = await _kpis(page)

    trainings = await page.eval_on_selector_all(
        "select[name=training] option", "options => options.map(o => o.value).filter(v => v)"
    )
    assert len(trainings) >= 2, trainings
    chosen = trainings[0]
    await page.select_option("select[name=training]", chosen)
    await page.click(".filters button[type=submit]")
    await page.wait_for_url(re.compile(r"/dashboard\?.*training="))
    assert parse_qs(urlsplit(page.url).query)["training"] == [chosen]
    await expect(page.locator("select[name=training]")).to_have_value(chosen)
    filtered = await _kpis(page)
    members = Translator("en")("dashboard.kpi.members")
    assert members in filtered, filtered
    assert filtered[members] != everything[members], (everything, filtered)
    assert filtered != everything
    # The training's NPS is the one its line in `pulse results all` gives.
    replies = await demo.playground.command("anim1", "pulse results all")
    text = "\n".join(str(reply["text"]) for reply in replies)
    line = re.search(rf"^{re.escape(chosen)} · .* NPS {SIGNED}", text, re.M)
    assert line is not None, text
    assert _number(filtered["NPS"]) == _number(line.group(1))
    await page.screenshot(path=str(shots / "dashboard-en-filtered.png"), full_page=True)
    assert errors == []

    # The view's address, shared with someone without a session of their own: refused.
    other, other_errors = await _page(browser)
    refused = await other.goto(page.url)
    assert refused is not None and refused.status == 403
    await expect(other.locator("main")).to_contain_text("dashboard")
    assert all("403" in error for error in other_errors)
    await other.context.close()
    await page.context.close()


async def test_the_csv_and_pdf_links_answer_with_their_types(demo: Demo, browser: Browser) -> None:
    page, errors = await _page(browser)
    await _open(page, await _link(demo, "anim1"))
    csvs: list[str] = await page.eval_on_selector_all(
        "a[href*='.csv']", "links => [...new Set(links.map(a => a.getAttribute('href')))]"
    )
    assert len(csvs) >= 10, csvs
    for href in csvs:
        response = await page.request.get(demo.url + href)
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("text/csv"), href
        assert (await response.body()).startswith("\ufeff".encode()), href
    snapshot = await page.get_attribute(".snapshot a", "href")
    assert snapshot is not None
    response = await page.request.get(demo.url + snapshot)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (await response.body()).startswith(b"%PDF-")
    assert errors == []
    await page.context.close()


async def test_refused_without_a_session_once_expired_and_to_learners(
    demo: Demo, browser: Browser
) -> None:
    # No token at all.
    page, errors = await _page(browser)
    response = await page.goto(f"{demo.url}/dashboard")
    assert response is not None and response.status == 403
    await expect(page.locator("main")).to_contain_text(Translator("en")("dashboard.refused_title"))
    await expect(page.locator("main")).to_contain_text(Translator("fr")("dashboard.refused_title"))
    assert all("403" in error for error in errors)
    await page.context.close()

    # A learner typing `dashboard` is refused in the chat, with no link.
    replies = await demo.playground.command("alice", "dashboard")
    assert len(replies) == 1 and replies[0]["card"] is None, replies
    assert "/dashboard/open/" not in replies[0]["text"]
    assert "animat" in replies[0]["text"], replies

    # A learner who gets hold of an animator's link sees the animator's view (the link is
    # the animator's, like any sign-in link: see the module's docstring).
    link = await _link(demo, "anim1")
    learner, _ = await _page(browser, "fr")
    await _open(learner, link)
    assert await learner.get_attribute("html", "lang") == "en"  # anim1's language
    await learner.context.close()

    # Opened, then the hour passes (the playground's clock): the page, a CSV, the link
    # itself are refused (in both languages: an expired session no longer says whose it was).
    page, errors = await _page(browser)
    await _open(page, link)
    moved = await demo.client.post(
        "/local/api/clock", json={"advance_seconds": LINK_LIFETIME.total_seconds() + 60}
    )
    assert moved.status == 200, await moved.text()
    reloaded = await page.reload()
    assert reloaded is not None and reloaded.status == 403
    for lang in ("en", "fr"):
        expired = Translator(lang)("dashboard.refused_expired").replace("`", "")
        await expect(page.locator("main")).to_contain_text(expired)
    csv = await page.request.get(f"{demo.url}/dashboard/funnel.csv")
    assert csv.status == 403
    again = await page.goto(link)
    assert again is not None and again.status == 403
    assert all("403" in error for error in errors), errors
    await page.context.close()
