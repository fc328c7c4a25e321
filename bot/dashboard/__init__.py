"""The steering dashboard ("tableau de pilotage"): one server-rendered page of the
programme's figures for animators, opened from a chat link (access.py), rendered with
Jinja2 (page.py, templates/) with charts drawn from one model (charts.py,
section_charts.py → svg.py), its tables as CSV (tables.py) and a one-page PDF snapshot
(snapshot.py, pdfdraw.py), served by routes.py."""
