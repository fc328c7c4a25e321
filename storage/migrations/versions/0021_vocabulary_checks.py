"""closed vocabularies: a CHECK constraint on each column that holds one

Statuses, kinds, roles, outcomes… were free strings, their values listed only in
comments. Each such column now only takes the values of its vocabulary (or NULL where the
column allows it): a CHECK constraint named ck_<table>_<column>, `column IN (...)`.

The value lists are frozen below as they are at this revision, not read from
storage/vocabulary.py: a later change to a vocabulary needs its own migration (a test keeps
these lists equal to the enums, so the two cannot drift apart unnoticed).

Existing data: before any change, every column is searched for values outside its list.
If there is one, the migration stops with a message naming the table, the column and the
values, and changes nothing: an unknown status has no safe meaning to map it to (an
outbox message mapped to `pending` would be sent again; one mapped to `sent` would be
lost), so a person decides, corrects or deletes those rows, and migrates again.

PostgreSQL: ALTER TABLE … ADD CONSTRAINT, all in the migration's transaction.

SQLite cannot add a constraint to a table: each table is rebuilt by SQLite's own procedure
(https://www.sqlite.org/lang_altertable.html#otheralter): a copy created from the table's
own CREATE TABLE text with the constraints appended, the rows copied, the table dropped,
the copy renamed, its indexes created again from their own text, the AUTOINCREMENT counter
kept (inbox_event's ids are never given again, migration 0018). Reusing the stored text
(rather than Alembic's batch mode, which reflects the table) keeps every column, default,
partial index and table option exactly as it was. Most of these tables are referenced by
foreign keys with ON DELETE CASCADE: dropping one while foreign keys are enforced would
delete the rows that reference it, so enforcement is turned off during the rebuild, which
SQLite only allows outside a transaction: the work done before this migration in the same
run is committed first (the database is then at 0020, consistent), the rebuild runs in its
own transaction, `PRAGMA foreign_key_check` must find nothing before it commits, then
enforcement is turned on again. A failure rolls the rebuild back and leaves the database
at 0020.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 11:00:00
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) → the values allowed, as storage/vocabulary.py had them at this revision.
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("member", "role"): ("learner", "animator", "admin"),
    ("outbox_message", "kind"): ("post", "update"),
    ("outbox_message", "status"): ("pending", "sent", "superseded", "failed", "emptied"),
    ("inbox_event", "status"): ("pending", "done", "failed"),
    ("challenge", "status"): ("active", "finished", "cancelled"),
    ("challenge_occurrence", "status"): ("posted", "skipped"),
    ("contribution", "kind"): ("answer", "share"),
    ("contribution", "outcome"): ("success", "not_yet"),
    ("pulse", "status"): ("scheduled", "sending", "open", "closed", "cancelled"),
    ("pulse_answer_change", "field"): ("score", "lsat", "comment"),
    ("referral", "response"): ("interested", "not_now", "stop"),
    ("badge_award", "source"): ("auto", "grant"),
    ("mentor_profile", "status"): ("active", "off"),
    ("mentee_wish", "status"): ("waiting", "paired", "stopped", "declined"),
    ("mentoring_pair", "mentor_answer"): ("met", "not_yet", "another"),
    ("mentoring_pair", "novice_answer"): ("met", "not_yet", "another"),
    ("mentoring_pair", "end_reason"): ("another", "mentor_off", "novice_stop", "erased"),
    ("audit_entry", "actor_kind"): ("member", "system"),
}


def constraint_name(table: str, column: str) -> str:
    """The name the models' naming convention gives (ck_<table>_<column>)."""
    return f"ck_{table}_{column}"


def condition(column: str, values: Sequence[str]) -> str:
    """The constraint's condition, written as storage.models.one_of writes it."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _tables() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for table, column in VOCABULARIES:
        tables.setdefault(table, []).append(column)
    return tables


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_unknown_values(bind)
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_tables(bind, _with_checks)
        return
    for (table, column), values in VOCABULARIES.items():
        op.create_check_constraint(
            op.f(constraint_name(table, column)), table, condition(column, values)
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_tables(bind, _without_checks)
        return
    for table, column in VOCABULARIES:
        op.drop_constraint(op.f(constraint_name(table, column)), table, type_="check")


def _refuse_unknown_values(bind: sa.Connection) -> None:
    """Stop, changing nothing, when a row holds a value outside its column's vocabulary."""
    found = []
    for (table, column), values in VOCABULARIES.items():
        allowed = ", ".join(f"'{value}'" for value in values)
        unknown = bind.exec_driver_sql(
            f"SELECT DISTINCT {column} FROM {table}"
            f" WHERE {column} IS NOT NULL AND {column} NOT IN ({allowed})"
            f" ORDER BY {column}"
        ).scalars()
        shown = ", ".join(repr(value) for value in unknown)
        if shown:
            found.append(f"{table}.{column}: {shown} (allowed: {', '.join(values)})")
    if found:
        raise RuntimeError(
            "migration 0021 stopped: these rows hold values outside their vocabulary;"
            " correct or delete them, then migrate again. " + "; ".join(found)
        )


def _with_checks(table: str, create: str) -> str:
    """The CREATE TABLE text with the table's constraints appended."""
    checks = "".join(_check_clause(table, column) for column in _tables()[table])
    head, _, tail = create.rstrip().rpartition(")")
    assert not tail.strip(), f"unexpected text after the columns of {table}: {tail!r}"
    return f"{head.rstrip()}{checks}\n)"


def _without_checks(table: str, create: str) -> str:
    """The CREATE TABLE text without the constraints `_with_checks` appended."""
    for column in _tables()[table]:
        create = create.replace(_check_clause(table, column), "")
    return create


def _check_clause(table: str, column: str) -> str:
    values = VOCABULARIES[(table, column)]
    return f", \n\tCONSTRAINT {constraint_name(table, column)} CHECK ({condition(column, values)})"


def _rebuild_sqlite_tables(bind: sa.Connection, rewrite: Callable[[str, str], str]) -> None:
    """Rebuild each table from its rewritten CREATE TABLE text, foreign keys off (see the
    module's docstring for why and how)."""
    enforced = bool(bind.exec_driver_sql("PRAGMA foreign_keys").scalar())
    # SQLite ignores PRAGMA foreign_keys inside a transaction: end the migration run's.
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
            raise RuntimeError("migration 0021: SQLite did not turn foreign keys off")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            for table in _tables():
                _rebuild_sqlite_table(bind, table, rewrite)
            broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"migration 0021: foreign keys broken by the rebuild: {broken}")
        except BaseException:
            bind.exec_driver_sql("ROLLBACK")
            raise
        bind.exec_driver_sql("COMMIT")
    finally:
        if enforced:
            bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        # The migration run goes on (Alembic records the revision) in a transaction again.
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def _rebuild_sqlite_table(
    bind: sa.Connection, table: str, rewrite: Callable[[str, str], str]
) -> None:
    def scalar(sql: str, **params: object) -> object:
        return bind.execute(sa.text(sql), params).scalar()

    create = str(
        scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t", t=table)
    )
    # Indexes made by CREATE INDEX (those of UNIQUE constraints, sql NULL, come with the table).
    indexes = list(
        bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
            ),
            {"t": table},
        ).scalars()
    )
    others = scalar("SELECT count(*) FROM sqlite_master WHERE type IN ('trigger', 'view')")
    assert others == 0, "migration 0021 rebuilds tables: triggers and views would need care"
    has_sequence = scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    )
    sequence = (
        scalar("SELECT seq FROM sqlite_sequence WHERE name = :t", t=table) if has_sequence else None
    )
    copy = f"_0021_{table}"
    renamed, count = re.subn(
        r'^CREATE TABLE\s+(?:"[^"]+"|\w+)', f'CREATE TABLE "{copy}"', rewrite(table, create)
    )
    assert count == 1, f"unexpected CREATE TABLE text for {table}"
    bind.exec_driver_sql(renamed)
    bind.exec_driver_sql(f'INSERT INTO "{copy}" SELECT * FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    bind.exec_driver_sql(f'ALTER TABLE "{copy}" RENAME TO "{table}"')
    for index in indexes:
        bind.exec_driver_sql(index)
    if sequence is not None:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": table})
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"),
            {"t": table, "seq": sequence},
        )
