"""The ladder file: read, and refused with one line naming the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "ambassador.toml"


def _config(tmp_path: Path, ladder: str) -> dict[str, str]:
    shutil.copytree(REPO / "config" / "badges", tmp_path / "badges")
    text = CONFIG.read_text()
    start = text.index("[[ladder.levels]]")
    end = text.index("[challenges]")
    (tmp_path / "bot.toml").write_text(text[:start] + ladder + "\n" + text[end:])
    return {"AMBASSADOR_CONFIG": str(tmp_path / "bot.toml")}


LEVEL = '[[ladder.levels]]\nid = "{id}"\nimage = "badges/junior.png"\nrequires = {req}\n'


def test_the_shipped_ladder() -> None:
    ladder = load_settings({"AMBASSADOR_CONFIG": str(CONFIG)}).ladder
    assert [level.id for level in ladder.levels] == ["junior", "confirmed", "senior"]
    assert ladder.find("confirmé") is ladder.find("CONFIRME") is ladder.levels[1]
    assert ladder.find("expert") is None
    assert ladder.levels[1].name("fr") == "Confirmé"
    requires, groups = ladder.cumulative(ladder.levels[2])
    assert requires == {
        "contributions": 15,
        "challenge_answers": 5,
        "pulse_answers": 1,
        "days_member": 90,
    }
    assert groups == [{"converted_referrals": 1, "novices_mentored": 1}]
    assert all(ladder.image_path(level).is_file() for level in ladder.levels)
    # Each shipped level has its image in French words for French readers' cards.
    french = [ladder.image_path(level, "fr") for level in ladder.levels]
    assert [path.name for path in french] == ["junior.fr.png", "confirmed.fr.png", "senior.fr.png"]
    assert ladder.image_path(ladder.levels[0], "en").name == "junior.png"


@pytest.mark.parametrize(
    ("ladder", "named"),
    [
        (
            LEVEL.format(id="a", req="{ contributions = 5 }")
            + LEVEL.format(id="b", req="{ contributions = 3 }"),
            "thresholds must increase: b asks contributions = 3, less than a's 5",
        ),
        (
            LEVEL.format(id="a", req="{ contributions = 5 }")
            + LEVEL.format(id="b", req="{ contributions = 5 }"),
            "b asks nothing more than a",
        ),
        (LEVEL.format(id="a", req="{ likes = 5 }"), "unknown criterion 'likes'"),
        (LEVEL.format(id="a", req="{ contributions = -1 }"), "whole number"),
        (LEVEL.format(id="a", req="{}"), "needs criteria"),
        (LEVEL.format(id="a", req="5"), "must be a table"),
        (
            LEVEL.format(id="a", req="{ shares = 1 }").replace("junior.png", "missing.png"),
            "badge image",
        ),
        (
            LEVEL.format(id="a", req="{ shares = 1 }") + 'image_fr = "badges/missing.fr.png"\n',
            "missing.fr.png not found (set image_fr",
        ),
        (
            LEVEL.format(id="a", req="{ shares = 1 }") + LEVEL.format(id="a", req="{ shares = 2 }"),
            "unique",
        ),
        (
            LEVEL.format(id="a", req="{ shares = 1 }") + "[ladder.daily_cap]\nshares = 0\n",
            "at least 1",
        ),
    ],
)
def test_a_wrong_ladder_stops_start_up_with_one_line(
    tmp_path: Path, ladder: str, named: str
) -> None:
    with pytest.raises(SettingsError, match=named.replace("(", r"\(")) as caught:
        load_settings(_config(tmp_path, ladder))
    assert "\n" not in str(caught.value)


def test_what_the_ladder_counts() -> None:
    ladder = load_settings({"AMBASSADOR_CONFIG": str(CONFIG)}).ladder
    # A join (sessions) does not count under the shipped ladder: no evaluation runs for it.
    assert "sessions" not in ladder.counted_kinds
    assert {"contributions", "challenge_answers", "shares", "pulse_answers"} <= (
        ladder.counted_kinds
    )
    assert {"converted_referrals", "novices_mentored", "days_member"} <= ladder.counted_kinds


def test_each_kind_of_share_is_a_criterion_with_a_cap(tmp_path: Path) -> None:
    ladder = load_settings(
        _config(
            tmp_path,
            LEVEL.format(id="junior", req="{ questions = 2 }")
            + LEVEL.format(id="confirmed", req="{ questions = 2, watches = 3, experiences = 1 }")
            + "[ladder.daily_cap]\nshares = 3\nquestions = 1\n",
        )
    ).ladder
    assert dict(ladder.levels[1].requires) == {"questions": 2, "watches": 3, "experiences": 1}
    assert dict(ladder.daily_caps) == {"shares": 3, "questions": 1}
    assert {"questions", "experiences", "watches"} <= ladder.counted_kinds
    assert "shares" not in ladder.counted_kinds  # a tip changes nothing on this ladder


def test_shares_count_every_kind_for_the_shipped_ladder() -> None:
    ladder = load_settings({"AMBASSADOR_CONFIG": str(CONFIG)}).ladder
    # `contributions` = answers + shares, and every kind of share is a share.
    assert {"shares", "questions", "experiences", "watches"} <= ladder.counted_kinds
