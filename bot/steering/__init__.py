"""The programme's figures, one query layer for the chat (`pulse results all`, `mentoring
stats`) and the steering dashboard (bot/dashboard/): what a scope (workspace, training,
session, period) holds, as language-neutral figures and tables."""
