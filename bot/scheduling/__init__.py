"""Scheduling: schedule clauses (clauses.py), recurrences (APScheduler triggers, stored as
JSON), the scheduler service, its election among replicas (leader.py) and how late a run
is (watch.py)."""
