"""The themes suite (issue 19): the voice engine's quality on the held-out set, and its cost
over 100,000 contributions.

`python -m bench.run --suites themes` runs, each part in a fresh process of its own
(`python -m bench.themes --part …`) so that its peak memory is its own:

- evaluation: `bot.voice.evaluation.evaluate` on the held-out set
  (tests/fixtures/learner_voice/, 250 posts): purity (target 0.8), share of topics with
  both languages in one theme (target 0.75), sentiment accuracy (target 0.8), with the CPU
  of the themes and of the sentiment parts and the peak RSS. Needs the sentiment seeds
  (bot/voice/data/sentiment_seeds.json): without them the part is reported skipped;
- corpus: 100,000 synthetic contributions (`--themes-quick`: 10,000), French and English,
  8–45 words like chat posts, made by recombining clauses written here (not taken from the
  evaluation set): their content texts embedded from scratch (CPU and wall seconds), then
  grouped from the stored vectors (`clustering.group`, then `naming.key_words`: wall
  seconds), both against the 60 s target, and the peak RSS;
- incremental, in the corpus's process once grouped: 1,000 new contributions placed one by
  one (language, content text embedded, `Grouping.place`), p50/p99 against the 50 ms target.

One run (the figures are CPU-bound and deterministic up to the machine's noise); targets
are informational, as in every suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.servers import BenchError

HELD_OUT = (
    Path(__file__).resolve().parent.parent / "tests/fixtures/learner_voice/learner_posts.json"
)
TARGETS = {
    "purity": 0.8,
    "cross_lingual": 0.75,
    "sentiment_accuracy": 0.8,
    "themes_s": 60.0,
    "place_ms": 50.0,
}
POSTS = 100_000
QUICK_POSTS = 10_000
INCREMENTAL = 1_000
MIN_WORDS = 8
MAX_WORDS = 45
SEED = 19

# --- synthetic contributions ---------------------------------------------------------------

# Written for this bench (not taken from the evaluation or the tuning set): how posts open
# and close, and what they say about ten subjects, in both languages.
OPENERS = {
    "en": (
        "Quick one:",
        "So,",
        "Update from my side:",
        "Hi all,",
        "Small win today:",
        "Honestly,",
        "Not sure where to post this but",
        "Following up on last week,",
        "Curious what you think:",
        "Heads up,",
    ),
    "fr": (
        "Petite question :",
        "Bon,",
        "Des nouvelles de mon côté :",
        "Bonjour à tous,",
        "Petite victoire aujourd'hui :",
        "Franchement,",
        "Je ne sais pas trop où poster ça mais",
        "Suite à la semaine dernière,",
        "Curieuse d'avoir votre avis :",
        "Pour info,",
    ),
}
CLOSERS = {
    "en": (
        "Any thoughts?",
        "Thanks in advance!",
        "Will report back next week.",
        "Happy to share the template if useful.",
        "Feeling much better about it now.",
        "Still a bit stuck to be honest.",
        "Link in the thread: https://example.org/notes",
        "Has anyone tried something similar?",
    ),
    "fr": (
        "Vous en pensez quoi ?",
        "Merci d'avance !",
        "Je vous redis la semaine prochaine.",
        "Je peux partager le modèle si ça vous sert.",
        "Je me sens beaucoup mieux avec ça maintenant.",
        "Encore un peu bloqué pour être honnête.",
        "Le lien dans le fil : https://example.org/notes",
        "Quelqu'un a déjà essayé un truc du genre ?",
    ),
}
CLAUSES = {
    "budget": {
        "en": (
            "our quarterly budget review keeps slipping because nobody owns the spreadsheet",
            "I had to cut two line items from the training budget and explain why to the team",
            "tracking expenses per project finally shows where the money actually goes",
            "the finance team asked for a forecast I have no data for yet",
        ),
        "fr": (
            "la revue budgétaire du trimestre glisse encore car personne ne tient le tableur",
            "j'ai dû couper deux lignes du budget formation et l'expliquer à l'équipe",
            "suivre les dépenses par projet montre enfin où part vraiment l'argent",
            "la direction financière me demande une prévision sans aucune donnée fiable",
        ),
    },
    "hiring": {
        "en": (
            "we interviewed five candidates for the analyst role and none fit the team",
            "writing the job description took longer than the interviews themselves",
            "I tried a short paid exercise instead of a whiteboard test for the recruitment",
            "the new recruit accepted our offer after a second call with the manager",
        ),
        "fr": (
            "on a reçu cinq candidats pour le poste d'analyste et aucun ne colle",
            "rédiger la fiche de poste m'a pris plus de temps que les entretiens",
            "j'ai remplacé le test au tableau par un petit exercice rémunéré pour le recrutement",
            "la nouvelle recrue a accepté l'offre après un deuxième appel avec sa manager",
        ),
    },
    "customers": {
        "en": (
            "a customer called three times about the same invoice and got three answers",
            "we started recording short summaries after each client call",
            "the angry client calmed down once we listened to the whole story",
            "our support queue doubled since the product update on Monday",
        ),
        "fr": (
            "un client a appelé trois fois pour la même facture et a eu trois réponses",
            "on note maintenant un court résumé après chaque appel client",
            "le client mécontent s'est calmé quand on a écouté toute son histoire",
            "la file du support a doublé depuis la mise à jour du produit lundi",
        ),
    },
    "documentation": {
        "en": (
            "nobody reads the wiki so the same questions come back every sprint",
            "I rewrote the setup guide with screenshots and the questions dropped",
            "our process documents are scattered across four different tools",
            "writing things down before the handover saved my colleague a week",
        ),
        "fr": (
            "personne ne lit le wiki donc les mêmes questions reviennent à chaque sprint",
            "j'ai réécrit le guide d'installation avec des captures et les questions ont baissé",
            "nos procédures sont éparpillées dans quatre outils différents",
            "tout écrire avant la passation a fait gagner une semaine à ma collègue",
        ),
    },
    "training": {
        "en": (
            "the workshop on negotiation was the most practical session of the programme",
            "I keep forgetting what we learned unless I apply it the same week",
            "our cohort set up a reading group around the course material",
            "the e-learning modules feel long and nobody finishes them",
        ),
        "fr": (
            "l'atelier sur la négociation a été la séance la plus concrète du parcours",
            "j'oublie ce qu'on apprend si je ne l'applique pas dans la semaine",
            "notre promo a lancé un groupe de lecture autour des supports du cours",
            "les modules en ligne sont longs et personne ne va jusqu'au bout",
        ),
    },
    "wellbeing": {
        "en": (
            "I started taking a real lunch break away from the screen",
            "the whole team feels tired after the release crunch",
            "a ten minute walk after lunch changed my afternoons",
            "I struggle to say when my workload is too much",
        ),
        "fr": (
            "j'ai commencé à prendre une vraie pause déjeuner loin de l'écran",
            "toute l'équipe est fatiguée après le rush de la mise en production",
            "dix minutes de marche après le déjeuner ont changé mes après-midi",
            "j'ai du mal à dire quand ma charge de travail devient trop lourde",
        ),
    },
    "mentoring": {
        "en": (
            "my mentee asked how to get promoted and I had no clear answer",
            "pairing a junior with a senior on the same ticket worked better than reviews",
            "I meet my mentor once a month and we always run out of time",
            "being a mentor taught me more about my own habits than I expected",
        ),
        "fr": (
            "mon mentoré m'a demandé comment évoluer et je n'avais pas de réponse claire",
            "faire travailler un junior avec un senior sur le même ticket a mieux marché",
            "je vois ma mentore une fois par mois et on manque toujours de temps",
            "être mentor m'a appris plus sur mes propres habitudes que prévu",
        ),
    },
    "planning": {
        "en": (
            "the project plan looked fine until the supplier moved the deadline",
            "we split the roadmap into six week cycles with a buffer at the end",
            "I never know how much slack to keep in a schedule",
            "the kickoff went well but the milestones are already late",
        ),
        "fr": (
            "le planning du projet tenait jusqu'à ce que le fournisseur décale l'échéance",
            "on a découpé la feuille de route en cycles de six semaines avec une marge",
            "je ne sais jamais quelle marge garder dans un calendrier",
            "le lancement s'est bien passé mais les jalons sont déjà en retard",
        ),
    },
    "email": {
        "en": (
            "my inbox had four hundred unread messages after the holidays",
            "I now write the request in the subject line and people answer faster",
            "long email threads with twenty people in copy drive me mad",
            "a template for weekly status emails saved me an hour every Friday",
        ),
        "fr": (
            "ma boîte mail comptait quatre cents messages non lus après les vacances",
            "j'écris la demande dans l'objet du mail et on me répond plus vite",
            "les longs fils de mails avec vingt personnes en copie me rendent fou",
            "un modèle de mail hebdomadaire me fait gagner une heure chaque vendredi",
        ),
    },
    "tools": {
        "en": (
            "we moved the team's tasks from spreadsheets to a shared board",
            "the new ticketing tool has too many fields nobody fills in",
            "automating the weekly report with a small script took one afternoon",
            "half the team still uses the old tracker out of habit",
        ),
        "fr": (
            "on est passés des tableurs à un tableau partagé pour les tâches de l'équipe",
            "le nouvel outil de tickets a trop de champs que personne ne remplit",
            "automatiser le rapport hebdo avec un petit script m'a pris un après-midi",
            "la moitié de l'équipe utilise encore l'ancien outil par habitude",
        ),
    },
}


def synthetic_posts(count: int, seed: int = SEED) -> list[tuple[str, str]]:
    """`count` contributions (text, language), half French, half English, 8–45 words
    (most around 20, as in chat), each a recombination of an opener, clauses of one
    subject (now and then one of another) and a closer."""
    rng = random.Random(seed)
    subjects = sorted(CLAUSES)
    posts: list[tuple[str, str]] = []
    for number in range(count):
        language = "fr" if number % 2 else "en"
        subject = rng.choice(subjects)
        target = MIN_WORDS + round(rng.betavariate(2.0, 3.5) * (MAX_WORDS - MIN_WORDS))
        clauses = list(CLAUSES[subject][language])
        rng.shuffle(clauses)
        parts: list[str] = []
        if rng.random() < 0.6:
            parts.append(rng.choice(OPENERS[language]))
        words = sum(len(part.split()) for part in parts)
        while words < target:
            if clauses and rng.random() < 0.85:
                clause = clauses.pop()
            else:
                clause = rng.choice(CLAUSES[rng.choice(subjects)][language])
            if rng.random() < 0.3:
                clause += f" ({rng.randint(2, 40)} {'jours' if language == 'fr' else 'days'})"
            if parts and parts[-1][-1] in ".!?":
                clause = clause[0].upper() + clause[1:]
            parts.append(clause + rng.choice((",", ".", " !" if language == "fr" else "!", ";")))
            words += len(clause.split())
            if words < target and rng.random() < 0.4:
                parts.append(rng.choice(CLOSERS[language]))
                words += len(parts[-1].split())
        text = " ".join(" ".join(parts).split()[:MAX_WORDS])
        posts.append((text[0].upper() + text[1:], language))
    return posts


# --- the parts, each in its own process -------------------------------------------------


def _rss() -> dict[str, float | None]:
    """Resident memory now and its peak so far (VmRSS, VmHWM) in MiB; None off Linux."""
    found: dict[str, float | None] = {"rss_mib": None, "peak_rss_mib": None}
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                name, _, value = line.partition(":")
                key = {"VmRSS": "rss_mib", "VmHWM": "peak_rss_mib"}.get(name)
                if key:
                    found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return found


def part_evaluation() -> dict[str, Any]:
    """The held-out set through `evaluate` (the seeds must be there)."""
    from dataclasses import asdict

    from bot.voice.encoder import Encoder
    from bot.voice.evaluation import evaluate

    posts = json.loads(HELD_OUT.read_text(encoding="utf-8"))
    figures = asdict(evaluate(posts, Encoder()))
    figures["met"] = {
        key: figures[key] >= TARGETS[key]
        for key in ("purity", "cross_lingual", "sentiment_accuracy")
    }
    return figures


def part_corpus(count: int, incremental: int, vectors_out: Path | None = None) -> dict[str, Any]:
    """`count` synthetic contributions embedded, grouped and named; then `incremental` new
    ones placed one by one (the vectors saved to `vectors_out` for the database part)."""
    import numpy as np

    from bot.voice import clustering, naming
    from bot.voice.encoder import Encoder
    from bot.voice.text import content_text, language_of

    posts = synthetic_posts(count + incremental)
    stored, new = posts[:count], posts[count:]
    texts = [text for text, _ in stored]
    words = [len(text.split()) for text in texts]
    encoder = Encoder()
    cpu, wall = time.process_time(), time.perf_counter()
    encoder.embed([" "])
    load = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
    memory_loaded = _rss()

    # From scratch: every contribution's language and content text, embedded.
    cpu, wall = time.process_time(), time.perf_counter()
    languages = [language_of(text, default) for text, default in stored]
    vectors = encoder.embed([content_text(text) for text in texts])
    embed = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
    memory_embedded = _rss()
    if vectors_out is not None:
        np.save(vectors_out, vectors)

    # From stored vectors (here in memory; the bot's come from the database, below).
    cpu, wall = time.process_time(), time.perf_counter()
    grouping = clustering.group(vectors, languages, clustering.phrasing_directions(encoder))
    grouped = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
    cpu, wall = time.process_time(), time.perf_counter()
    themes = len(grouping.centres)
    names = naming.key_words(texts, languages, [int(label) for label in grouping.labels], themes)
    named = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
    memory_grouped = _rss()

    latencies = []
    for text, default in new:
        started = time.perf_counter()
        language = language_of(text, default)
        grouping.place(encoder.embed([content_text(text)]), [language])
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    sizes = np.bincount(grouping.labels, minlength=themes)

    def rounded(figures: dict[str, float]) -> dict[str, float]:
        return {key: round(value, 2) for key, value in figures.items()}

    regroup_s = grouped["wall_s"] + named["wall_s"]
    return {
        "posts": count,
        "words_per_post": {
            "min": min(words),
            "median": statistics.median(words),
            "max": max(words),
        },
        "french": sum(language == "fr" for language in languages),
        "encoder_load": rounded(load),
        "embed": {
            **rounded(embed),
            "per_1000_posts_cpu_s": round(embed["cpu_s"] * 1000 / count, 3),
            "met": embed["wall_s"] < TARGETS["themes_s"],
        },
        "group": rounded(grouped),
        "name": rounded(named),
        "regroup": {"wall_s": round(regroup_s, 2), "met": regroup_s < TARGETS["themes_s"]},
        "from_scratch": {
            "wall_s": round(embed["wall_s"] + regroup_s, 2),
            "met": embed["wall_s"] + regroup_s < TARGETS["themes_s"],
        },
        "themes": themes,
        "theme_sizes": {"min": int(sizes.min()), "max": int(sizes.max())},
        "named_themes": len({theme for theme, _ in names}),
        "memory_mib": {
            "encoder_loaded": memory_loaded,
            "embedded": memory_embedded,
            "grouped_and_named": memory_grouped,
            "peak": _rss()["peak_rss_mib"],
            "vectors": round(vectors.nbytes / 2**20, 1),
            "note": "RSS after each stage and the process's peak so far (VmRSS, VmHWM)",
        },
        "incremental": {
            "posts": len(latencies),
            "p50_ms": round(latencies[len(latencies) // 2], 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "max_ms": round(latencies[-1], 2),
            "met": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            < TARGETS["place_ms"],
        },
    }


def _database_rows(count: int, vectors: Any) -> dict[str, list[dict[str, Any]]]:
    """A workspace of 2,000 members and `count` contributions over 120 days, each with the
    voice row the bot stores when it reads it (its vector from the corpus part)."""
    import random
    from datetime import UTC, datetime, timedelta

    from bot.voice.service import to_bytes
    from bot.voice.text import language_of

    rng = random.Random(SEED)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    members = 2_000
    data: dict[str, list[dict[str, Any]]] = {
        "workspace": [{"id": 1, "platform": "local", "external_id": "local", "created_at": now}],
        "member": [
            {
                "id": n + 1,
                "workspace_id": 1,
                "user_id": f"u{n}",
                "display_name": f"Learner {n}",
                "role": "learner",
                "joined_at": now - timedelta(days=200),
                "created_at": now - timedelta(days=200),
            }
            for n in range(members)
        ],
        "contribution": [],
        "contribution_voice": [],
    }
    stored = to_bytes(vectors)
    for index, (text, default) in enumerate(synthetic_posts(count)):
        when = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1439))
        data["contribution"].append(
            {
                "id": index + 1,
                "workspace_id": 1,
                "member_id": rng.randrange(members) + 1,
                "kind": rng.choice(("share", "question", "experience", "answer")),
                "outcome": None,
                "text": text,
                "created_at": when,
                "updated_at": when,
            }
        )
        data["contribution"][-1]["outcome"] = (
            "success" if data["contribution"][-1]["kind"] == "answer" else None
        )
        data["contribution_voice"].append(
            {
                "contribution_id": index + 1,
                "workspace_id": 1,
                "language": language_of(text, default),
                "sentiment": rng.choice(("positive", "neutral", "negative")),
                "vector": stored[index],
                "theme": None,
            }
        )
    return data


def part_database(count: int, backend: str, server_url: str, workdir: Path) -> dict[str, Any]:
    """The bot's own path on a database holding `count` read contributions: the themes
    found again from the stored vectors as the voice job does (`service.regroup_apart`:
    read, group, name, store the map and every post's theme), then 256 new contributions
    read as the job reads them (`read_apart`: language, sentiment, vector, placed in the
    themes, stored)."""
    import numpy as np

    vectors = np.load(workdir / "themes-vectors.npy")[:count]
    return asyncio.run(_database(count, vectors, backend, server_url, workdir))


async def _database(
    count: int, vectors: Any, backend: str, server_url: str, workdir: Path
) -> dict[str, Any]:
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from bench.bulk import loaded_database
    from bot.voice import service
    from storage.db import session_factory
    from storage.models import Contribution, ThemeMap

    data = _database_rows(count, vectors)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    async with loaded_database(backend, server_url, workdir, "themes", data) as (
        _url,
        engine,
        load_s,
    ):
        sessions = session_factory(engine)
        voice = service.shared_voice()
        voice.encoder.embed([" "])
        voice.sentiment.predict(["warm-up"])
        voice.nuisance()
        cpu, wall = time.process_time(), time.perf_counter()
        await service.regroup_apart(sessions, voice, 1, now)
        regroup = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
        async with sessions() as db:
            themes = len((await db.get(ThemeMap, 1)).names)  # type: ignore[union-attr]
        # New contributions, read as the job reads them (one step of READ_BATCH).
        new = synthetic_posts(count + service.READ_BATCH)[count:]
        async with sessions() as db, db.begin():
            await db.execute(
                insert(Contribution),
                [
                    {
                        "workspace_id": 1,
                        "member_id": 1 + n,
                        "kind": "share",
                        "text": text,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, (text, _) in enumerate(new)
                ],
            )
        cpu, wall = time.process_time(), time.perf_counter()
        read = await service.read_apart(sessions, voice, 1, service.READ_BATCH)
        step = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}
        async with sessions() as db:
            placed = (
                await db.execute(select(Contribution.id).where(Contribution.id > count).limit(1))
            ).scalar()
    per_post_ms = 1000 * step["wall_s"] / max(read, 1)
    return {
        "backend": backend,
        "posts": count,
        "load_s": round(load_s, 1),
        "regroup": {
            "cpu_s": round(regroup["cpu_s"], 2),
            "wall_s": round(regroup["wall_s"], 2),
            "met": regroup["wall_s"] < TARGETS["themes_s"],
        },
        "themes": themes,
        "read_step": {
            "posts": read,
            "wall_s": round(step["wall_s"], 2),
            "per_post_ms": round(per_post_ms, 2),
            "met": per_post_ms < TARGETS["place_ms"],
            "first_new_id": placed,
        },
        "peak_rss_mib": _rss()["peak_rss_mib"],
    }


# --- the suite, in `python -m bench.run` ------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The suite's options, added to `python -m bench.run`'s parser."""
    group = parser.add_argument_group("themes suite")
    group.add_argument(
        "--themes-quick",
        action="store_true",
        help=f"{QUICK_POSTS:,} synthetic contributions instead of {POSTS:,} (a run of seconds)",
    )
    group.add_argument(
        "--themes-incremental",
        type=int,
        default=INCREMENTAL,
        help="new contributions placed one by one (default: %(default)s)",
    )


async def _part(workdir: Path, name: str, *options: str) -> dict[str, Any]:
    """One part in a fresh process; its figures, or why it could not run."""
    output = workdir / f"themes-{name}.json"
    log = workdir / f"themes-{name}.log"
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.themes",
            "--part",
            name,
            "--output",
            str(output),
            *options,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )
        code = await process.wait()
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        return {"failed": f"exit {code}: {tail[0] if tail else 'no output'}"}
    found: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return found


async def run_suite(
    args: argparse.Namespace, workdir: Path, results: dict[str, Any], _skipped: dict[str, str]
) -> None:
    """The evaluation, then the corpus and the incremental placement (no database yet)."""
    count = QUICK_POSTS if args.themes_quick else POSTS
    section: dict[str, Any] = {"targets": TARGETS, "quick": args.themes_quick}
    results["themes"] = section
    print("  themes: the held-out set…", flush=True)
    section["evaluation"] = await _part(workdir, "evaluation")
    if "failed" in section["evaluation"]:
        print(f"  themes: evaluation did not run: {section['evaluation']['failed']}", flush=True)
    else:
        print("  " + _evaluation_line(section["evaluation"]), flush=True)
    print(f"  themes: {count:,} synthetic contributions…", flush=True)
    corpus = await _part(
        workdir,
        "corpus",
        "--posts",
        str(count),
        "--incremental",
        str(args.themes_incremental),
        "--vectors-out",
        str(workdir / "themes-vectors.npy"),
    )
    if "failed" in corpus:
        raise BenchError(f"themes corpus: {corpus['failed']} (run `python -m bench.themes`)")
    section["corpus"] = corpus
    for line in _corpus_lines(corpus):
        print("  " + line, flush=True)
    # The bot's own path: vectors stored as contributions are read, the themes found again
    # from the database (each backend in a process of its own).
    section["database"] = {}
    for backend in ("sqlite", "postgresql"):
        print(f"  themes: regrouping from {backend}…", flush=True)
        found = await _part(
            workdir,
            "database",
            "--posts",
            str(count),
            "--backend",
            backend,
            "--server-url",
            args.database_url,
            "--workdir",
            str(workdir),
        )
        section["database"][backend] = found
        print("  " + _database_line(found), flush=True)


def _evaluation_line(found: dict[str, Any]) -> str:
    if "failed" in found:
        return f"themes evaluation: did not run: {found['failed']}"
    return (
        f"themes evaluation ({found['posts']} held-out posts, {found['themes']} themes): "
        f"purity {found['purity']} (target {TARGETS['purity']}), cross-lingual "
        f"{found['cross_lingual']} (target {TARGETS['cross_lingual']}), sentiment "
        f"{found['sentiment_accuracy']} (target {TARGETS['sentiment_accuracy']}); CPU "
        f"themes {found['themes_cpu_s']} s, sentiment {found['sentiment_cpu_s']} s, "
        f"peak RSS {found['peak_rss_mib']} MiB"
    )


def _database_line(found: dict[str, Any]) -> str:
    if "failed" in found:
        return f"themes from the database: did not run: {found['failed']}"
    regroup, step = found["regroup"], found["read_step"]
    return (
        f"themes from {found['backend']} ({found['posts']:,} stored vectors): found again in "
        f"{regroup['wall_s']} s ({_met(regroup['met'])}, target < {TARGETS['themes_s']:g} s), "
        f"{found['themes']} themes; {step['posts']} new contributions read, placed and stored "
        f"in {step['wall_s']} s = {step['per_post_ms']} ms each ({_met(step['met'])}, target "
        f"< {TARGETS['place_ms']:g} ms); peak RSS {found['peak_rss_mib']} MiB"
    )


def _met(value: bool) -> str:
    return "met" if value else "NOT met"


def _corpus_lines(corpus: dict[str, Any]) -> list[str]:
    embed, regroup, placed = corpus["embed"], corpus["regroup"], corpus["incremental"]
    target = TARGETS["themes_s"]
    return [
        f"themes over {corpus['posts']:,} contributions ({corpus['words_per_post']['median']} "
        f"words median): embedded from scratch in {embed['wall_s']} s wall / {embed['cpu_s']} "
        f"CPU-s ({_met(embed['met'])}, target < {target:g} s); grouped from stored vectors "
        f"in {corpus['group']['wall_s']} s + named in {corpus['name']['wall_s']} s = "
        f"{regroup['wall_s']} s ({_met(regroup['met'])}); {corpus['themes']} themes; "
        f"peak RSS {corpus['memory_mib']['peak']} MiB",
        f"themes incremental: a new contribution placed in p50 {placed['p50_ms']} ms, p99 "
        f"{placed['p99_ms']} ms over {placed['posts']} ({_met(placed['met'])}, target < "
        f"{TARGETS['place_ms']:g} ms)",
    ]


def summary_lines(section: dict[str, Any]) -> list[str]:
    """The themes suite in a few lines, for the terminal."""
    lines = ["themes (issue 19): quality on the held-out set, cost over synthetic posts"]
    lines.append("  " + _evaluation_line(section.get("evaluation", {"failed": "not run"})))
    if "corpus" in section:
        lines += ["  " + line for line in _corpus_lines(section["corpus"])]
    for found in section.get("database", {}).values():
        lines.append("  " + _database_line(found))
    return lines


def main(argv: list[str] | None = None) -> int:
    """One part, its figures printed as JSON (and written with --output)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("evaluation", "corpus", "database"), default="corpus")
    parser.add_argument("--vectors-out", type=Path)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server-url", default="")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--posts", type=int, default=POSTS)
    parser.add_argument("--incremental", type=int, default=INCREMENTAL)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    if args.part == "evaluation":
        found = part_evaluation()
    elif args.part == "database":
        found = part_database(args.posts, args.backend, args.server_url, args.workdir)
    else:
        found = part_corpus(args.posts, args.incremental, args.vectors_out)
    rendered = json.dumps(found, indent=2, ensure_ascii=False)
    print(rendered)
    if args.output is not None:
        args.output.write_text(rendered + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
