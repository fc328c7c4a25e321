"""Throw-away PostgreSQL databases: one per run, created fresh and dropped afterwards."""

from __future__ import annotations

import os
import secrets

import asyncpg
from sqlalchemy.engine import URL, make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 5.0


def _url(url: str) -> URL:
    return make_url(url.replace("postgres://", "postgresql://", 1))


def _dsn(url: str) -> str:
    """The URL as asyncpg reads it (no `+driver` suffix)."""
    return _url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def safe(url: str) -> str:
    """The URL with its password hidden, for messages and results.json."""
    return _url(url).render_as_string(hide_password=True)


def secret_key() -> str:
    """The key the benched bots seal secrets with (PostgreSQL needs one): the environment's,
    else one made for this run and put in the environment, so bot processes share it."""
    if not os.environ.get("AMBASSADOR_SECRET_KEY"):
        os.environ["AMBASSADOR_SECRET_KEY"] = secrets.token_urlsafe(32)
    return os.environ["AMBASSADOR_SECRET_KEY"]


async def server_version(url: str) -> str:
    """The server's version; raises when the server cannot be reached."""
    connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def vacuum_analyze(url: str) -> None:
    """VACUUM ANALYZE the database at `url` (outside a transaction, as it must run)."""
    connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def create_database(url: str) -> tuple[str, str]:
    """Create an empty database with a random name on `url`'s server: (name, its URL)."""
    name = f"ambassador_bench_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name, _url(url).set(database=name).render_as_string(hide_password=False)


async def create_named_database(url: str, name: str) -> str:
    """Create an empty database called `name` on `url`'s server (one a run keeps): its URL."""
    connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return database_url(url, name)


def database_url(url: str, name: str) -> str:
    """The URL of the database `name` on `url`'s server."""
    return _url(url).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str, name: str) -> None:
    """Drop the database `name` on `url`'s server, closing any connection left to it."""
    connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT_S)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
