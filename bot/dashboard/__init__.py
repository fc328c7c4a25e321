"""The steering dashboard ("tableau de pilotage"): one server-rendered page of the
programme's figures for animators, opened from a chat link (access.py), rendered with
Jinja2 (page.py, templates/), its tables as CSV (tables.py, routes.py)."""
