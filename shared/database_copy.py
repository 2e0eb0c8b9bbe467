"""Moving an office's SQLite database to PostgreSQL (``flask --app wsgi copy-db --to URL``).

The target is migrated to the same version as the source, must hold nothing yet (only the
rows the migrations themselves put there), and receives every table in foreign-key order,
in batches, inside one transaction. Before that transaction commits, the copy is checked
against the source: rows per table, and the ledger (units handed over per distribution and
per recipient, and each distribution's reconciliation). A mismatch rolls the whole copy
back: the target is left as empty as it was found.

The source is read in one snapshot, so the service may keep running during a trial copy;
what it writes after the snapshot is not in the copy. For the real move, stop the service
(and its outbox worker), copy, point ``PICKUP_DB`` at the URL, start again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlite_utils import Database

from shared import storage
from shared.error_texts import listing
from shared.errors import CopyRefused, NotFound
from shared.handover import reconcile
from shared.storage import postgres

# Tables the migrations fill (0003 seeds the safety instructions): an empty target has
# these rows already; the copy replaces them with the source's (the operator's edits).
SEEDED_BY_MIGRATIONS = ("safety_contents",)
BATCH_SIZE = 1000


@dataclass(frozen=True)
class CopyReport:
    """What was copied: rows per table (in the order copied) and the ledger checked."""

    rows: dict[str, int]
    distributions: int
    handed_over: int


def copy_database(
    source: Database,
    target_url: str,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str, int], None] = lambda table, rows: None,
) -> CopyReport:
    """Copy ``source`` (SQLite) into the empty PostgreSQL database at ``target_url``.

    ``progress(table, rows)`` is told each table when it is done. Raises
    :class:`CopyRefused` when the target is not PostgreSQL or not empty, the source is not
    migrated, or the check finds a difference (then nothing stays in the target).
    """
    shown = postgres.redacted(target_url)
    try:
        engine = storage.engine_of(target_url)
    except ValueError:
        engine = "other"
    if engine != "postgresql":
        raise CopyRefused("copy_target_not_postgresql", target=shown)
    if source.engine != "sqlite":
        raise CopyRefused("copy_source_not_sqlite")
    behind = storage.pending_migrations(source)
    if behind:
        raise CopyRefused("copy_source_behind", migrations=listing(behind))
    target = storage.open_database(target_url)
    try:
        storage.migrate(target)
        _refuse_unless_empty(target, shown)
        with storage.transaction(target), storage.read_snapshot(source):
            tables = storage.data_tables(source)
            _refuse_other_schema(source, target, tables)
            rows = {}
            for table in tables:
                rows[table] = _copy_table(source, target, table, batch_size)
                progress(table, rows[table])
            differences = compare(source, target)
            if differences:
                raise CopyRefused("copy_mismatch", differences="; ".join(differences))
            distributions = storage.list_distributions(source)
            handed = sum(
                storage.ledger_totals(source, d["id"])["handed_over"] for d in distributions
            )
    finally:
        target.conn.close()
    return CopyReport(rows=rows, distributions=len(distributions), handed_over=int(handed))


def _refuse_unless_empty(target: Database, shown: str) -> None:
    filled = [
        table
        for table in storage.data_tables(target)
        if table not in SEEDED_BY_MIGRATIONS and storage.count_rows(target, table)
    ]
    if filled:
        raise CopyRefused("copy_target_not_empty", target=shown, tables=listing(filled))


def _refuse_other_schema(source: Database, target: Database, tables: list[str]) -> None:
    differing = sorted(
        set(tables) ^ set(storage.data_tables(target))
        | {
            t
            for t in tables
            if set(storage.column_names(source, t)) != set(storage.column_names(target, t))
        }
    )
    if differing:
        raise CopyRefused("copy_schema_differs", tables=listing(differing))


def _copy_table(source: Database, target: Database, table: str, batch_size: int) -> int:
    columns = storage.column_names(source, table)
    if table in SEEDED_BY_MIGRATIONS:
        storage.delete_rows(target, table)
    copied = 0
    for batch in storage.read_rows(source, table, columns, batch_size):
        storage.insert_rows(target, table, columns, batch)
        copied += len(batch)
    storage.reset_identity(target, table)
    return copied


def compare(source: Database, target: Database) -> list[str]:
    """How ``target`` differs from ``source``: rows per table, then per distribution the
    units handed over to each recipient and the reconciliation. Empty when they agree."""
    differences = []
    for table in storage.data_tables(source):
        here, there = storage.count_rows(source, table), storage.count_rows(target, table)
        if here != there:
            differences.append(f"{table}: {here} rows in the source, {there} in the target")
    for distribution in storage.list_distributions(source):
        did = distribution["id"]
        handed = storage.handed_units_by_recipient(source, did)
        copied = storage.handed_units_by_recipient(target, did)
        for recipient in sorted(set(handed) | set(copied)):
            if handed.get(recipient, 0) != copied.get(recipient, 0):
                differences.append(
                    f"distribution {did}, recipient {recipient}: {handed.get(recipient, 0)} "
                    f"units handed over in the source, {copied.get(recipient, 0)} in the target"
                )
        try:
            there = asdict(reconcile(target, did))
        except NotFound:
            differences.append(f"distribution {did}: missing in the target")
            continue
        here = asdict(reconcile(source, did))
        for field in here:
            if here[field] != there[field]:
                differences.append(
                    f"distribution {did}: {field} {here[field]} in the source, "
                    f"{there[field]} in the target"
                )
    return differences
