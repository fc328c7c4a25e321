"""The Microsoft Teams adapter: POST /api/messages (the Bot Connector's JWT, trusted
service URLs), the handling of recorded activities into neutral events, Adaptive Cards and
Teams' text, the Bot Connector client and the outbox's Teams sender, installs and removals,
the roster, the typing indicator, sealed form origins, the app package; `platform.py` plugs
it in (bot/adapters/platform.py)."""

PLATFORM = "teams"
