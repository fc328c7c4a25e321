"""The playground page in a real browser: a session opened, joined in two languages, closed.

Drives Debian's Chromium through Playwright against the real app (outbox sender running), so
messages reach the page by its own polling. Skips without Chromium or Playwright, unless
AMBASSADOR_REQUIRE_BROWSER=1 (CI), where a missing browser fails the run instead.
The browser runs in New York time, so that times shown in the bot's zone (Europe/Paris) differ
from the browser's. Screenshots of what a new user sees are kept in
var/test-artifacts/playground/<test>/.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer

from bot.clock import Clock
from bot.i18n import Translator
from bot.server import build_app, create_runtime
from tests.conftest import make_settings
from tests.support import browser as browser_support
from tests.support import databases

# Without the dev extra the browser fixture skips (tests/support/browser.py).
with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Dialog, Page, expect

REQUIRED_BY = "AMBASSADOR_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[4] / "var" / "test-artifacts" / "playground"
PARIS = ZoneInfo("Europe/Paris")
TIMEOUT_MS = 10_000  # the page polls every second; leave room for a slow machine


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI requires the browser test to run."""
    browser_support.unavailable(reason, REQUIRED_BY)


@pytest.fixture
async def base_url(
    sqlite_template: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The real app on a random loopback port, on a fresh SQLite file, sender running;
    a test may give more settings (indirect parametrization)."""
    env: dict[str, str] = getattr(request, "param", {})
    settings = make_settings(databases.fresh_sqlite(sqlite_template, tmp_path), **env)
    runtime = create_runtime(settings, Clock(controllable=True))
    server = TestServer(build_app(runtime, start_sender=True), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()  # stops the sender and disposes of the engine


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """System Chromium (never downloaded), headless."""
    async with browser_support.launched(REQUIRED_BY) as launched:
        yield launched


@pytest.fixture
async def page(base_url: str, browser: Browser) -> AsyncIterator[Page]:
    """A fresh page (fresh storage) on the playground, connected; no JS error allowed."""
    context = await browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="America/New_York", locale="en-US"
    )
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    opened.on(
        "console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None
    )
    await opened.goto(base_url)
    await expect(opened.locator("#connection-status")).to_have_text("Connected")
    yield opened
    await context.close()
    assert errors == [], "the page logged errors"


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot directory, emptied."""
    directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


async def _type(page: Page, command: str) -> None:
    """Type `command` as whoever the page is now."""
    await page.fill("#command-input", command)
    await page.press("#command-input", "Enter")


async def _run(page: Page, preset: str, command: str) -> None:
    """Become `preset` and type `command` into the command box."""
    await page.click(f"#preset-{preset}")
    await page.fill("#command-input", command)
    await page.press("#command-input", "Enter")


async def _click_join(page: Page, preset: str) -> None:
    """Become `preset` and click the card's Join button."""
    await page.click(f"#preset-{preset}")
    await page.locator("#messages .card").get_by_role("button", name="Join", exact=True).click()


async def _expect_private_reply(page: Page, text: str) -> None:
    await expect(page.locator("div.msg.ephemeral").last).to_contain_text(text, timeout=TIMEOUT_MS)


async def test_a_session_opened_joined_in_two_languages_and_closed(
    base_url: str, page: Page
) -> None:

    await _run(page, "anim1", "session start Management 101")
    card = page.locator("#messages .card")
    join = card.get_by_role("button", name="Join", exact=True)
    await expect(join).to_be_visible(timeout=TIMEOUT_MS)

    await _run(page, "alice", "rejoindre")
    await _expect_private_reply(page, "Bienvenue à bord")
    dms = page.locator("#dm-messages")
    await expect(dms).to_contain_text("Bienvenue parmi les ambassadeurs de", timeout=TIMEOUT_MS)

    await _click_join(page, "bob")
    await _expect_private_reply(page, "Welcome aboard")
    await expect(dms).to_contain_text("Welcome, ambassador of", timeout=TIMEOUT_MS)
    await expect(dms).not_to_contain_text("Bienvenue")  # alice's DMs are hers

    await _click_join(page, "chloe")
    await _expect_private_reply(page, "Bienvenue à bord")
    await expect(dms).to_contain_text("Bienvenue parmi les ambassadeurs de", timeout=TIMEOUT_MS)

    count_row = card.locator("table.card-fields tr").nth(1)
    await expect(count_row).to_contain_text("3 learners joined", timeout=TIMEOUT_MS)

    await _run(page, "anim1", "session close")
    messages = page.locator("#messages")
    await expect(messages).to_contain_text("3 learners joined out of 3 present", timeout=TIMEOUT_MS)
    await expect(join).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(card).to_have_count(1)  # the card is updated in place, not removed


def _next_monday_9_paris(now: datetime) -> datetime:
    local = now.astimezone(PARIS)
    monday = local.date() + timedelta(days=(7 - local.weekday()) % 7 or 7)
    return datetime.combine(monday, time(9, 0), tzinfo=PARIS)


async def test_a_weekly_challenge_in_french_posted_on_time_and_answered(
    base_url: str, page: Page
) -> None:
    await _run(page, "anim1", "réglages langue fr")
    await _run(page, "anim1", "défi")
    form = page.locator("form.bot-form").last
    await expect(form).to_be_visible(timeout=TIMEOUT_MS)
    # The form's title shows once (its legend), not also as the reply's text above it.
    shown = page.locator(".msg.ephemeral").last.get_by_text("Nouveau défi", exact=True)
    await expect(shown).to_have_count(1)
    clock = await (await page.request.get(base_url + "local/api/clock")).json()
    first = _next_monday_9_paris(datetime.fromisoformat(clock["now"]))
    await form.locator("textarea").fill("Racontez un feedback donné cette semaine")
    await form.locator("input[type=datetime-local]").fill(first.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("select").select_option("weekly")
    await form.locator("button[type=submit]").click()
    await _expect_private_reply(page, "chaque semaine à 09:00 Europe/Paris")

    moved = await page.request.post(
        base_url + "local/api/clock", data={"now": (first + timedelta(seconds=5)).isoformat()}
    )
    assert moved.ok
    card = page.locator("#messages .card").first
    await expect(card).to_contain_text("Racontez un feedback", timeout=TIMEOUT_MS)

    await page.click("#preset-alice")
    await card.get_by_role("button", name="Partager ma réussite").click()
    answer_form = page.locator("form.bot-form").last
    await answer_form.locator("textarea").fill("J'ai fait un retour à Paul")
    await answer_form.locator("button[type=submit]").click()
    await _expect_private_reply(page, "réussite est partagée")
    await _run(page, "bob", "challenge answer not-yet I postponed it")

    messages = page.locator("#messages")
    await expect(messages).to_contain_text("Alice partage une réussite", timeout=TIMEOUT_MS)
    await expect(messages).to_contain_text("Bob partage un pas-encore", timeout=TIMEOUT_MS)
    await _run(page, "alice", "moi")
    await _expect_private_reply(page, "1 réussite, 0 pas-encore")


async def test_a_pulse_answered_in_the_dm_panel_with_the_colleague_picker(
    base_url: str, page: Page
) -> None:
    await _run(page, "chloe", "bonjour")  # known to the bot, not in the training
    await _run(page, "anim1", "session start Management 101")
    await _run(page, "bob", "join")
    await _expect_private_reply(page, "Welcome aboard")
    await _run(page, "alice", "rejoindre")
    await _expect_private_reply(page, "Bienvenue à bord")
    await _run(page, "anim1", "session close")
    await _run(page, "anim1", "pulse send")
    await _expect_private_reply(page, "sent by DM to 2 members")

    await page.click("#preset-alice")
    question = page.locator("#dm-messages .card").filter(has_text="Quelle est la probabilité")
    await expect(question).to_be_visible(timeout=TIMEOUT_MS)
    await question.get_by_role("button", name="10", exact=True).click()
    satisfaction = page.locator(".card").filter(has_text="Quelle est votre satisfaction").last
    await satisfaction.get_by_role("button", name="4", exact=True).click()
    form = page.locator("form.bot-form").last
    await expect(form).to_be_visible(timeout=TIMEOUT_MS)
    # The picker offers Chloé only: not Alice herself, not the animator, not Bob, who took
    # part in the same training.
    picker = form.locator("select[multiple] option")
    await expect(picker).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(picker).to_have_attribute("value", "chloe")
    await form.locator("textarea").fill("Très concret")
    await form.locator("select[multiple]").select_option("chloe")
    await form.locator("input[type=text]").fill("Eve Martin, Bob")  # Bob typed anyway
    await form.locator("button[type=submit]").click()
    await _expect_private_reply(page, "recommandée à Chloé, Eve Martin")
    await _expect_private_reply(page, "Rien n'est envoyé à Bob, qui connaît déjà Management 101.")

    await page.click("#preset-chloe")
    dms = page.locator("#dm-messages")
    await expect(dms).to_contain_text(
        "Alice vous recommande «\u00a0Management 101\u00a0»", timeout=TIMEOUT_MS
    )
    await page.click("#preset-bob")
    await expect(dms).to_contain_text("Welcome, ambassador of", timeout=TIMEOUT_MS)
    await expect(dms).not_to_contain_text("recommends")
    await _run(page, "anim1", "pulse results")
    await _expect_private_reply(page, "Alice — 10/10 · LSAT 4 · “Très concret”")


EVIL_PAGE = """<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" target="sink" action="{target}">
<input
  name='{{"user": {{"id": "anim1"}}, "conversation": "general",
          "text": "role add @mallory animator", "x": "'
  value='"}}'>
</form>
<script>
const target = "{target}";
const body = JSON.stringify({{user: {{id: "anim1"}}, conversation: "general",
                              text: "role add @mallory animator"}});
window.results = [];
(async () => {{
  try {{
    const r = await fetch(target, {{method: "POST", mode: "no-cors",
                                    headers: {{"Content-Type": "text/plain"}}, body}});
    results.push("no-cors:" + r.type);
  }} catch (e) {{ results.push("no-cors:error"); }}
  try {{
    const r = await fetch(target, {{method: "POST",
                                    headers: {{"Content-Type": "application/json"}}, body}});
    results.push("json:" + r.status);
  }} catch (e) {{ results.push("json:blocked"); }}
  document.getElementById("f").submit();
  results.push("form:sent");
}})();
</script></body></html>"""


async def test_a_page_of_another_site_cannot_drive_the_playground(
    base_url: str, browser: Browser
) -> None:
    """What the security review did: a page elsewhere, open in the same browser, tries the
    three ways a browser lets it send a request to the playground. Nothing may change."""
    from aiohttp import web

    target = base_url + "local/api/command"

    async def evil(_request: web.Request) -> web.Response:
        return web.Response(text=EVIL_PAGE.format(target=target), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", evil)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    context = await browser.new_context()
    try:
        page = await context.new_page()
        # Another site: "localhost" is not the playground's 127.0.0.1, and another port.
        await page.goto(str(server.make_url("/")).replace("127.0.0.1", "localhost"))
        await page.wait_for_function("window.results.length === 3", timeout=TIMEOUT_MS)
        results = await page.evaluate("window.results")
        assert results[1] == "json:blocked", results  # the CORS preflight is refused
        await page.wait_for_timeout(500)  # the form's request lands
        users = await (await context.request.get(base_url + "local/api/users")).json()
        assert "mallory" not in {u["id"] for u in users["users"]}, "the attack changed something"
    finally:
        await context.close()
        await server.close()


async def test_help_is_grouped_by_topic_with_its_formatting_rendered(
    base_url: str, page: Page, shots: Path
) -> None:
    # A new user starts as the README's animator, anim1, in English.
    await expect(page.locator("#current-user-id")).to_have_text("@anim1")
    await expect(page.locator("#user-heading")).to_have_text("Current user")
    await _type(page, "help")
    help_ = page.locator("div.msg.ephemeral").last.locator(".help")
    groups = help_.locator("details.help-group")
    await expect(groups.first).to_be_visible(timeout=TIMEOUT_MS)
    assert await groups.count() >= 6  # essentials, settings, mentor, pulse, session, challenge…
    essentials = groups.first
    await expect(essentials.locator("summary")).to_contain_text("Essentials")
    await expect(essentials.locator("li code").first).to_have_text("help")  # a <code>, no `
    # An admin's help comes in three tiers: everyone's commands, animators', admins'.
    tiers = help_.locator("h4.help-tier")
    await expect(tiers).to_have_text(["For everyone", "For animators", "For admins"])
    animators = help_.locator("h4[data-tier=animator] + .help-groups")
    session = animators.locator("details.help-group").filter(
        has=page.locator("summary code", has_text=re.compile("^session$"))
    )
    start = session.locator("li", has_text="session start <name>")
    await expect(start).to_be_hidden()  # collapsed: not a 40-line wall
    await page.locator("#messages").evaluate("pane => { pane.scrollTop = 0; }")  # its top
    await page.screenshot(path=shots / "01-help-grouped.png")
    admins = help_.locator("h4[data-tier=admin] + .help-groups")
    await expect(admins.locator("summary code", has_text=re.compile("^role$"))).to_be_visible()
    await expect(essentials).not_to_contain_text("role add")
    await expect(animators.locator("summary").first).to_contain_text("Other commands")
    await session.locator("summary").click()
    await expect(start).to_be_visible()
    await expect(start.locator("code")).to_have_text("session start <name>")
    # The next step below the groups: its command in a <code> too, no backtick anywhere.
    await expect(help_.locator("p.help-line code").last).to_have_text(
        "session start <session name>"
    )
    assert "`" not in await help_.inner_text()
    await page.screenshot(path=shots / "02-help-session-opened.png")

    # Formatting is built as DOM nodes: a user's markup shows as text, *bold* as bold.
    await _type(page, "<img src=x onerror=alert(1)>")
    echoed = page.locator("div.msg.ephemeral").last
    await expect(echoed).to_contain_text("<img src=x", timeout=TIMEOUT_MS)
    await expect(echoed.locator("img")).to_have_count(0)
    await _type(page, "*loud*")
    await expect(page.locator("div.msg.ephemeral").last.locator("strong")).to_have_text(
        "loud", timeout=TIMEOUT_MS
    )
    await page.screenshot(path=shots / "03-formatting.png")

    # A learner's help is one tier: grouped by topic, no role heading.
    await _run(page, "bob", "help")
    learner = page.locator("div.msg.ephemeral").last.locator(".help")
    await expect(learner.locator("details.help-group").first).to_be_visible(timeout=TIMEOUT_MS)
    await expect(learner.locator("h4.help-tier")).to_have_count(0)
    await expect(learner).not_to_contain_text("session start")


@pytest.mark.parametrize("base_url", [{"AMBASSADOR_LOCALE": "fr"}], indirect=True, ids=["fr"])
async def test_a_french_session_card_with_the_page_in_french_and_paris_times(
    base_url: str, page: Page, shots: Path
) -> None:
    await expect(page.locator("#clock-zone")).to_have_text(
        "Bot time zone: Europe/Paris", timeout=TIMEOUT_MS
    )
    await _type(page, "réglages langue fr")  # the page follows the language the bot keeps
    await expect(page.locator("#user-heading")).to_have_text(
        "Vous écrivez en tant que", timeout=TIMEOUT_MS
    )
    assert await page.get_attribute("html", "lang") == "fr"
    await expect(page.locator("#clock-zone")).to_have_text(
        "Fuseau horaire du bot\u00a0: Europe/Paris"
    )
    await expect(page.locator("#reset-demo")).to_have_text("Réinitialiser la démo")
    await _type(page, "session start Management 101")
    card = page.locator("#messages .card")
    await expect(card.locator(".card-title")).to_have_text(
        Translator("fr")("signup.card_title", name="Management 101"), timeout=TIMEOUT_MS
    )
    await page.click("#preset-alice")
    await card.get_by_role("button", name="Rejoindre", exact=True).click()
    await _expect_private_reply(page, "Bienvenue à bord")
    await expect(page.locator("div.msg.ephemeral .badge").last).to_have_text(
        "👁 Visible uniquement par vous"
    )
    await expect(page.locator("#open-dm")).to_have_text("Mes messages privés (dm:alice)")

    # The card's time is the bot's (Paris), labelled, not the browser's (New York).
    posted = await (
        await page.request.get(base_url + "local/api/conversations/general/messages")
    ).json()
    created = datetime.fromisoformat(posted["messages"][0]["created_at"]).astimezone(PARIS)
    stamp = page.locator("#messages article.msg time").first
    await expect(stamp).to_contain_text(created.strftime("%H:%M"))
    await expect(stamp).to_have_attribute("title", "Europe/Paris")
    await page.screenshot(path=shots / "01-french-session-card.png")


async def test_reset_demo_asks_first_then_forgets_the_playground(
    base_url: str, page: Page, shots: Path
) -> None:
    await _type(page, "session start Management 101")
    card = page.locator("#messages .card")
    await expect(card).to_be_visible(timeout=TIMEOUT_MS)

    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.click("#reset-demo")
    users = await (await page.request.get(base_url + "local/api/users")).json()
    assert [u["id"] for u in users["users"]] == ["anim1"], "a refused reset deleted something"
    await expect(card).to_be_visible()

    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.click("#reset-demo")
    await expect(page.locator("#messages")).to_contain_text(
        "No messages in #general yet", timeout=TIMEOUT_MS
    )
    assert asked and "Delete every playground message" in asked[0]
    await expect(page.locator("#current-user-role")).to_have_text("not known yet")
    await expect(page.locator("#known-users option")).to_have_count(1)
    users = await (await page.request.get(base_url + "local/api/users")).json()
    assert users["users"] == []
    await page.screenshot(path=shots / "01-after-reset.png")

    await _type(page, "session start Again")  # the bot starts over
    await expect(card).to_contain_text("Again", timeout=TIMEOUT_MS)


async def test_the_badge_page_a_person_opens_is_readable(
    base_url: str, page: Page, shots: Path
) -> None:
    """The link in a badge's DM opens a page a person can read (the same address gives
    verifiers JSON-LD: tests/bot/open_badges/test_badge_page.py)."""
    await _run(page, "alice", "rejoindre")
    await _run(page, "anim1", "badge grant @alice confirmed Ran the onboarding workshop")
    await _expect_private_reply(page, "Alice")
    links: list[str] = []
    for _ in range(TIMEOUT_MS // 100):  # the DM goes out through the outbox, soon after
        answer = await page.request.get(base_url + "local/api/conversations/dm:alice/messages")
        links = [
            button["url"]
            for message in (await answer.json())["messages"]
            if message["card"]
            for button in message["card"]["buttons"]
            if re.fullmatch(r"/badges/assertions/\w+", urlsplit(button.get("url") or "").path)
        ]
        if links:
            break
        await asyncio.sleep(0.1)
    assert links, "the badge DM links to its page"
    badge = await page.context.new_page()
    # The link names PUBLIC_BASE_URL (the bot's default port); this test's server is on
    # another: the same path there.
    answer = await badge.goto(base_url + urlsplit(links[0]).path.lstrip("/"))
    assert answer is not None and answer.status == 200
    assert (answer.headers.get("content-type") or "").startswith("text/html")
    body = badge.locator("body")
    await expect(body).to_contain_text("Alice")
    await expect(body).to_contain_text("Ran the onboarding workshop")
    await expect(badge.locator("img").first).to_be_visible()
    await badge.screenshot(path=shots / "01-badge-page.png", full_page=True)
    await badge.close()


@pytest.mark.parametrize("base_url", [{"AMBASSADOR_LOCALE": "fr"}], indirect=True, ids=["fr"])
async def test_me_shows_the_command_to_type_as_code_not_backticks(
    base_url: str, page: Page, shots: Path
) -> None:
    """`me`'s card fields carry the catalogue's markup ("tapez `rejoindre`"): the page
    renders it as in a text, a <code>, as Slack renders its fields' mrkdwn."""
    await _run(page, "bob", "réglages langue fr")
    await _expect_private_reply(page, "français")
    await _type(page, "moi")
    card = page.locator("div.msg.ephemeral").last.locator(".card")
    fields = card.locator("table.card-fields")
    await expect(fields).to_contain_text("pas encore", timeout=TIMEOUT_MS)
    await expect(fields.locator("td code")).to_have_text(["rejoindre"])
    assert "`" not in await card.inner_text()
    await page.screenshot(path=shots / "01-me-not-joined.png")


@pytest.mark.parametrize("base_url", [{"AMBASSADOR_LOCALE": "fr"}], indirect=True, ids=["fr"])
async def test_the_page_in_french_names_roles_levels_and_its_own_words_in_french(
    base_url: str, page: Page, shots: Path
) -> None:
    """Role and level labels, the command box's placeholder, the status, and the private
    replies' own words (written before the page changed language) all follow the page's
    language; no role name assumes a gender."""
    await _type(page, "réglages langue fr")
    await expect(page.locator("#user-heading")).to_have_text(
        "Vous écrivez en tant que", timeout=TIMEOUT_MS
    )
    await expect(page.locator("#connection-status")).to_have_text("En ligne")
    await expect(page.locator("#command-input")).to_have_attribute(
        "placeholder", "/ambassador aide"
    )
    await expect(page.locator("#current-user-role")).to_have_text("administration")
    first = page.locator("div.msg.ephemeral").first
    await expect(first.locator(".badge")).to_have_text("👁 Visible uniquement par vous")
    await expect(first.locator(".origin")).to_have_text("Vous avez tapé\u00a0: réglages langue fr")
    await expect(first.locator(".link-btn")).to_have_text("Fermer")
    # The badge's image is named at PUBLIC_BASE_URL (the bot's default port): this
    # test's server answers it.
    await page.route(
        "http://127.0.0.1:3978/badges/**",
        lambda route: route.continue_(url=base_url + route.request.url.split("/", 3)[3]),
    )
    await _run(page, "alice", "rejoindre")
    await _run(page, "anim1", "badge attribuer @alice confirmé Atelier animé")
    await _expect_private_reply(page, "Alice")
    await _run(page, "alice", "moi")
    await _expect_private_reply(page, "Confirmé")
    await expect(page.locator("#current-user-role")).to_have_text("en formation")
    await expect(page.locator("#current-user-level")).to_have_text("Confirmé")
    options = await page.locator("#known-users option").all_inner_texts()
    assert "Anim1 (anim1) · administration" in options and "Alice (alice) · en formation" in (
        options
    ), options
    assert not any(word in " ".join(options) for word in ("learner", "animator", "admin)"))
    image = page.locator("div.msg.ephemeral").last.locator("img.card-image")
    assert (await image.get_attribute("src") or "").endswith("confirmed.png?lang=fr")
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth") == 400
    await page.screenshot(path=shots / "01-french-page.png")
