"""Scheduling: recurrences (APScheduler triggers, stored as JSON) and the scheduler service."""
