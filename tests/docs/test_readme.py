"""The README's playground walk-through works as written: the people it names are the
page's presets, and its mentoring steps, run in order, pair who it says they pair."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.playground import Playground

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
PAGE = (REPO / "bot" / "adapters" / "local" / "static" / "playground.html").read_text("utf-8")
WALKTHROUGH = README[README.index("## Two commands") : README.index("## Tests")]
FLAT = " ".join(WALKTHROUGH.split())  # the README wraps its lines anywhere


def _presets() -> dict[str, dict[str, str]]:
    """The page's preset people, as it sends them: id, name, language."""
    found = re.findall(
        r'class="preset" data-id="([^"]+)" data-name="([^"]+)" data-locale="([^"]+)"', PAGE
    )
    return {
        user_id: {"id": user_id, "name": name, "locale": locale} for user_id, name, locale in found
    }


def test_the_people_the_readme_names_are_the_pages_presets() -> None:
    presets = _presets()
    assert presets, "no preset found in playground.html"
    for user_id in presets:
        assert f"`{user_id}`" in WALKTHROUGH, user_id
    named = set(re.findall(r"as `(\w+)`", FLAT)) | set(re.findall(r"be `(\w+)`", FLAT))
    assert named <= set(presets), named - set(presets)


def test_the_readme_claims_nothing_still_being_built() -> None:
    assert not re.search(r"being (built|finished)|not (yet )?implemented", README, re.I)


def _said(text: str) -> str:
    """`text`, checked to be what the README tells the reader to type."""
    assert f"`{text}`" in FLAT, f"the README no longer says `{text}`"
    return text


async def _yes_to_a_mentor(bot: Playground, who: dict[str, str]) -> None:
    dm = f"dm:{who['id']}"
    cards = [m for m in await bot.messages(dm) if m["card"] and m["card"]["buttons"]]
    [welcome] = [m for m in cards if m["card"]["buttons"][0]["action_id"].startswith("mentor")]
    yes = welcome["card"]["buttons"][0]
    await bot.action(who, yes["action_id"], yes["value"], dm)


async def test_the_readme_sign_up_and_mentoring_steps_run_as_written(bot: Playground) -> None:
    people = _presets()
    anim1, alice, bob, chloe = (people[i] for i in ("anim1", "alice", "bob", "chloe"))
    await bot.say(anim1, _said("session start Management 101"))
    for who in (alice, bob, chloe):
        await bot.say(who, _said("join"))
    granted = await bot.say(anim1, _said("badge grant @chloe confirmed"))
    assert "Chloé now holds the Confirmed badge" in granted
    offered = await bot.say(chloe, _said("mentor on capacity 2"))
    assert "mentor" in offered.lower() and "2" in offered
    for who in (alice, bob):
        await _yes_to_a_mentor(bot, who)
    preview = await bot.say(anim1, _said("pair preview"))
    assert "Alice ↔ Chloé" in preview and "Bob waits: no mentor speaks English yet" in preview
    assert "Alice ↔ Chloé" in FLAT and "Bob waits: no mentor speaks English yet" in FLAT
    done = await bot.say(anim1, _said("pair"))
    assert "pairs introduced by DM: 1" in done
    stats = await bot.say(anim1, _said("mentoring stats"))
    assert "Pairs made: 1" in stats


def test_every_environment_setting_is_in_the_settings_table() -> None:
    """Each variable the settings read (bot/settings.py and the platforms' sections) has its
    row in the README's settings table, with its default."""
    sources = [REPO / "bot" / "settings.py", *(REPO / "bot" / "adapters").glob("*/settings.py")]
    read = set()
    for source in sources:
        read |= set(
            re.findall(
                r'"((?:AMBASSADOR|SLACK|TEAMS|LOCAL|LOG|DATABASE|PUBLIC)_[A-Z_]+|MicrosoftApp\w*)"',
                source.read_text(encoding="utf-8"),
            )
        )
    table = README[README.index("## Settings") : README.index("### PostgreSQL")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split(" | ")[0])}
    assert "AMBASSADOR_THREAD_REPLIES" in read
    assert read - documented == set()
    [threads] = [row for row in rows if row.startswith("| `AMBASSADOR_THREAD_REPLIES` |")]
    assert threads.split(" | ")[1] == "`0`", "off by default"
