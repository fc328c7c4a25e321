"""The bot removed from a team, a group chat or a person's 1:1 chat, as Teams tells it.

Teams sends an `installationUpdate` activity whose `action` is `remove` when the app is
uninstalled from a scope (`remove-upgrade` when an upgrade of the app removed its bot), and
a `conversationUpdate` with the bot's own id in `membersRemoved`; either may come, or both;
a team deleted comes as a `conversationUpdate` whose `channelData.eventType` is
`teamDeleted` (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events,
"Installation update event", "Team members removed", "Team deleted"). Teams has no
"removed from the whole tenant" event: an uninstall is one such removal per scope.

So a removal forgets the references of that scope at once (a team: every channel of it; a
chat: that chat), and when nowhere is left — no team channel or group chat of the tenant,
and, for a 1:1 removal, no other 1:1 chat either — the tenant counts as uninstalled: all its
references and Teams ids are forgotten and the workspace is marked uninstalled (its data is
deleted after [retention] uninstalled_days, bot/retention.py). Any later activity from the
tenant (a reinstall, or a person still using the bot in a place not known to have it)
clears the mark (`TeamsHandling.remember`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.teams import PLATFORM
from storage import teams_references, workspaces

REMOVALS = frozenset({"remove", "remove-upgrade"})


def is_removal(activity: dict[str, Any]) -> bool:
    """Whether the activity says the bot was removed from where it came from."""
    kind = activity.get("type")
    if kind == "installationUpdate":
        return str(activity.get("action") or "").lower() in REMOVALS
    if kind == "conversationUpdate":
        channel_data = activity.get("channelData") or {}
        if isinstance(channel_data, dict) and channel_data.get("eventType") == "teamDeleted":
            return True
        bot_id = (activity.get("recipient") or {}).get("id")
        removed = activity.get("membersRemoved") or []
        return bool(bot_id) and any(
            isinstance(member, dict) and member.get("id") == bot_id for member in removed
        )
    return False


async def removed(db: AsyncSession, tenant: str, activity: dict[str, Any], now: datetime) -> bool:
    """Forget the scope the bot was removed from; True when that left the tenant without
    the bot (then the workspace is marked uninstalled)."""
    conversation = activity.get("conversation") or {}
    conversation_id = str(conversation.get("id") or "")
    channel_data = activity.get("channelData") or {}
    team = channel_data.get("team") if isinstance(channel_data, dict) else None
    team_id = str(team.get("id") or "") if isinstance(team, dict) else ""
    if team_id:
        # The team's General channel has the team's id: named too for channels remembered
        # before their team was.
        await teams_references.forget_team(db, tenant, team_id, [conversation_id, team_id])
    elif conversation_id:
        await teams_references.forget_conversation(db, tenant, conversation_id)
    shared, personal = await teams_references.places_left(db, tenant)
    was_personal = not team_id and conversation.get("conversationType") == "personal"
    if shared or (was_personal and personal):
        return False
    await teams_references.forget_tenant(db, tenant)
    await workspaces.mark_uninstalled(db, PLATFORM, tenant, now)
    return True
