"""A conversation as the core keys it, and the Teams thread ids stored before it was so.

In a Teams channel every new post is its own conversation, `<channel>;messageid=<root>`,
and only the replies in its thread share that id (recorded traffic:
tests/fixtures/public/teams/botbuilder-js; Microsoft's "Conversation basics":
https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-basics).
The Teams adapter gives the core the channel (`channel_of`), so that a session, the
community and who is present belong to the channel, whatever post or reply a command was
typed in.

Rows written before that (sessions, challenge occurrences) may hold a thread's id. They are
not rewritten (no migration): lookups by conversation match the conversation and its
threads (`here`), so a session opened in a post before the upgrade is still found from any
post of its channel. What the core posts to such a stored id still arrives, in that thread,
as it did before (its reference is kept); `community here` typed again moves the community
to the channel itself.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import QueryableAttribute

THREAD = ";messageid="


def channel_of(conversation_id: str) -> str:
    """The channel of a Teams thread's id (`<channel>;messageid=<root>` → `<channel>`);
    any other id (a Teams group or 1:1 chat, a Slack channel) as it is."""
    return conversation_id.split(THREAD, 1)[0]


def threads_pattern(conversation: str) -> str:
    """The LIKE pattern (escape `\\`) of the threads of `conversation`."""
    escaped = conversation.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}{THREAD}%"


def here(column: QueryableAttribute[str], conversation: str) -> ColumnElement[bool]:
    """`column` names `conversation` or one of its threads (ids stored before the core
    was given the channel of a Teams thread)."""
    return or_(column == conversation, column.like(threads_pattern(conversation), escape="\\"))
