"""The bot in Microsoft's own Teams client: Microsoft 365 Agents Playground, in Chromium.

The playground (tests/support/agents_playground.py) sends real Teams activities to the real
app's `/api/messages`, is the Bot Connector the bot answers to, and renders its Adaptive
Cards with Microsoft's renderer. The page is Alex Wilber; Megan, Adele and Patti act through
the playground's API (Megan types, Adele clicks, Patti trains).

Each step leaves a screenshot in var/test-artifacts/agents-playground/<test>/ (printed at the
end of the run). Skips without npm, Chromium or Playwright, unless
AMBASSADOR_REQUIRE_AGENTS_PLAYGROUND=1 (CI), where they are required.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NoReturn

import pytest
from aiohttp.test_utils import TestServer

from bot.clock import Clock
from bot.server import build_app, create_runtime
from tests.conftest import REPO, make_settings
from tests.support import agents_playground, browser, databases
from tests.support.agents_playground import AgentsPlayground, Message, Team

# Without the dev extra the browser fixture skips (tests/support/browser.py).
with contextlib.suppress(ImportError):
    from playwright.async_api import Browser, Locator, Page, expect

REQUIRED_BY = "AMBASSADOR_REQUIRE_AGENTS_PLAYGROUND"
ARTIFACTS = REPO / "var" / "test-artifacts" / "agents-playground"
TEAM = Team()
MEGAN, ADELE, PATTI = TEAM.person("Megan"), TEAM.person("Adele"), TEAM.person("Patti")
CHANNEL = f"{TEAM.team_name} - General"  # the channel's entry in the page's list
TIMEOUT_MS = 15_000  # a typed command is journaled, handled, then sent back through the outbox
JOIN_TITLE = "Become an ambassador of “Management 101”"


def _unavailable(reason: str) -> NoReturn:
    browser.unavailable(reason, REQUIRED_BY)


@pytest.fixture(scope="session")
def playground_cli() -> Path:
    """The playground installed from the repository's package-lock.json (`npm ci`)."""
    try:
        return agents_playground.install()
    except agents_playground.Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture
async def bot_url(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    """The real app on a random loopback port, inbox worker and outbox sender running;
    Teams without credentials (the playground signs nothing); Alex and Patti are admins (a
    session's trainers are who opens and who closes it: the others are its learners)."""
    settings = make_settings(
        databases.fresh_sqlite(sqlite_template, tmp_path),
        TEAMS_ALLOW_UNAUTHENTICATED="1",
        AMBASSADOR_ADMINS=f"teams:{TEAM.me.aad_object_id},teams:{PATTI.aad_object_id}",
    )
    runtime = create_runtime(settings, Clock(controllable=True))
    server = TestServer(build_app(runtime, start_sender=True), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/"))
    finally:
        await server.close()


@pytest.fixture
async def playground(
    playground_cli: Path, bot_url: str, tmp_path: Path
) -> AsyncIterator[AgentsPlayground]:
    """A fresh playground (its own port, its own process) in front of the bot."""
    workdir = tmp_path / "agents-playground"
    workdir.mkdir()
    async with AgentsPlayground.running(playground_cli, bot_url, workdir, TEAM) as running:
        yield running


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """System Chromium (never downloaded), headless."""
    async with browser.launched(REQUIRED_BY) as launched:
        yield launched


class Shots:
    """Numbered screenshots of one test's steps, in its own directory."""

    def __init__(self, page: Page, directory: Path) -> None:
        self.page, self.directory, self.count = page, directory, 0

    async def take(self, step: str) -> None:
        self.count += 1
        await self.page.screenshot(path=self.directory / f"{self.count:02d}-{step}.png")


@pytest.fixture
async def page(
    playground: AgentsPlayground, chromium: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Page, Shots]]:
    """The playground's page, offline (anything not on the playground is refused: its fonts
    and icons come from Microsoft's CDN), once it has met the bot; its screenshots."""
    context = await chromium.new_context(viewport={"width": 1400, "height": 1000})
    base = playground.base_url
    await context.route(lambda url: not url.startswith(base), lambda route: route.abort())
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    request.config.stash[agents_playground.SCREENSHOTS] = ARTIFACTS
    shots = Shots(opened, directory)
    await opened.goto(base)
    # Opening the page installs the bot in the 1:1 chat: it says hello there.
    await expect(_pane(opened)).to_contain_text("Hello, I'm the Ambassador bot", timeout=TIMEOUT_MS)
    try:
        yield opened, shots
    finally:
        await shots.take("last")
        await context.close()
    assert errors == [], "the page raised errors"


def _pane(page: Page) -> Locator:
    """The open conversation: the outermost block holding a message box, without the list
    of conversations or the log panel."""
    return (
        page.locator("div")
        .filter(has=page.locator("[data-lexical-editor=true]"))
        .filter(has_not=page.get_by_role("region", name="Chat and Teams Channel"))
        .filter(has_not=page.get_by_text("Log Panel", exact=True))
        .first
    )


async def _open(page: Page, conversation: str) -> Locator:
    """Open a conversation of the list ("Personal Chat", the group chat, a channel)."""
    await page.get_by_role("treeitem", name=conversation, exact=True).click()
    return _pane(page)


async def _write(page: Page, composer: Locator, text: str, *, mention: bool, send: str) -> None:
    """Type `text` into the message box of `composer`, @mentioning the bot first (channels
    and group chats only deliver a message that mentions it), then press `send`."""
    await composer.locator("[data-lexical-editor=true]").click()
    if mention:
        await page.keyboard.type("@" + TEAM.bot_name[:4])
        await page.get_by_role("menuitem", name=TEAM.bot_name).click()
        await page.keyboard.type(" ")
    await page.keyboard.type(text)
    await composer.get_by_role("button", name=send, exact=True).click()


async def _post(page: Page, text: str) -> Locator:
    """A new post in the open channel, mentioning the bot; its thread."""
    composer = page.locator(".fui-Card").filter(has=page.get_by_role("button", name="Post"))
    await _write(page, composer, text, mention=True, send="Post")
    return page.locator(".fui-Card").filter(has_text=text).last


async def _reply(page: Page, thread: Locator, text: str) -> None:
    """A reply in a channel thread, mentioning the bot."""
    await _write(page, thread, text, mention=True, send="Send Message")


async def _chat(page: Page, text: str, *, mention: bool) -> None:
    """A message in the open chat."""
    await _write(page, _pane(page), text, mention=mention, send="Send Message")


async def _fill(field: Locator, text: str) -> None:
    """Type into a card's input key by key, as a person does (a value set at once, without
    key events, reached the bot empty)."""
    await field.click()
    await field.press_sequentially(text)


def _card(scope: Locator, title: str) -> Locator:
    return scope.locator(".ac-adaptiveCard").filter(has_text=title)


async def _assert_shown_once(scope: Locator, *texts: str) -> None:
    """Each text is on screen once in `scope`: not as a message and again as its card."""
    shown = await scope.inner_text()
    for text in texts:
        assert shown.count(text) == 1, f"{text!r} is shown {shown.count(text)} times:\n{shown}"


def _join_card(message: Message) -> bool:
    return message.action("Join") is not None


async def test_a_session_in_a_channel(
    page: tuple[Page, Shots], playground: AgentsPlayground
) -> None:
    """Alex, the trainer, opens and closes the session in a channel post; Megan types
    `join` in its thread, Adele clicks Join: the card counts them in place."""
    browser_page, shots = page
    channel = await _open(browser_page, CHANNEL)
    thread = await _post(browser_page, "session start Management 101")
    card = _card(channel, JOIN_TITLE)
    await expect(card.get_by_role("button", name="Join", exact=True)).to_be_visible(
        timeout=TIMEOUT_MS
    )
    await shots.take("session-started")
    await _assert_shown_once(channel, JOIN_TITLE)

    posted = await playground.feed.wait_for(_join_card)
    assert posted.conversation.startswith(TEAM.team_id + ";messageid=")  # a post's thread
    await playground.say(MEGAN, posted.conversation, "join")
    await expect(card).to_contain_text("1 learner joined", timeout=TIMEOUT_MS)
    await shots.take("megan-typed-join")
    await playground.click(ADELE, posted, "Join")
    await expect(card).to_contain_text("2 learners joined", timeout=TIMEOUT_MS)
    await expect(card).to_have_count(1)  # updated in place (PUT), not posted again
    assert posted.updates >= 1
    await shots.take("adele-clicked-join")

    await _reply(browser_page, thread, "session close")
    await _expect_closed(card)
    # Present: the team's six people but Alex, the trainer.
    summary = "The join window of “Management 101” is closed: 2 learners joined out of 5 present"
    await expect(channel).to_contain_text(summary, timeout=TIMEOUT_MS)
    await _assert_shown_once(channel, JOIN_TITLE, summary)
    await shots.take("session-closed")

    # What only Alex needed to know came to his 1:1 chat, each once.
    personal = await _open(browser_page, "Personal Chat")
    closed = "Closed “Management 101”: 2 learners joined"
    await expect(personal).to_contain_text(closed, timeout=TIMEOUT_MS)
    await _assert_shown_once(
        personal,
        "Hello, I'm the Ambassador bot",
        "The join window of “Management 101” is open",
        closed,
    )
    await shots.take("personal-chat")


async def _expect_closed(card: Locator) -> None:
    await expect(card).to_contain_text("The join window is closed", timeout=TIMEOUT_MS)
    await expect(card.get_by_role("button", name="Join", exact=True)).to_have_count(0)
    await expect(card).to_have_count(1)


async def test_a_session_in_a_group_chat_then_a_pulse_answered(
    page: tuple[Page, Shots], playground: AgentsPlayground
) -> None:
    """Patti, the trainer, opens the session in the group chat; Alex clicks Join, Megan
    types `join`, Adele clicks Join; Patti closes it and sends the pulse, which Alex
    answers in his 1:1 chat."""
    browser_page, shots = page
    chat = await _open(browser_page, TEAM.group_chat_name)
    await expect(chat).to_contain_text("Hello, I'm the Ambassador bot", timeout=TIMEOUT_MS)
    await playground.say(PATTI, TEAM.group_chat, "session start Management 101")
    card = _card(chat, JOIN_TITLE)
    join = card.get_by_role("button", name="Join", exact=True)
    await expect(join).to_be_visible(timeout=TIMEOUT_MS)
    await shots.take("session-started")
    await _assert_shown_once(chat, JOIN_TITLE)

    await join.click()
    await expect(card).to_contain_text("1 learner joined", timeout=TIMEOUT_MS)
    await shots.take("alex-clicked-join")
    posted = await playground.feed.wait_for(_join_card)
    assert posted.conversation == TEAM.group_chat
    await playground.say(MEGAN, TEAM.group_chat, "join")
    await expect(card).to_contain_text("2 learners joined", timeout=TIMEOUT_MS)
    await playground.click(ADELE, posted, "Join")
    await expect(card).to_contain_text("3 learners joined", timeout=TIMEOUT_MS)
    await expect(card).to_have_count(1)  # updated in place (PUT), not posted again
    assert posted.updates >= 1
    await shots.take("megan-and-adele-joined")

    await playground.say(PATTI, TEAM.group_chat, "session close")
    await _expect_closed(card)
    # Present: the chat's six people but Patti, the trainer.
    summary = "The join window of “Management 101” is closed: 3 learners joined out of 5 present"
    await expect(chat).to_contain_text(summary, timeout=TIMEOUT_MS)
    await _assert_shown_once(chat, JOIN_TITLE, summary)
    await shots.take("session-closed")

    await playground.say(PATTI, TEAM.group_chat, "pulse send")
    personal = await _open(browser_page, "Personal Chat")
    question = _card(personal, "How likely are you to recommend Management 101")
    await question.get_by_role("button", name="9", exact=True).click()
    satisfaction = _card(personal, "How satisfied are you with Management 101").last
    await satisfaction.get_by_role("button", name="4", exact=True).click()
    await shots.take("pulse-scored")
    form = _card(personal, "Your comment and recommendations").last
    await _fill(form.locator("textarea").first, "Very practical")
    await _fill(form.locator("input[type=text]").last, "Eve Martin")  # someone from outside
    await shots.take("pulse-form-filled")
    await form.get_by_role("button").last.click()
    thanks = _card(personal, "Thank you for your answer!")
    await expect(thanks).to_contain_text("recommendation 9/10", timeout=TIMEOUT_MS)
    await expect(thanks).to_contain_text("satisfaction 4/5")
    await expect(thanks).to_contain_text("recommended to Eve Martin")
    await _assert_shown_once(
        personal, "Welcome, ambassador of Management 101!", "Thank you for your answer!"
    )
    await shots.take("pulse-answered")


async def test_help_me_and_a_challenge_answered_through_its_form(
    page: tuple[Page, Shots], playground: AgentsPlayground
) -> None:
    """In his 1:1 chat Alex reads `help` (one command a line) and joins; he posts a
    challenge in the channel, answers it through its form, and `me` counts it."""
    browser_page, shots = page
    personal = _pane(browser_page)
    await _chat(browser_page, "help", mention=False)
    await expect(personal).to_contain_text("Here is what you can do", timeout=TIMEOUT_MS)
    await expect(personal).to_contain_text("audit", timeout=TIMEOUT_MS)
    await shots.take("help")
    shown = await personal.inner_text()
    help_text = shown[shown.rindex("Here is what you can do") :]
    assert "&lt;" not in help_text and "&gt;" not in help_text, help_text
    commands = [line for line in help_text.splitlines() if " — " in line]
    assert len(commands) >= 20, help_text  # each command on its own line…
    assert all(line.count(" — ") == 1 for line in commands), help_text  # …one a line

    await _chat(browser_page, "join", mention=False)
    await expect(personal).to_contain_text(
        "Welcome to the ambassador community", timeout=TIMEOUT_MS
    )

    channel = await _open(browser_page, CHANNEL)
    await _post(browser_page, "challenge post Tell us one thing you tried this week")
    challenge = _card(channel, "Tell us one thing you tried this week")
    share = challenge.get_by_role("button", name="Share my success")
    await expect(share).to_be_visible(timeout=TIMEOUT_MS)
    await shots.take("challenge-posted")
    await share.click()

    personal = await _open(browser_page, "Personal Chat")
    form = _card(personal, "Share my success").last
    await expect(form.locator("textarea")).to_be_visible(timeout=TIMEOUT_MS)
    await _fill(form.locator("textarea").first, "I gave feedback in my 1:1 with Paul")
    await shots.take("challenge-form-filled")
    await form.get_by_role("button").last.click()
    await expect(personal).to_contain_text("Your success is shared", timeout=TIMEOUT_MS)
    await shots.take("challenge-answered")

    channel = await _open(browser_page, CHANNEL)
    await expect(channel).to_contain_text("Alex Wilber shares a success", timeout=TIMEOUT_MS)
    await expect(channel).to_contain_text("I gave feedback in my 1:1 with Paul")
    await shots.take("success-in-channel")

    personal = await _open(browser_page, "Personal Chat")
    await _chat(browser_page, "me", mention=False)
    await expect(personal).to_contain_text("1 success, 0 not-yets", timeout=TIMEOUT_MS)
    await shots.take("me")
