"""The kinds of share on the dashboard (issue 19), from commands to the page: the weekly
rollup counts each kind, the LGC table and its CSV give their counts and densities, the
page's density chart draws a line per kind, in both languages; the rollup kept by the
commands equals the one rebuilt from the contributions."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from sqlalchemy import select

from bot.dashboard import section_charts, tables
from bot.dashboard.tables import Reader
from bot.i18n import Translator
from bot.ladder import DEFAULT_LADDER
from bot.steering.activity import activity
from bot.steering.filters import Filters
from bot.steering.model import Activity
from bot.steering.scope import resolve
from storage import activity as rollup
from storage.models import WeeklyActivity, Workspace
from tests.support import dashboards
from tests.support.playground import Playground

KINDS = ("shares", "questions", "experiences", "watches")


async def _share_each_kind(bot: Playground) -> None:
    for who in ("anim1", "alice", "bob", "chloe"):
        await bot.command(who, "join")
    await bot.command("bob", "share A tip")
    await bot.command("bob", "share question Who runs retros?")
    await bot.command("alice", "partager question Qui anime les rétros ?")
    await bot.command("alice", "partager retour J'ai testé la météo d'équipe")
    await bot.command("chloe", "partager veille https://exemple.fr/article Très clair")


async def _workspace_id(bot: Playground) -> int:
    async with bot.runtime.db_sessions() as db:
        return int((await db.execute(select(Workspace.id))).scalar_one())


async def _rows(bot: Playground, workspace_id: int) -> list[tuple[int, ...]]:
    async with bot.runtime.db_sessions() as db:
        query = select(*(getattr(WeeklyActivity, k) for k in KINDS)).where(
            WeeklyActivity.workspace_id == workspace_id
        )
        return sorted(tuple(row) for row in (await db.execute(query)).all() if any(row))


async def _activity(bot: Playground, workspace_id: int) -> Activity:
    async with bot.runtime.db_sessions() as db:
        scope = await resolve(db, workspace_id, Filters(), "UTC")
        return await activity(db, workspace_id, scope)


async def test_each_kind_is_counted_and_the_rollup_equals_its_rebuild(bot: Playground) -> None:
    await _share_each_kind(bot)
    workspace_id = await _workspace_id(bot)
    kept = await _rows(bot, workspace_id)
    assert kept == [(5, 2, 1, 1)]
    async with bot.runtime.db_sessions() as db, db.begin():
        await rollup.rebuild(db, workspace_id)
    assert await _rows(bot, workspace_id) == kept

    [week] = (await _activity(bot, workspace_id)).weeks
    assert (week.members, week.shares, week.questions, week.experiences, week.watches) == (
        4,
        5,
        2,
        1,
        1,
    )
    assert (week.density_of("questions"), week.density_of("watches")) == (0.5, 0.25)


async def test_the_lgc_table_and_chart_give_each_kind_in_both_languages(
    bot: Playground,
) -> None:
    await _share_each_kind(bot)
    found = await _activity(bot, await _workspace_id(bot))
    dashboard = replace(dashboards.sample(), activity=found)
    for locale, labels in (
        ("en", ("Questions per member", "Experience reports per member", "Watch links per member")),
        ("fr", ("Questions par membre", "Retours d'expérience par membre", "Veilles par membre")),
    ):
        reader = Reader(Translator(locale), "UTC", DEFAULT_LADDER)
        table = tables.tables(dashboard, reader)["lgc_weeks"]
        [row] = table.rows
        values = dict(zip(table.columns, row, strict=True))
        assert (values["questions"], values["experiences"], values["watches"]) == (2, 1, 1)
        assert (
            values["questions_density"],
            values["experiences_density"],
            values["watches_density"],
        ) == (0.5, 0.25, 0.25)
        headers = [reader.t(f"dashboard.col.{column}") for column in table.columns]
        assert set(labels) <= set(headers)
        chart = section_charts.density(found, reader.t, per_kind=True)
        texts = {getattr(shape, "text", "") for shape in chart.shapes}
        assert set(labels) <= texts, texts


async def test_the_page_and_its_csv_show_each_kind(bot: Playground) -> None:
    await _share_each_kind(bot)
    replies = await bot.command("anim1", "dashboard")
    url: str = replies[0]["card"]["buttons"][0]["url"]
    assert (await bot.client.get(url[url.index("/dashboard/open/") :])).status == 200
    html = await (await bot.client.get("/dashboard")).text()
    for label in ("Questions per member", "Experience reports", "Watch links per member"):
        assert label in html, label
    body = (await (await bot.client.get("/dashboard/lgc_weeks.csv")).read()).decode("utf-8")
    header, row = list(csv.reader(io.StringIO(body[1:])))
    values = dict(zip(header, row, strict=True))
    assert (values["Questions"], values["Experience reports"], values["Watch links"]) == (
        "2",
        "1",
        "1",
    )
    assert values["Questions per member"] == "0.5"


async def test_the_page_and_its_csv_show_the_tips_and_the_replies(bot: Playground) -> None:
    """The weekly table's tips (the shares of no other kind) and replies to questions, in
    both languages, on the page and in its CSV (issue 19: the dashboard showed neither)."""
    await _share_each_kind(bot)
    [question] = [
        m for m in await bot.messages() if "Who runs retros?" in str(m.get("card", {}).get("body"))
    ]
    number = str(question["card"]["fields"][0]["value"]).lstrip("#")
    await bot.command("chloe", f"reply {number} The team, in turns")
    await bot.command("anim1", f"reply {number} Whoever volunteers")
    replies = await bot.command("anim1", "dashboard")
    url: str = replies[0]["card"]["buttons"][0]["url"]
    assert (await bot.client.get(url[url.index("/dashboard/open/") :])).status == 200
    html = await (await bot.client.get("/dashboard")).text()
    assert 'title="Tips"' in html and ">Replies to questions<" in html
    body = (await (await bot.client.get("/dashboard/lgc_weeks.csv")).read()).decode("utf-8")
    header, row = list(csv.reader(io.StringIO(body[1:])))
    values = dict(zip(header, row, strict=True))
    assert (values["Shares"], values["Tips"], values["Replies to questions"]) == ("5", "1", "2")
    assert values["Tips per member"] == "0.25"
    assert values["Contributions"] == "5"  # replies are counted beside, not in the density

    await bot.command("anim1", "settings language fr")
    replies = await bot.command("anim1", "tableau de bord")
    url = replies[0]["card"]["buttons"][0]["url"]
    assert (await bot.client.get(url[url.index("/dashboard/open/") :])).status == 200
    html = await (await bot.client.get("/dashboard")).text()
    assert 'title="Astuces"' in html and ">Réponses aux questions<" in html
