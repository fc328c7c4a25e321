"""Validate sentiment_seeds.json: allowed values, counts, unique texts, lengths.

Usage: python bot/voice/data/check_seeds.py [path/to/sentiment_seeds.json]
Exits with status 1 and lists the problems if the set does not meet its spec.
Standard library only.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

LANGS = ("fr", "en")
SENTIMENTS = ("positive", "negative", "neutral")
PER_CELL = 70
MIN_WORDS = 6
MAX_WORDS = 40
DEFAULT_PATH = Path(__file__).with_name("sentiment_seeds.json")


def check(rows: object) -> tuple[Counter[tuple[str, str]], list[str]]:
    """Return the (lang, sentiment) counts and the list of problems found."""
    problems: list[str] = []
    counts: Counter[tuple[str, str]] = Counter()
    if not isinstance(rows, list):
        return counts, ["top level is not a JSON list"]
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != {"lang", "sentiment", "text"}:
            problems.append(f"row {i}: keys must be exactly lang, sentiment, text")
            continue
        lang, sentiment, text = row["lang"], row["sentiment"], row["text"]
        if lang not in LANGS:
            problems.append(f"row {i}: lang {lang!r} not in {LANGS}")
        if sentiment not in SENTIMENTS:
            problems.append(f"row {i}: sentiment {sentiment!r} not in {SENTIMENTS}")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"row {i}: empty or non-string text")
            continue
        if text != text.strip():
            problems.append(f"row {i}: leading or trailing whitespace")
        words = len(text.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"row {i}: {words} words (want {MIN_WORDS}-{MAX_WORDS})")
        key = " ".join(text.casefold().split())
        if key in seen:
            problems.append(f"row {i}: duplicate of row {seen[key]}")
        else:
            seen[key] = i
        counts[(str(lang), str(sentiment))] += 1
    for lang in LANGS:
        for sentiment in SENTIMENTS:
            n = counts[(lang, sentiment)]
            if n != PER_CELL:
                problems.append(f"{lang}/{sentiment}: {n} rows (want {PER_CELL})")
    return counts, problems


def table(counts: Counter[tuple[str, str]]) -> str:
    """Counts per language x sentiment, with totals."""
    header = f"{'lang':<6}" + "".join(f"{s:>10}" for s in SENTIMENTS) + f"{'total':>8}"
    lines = [header, "-" * len(header)]
    for lang in LANGS:
        cells = [counts[(lang, s)] for s in SENTIMENTS]
        lines.append(f"{lang:<6}" + "".join(f"{n:>10}" for n in cells) + f"{sum(cells):>8}")
    totals = [sum(counts[(lang, s)] for lang in LANGS) for s in SENTIMENTS]
    lines.append(f"{'all':<6}" + "".join(f"{n:>10}" for n in totals) + f"{sum(totals):>8}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_PATH
    rows = json.loads(path.read_text(encoding="utf-8"))
    counts, problems = check(rows)
    print(table(counts))
    texts = [r["text"] for r in rows if isinstance(r, dict) and isinstance(r.get("text"), str)]
    if texts:
        lengths = sorted(len(t.split()) for t in texts)
        unique = len({" ".join(t.casefold().split()) for t in texts})
        print(
            f"\nwords per post: min {lengths[0]}, median {lengths[len(lengths) // 2]}, "
            f"max {lengths[-1]}; unique texts: {unique}"
        )
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
