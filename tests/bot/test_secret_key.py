"""Secrets sealed at rest, as an operator meets them: Slack tokens and the badge signing key
never in clear in the database (its file's bytes, its rows), start-up refused in one line
by a missing or wrong key, `rotate-key`, the SQLite key file. Real processes, both databases."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.core.replies import OutboundMessage
from bot.open_badges import keys
from bot.outbox.queue import Outbox
from bot.server import Runtime, build_app, create_runtime
from storage import slack_installations, workspaces
from storage.db import async_url, create_engine, is_sqlite, session_factory
from storage.models import Base, OutboxMessage, SigningKey, SlackInstallation
from storage.sealing import SecretKey
from tests.bot.adapters.slack.test_oauth import _ask, _install
from tests.conftest import make_settings
from tests.support.fake_slack import FakeSlack
from tests.support.processes import REPO
from tests.support.secret_keys import TEST_SECRET_KEY
from tests.support.slack_requests import SECRET

KEY_A = TEST_SECRET_KEY
KEY_B = SecretKey.generate("test").encoded()
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def _cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m bot …` as an operator runs it (umask 022: SQLite's usual 0644 files)."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AMBASSADOR_SECRET_KEY", "AMBASSADOR_OLD_SECRET_KEY")
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env={**base, "LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@asynccontextmanager
async def _slack_bot(database_url: str, key: str, fake: FakeSlack) -> AsyncIterator[Runtime]:
    """The bot in this process, installed in Slack workspaces through OAuth, sealing with `key`."""
    settings = make_settings(
        database_url,
        AMBASSADOR_SECRET_KEY=key,
        SLACK_CLIENT_ID=fake.client_id,
        SLACK_CLIENT_SECRET=fake.client_secret,
        SLACK_STATE_SECRET="a-long-random-state-secret-for-tests",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=fake.base_url,
    )
    runtime = create_runtime(settings, Clock(controllable=True, start=NOW))
    client = TestClient(TestServer(build_app(runtime, start_sender=False), host="127.0.0.1"))
    await client.start_server()
    runtime.client = client  # type: ignore[attr-defined]
    try:
        yield runtime
    finally:
        await client.close()
        await runtime.engine.dispose()


async def _secrets_in_clear(runtime: Runtime) -> list[str]:
    """The plaintexts the bot keeps sealed: tokens, the private key (PEM body and raw)."""
    async with runtime.db_sessions() as db, db.begin():
        found = await slack_installations.find(db, runtime.sealer, "T1")
        signer = await keys.current(db, runtime.sealer, runtime.clock.now())
    assert found is not None and found.refresh_token
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = signer.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = "".join(pem.strip().splitlines()[1:-1])
    return [found.bot_token, found.refresh_token, body, body[:24], raw.hex(), raw.decode("latin-1")]


async def _stored_bytes(database_url: str) -> bytes:
    """Everything the database holds: the SQLite files' bytes, or every PostgreSQL row."""
    if is_sqlite(database_url):
        path = make_url(async_url(database_url)).database
        files = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
        return b"".join(file.read_bytes() for file in files if file.exists())
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            dumped = []
            for table in Base.metadata.sorted_tables:
                rows = await connection.execute(text(f'SELECT t::text FROM "{table.name}" t'))
                dumped.extend(row[0] for row in rows)
    finally:
        await engine.dispose()
    return "\n".join(dumped).encode()


def _assert_not_stored(stored: bytes, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret.encode("latin-1") not in stored, f"in clear: {secret[:12]}…"
    assert b"UBOSS" in stored, "the scan reads the data: the installer's id is there"


async def test_tokens_and_the_signing_key_are_never_in_clear_in_the_database(
    database_url: str,
) -> None:
    fake = FakeSlack()
    fake.rotate_expires_in = 12 * 3600  # token rotation on: a refresh token is kept too
    await fake.start()
    try:
        async with _slack_bot(database_url, KEY_A, fake) as runtime:
            await _install(runtime.client, fake, "T1", "UBOSS")  # type: ignore[attr-defined]
            secrets = await _secrets_in_clear(runtime)
            assert secrets[0].startswith("xoxb-") and fake.tokens[secrets[0]] == "T1"
            stored = await _stored_bytes(database_url)  # the SQLite WAL included
            _assert_not_stored(stored, secrets)
        _assert_not_stored(await _stored_bytes(database_url), secrets)
    finally:
        await fake.close()


async def test_a_wrong_key_stops_start_up_in_one_line(database_url: str) -> None:
    first = _cli("migrate", env={"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_A})
    assert first.returncode == 0, first.stderr
    for command in (["serve", "--port", "0"], ["migrate"]):
        result = _cli(*command, env={"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_B})
        assert result.returncode == 2
        line = _one_line(result)
        key_a = SecretKey.parse(KEY_A, "a")
        assert "AMBASSADOR_SECRET_KEY does not open this database's secrets" in line
        assert f"sealed under key id {key_a.id}" in line
        assert KEY_A not in line and KEY_B not in line
    if not is_sqlite(database_url):
        result = _cli("worker", env={"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_B})
        assert result.returncode == 2 and "does not open" in _one_line(result)


def test_postgresql_without_a_key_refuses_in_one_line_saying_how_to_make_one() -> None:
    for command in ("serve", "worker", "migrate"):
        result = _cli(command, env={"DATABASE_URL": "postgresql://bot@127.0.0.1:1/ambassador"})
        assert result.returncode == 2
        line = _one_line(result)
        assert "AMBASSADOR_SECRET_KEY is not set" in line and "secrets.token_urlsafe(32)" in line


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _read(path: Path) -> str:
    return path.read_text().strip()


def _write(path: Path, key: str) -> None:
    path.write_text(key + "\n")


def _exists(path: Path) -> bool:
    return path.exists()


def test_a_fresh_sqlite_database_makes_its_key_file_and_keeps_every_file_private(
    tmp_path: Path,
) -> None:
    database = tmp_path / "var" / "bot.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if k != "AMBASSADOR_SECRET_KEY"},
            **env,
            "LOG_FORMAT": "json",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        assert bot.stdout is not None
        deadline, line = time.monotonic() + 60, ""
        while "playground at" not in line and time.monotonic() < deadline:
            line = bot.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        body = {"user": {"id": "anim1", "name": "Anim"}, "conversation": "general", "text": "help"}
        request = urllib.request.Request(
            url + "local/api/command",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        key_file = Path(f"{database}.key")
        written = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), key_file]
        assert all(file.exists() for file in written)
        assert {file.name: _mode(file) for file in written} == {f.name: 0o600 for f in written}
        SecretKey.parse(key_file.read_text(), "the key file")  # a key, as documented
    finally:
        bot.terminate()
        _, errors = bot.communicate(timeout=20)
    told = [json.loads(line) for line in errors.splitlines() if "secret_key_file_created" in line]
    assert len(told) == 1 and told[0]["path"] == str(key_file)

    # The next start uses that file (and says nothing); the bot's secrets open with it.
    again = _cli("migrate", env=env)
    assert again.returncode == 0 and "secret_key_file_created" not in again.stderr
    with_key = {**env, "AMBASSADOR_SECRET_KEY": key_file.read_text().strip()}
    assert _cli("migrate", env=with_key).returncode == 0

    # Lost, it is not silently replaced by a new key: start-up says what to put back.
    key_file.unlink()
    lost = _cli("migrate", env=env)
    assert lost.returncode == 2 and f"its key file {key_file} is missing" in _one_line(lost)
    assert not key_file.exists()


async def test_rotate_key_reseals_everything_and_the_bot_still_works(database_url: str) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        async with _slack_bot(database_url, KEY_A, fake) as runtime:
            await _install(runtime.client, fake, "T1", "UBOSS")  # type: ignore[attr-defined]
            async with runtime.db_sessions() as db, db.begin():
                kid = (await keys.current(db, runtime.sealer, runtime.clock.now())).kid
        old = {"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_A}
        assert _cli("migrate", env=old).returncode == 0  # records the key check

        # Only the new key in AMBASSADOR_SECRET_KEY: which key is the old one? Nothing changes.
        unclear = _cli("rotate-key", env={**old, "AMBASSADOR_SECRET_KEY": KEY_B})
        assert unclear.returncode == 2 and "AMBASSADOR_OLD_SECRET_KEY" in _one_line(unclear)
        assert _cli("migrate", env=old).returncode == 0
        wrong_old = {
            "DATABASE_URL": database_url,
            "AMBASSADOR_SECRET_KEY": KEY_B,
            "AMBASSADOR_OLD_SECRET_KEY": SecretKey.generate("test").encoded(),
        }
        refused = _cli("rotate-key", env=wrong_old)
        assert refused.returncode == 2 and "nothing changed" in _one_line(refused)
        assert _cli("migrate", env=old).returncode == 0

        new = {"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_B}
        rotated = _cli("rotate-key", env={**new, "AMBASSADOR_OLD_SECRET_KEY": KEY_A})
        assert rotated.returncode == 0, rotated.stderr
        [said] = rotated.stdout.splitlines()
        assert said.startswith("Secrets re-sealed under key id")
        assert "slack_installation.bot_token 1" in said and "signing_key.private_pem 1" in said
        assert KEY_A not in said and KEY_B not in said
        twice = _cli("rotate-key", env={**new, "AMBASSADOR_OLD_SECRET_KEY": KEY_A})
        assert twice.returncode == 0 and twice.stdout.startswith("Nothing to re-seal")

        stale = _cli("migrate", env=old)
        assert stale.returncode == 2 and "does not open" in _one_line(stale)
        assert _cli("migrate", env=new).returncode == 0

        async with _slack_bot(database_url, KEY_B, fake) as runtime:
            client = runtime.client  # type: ignore[attr-defined]
            # The token opens: a command is answered and an outbox post reaches Slack with it.
            answer = await _ask(client, fake, runtime, "UBOSS", "session start Rotated", "T1")
            assert "is open" in answer["text"]
            async with runtime.db_sessions() as db, db.begin():
                t1 = await workspaces.get_or_create(db, "slack", "T1", runtime.clock.now())
                await Outbox(db, "slack", t1.id, runtime.clock.now()).post(
                    "after-rotation", "C1", OutboundMessage("Still here")
                )
            await runtime.sender.drain()
            async with runtime.db_sessions() as db:
                sent = await db.scalar(
                    select(OutboxMessage.status).where(
                        OutboxMessage.idempotency_key == "after-rotation"
                    )
                )
                signer = await keys.current(db, runtime.sealer, runtime.clock.now())
            assert sent == "sent" and any(
                method == "chat.postMessage" and body.get("text") == "Still here"
                for method, body in fake.calls
            )
            assert signer.kid == kid, "the same signing key, re-sealed"
    finally:
        await fake.close()


async def test_a_sqlite_key_file_is_rotated_in_place(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    assert _cli("migrate", env=env).returncode == 0
    key_file = Path(f"{database}.key")
    old_key = _read(key_file)
    settings = make_settings(env["DATABASE_URL"], AMBASSADOR_SECRET_KEY=old_key)
    runtime = create_runtime(settings, Clock(controllable=True, start=NOW))
    async with runtime.db_sessions() as db, db.begin():
        kid = (await keys.current(db, runtime.sealer, runtime.clock.now())).kid
    await runtime.engine.dispose()

    half = _cli("rotate-key", env={**env, "AMBASSADOR_OLD_SECRET_KEY": old_key})
    assert half.returncode == 2 and "AMBASSADOR_SECRET_KEY too" in _one_line(half)
    assert _read(key_file) == old_key

    rotated = _cli("rotate-key", env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert f"the key file {key_file} now holds the new key" in rotated.stdout
    new_key = _read(key_file)
    assert new_key != old_key and _mode(key_file) == 0o600
    assert not _exists(Path(f"{key_file}.new"))
    assert _cli("migrate", env=env).returncode == 0
    stale = _cli("migrate", env={**env, "AMBASSADOR_SECRET_KEY": old_key})
    assert stale.returncode == 2

    # A rotation stopped between its commit and its rename: the next start finishes it.
    _write(Path(f"{key_file}.new"), new_key)
    _write(key_file, old_key)
    finished = _cli("migrate", env=env)
    assert finished.returncode == 0, finished.stderr
    assert "secret_key_rotation_finished" in finished.stderr
    assert _read(key_file) == new_key and not _exists(Path(f"{key_file}.new"))
    settings = make_settings(env["DATABASE_URL"], AMBASSADOR_SECRET_KEY=new_key)
    runtime = create_runtime(settings, Clock(controllable=True, start=NOW))
    async with runtime.db_sessions() as db:
        assert (await keys.current(db, runtime.sealer, runtime.clock.now())).kid == kid
    await runtime.engine.dispose()


async def test_secrets_left_in_clear_by_an_older_version_are_sealed_at_start_up(
    database_url: str,
) -> None:
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    token, refresh = "xoxb-legacy-0123456789", "xoxe-1-legacy-refresh-0123456789"
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as db, db.begin():
            db.add(
                SlackInstallation(
                    enterprise_id="",
                    team_id="T1",
                    bot_token=token,
                    bot_refresh_token=refresh,
                    installer_user_id="UBOSS",
                    installed_at=NOW,
                    updated_at=NOW,
                )
            )
            db.add(SigningKey(kid="legacy", private_pem=pem, public_jwk={}, created_at=NOW))
    finally:
        await engine.dispose()
    body = "".join(pem.strip().splitlines()[1:-1])
    assert token.encode() in await _stored_bytes(database_url)  # as an older version left it

    result = _cli("migrate", env={"DATABASE_URL": database_url, "AMBASSADOR_SECRET_KEY": KEY_A})
    assert result.returncode == 0, result.stderr
    sealed = [json.loads(line) for line in result.stderr.splitlines() if "secrets_sealed" in line]
    assert sealed and sealed[0]["count"] == 3
    _assert_not_stored(await _stored_bytes(database_url), [token, refresh, body])

    settings = make_settings(database_url, AMBASSADOR_SECRET_KEY=KEY_A)
    runtime = create_runtime(settings, Clock(controllable=True, start=NOW))
    try:
        async with runtime.db_sessions() as db:
            found = await slack_installations.find(db, runtime.sealer, "T1")
            signer = await keys.current(db, runtime.sealer, runtime.clock.now())
        assert found is not None and (found.bot_token, found.refresh_token) == (token, refresh)
        assert signer.kid == "legacy" and signer.sign(b"x")
    finally:
        await runtime.engine.dispose()
