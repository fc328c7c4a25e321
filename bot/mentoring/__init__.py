"""Mentoring: pairing novices with experienced ambassadors (the matcher first)."""
