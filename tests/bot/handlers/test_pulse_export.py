"""`pulse export` read back through its real download link: no cell a spreadsheet would run.

Hostile text arrives in every column people control: the platform's user id (`member_id`),
the display name, the comment and the names of recommended colleagues (free names and a
member's display name).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot.csv_safe import FORMULA_STARTS, HIDING_STARTS
from tests.support.playground import Playground

MALLORY = {"id": "=2+5", "name": "@SUM(A1:A9)", "locale": "en"}
TRENT = {"id": "-3+3", "name": "+Trent", "locale": "en"}
PEGGY = {"id": "+peg", "name": "Peggy", "locale": "en"}
VICTOR = {"id": "victor", "name": '=HYPERLINK("https://evil.example","x")', "locale": "en"}


def _runnable(cell: str) -> bool:
    """What a spreadsheet would read as a formula (the rule bot/csv_safe.py applies)."""
    return cell.startswith(HIDING_STARTS) or cell.lstrip().startswith(FORMULA_STARTS)


async def _answer(
    bot: Playground, who: dict[str, Any], score: int, details: dict[str, Any]
) -> None:
    dm = f"dm:{who['id']}"
    replies = await bot.action(who, "pulse.score", f"1:{score}", dm)
    replies = await bot.action(who, "pulse.lsat", "1:4", dm)
    action = replies[0]["form"]["submit_action_id"]
    await bot.action(who, action, json.dumps(details), dm)


async def _export(bot: Playground) -> list[list[str]]:
    card = (await bot.command("anim1", "pulse export 1"))[0]["card"]
    url = card["buttons"][0]["url"]
    response = await bot.client.get(url[url.index("/downloads/") :])
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO((await response.text()).lstrip("\ufeff"))))


async def test_every_column_of_the_export_is_neutralised(bot: Playground) -> None:
    await bot.command(VICTOR, "hello")
    await bot.command("anim1", "session start Feedback")
    code = next(m for m in reversed(await bot.messages()) if m["card"])["card"]["buttons"][0]
    for learner in (MALLORY, TRENT, PEGGY):
        await bot.command(learner, f"join {code['value']}")
    await bot.command("anim1", f"session close {code['value']}")
    assert "sent by DM to 3 members" in await bot.say("anim1", "pulse send")

    await _answer(bot, MALLORY, 9, {"comment": "+cmd|' /C calc'!A0", "referrals": ["-1+1 Eve"]})
    await _answer(bot, TRENT, 3, {"comment": "@SUM(1+1)", "referrals": ["victor"]})
    await _answer(bot, PEGGY, 10, {"comment": "Clear and useful", "referrals": ["Dana"]})

    rows = await _export(bot)
    assert rows[0][:2] == ["pulse", "member_id"]
    by_member = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_member) == {"'=2+5", "'-3+3", "'+peg"}
    mallory = by_member["'=2+5"]
    assert mallory["name"] == "'@SUM(A1:A9)"
    assert mallory["comment"] == "'+cmd|' /C calc'!A0"
    assert mallory["recommended_to"] == "'-1+1 Eve"
    trent = by_member["'-3+3"]
    assert trent["name"] == "'+Trent" and trent["comment"] == "'@SUM(1+1)"
    # A recommended member is written under their (hostile) display name.
    assert trent["recommended_to"] == "'" + VICTOR["name"]
    peggy = by_member["'+peg"]
    assert (peggy["name"], peggy["comment"], peggy["recommended_to"]) == (
        "Peggy",
        "Clear and useful",
        "Dana",
    )
    assert (peggy["score"], peggy["category"], peggy["lsat"]) == ("10", "promoter", "4")
    for row in rows:
        for cell in row:
            assert not _runnable(cell) or cell.startswith("'"), (row, cell)
