"""Mentoring: the matcher that pairs novices with experienced ambassadors, and its
weights."""
