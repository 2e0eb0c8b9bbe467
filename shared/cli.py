"""``flask --app wsgi <command>``: the core's commands, and what every command shares.

One way to add a command: a ``click.command`` with ``with_appcontext`` in its package's
``cli.py``, listed in that module's ``COMMANDS``; ``wsgi.create_app`` adds every package's
``COMMANDS`` with :func:`add_commands`, so each is ``flask --app wsgi <name>`` and a domain
error (an unreachable database too) ends it with ``Error: <message>``, not a traceback.
``tests/test_docs.py`` checks the README documents them all.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask import current_app
from flask.cli import with_appcontext

from shared import (
    clock,
    database_copy,
    demo,
    distributions,
    exports,
    messages,
    planning,
    roster,
    spreadsheets,
    storage,
)
from shared.allocation import METHODS
from shared.db import get_db
from shared.distributions import NUMBER_RANGES as RANGES
from shared.errors import PickupError, RosterInvalid
from shared.handover import reconcile
from shared.settings import is_development
from shared.storage import postgres
from shared.vouchers import voucher_code

IMPORT_BATCH = 10_000  # roster rows per executemany


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


quiet_option = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress bar (it shows only when stderr is a terminal anyway).",
)


@contextlib.contextmanager
def progress(length: int, label: str, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar of ``length`` steps on stderr; yields the function that advances it.

    Only on a terminal and without ``--quiet``: a log file or a pipe gets no bar, only the
    summary the command prints at the end (:func:`finished`).
    """
    if quiet or not sys.stderr.isatty():
        yield lambda steps: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update
        # Done is full, also when the length was an estimate (lines, not CSV records).
        bar.update(max(0, length - bar.pos))


def finished(what: str, started: float, err: bool = False) -> None:
    """The command's summary: ``what`` it did and how long it took since ``started``
    (a ``time.perf_counter()``), on stdout, or stderr when stdout carries data."""
    click.echo(f"{what} in {time.perf_counter() - started:.1f} s.", err=err)


def cli_actor() -> str:
    """Who runs the command, for the audit log: ``cli:<operating-system user>``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the user database
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def make_code(serial: int) -> str:
    return voucher_code(serial, current_app.config["VOUCHER_SECRET"])


def add_commands(group: click.Group, commands: Iterable[click.Command]) -> None:
    """Add ``commands`` to ``group``, each behind :func:`domain_errors` (once, however many
    apps are created in one process)."""
    for command in commands:
        _translate_domain_errors(command)
        group.add_command(command)


def _translate_domain_errors(command: click.Command) -> None:
    if command.callback is not None and not getattr(command.callback, "_domain_errors", False):
        command.callback = domain_errors(command.callback)
    for subcommand in getattr(command, "commands", {}).values():  # a group's, e.g. export
        _translate_domain_errors(subcommand)


def domain_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a domain error into ``Error: <message>`` and exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RosterInvalid as exc:
            for error in getattr(exc, "errors", []):
                click.echo(str(error), err=True)
            raise click.ClickException(str(exc)) from exc
        except PickupError as exc:
            raise click.ClickException(str(exc)) from exc

    wrapper._domain_errors = True  # type: ignore[attr-defined]
    return wrapper


def ready_db():
    """The database with every migration applied (commands work on a fresh file)."""
    db = get_db()
    storage.migrate(db)
    return db


def pick_distribution(db, distribution_id: int | None) -> int:
    """The distribution named, or the only one; with several, the user must say which."""
    if distribution_id is not None:
        return storage.get_distribution(db, distribution_id)["id"]
    found = storage.list_distributions(db)
    if len(found) == 1:
        return found[0]["id"]
    if not found:
        raise click.ClickException(
            "There is no distribution yet: run `create-distribution` or `demo` first."
        )
    listing = "; ".join(f"{d['id']}: {d['name']}" for d in found)
    raise click.ClickException(
        f"There are {len(found)} distributions; choose one with --distribution ({listing})."
    )


distribution_option = click.option(
    "--distribution",
    "distribution_id",
    type=int,
    help="Distribution id (needed when there is more than one).",
)


def parse_local_time(text: str, timezone: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not a date and time like 2020-02-04T12:00") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database, or apply the migrations it is missing."""
    applied = storage.migrate(get_db())
    if applied:
        click.echo(f"Applied migrations: {', '.join(applied)}")
    else:
        click.echo("The database is up to date.")
    click.echo(f"Database: {storage.describe_target(current_app.config['PICKUP_DB'])}")


@click.command("demo")
@with_appcontext
@click.option(
    "--start",
    help="Start of the pickup window, e.g. 2020-02-04T12:00 to replay the article's day "
    "(Asia/Shanghai). Default: the current hour.",
)
@click.option(
    "--if-empty", is_flag=True, help="Load only into an empty database; otherwise do nothing."
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where the service runs, for the links printed at the end.",
)
def demo_command(start: str | None, if_empty: bool, base_url: str) -> None:
    """Load the source article's scenario: 112 enterprises, 12,280 kg, and masks for towns."""
    db = ready_db()
    if storage.list_distributions(db):
        if if_empty:
            click.echo("The database already has data; the demo was not loaded again.")
            _print_links(db, base_url)
            return
        raise click.ClickException(
            "The database already has distributions; demo data goes into a new database "
            "(set PICKUP_DB to another file, or remove this one)."
        )
    start_at = parse_local_time(start, demo.TIMEZONE) if start else None
    ids = demo.load_demo(db, clock.now(), make_code, start_at)
    for distribution_id in ids:
        d = storage.get_distribution(db, distribution_id)
        click.echo(
            f"Distribution {distribution_id}: {d['name']} - {d['stock_units']} x "
            f"{messages.unit_name(d, 'en')}, "
            f"{storage.count_live_bookings(db, distribution_id)} bookings"
        )
    _print_links(db, base_url)


def _print_links(db, base_url: str) -> None:
    base = base_url.rstrip("/")
    click.echo(f"Service: {base}/   Health: {base}/healthz")
    if is_development(current_app.config):
        logins = demo.demo_accounts(db, current_app.instance_path, clock.now())
        shown = ", ".join(f"{name} / {password}" for name, password in logins.items())
        click.echo(f"Demo logins (development only): {shown}")
    for d in storage.list_distributions(db):
        rows = exports.booking_rows(db, d["id"], clock.now())
        if rows:
            click.echo(f"A voucher of distribution {d['id']}: {base}/v/{rows[0]['voucher_code']}")


SITES_HELP = """Create a distribution with its pickup sites and their windows.

\b
Give --site, --address and --window once per site, in the same order: the first --address
and the first --window belong to the first --site, and so on. A site open in several windows
(a lunch break) lists them in its one --window, separated by commas. With a single --site,
--window may also be repeated, each one a window of that site.

\b
  --site 'Town Hall' --address '3 Main St' --window 2020-02-04T09:00/2020-02-04T12:00
  --site 'Depot' --address '8 Quay Rd'
      --window 2020-02-04T09:00/2020-02-04T11:30,2020-02-04T13:00/2020-02-04T17:00
"""


@click.command("create-distribution", help=SITES_HELP)
@with_appcontext
@click.option("--name", required=True, help="What the operator calls it.")
@click.option("--item", required=True, help="The goods, e.g. 'Disinfectant (84)'.")
@click.option("--item-key", help="Safety instructions key, e.g. sodium_hypochlorite.")
@click.option("--unit-name", required=True, help="The shipping unit's Chinese name: 桶, 箱, 件.")
@click.option(
    "--unit-name-en", help="Its English name, e.g. '20 kg drum' (default: the Chinese name)."
)
@click.option("--unit-size", required=True, type=float, help="Amount in one unit, e.g. 5.")
@click.option("--measure", required=True, help="What the amount is measured in, e.g. kg.")
@click.option(
    "--stock", required=True, type=click.IntRange(*RANGES["stock_units"]), help="Units in stock."
)
@click.option(
    "--site", "site_names", required=True, multiple=True, help="Pickup site name (once per site)."
)
@click.option(
    "--address",
    "addresses",
    required=True,
    multiple=True,
    help="Pickup site address (once per site, in the order of --site).",
)
@click.option(
    "--window",
    "windows",
    required=True,
    multiple=True,
    help="A site's pickup windows START/END[,START/END...], e.g. "
    "2020-02-04T12:00/2020-02-04T19:00 (once per site, in the order of --site).",
)
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="Site time zone.")
@click.option(
    "--slot-minutes", default=15, show_default=True, type=click.IntRange(*RANGES["slot_minutes"])
)
@click.option(
    "--capacity-people",
    default=5,
    show_default=True,
    type=click.IntRange(*RANGES["capacity_people"]),
    help="People per slot, at every site.",
)
@click.option(
    "--capacity-units",
    type=click.IntRange(*RANGES["capacity_units"]),
    help="Units handed out per slot, at every site.",
)
@click.option(
    "--weight-basis",
    type=click.Choice(["headcount", "population", "requested", "equal"]),
    default="headcount",
    show_default=True,
)
@click.option(
    "--method", type=click.Choice(sorted(METHODS)), default="sainte_lague", show_default=True
)
def create_distribution_command(**options: Any) -> None:
    try:
        ZoneInfo(options["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {options['timezone']!r}") from exc
    sites = site_specs(
        options.pop("site_names"),
        options.pop("addresses"),
        options.pop("windows"),
        options["timezone"],
    )
    fields = {
        "name": options["name"],
        "item": options["item"],
        "item_key": options["item_key"],
        "unit_name": options["unit_name"],
        "unit_name_en": options["unit_name_en"] or options["unit_name"],
        "unit_size": options["unit_size"],
        "measure": options["measure"],
        "stock_units": options["stock"],
        "timezone": options["timezone"],
        "slot_minutes": options["slot_minutes"],
        "capacity_people": options["capacity_people"],
        "capacity_units": options["capacity_units"],
        "weight_basis": options["weight_basis"],
        "allocation_method": options["method"],
    }
    db = ready_db()
    distribution_id = distributions.create_distribution(db, fields, sites, clock.now(), cli_actor())
    names = ", ".join(f"{s['id']}: {s['name']}" for s in storage.list_sites(db, distribution_id))
    click.echo(f"Created distribution {distribution_id}: {options['name']} (sites {names})")


def site_specs(
    names: tuple[str, ...], addresses: tuple[str, ...], windows: tuple[str, ...], timezone: str
) -> list[distributions.SiteSpec]:
    """Pair the repeated --site, --address and --window options by their order."""
    if len(addresses) != len(names):
        raise click.UsageError(
            f"give one --address per --site: {len(names)} sites but {len(addresses)} addresses"
        )
    if len(names) == 1:
        per_site = [",".join(windows)]
    elif len(windows) != len(names):
        raise click.UsageError(
            f"give one --window per --site, in the same order: {len(names)} sites but "
            f"{len(windows)} --window options (separate a site's windows with commas)"
        )
    else:
        per_site = list(windows)
    return [
        distributions.SiteSpec(
            name=name.strip(),
            address=address.strip(),
            windows=[_window(part, timezone) for part in text.split(",") if part.strip()],
        )
        for name, address, text in zip(names, addresses, per_site, strict=True)
    ]


def _window(text: str, timezone: str) -> tuple[datetime, datetime]:
    start, sep, end = text.strip().partition("/")
    if not sep:
        raise click.BadParameter(f"{text.strip()!r}: give a window as START/END")
    return parse_local_time(start, timezone), parse_local_time(end, timezone)


@click.command("import-roster")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@distribution_option
@quiet_option
def import_roster_command(file: Path, distribution_id: int | None, quiet: bool) -> None:
    """Import recipients from a CSV (UTF-8 or GBK). A file with any error imports nothing."""
    started = time.perf_counter()
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    distribution = storage.get_distribution(db, distribution_id)
    # The file is read twice, never held: once for its encoding, then as it is imported.
    encoding, lines = roster.roster_file_facts(file)
    moment = clock.now()
    imported = 0
    # Rows are written in batches as they are validated; a bad row anywhere raises after the
    # last one and the transaction rolls back, so a file with any error imports nothing.
    # The bar counts lines: a quoted cell may span several, so it can end short of full.
    with (
        file.open(encoding=encoding, newline="") as text,
        storage.transaction(db),
        progress(lines or 1, "Importing", quiet) as advance,
    ):
        rows = roster.iter_roster(
            text,
            distribution["timezone"],
            current_app.config["PICKUP_DEFAULT_REGION"],
            storage.list_sites(db, distribution_id),
        )
        for batch in _batches(rows, IMPORT_BATCH):
            imported += storage.insert_recipients(db, distribution_id, batch)
            advance(len(batch))
        storage.audit(
            db,
            cli_actor(),
            "import_roster",
            f"distribution:{distribution_id}",
            moment,
            {"file": file.name, "rows": imported},
        )
    finished(f"Imported {imported} recipients into distribution {distribution_id}", started)


@click.command("allocate")
@with_appcontext
@distribution_option
@click.option("--method", type=click.Choice(sorted(METHODS)), help="Override the method.")
def allocate_command(distribution_id: int | None, method: str | None) -> None:
    """Divide the stock among the recipients and record the method and inputs."""
    started = time.perf_counter()
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    result = planning.allocate_distribution(db, distribution_id, clock.now(), cli_actor(), method)
    finished(
        f"Allocated {result.allocated} of {result.stock} units by {result.method} among "
        f"{len(result.units)} recipients ({result.unallocated} unallocated)",
        started,
    )


@click.command("schedule")
@with_appcontext
@distribution_option
@quiet_option
def schedule_command(distribution_id: int | None, quiet: bool) -> None:
    """Give every allotted recipient without a booking a staggered slot and a voucher."""
    started = time.perf_counter()
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    pending = storage.count_recipients(db, distribution_id)
    with progress(pending, "Scheduling", quiet) as advance:
        result = planning.schedule_distribution(
            db, distribution_id, clock.now(), cli_actor(), make_code, progress=advance
        )
    finished(
        f"{result.booked} recipients booked into {result.slots} slots "
        f"({result.already_booked} already had a booking)",
        started,
    )


@click.group("export")
def export_group() -> None:
    """Export bookings or the handover ledger."""


def _encoding(out: Path) -> str:
    # A BOM so that Excel opens a UTF-8 CSV with Chinese names correctly.
    return "utf-8-sig" if out.suffix.lower() == ".csv" else "utf-8"


def _write(out: Path | None, content: str) -> None:
    if out is None:
        click.echo(content, nl=False)
        return
    out.write_text(content, encoding=_encoding(out))
    click.echo(f"Wrote {out}", err=True)


@export_group.command("bookings")
@with_appcontext
@distribution_option
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@quiet_option
def export_bookings(distribution_id: int | None, fmt: str, out: Path | None, quiet: bool) -> None:
    """Every live booking with its slot, allotment, voucher code and QR content."""
    started = time.perf_counter()
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    now = clock.now()
    # Both formats stream: a booking is read, formatted and written before the next, so
    # memory stays flat however many there are.
    total = storage.count_live_bookings(db, distribution_id)
    with (
        contextlib.nullcontext(sys.stdout) if out is None else _open_out(out) as f,
        progress(total, "Exporting", quiet) as advance,
    ):
        if fmt == "json":
            rows = exports.iter_booking_rows(db, distribution_id, now)
            written = exports.write_json(f, _counted(rows, advance))
        else:
            values = exports.iter_booking_values(db, distribution_id, now)
            written = spreadsheets.write_csv(f, exports.BOOKING_COLUMNS, _counted(values, advance))
    where = "" if out is None else f" to {out}"
    finished(f"Wrote {written} bookings{where}", started, err=True)


def _open_out(out: Path) -> TextIO:
    return out.open("w", encoding=_encoding(out), newline="")


def _counted(rows: Iterable[Any], update: Callable[[int], None], every: int = 1000):
    """``rows`` unchanged, telling ``update`` every ``every`` rows (and the rest at the end)."""
    n = 0
    for n, row in enumerate(rows, start=1):
        yield row
        if n % every == 0:
            update(every)
    update(n % every)


@export_group.command("ledger")
@with_appcontext
@distribution_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def export_ledger(distribution_id: int | None, out: Path | None) -> None:
    """Every handover that stands (CSV), then the reconciliation on stderr."""
    db = ready_db()
    distribution_id = pick_distribution(db, distribution_id)
    rows = exports.ledger_rows(db, distribution_id)
    _write(out, exports.to_csv(rows, exports.LEDGER_COLUMNS))
    ledger = reconcile(db, distribution_id)
    state = "balanced" if ledger.balanced else "NOT BALANCED"
    beyond = f" - beyond allotments {ledger.beyond_allotments}" if ledger.beyond_allotments else ""
    click.echo(
        f"Stock {ledger.stock} = handed over {ledger.handed_over} + outstanding "
        f"{ledger.outstanding} + unallocated {ledger.unallocated}{beyond}: {state}",
        err=True,
    )
    if ledger.unresolved_conflicts:
        click.echo(
            f"Unresolved offline conflicts: {ledger.unresolved_conflicts} vouchers, "
            f"{ledger.unresolved_conflict_units} units handed over (the console's Conflicts "
            "list resolves them)",
            err=True,
        )


@click.command("copy-db")
@with_appcontext
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The empty PostgreSQL database: postgresql://user:password@host:port/dbname.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=database_copy.BATCH_SIZE,
    show_default=True,
    help="Rows read and written at a time.",
)
def copy_db_command(target: str, batch_size: int) -> None:
    """Copy this office's SQLite database (PICKUP_DB) into an empty PostgreSQL database,
    checked (rows per table, the ledger) before it says done."""
    source = get_db()
    click.echo(
        f"Copying {storage.describe_target(current_app.config['PICKUP_DB'])} to "
        f"{postgres.redacted(target)}"
    )
    report = database_copy.copy_database(
        source, target, batch_size, lambda table, rows: click.echo(f"  {table}: {rows} rows")
    )
    click.echo(
        f"Checked: {sum(report.rows.values())} rows in {len(report.rows)} tables, the same on "
        f"both sides; {report.distributions} "
        f"{'distribution reconciles' if report.distributions == 1 else 'distributions reconcile'}, "
        f"{report.handed_over} "
        "units handed over on both sides."
    )
    click.echo(f"Done. Set PICKUP_DB={postgres.redacted(target)} and restart the service.")


COMMANDS = (
    init_db_command,
    copy_db_command,
    demo_command,
    create_distribution_command,
    import_roster_command,
    allocate_command,
    schedule_command,
    export_group,
)
