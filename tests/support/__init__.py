"""Test helpers shared by the suite: databases, the running app, a playground client."""
