"""The dashboard's way in, through the real app on a loopback port: `dashboard` in the chat
→ a one-hour link → the opening (audited) sets the session cookie and leaves the token out
of the address bar → the page and its CSVs. Refused: no cookie, a tampered or expired link,
a learner, a role dropped since; a link is bound to its workspace and member.

The figures come from a hand-made `Dashboard` (tests/support/dashboards.py): the query
layer is tested on its own, and here only who sees what is under test.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dashboard import access, tables
from bot.dashboard.routes import Figures
from bot.ladder import Ladder
from bot.server import DASHBOARD
from bot.steering.filters import FilterError, Filters
from bot.steering.model import Dashboard, Scope
from storage.models import AuditEntry, Member, Workspace
from tests.conftest import make_settings
from tests.support import dashboards
from tests.support.playground import Playground, user

CAROL = user("carol", "fr", "Carol")


@dataclass
class Recorded:
    """What the page asked the (stand-in) query layer."""

    calls: list[tuple[int, Filters]] = field(default_factory=list)
    # Whether each gather asked for the whole lists (a CSV) or the page's view.
    full: list[bool] = field(default_factory=list)

    async def resolve(self, _db: AsyncSession, ws: int, filters: Filters, tz: str) -> Scope:
        if filters.session == "NOPE":
            raise FilterError("dashboard.filter_session_unknown", "session")
        self.calls.append((ws, filters))
        return dashboards.scope(filters)

    async def gather(
        self,
        _sessions: async_sessionmaker[AsyncSession],
        ws: int,
        scope: Scope,
        now: datetime,
        ladder: Ladder,
        *,
        full: bool = False,
    ) -> Dashboard:
        self.full.append(full)
        return dashboards.sample(scope.filters)


@pytest.fixture
def recorded(bot: Playground) -> Recorded:
    found = Recorded()
    bot.client.server.app[DASHBOARD].figures = Figures(found.resolve, found.gather)
    return found


async def _link(bot: Playground, who: str | dict[str, str]) -> str:
    """The path of the link `dashboard` gives `who` (the card's button)."""
    replies = await bot.command(who, "dashboard")
    assert len(replies) == 1 and replies[0]["visibility"] == "user", replies
    url: str = replies[0]["card"]["buttons"][0]["url"]
    return url[url.index("/dashboard/open/") :]


async def _audited(bot: Playground) -> int:
    async with bot.runtime.db_sessions() as db:
        query = select(func.count()).where(AuditEntry.action == "dashboard.open")
        return int((await db.execute(query)).scalar_one())


async def test_the_chat_link_opens_the_page_and_leaves_the_token_behind(
    bot: Playground, recorded: Recorded
) -> None:
    path = await _link(bot, "anim1")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 40  # 32 random bytes
    assert (await bot.client.head(path)).status == 405  # a link checker opens nothing

    opened = await bot.client.get(path + "?session=K7Q2&from=2026-09-01", allow_redirects=False)
    assert opened.status == 200
    text = await opened.text()
    # A same-site page (no redirect: see bot/dashboard/page.opening) goes on without the token.
    target = "/dashboard?session=K7Q2&amp;from=2026-09-01"
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in text
    assert f'href="{target}"' in text and token not in text
    cookie = opened.headers["Set-Cookie"]
    assert cookie.startswith(f"{access.COOKIE}=") and token not in cookie
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "Path=/dashboard" in cookie and "SameSite=Strict" in cookie
    assert "secure" not in attributes  # served over http here
    assert 3590 <= int(re.search(r"Max-Age=(\d+)", cookie)[1]) <= 3600  # type: ignore[index]
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    assert opened.headers["Cache-Control"] == "no-store"

    page = await bot.client.get("/dashboard?session=K7Q2&from=2026-09-01")
    assert page.status == 200
    html = await page.text()
    assert '<html lang="en">' in html and "Steering dashboard" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert recorded.calls[-1][1] == Filters(session="K7Q2", start=datetime(2026, 9, 1).date())
    assert await _audited(bot) == 1

    # Reloading the page is not a new opening; opening the link again is.
    assert (await bot.client.get("/dashboard")).status == 200
    assert await _audited(bot) == 1
    assert (await bot.client.get(path)).status == 200
    assert await _audited(bot) == 2
    log = await bot.say("anim1", "audit")
    assert log.count("opened the steering dashboard") == 2


async def test_each_ask_gives_a_new_link(bot: Playground, recorded: Recorded) -> None:
    first, second = await _link(bot, "anim1"), await _link(bot, "anim1")
    assert first != second
    assert (await bot.client.get(first)).status == 200
    assert (await bot.client.get(second)).status == 200


async def test_the_page_is_in_the_viewers_language(bot: Playground, recorded: Recorded) -> None:
    await bot.command("anim1", "role add @carol animator")
    await bot.command(CAROL, "bonjour")
    assert (await bot.client.get(await _link(bot, CAROL))).status == 200
    html = await (await bot.client.get("/dashboard")).text()
    assert '<html lang="fr">' in html and "Tableau de pilotage" in html
    assert "Chiffres clés" in html


async def test_learners_are_refused_in_the_chat(bot: Playground, recorded: Recorded) -> None:
    text = await bot.say("bob", "dashboard")
    assert text.startswith("Only animators")
    refused = await bot.say("chloe", "tableau de bord")
    assert refused.startswith("Cela est réservé à l'équipe d'animation")
    assert await _audited(bot) == 0


async def test_without_a_cookie_the_page_says_to_ask_the_chat_in_both_languages(
    bot: Playground, recorded: Recorded
) -> None:
    for path in ("/dashboard", "/dashboard/funnel.csv", "/dashboard?session=K7Q2"):
        response = await bot.client.get(path)
        assert response.status == 403
        html = await response.text()
        assert "<code>dashboard</code>" in html and "<code>tableau de bord</code>" in html
        assert "Traceback" not in html
    assert recorded.calls == []


async def test_a_tampered_or_unknown_link_is_refused(bot: Playground, recorded: Recorded) -> None:
    path = await _link(bot, "anim1")
    tampered = path[:-1] + ("A" if path[-1] != "A" else "B")
    for wrong in (tampered, "/dashboard/open/x", "/dashboard/open/" + "a" * 500):
        response = await bot.client.get(wrong)
        assert response.status == 403
        assert "Set-Cookie" not in response.headers
        assert "has expired" in await response.text()
    # A cookie made up by hand is no better.
    bot.client.session.cookie_jar.update_cookies({access.COOKIE: path.rsplit("/", 1)[1]})
    forged = await bot.client.get("/dashboard")
    assert forged.status == 403  # a link's token is not a session's
    assert "has expired" in await forged.text()  # the cookie was read, and refused
    assert await _audited(bot) == 0 and recorded.calls == []


async def test_an_expired_link_and_an_expired_cookie_are_refused(
    bot: Playground, recorded: Recorded
) -> None:
    path = await _link(bot, "anim1")
    assert (await bot.client.get(path)).status == 200
    await bot.runtime.clock.advance(3600)
    assert (await bot.client.get("/dashboard")).status == 403  # the session's hour is over
    late = await bot.client.get(path)
    assert late.status == 403 and "has expired" in await late.text()
    assert await _audited(bot) == 1


async def test_a_role_dropped_since_is_refused_at_once(bot: Playground, recorded: Recorded) -> None:
    await bot.command("anim1", "role add @carol animator")
    path = await _link(bot, CAROL)
    assert (await bot.client.get(path)).status == 200
    assert (await bot.client.get("/dashboard")).status == 200
    await bot.command("anim1", "rôle retirer @carol animateur")
    page = await bot.client.get("/dashboard")
    assert page.status == 403
    html = await page.text()
    assert '<html lang="fr">' in html and "votre rôle ne le permet plus" in html
    assert "Your role" not in html  # the reader is known: their language only
    assert (await bot.client.get(path)).status == 403  # nor can the link be opened again
    assert (await bot.client.get("/dashboard/funnel.csv")).status == 403


async def test_a_link_shows_its_own_workspace_only(bot: Playground, recorded: Recorded) -> None:
    now = bot.runtime.clock.now()
    async with bot.runtime.db_sessions() as db:
        other = Workspace(platform="slack", external_id="T0THER", name="Other Co", created_at=now)
        db.add(other)
        await db.flush()
        manager = Member(
            workspace_id=other.id, user_id="U1", display_name="Uma", role="animator", created_at=now
        )
        db.add(manager)
        await db.flush()
        token = await access.create_link(db, workspace_id=other.id, member_id=manager.id, now=now)
        other_id = other.id
        await db.commit()
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    html = await (await bot.client.get("/dashboard")).text()
    assert "Other Co" not in html
    local_id = recorded.calls[-1][0]

    assert (await bot.client.get(access.link_path(token))).status == 200
    html = await (await bot.client.get("/dashboard?workspace=1")).text()
    assert "<dd>Other Co</dd>" in html
    assert recorded.calls[-1][0] == other_id != local_id
    async with bot.runtime.db_sessions() as db:
        entry = (
            await db.execute(select(AuditEntry).where(AuditEntry.workspace_id == other_id))
        ).scalar_one()
        assert (entry.action, entry.actor_member_id, entry.platform) == (
            "dashboard.open",
            manager.id,
            "slack",
        )


async def test_bad_filters_are_explained_and_the_valid_ones_kept(
    bot: Playground, recorded: Recorded
) -> None:
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    response = await bot.client.get("/dashboard?training=Excel+avanc%C3%A9&from=2026-13-45")
    assert response.status == 200
    html = await response.text()
    assert "Write dates as YYYY-MM-DD" in html
    assert recorded.calls[-1][1] == Filters(training="Excel avancé")
    assert '<option value="Excel avancé" selected>' in html

    html = await (await bot.client.get("/dashboard?session=NOPE&to=2026-10-01")).text()
    assert "No session of this workspace has that code" in html
    assert recorded.calls[-1][1] == Filters(end=datetime(2026, 10, 1, tzinfo=UTC).date())
    html = await (await bot.client.get("/dashboard?from=2026-10-02&to=2026-10-01")).text()
    assert "The end of the period comes before its start" in html


async def test_every_table_downloads_as_safe_csv(bot: Playground, recorded: Recorded) -> None:
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    html = await (await bot.client.get("/dashboard?session=K7Q2")).text()
    links = re.findall(r'href="(/dashboard/[a-z_]+\.csv[^"]*)"', html)
    assert len(links) == len(tables.KEYS)
    for link in links:
        assert link.endswith("?session=K7Q2")
        response = await bot.client.get(link.replace("&amp;", "&"))
        assert response.status == 200, link
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        body = (await response.read()).decode("utf-8")
        assert body.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(body[1:])))
        for row in rows:
            for cell in row:
                assert not cell.lstrip().startswith(("=", "+", "-", "@")), (link, cell)
    named = await (await bot.client.get("/dashboard/named_answers.csv")).text()
    assert "'=HYPERLINK" in named and "Name" in named.splitlines()[0]
    assert (await bot.client.get("/dashboard/nothing.csv")).status == 404
    # The page reads the cut lists, each CSV the whole ones.
    assert recorded.full[0] is False and all(recorded.full[1:])


async def test_the_view_downloads_as_a_one_page_pdf(bot: Playground, recorded: Recorded) -> None:
    assert (await bot.client.get("/dashboard/snapshot.pdf")).status == 403
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    html = await (await bot.client.get("/dashboard?session=K7Q2")).text()
    assert 'href="/dashboard/snapshot.pdf?session=K7Q2"' in html
    response = await bot.client.get("/dashboard/snapshot.pdf?session=K7Q2")
    assert response.status == 200 and response.content_type == "application/pdf"
    assert (await response.read()).startswith(b"%PDF")
    assert "dashboard-2026-11-27.pdf" in response.headers["Content-Disposition"]
    assert recorded.calls[-1][1] == Filters(session="K7Q2")


async def test_figures_that_fail_give_a_translated_page_not_a_trace(
    bot: Playground, recorded: Recorded
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> Dashboard:
        raise RuntimeError("secret detail")

    bot.client.server.app[DASHBOARD].figures = Figures(recorded.resolve, broken)
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    response = await bot.client.get("/dashboard")
    assert response.status == 503
    html = await response.text()
    assert "could not be computed" in html and "secret detail" not in html
    csv_response = await bot.client.get("/dashboard/funnel.csv")
    assert csv_response.status == 503 and "secret" not in await csv_response.text()


async def test_the_stylesheet_is_served_without_a_cookie(bot: Playground) -> None:
    response = await bot.client.get("/dashboard/dashboard.css")
    assert response.status == 200 and response.content_type == "text/css"
    assert "@media print" in await response.text()


def test_the_cookie_is_secure_when_the_bot_is_served_over_https(database_url: str) -> None:
    settings = make_settings(database_url, PUBLIC_BASE_URL="https://bot.example.org")
    response = web.Response()
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    access.set_cookie(response, settings, "s3ssion", now + timedelta(minutes=20), now)
    cookie = response.cookies[access.COOKIE].OutputString()
    assert "Secure" in cookie and "Max-Age=1200" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Path=/dashboard" in cookie


async def test_the_page_with_the_real_query_layer(bot: Playground) -> None:
    """The real query layer behind the page: every filter, a CSV."""
    await bot.command("anim1", "session start Excel")
    assert (await bot.client.get(await _link(bot, "anim1"))).status == 200
    for query in ("", "?session=NOPE1", "?training=Unknown", "?from=2026-01-01&to=2026-12-31"):
        response = await bot.client.get("/dashboard" + query)
        assert response.status == 200, query
    response = await bot.client.get("/dashboard/funnel.csv")
    assert response.status == 200
