"""Every outbox key the bot spells, and the live cards' refresher names and arguments.

An outbox key is a message's idempotency key: the same cause enqueues under the same key,
so a retry (or a second replica) adds nothing. Keys are stored, so their spelling must
never change under messages already queued: they are spelled here and nowhere else.

A live card (a session's join card, a contribution's post, a promotion) names a
refresher and its arguments in `refresh`: the outbox sender asks that refresher to
render the message from the database at send time (bot/handlers/refreshers.py maps each
name to its function). Edits of one card share a coalesce key: only the newest is sent.

Here in storage/ because storage queues the promotion DMs itself (storage/badges.py, in
one INSERT … SELECT), and storage imports nothing from bot/.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.sql.elements import ColumnElement

# The live cards' refreshers (bot/handlers/refreshers.py registers each).
SIGNUP_CARD = "signup_card"
CONTRIBUTION = "contribution"
BADGE_DM = "badge_dm"


# --- a session's join card, its summary and the welcome DM ------------------------------------


def session_card(session_id: int) -> str:
    """A session's join card."""
    return f"session:{session_id}:card"


def session_card_update(session_id: int, cause: str) -> str:
    """One edit of a session's join card (`cause`: what changed it, e.g. `join:<member>`)."""
    return f"{session_card(session_id)}:update:{cause}"


def session_card_updates(session_id: int) -> str:
    """The coalesce key of the edits of a session's join card."""
    return f"{session_card(session_id)}:update"


def session_card_refresh(session_id: int, locale: str) -> dict[str, Any]:
    """How the join card is rendered at send time (its live count)."""
    return {"name": SIGNUP_CARD, "session_id": session_id, "locale": locale}


def session_summary(session_id: int) -> str:
    """The summary posted when a session closes."""
    return f"session:{session_id}:summary"


def welcome(member_id: int, joins: int | None = None) -> str:
    """The welcome DM of a join; `joins` (their count of joins) when they come back after
    `leave`, since the first welcome's key is spent."""
    return f"welcome:{member_id}" + (f":back:{joins}" if joins is not None else "")


# --- contributions (answers and shares) -------------------------------------------------------


def contribution_post(kind: str, contribution_id: int) -> str:
    """A contribution's post (`kind`: answer, or share, question, experience, watch, reply)."""
    return f"{kind}:{contribution_id}"


def contribution_edit(post_key: str, cause: str) -> str:
    """One edit of a contribution's post (`cause`: a like, an edit, hiding)."""
    return f"{post_key}:edit:{cause}"


def contribution_edits(post_key: str) -> str:
    """The coalesce key of the edits of a contribution's post."""
    return f"{post_key}:edit"


def contribution_refresh(
    contribution_id: int, locale: str, in_reply_to: str | None, compact: bool = False
) -> dict[str, Any]:
    """How a contribution's post is rendered at send time (its likes, hidden or not;
    `compact`: the card under a reply written in a thread)."""
    refresh: dict[str, Any] = {
        "name": CONTRIBUTION,
        "id": contribution_id,
        "locale": locale,
        "in_reply_to": in_reply_to,
    }
    if compact:
        refresh["compact"] = True
    return refresh


# --- challenges -------------------------------------------------------------------------------


def challenge_occurrence(occurrence_id: int) -> str:
    """An occurrence's post (answers reply to it)."""
    return f"challenge-occurrence:{occurrence_id}"


def challenge_reminder(occurrence_id: int, member_id: int) -> str:
    """The reminder DM of an occurrence to one member who has not answered."""
    return f"reminder:{occurrence_id}:{member_id}"


# --- badges -----------------------------------------------------------------------------------


def award_celebration(award_id: int) -> str:
    """The community's celebration card of one promotion."""
    return f"award:{award_id}:celebration"


def awards_celebration(award_ids: list[int]) -> str:
    """The one grouped celebration card of many promotions at once (`award_ids` sorted)."""
    return f"award:{award_ids[0]}-{award_ids[-1]}:{len(award_ids)}:celebration"


def award_dm(award_id: ColumnElement[Any]) -> ColumnElement[str]:
    """The promotion DM of an award, as SQL over its id column (queued in bulk)."""
    return literal("award:") + func.cast(award_id, String) + literal(":dm")


def award_refresh(award_id: Any, to: str) -> dict[str, Any]:
    """How a promotion is rendered at send time, for the community (`to="community"`) or
    the member (`to="member"`); `award_id` is an id, or a column when built in SQL."""
    return {"name": BADGE_DM, "award_id": award_id, "to": to}


# --- pulses -----------------------------------------------------------------------------------


def pulse_ask(pulse_id: int, member_id: int) -> str:
    """The DM asking a member (one per pulse and member)."""
    return f"pulse:{pulse_id}:ask:{member_id}"


def pulse_reminder(pulse_id: int, number: int, member_id: int) -> str:
    """The `number`-th reminder of a pulse to one member."""
    return f"pulse:{pulse_id}:remind:{number}:{member_id}"


def pulse_sent(pulse_id: int) -> str:
    """The DM telling the pulse's creator it is out."""
    return f"pulse:{pulse_id}:sent"


def pulse_closed(pulse_id: int) -> str:
    """The DM telling the pulse's creator it closed."""
    return f"pulse:{pulse_id}:closed"


def invitation(training: str, member_id: int) -> str:
    """One referral invitation per colleague per training (`s<session>` or `p<pulse>`)."""
    return f"invite:{training}:{member_id}"


# --- mentoring --------------------------------------------------------------------------------


def pair_intro(pair_id: int, to: str) -> str:
    """A pair's introduction (`to`: group, novice or mentor)."""
    return f"mentoring-pair:{pair_id}:intro:{to}"


def pair_check_in(pair_id: int, role: str) -> str:
    """A pair's "Have you met?" to one of them (`role`: novice or mentor)."""
    return f"mentoring-pair:{pair_id}:check-in:{role}"


def pair_ended(pair_id: int) -> str:
    """The DM telling the other one their pair ended."""
    return f"mentoring-pair:{pair_id}:ended"


# --- personal data ----------------------------------------------------------------------------


def data_export(token: str) -> str:
    """The DM with the link to someone's data (`token`'s first 16 characters)."""
    return f"privacy:export:{token[:16]}"


def erased_post(post_key: str) -> str:
    """The edit emptying an erased member's post."""
    return f"privacy:erase:{post_key}"


# --- replies to a platform's request (the asker's answers) ------------------------------------


def request(platform: str, inbox_id: int) -> str:
    """A platform's request recorded as inbox row `inbox_id`, as its replies' keys name it."""
    return f"{platform}:{inbox_id}"


def reply(request_key: str, number: int) -> str:
    """The `number`th reply to a request (`request(…)`, or a Teams invoke's own key), written
    in the request's transaction: a second handling of the request adds nothing."""
    return f"{request_key}:reply:{number}"


def teams_welcome(conversation: str) -> str:
    """The one welcome of a Teams install, whatever Teams resends."""
    return f"teams-welcome:{conversation}"
