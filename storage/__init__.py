"""Persistence: SQLAlchemy 2 async models, repositories and Alembic migrations.

The database is the source of truth for everything that must survive a restart.
The same schema runs on SQLite (default) and PostgreSQL.
"""
