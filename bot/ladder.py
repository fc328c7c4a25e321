"""The badge ladder as configured: levels, their criteria, daily caps and points.

Criteria are minimum counts of what the bot records (`CRITERIA`). Each level needs all
of its `requires` and, when given, at least one of its `requires_one_of` — and what every
lower level needs, so a senior has always met the confirmed criteria too. `shares` counts
every free contribution (tips, questions, experience reports, watch links); `questions`,
`experiences` and `watches` count each kind; `replies` the replies to questions (not
shares). A daily cap limits how many answers or shares
of one day count, so spam cannot climb the ladder; hidden contributions never count. A
wrong ladder raises SettingsError with one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.core.parsing import fold

# What a criterion can count (and `points`, their weighted total after the daily caps).
CRITERIA = (
    "contributions",  # challenge answers + shares
    "challenge_answers",
    "shares",  # every free contribution: tips, questions, experience reports, watch links
    "questions",
    "experiences",
    "watches",
    "replies",  # replies to questions, in their threads (not shares)
    "pulse_answers",
    "converted_referrals",
    "novices_mentored",  # mentoring pairs whose check-in says they met (mentoring issue)
    "sessions",  # training sessions taken part in
    "days_member",
    "points",
)
# Each kind of free contribution, counted within `shares` too.
SHARE_KINDS = ("questions", "experiences", "watches")
# What is capped per day, and what earns points. A kind of share without a cap of its own
# takes the cap of `shares` (storage/badges.py), so no kind escapes the cap the ladder had.
# Replies take the cap of `shares` the same way.
CAPPED = ("challenge_answers", "shares", *SHARE_KINDS, "replies")
POINTED = (
    "challenge_answers",
    "shares",
    "pulse_answers",
    "converted_referrals",
    "novices_mentored",
)


class LadderError(ValueError):
    """The ladder in the config file is wrong; the message names what and where."""


@dataclass(frozen=True)
class LevelSpec:
    """One rung of the badge ladder."""

    id: str
    name_en: str
    name_fr: str
    requires: Mapping[str, int] = field(default_factory=dict)
    requires_one_of: Mapping[str, int] = field(default_factory=dict)
    description_en: str = ""
    description_fr: str = ""
    # The badge image (PNG), relative to the config file's folder; `image_fr`, the one a
    # French reader's cards show (its words in French), when there is one.
    image: str = ""
    image_fr: str = ""

    def name(self, locale: str) -> str:
        """The level's display name in `locale`."""
        return self.name_fr if locale == "fr" else self.name_en

    def description(self, locale: str) -> str:
        """What the level stands for, in `locale`."""
        return (self.description_fr if locale == "fr" else self.description_en) or self.name(locale)

    def matches(self, word: str) -> bool:
        """Whether `word` names this level, in English or French, accents or not."""
        key = fold(word.strip())
        return bool(key) and key in (fold(self.id), fold(self.name_en), fold(self.name_fr))


@dataclass(frozen=True)
class Ladder:
    """The levels, lowest first, with the caps and points that apply to every level."""

    levels: tuple[LevelSpec, ...]
    daily_caps: Mapping[str, int] = field(default_factory=dict)
    points: Mapping[str, int] = field(default_factory=dict)
    config_dir: str = ""

    @property
    def counted_kinds(self) -> frozenset[str]:
        """What can change a member's standing on this ladder (besides time passing)."""
        kinds: set[str] = set()
        for level in self.levels:
            kinds |= set(level.requires) | set(level.requires_one_of)
        if "contributions" in kinds:
            kinds |= {"challenge_answers", "shares"}
        if "points" in kinds:
            kinds |= {kind for kind, weight in self.points.items() if weight}
        if "shares" in kinds:  # a question, an experience, a watch are shares too
            kinds |= set(SHARE_KINDS)
        return frozenset(kinds)

    def find(self, word: str) -> LevelSpec | None:
        """The level named `word` (`confirmed`, `confirmé`, `confirme`), or None."""
        return next((level for level in self.levels if level.matches(word)), None)

    def rank(self, level_id: str | None) -> int:
        """0 for no level, 1 for the first rung, and so on."""
        for index, level in enumerate(self.levels, start=1):
            if level.id == level_id:
                return index
        return 0

    def cumulative(self, level: LevelSpec) -> tuple[dict[str, int], list[Mapping[str, int]]]:
        """What reaching `level` takes: its criteria and every lower level's (the highest
        count of each kind), and each "one of" group along the way."""
        requires: dict[str, int] = {}
        groups: list[Mapping[str, int]] = []
        for rung in self.levels[: self.rank(level.id)]:
            for kind, needed in rung.requires.items():
                requires[kind] = max(requires.get(kind, 0), needed)
            if rung.requires_one_of:
                groups.append(rung.requires_one_of)
        return requires, groups

    def image_path(self, level: LevelSpec, locale: str | None = None) -> Path:
        """Where the level's badge image is (in `locale`'s words when there is one)."""
        if locale == "fr" and level.image_fr:
            return Path(self.config_dir) / level.image_fr
        return Path(self.config_dir) / (level.image or f"badges/{level.id}.png")


DEFAULT_LADDER = Ladder(
    levels=(
        LevelSpec("junior", "Junior", "Junior", {"contributions": 1}),
        LevelSpec(
            "confirmed",
            "Confirmed",
            "Confirmé",
            {"challenge_answers": 5, "pulse_answers": 1, "days_member": 30},
        ),
        LevelSpec(
            "senior",
            "Senior",
            "Senior",
            {"contributions": 15, "days_member": 90},
            {"converted_referrals": 1, "novices_mentored": 1},
        ),
    ),
    daily_caps={"challenge_answers": 3, "shares": 3},
)


def _counts(raw: Any, where: str, *, allowed: tuple[str, ...]) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LadderError(f"{where} must be a table such as {{ challenge_answers = 5 }}")
    counts = {}
    for kind, value in raw.items():
        if kind not in allowed:
            raise LadderError(f"{where}: unknown criterion {kind!r}; use {', '.join(allowed)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LadderError(f"{where}: {kind} must be a whole number ≥ 0, got {value!r}")
        counts[kind] = value
    return counts


def _check_increasing(levels: list[LevelSpec], path: str) -> None:
    """A higher level asks at least as much of every kind a lower one names, and more."""
    for lower, higher in pairwise(levels):
        for kind, needed in higher.requires.items():
            if kind in lower.requires and needed < lower.requires[kind]:
                raise LadderError(
                    f"{path}: ladder thresholds must increase: {higher.id} asks {kind} = "
                    f"{needed}, less than {lower.id}'s {lower.requires[kind]}"
                )
        more = any(
            needed > lower.requires.get(kind, 0) for kind, needed in higher.requires.items()
        ) or (
            dict(higher.requires_one_of) != dict(lower.requires_one_of)
            and bool(higher.requires_one_of)
        )
        if not more:
            raise LadderError(
                f"{path}: ladder thresholds must increase: {higher.id} asks nothing more "
                f"than {lower.id}"
            )


def parse_ladder(config: Mapping[str, Any], path: str) -> Ladder:
    """The `[ladder]` section of the config file, checked."""
    section = config.get("ladder", {})
    config_dir = str(Path(path).parent)
    if not isinstance(section, dict):
        raise LadderError(f"{path}: [ladder] must be a table")
    raw_levels = section.get("levels")
    if raw_levels is None:
        return Ladder(
            DEFAULT_LADDER.levels, DEFAULT_LADDER.daily_caps, DEFAULT_LADDER.points, config_dir
        )
    if not isinstance(raw_levels, list) or not raw_levels:
        raise LadderError(f"{path}: [ladder] levels must be a non-empty list of tables")
    levels = []
    for index, raw in enumerate(raw_levels, start=1):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise LadderError(f"{path}: ladder level #{index} needs an id")
        where = f"{path}: ladder level {raw['id']!r}"
        requires = _counts(raw.get("requires"), f"{where} requires", allowed=CRITERIA)
        one_of = _counts(raw.get("requires_one_of"), f"{where} requires_one_of", allowed=CRITERIA)
        if not requires and not one_of:
            raise LadderError(f"{where} needs criteria: requires = {{ contributions = 1 }}")
        levels.append(
            LevelSpec(
                id=raw["id"],
                name_en=str(raw.get("name_en", raw["id"])),
                name_fr=str(raw.get("name_fr", raw.get("name_en", raw["id"]))),
                requires=requires,
                requires_one_of=one_of,
                description_en=str(raw.get("description_en", "")),
                description_fr=str(raw.get("description_fr", "")),
                image=str(raw.get("image", "")),
                image_fr=str(raw.get("image_fr", "")),
            )
        )
    if len({level.id for level in levels}) != len(levels):
        raise LadderError(f"{path}: ladder level ids must be unique")
    _check_increasing(levels, path)
    caps = _counts(section.get("daily_cap"), f"{path}: [ladder.daily_cap]", allowed=CAPPED)
    if any(cap == 0 for cap in caps.values()):
        raise LadderError(f"{path}: [ladder.daily_cap] caps must be at least 1")
    points = _counts(section.get("points"), f"{path}: [ladder.points]", allowed=POINTED)
    ladder = Ladder(tuple(levels), caps, points, config_dir)
    for level in levels:
        for locale in (None, "fr"):
            if not ladder.image_path(level, locale).is_file():
                raise LadderError(
                    f"{path}: ladder level {level.id!r}: badge image"
                    f" {ladder.image_path(level, locale)} not found (set"
                    f' {"image_fr" if locale else "image"} = "badges/<file>.png",'
                    " relative to the config file)"
                )
    return ladder
