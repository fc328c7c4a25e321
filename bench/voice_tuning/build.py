"""Build and validate the themes tuning set (bench/voice_tuning/tuning_posts.json).

The posts are written by hand in posts_source.txt (one block per topic and language).
This script shuffles them with a fixed seed, numbers them t001..t240 in shuffled order (so
an id says nothing about topic, language or kind), writes the JSON, reads it back and
validates it, then prints the counts table used in README.md.

    python bench/voice_tuning/build.py          # build, then validate
    python bench/voice_tuning/build.py --check  # validate the existing JSON only

Standard library only.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "posts_source.txt"
OUTPUT = HERE / "tuning_posts.json"
SEED = 20261203

TOPICS = (
    "spreadsheets",
    "sales_calls",
    "customer_service",
    "negotiation",
    "project_planning",
    "email_writing",
    "stress",
    "coaching",
    "data_privacy",
    "change",
)
LANGS = ("fr", "en")
KINDS = ("question", "experience", "watch", "success", "not_yet")
SENTIMENTS = ("positive", "negative", "neutral")
PER_CELL = 12
MIN_WORDS, MAX_WORDS = 8, 45
URL = re.compile(r"https?://\S+")


def parse_source(text: str) -> list[dict[str, str]]:
    posts: list[dict[str, str]] = []
    topic = lang = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("== "):
            topic, lang = line[3:].split()
            continue
        head, sep, body = line.partition(" | ")
        if not sep or not topic:
            raise SystemExit(f"{SOURCE.name}:{number}: cannot parse {line!r}")
        kind, sentiment = head.split()
        posts.append(
            {"lang": lang, "topic": topic, "kind": kind, "sentiment": sentiment, "text": body}
        )
    return posts


def build() -> None:
    posts = parse_source(SOURCE.read_text(encoding="utf-8"))
    random.Random(SEED).shuffle(posts)
    numbered = [{"id": f"t{i:03d}", **post} for i, post in enumerate(posts, start=1)]
    OUTPUT.write_text(json.dumps(numbered, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def typography_errors(post: dict[str, str]) -> list[str]:
    errors = []
    text = URL.sub(" URL ", post["text"])
    if "\u2019" in text or "\u202f" in text or "\u00a0" in text:
        errors.append("curly apostrophe or no-break space")
    if post["lang"] == "fr":
        if re.search(r"\S[?!:;]", text):
            errors.append("French: missing space before ? ! : ;")
    elif re.search(r"\s[?!:;]", text):
        errors.append("English: space before ? ! : ;")
    return errors


def validate() -> Counter[tuple[str, str, str]]:
    posts = json.loads(OUTPUT.read_text(encoding="utf-8"))
    problems: list[str] = []
    keys = {"id", "lang", "topic", "kind", "sentiment", "text"}
    ids = Counter(p["id"] for p in posts)
    texts = Counter(p["text"].casefold() for p in posts)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    problems += [f"duplicate text {t!r}" for t, n in texts.items() if n > 1]
    cells: Counter[tuple[str, str, str]] = Counter()
    for p in posts:
        where = f"{p.get('id')}"
        if set(p) != keys:
            problems.append(f"{where}: keys {sorted(p)}")
            continue
        if not re.fullmatch(r"t\d{3}", p["id"]):
            problems.append(f"{where}: bad id")
        for field, allowed in (
            ("lang", LANGS),
            ("topic", TOPICS),
            ("kind", KINDS),
            ("sentiment", SENTIMENTS),
        ):
            if p[field] not in allowed:
                problems.append(f"{where}: {field}={p[field]!r}")
        words = len(p["text"].split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{where}: {words} words")
        has_url = bool(URL.search(p["text"]))
        if has_url != (p["kind"] == "watch"):
            problems.append(f"{where}: URL only and always in watch posts")
        if has_url and "https://example.org/" not in p["text"]:
            problems.append(f"{where}: URL outside example.org")
        opening = {
            "fr": {"success": "J'ai enfin", "not_yet": "Pas encore"},
            "en": {"success": "Finally", "not_yet": "Still haven't"},
        }
        start = opening[p["lang"]].get(p["kind"])
        if start and not p["text"].startswith(start):
            problems.append(f"{where}: {p['kind']} should start with {start!r}")
        if p["kind"] == "question" and "?" not in p["text"]:
            problems.append(f"{where}: question without '?'")
        problems += [f"{where}: {e}" for e in typography_errors(p)]
        cells[(p["topic"], p["lang"], p["kind"])] += 1
    for topic in TOPICS:
        for lang in LANGS:
            total = sum(cells[(topic, lang, k)] for k in KINDS)
            if total != PER_CELL:
                problems.append(f"{topic}/{lang}: {total} posts, expected {PER_CELL}")
            problems += [f"{topic}/{lang}: no {k}" for k in KINDS if not cells[(topic, lang, k)]]
            sentiments = {
                p["sentiment"] for p in posts if p["topic"] == topic and p["lang"] == lang
            }
            if len(sentiments) < 2:
                problems.append(f"{topic}/{lang}: only {sentiments}")
    if len(posts) != len(TOPICS) * len(LANGS) * PER_CELL:
        problems.append(f"{len(posts)} posts in all")
    if problems:
        raise SystemExit("INVALID:\n" + "\n".join(problems))
    return cells


def table(cells: Counter[tuple[str, str, str]]) -> str:
    head = "| topic | lang | " + " | ".join(KINDS) + " | total |"
    rule = "|" + "---|" * (len(KINDS) + 3)
    rows = [head, rule]
    for topic in TOPICS:
        for lang in LANGS:
            counts = [cells[(topic, lang, k)] for k in KINDS]
            rows.append(
                f"| {topic} | {lang} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |"
            )
    totals = [sum(cells[(t, la, k)] for t in TOPICS for la in LANGS) for k in KINDS]
    rows.append("| **all** | | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(rows)


def main() -> None:
    if "--check" not in sys.argv[1:]:
        build()
    cells = validate()
    posts = json.loads(OUTPUT.read_text(encoding="utf-8"))
    print(f"OK: {len(posts)} posts")
    print(table(cells))
    print("sentiments:", dict(Counter((p["lang"], p["sentiment"]) for p in posts)))


if __name__ == "__main__":
    main()
