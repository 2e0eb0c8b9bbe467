"""`create-user`, `create-token`, `safety-content`: pickup-point accounts and content."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kiosk import bp
from shared import accounts, safety, storage
from shared.db import get_db
from shared.errors import PickupError


def _ready_db():
    db = get_db()
    storage.migrate(db)
    return db


@bp.cli.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.USER_ROLES), required=True)
@click.password_option(help="Prompted for (twice) when not given.")
def create_user_command(name: str, role: str, password: str) -> None:
    """Create a staff station account; the password is prompted for and confirmed."""
    try:
        accounts.create_user(_ready_db(), name, password, role, storage.now_utc())
    except PickupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} user {name}.")


@bp.cli.command("create-token")
@click.option("--role", type=click.Choice(accounts.TOKEN_ROLES), required=True)
@click.option("--name", "device", required=True, help="The device it is for, e.g. 'gate-1'.")
def create_token_command(role: str, device: str) -> None:
    """Make a scanner API token. It is printed once and only its hash is kept."""
    try:
        token = accounts.create_token(_ready_db(), role, device, storage.now_utc())
    except PickupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)
    click.echo(f"A {role} token for {device}. Store it now: it cannot be shown again.", err=True)


@bp.cli.group("safety-content")
def safety_content() -> None:
    """Show and edit the safety instructions (JSON: one object per item and language)."""


@safety_content.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
def export_command(file) -> None:
    """Write every item's instructions as JSON to FILE (default: standard output)."""
    json.dump(safety.export_contents(_ready_db()), file, ensure_ascii=False, indent=2)
    file.write("\n")


@safety_content.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Replace the instructions named in FILE. Any error writes nothing."""
    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file.name} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise click.ClickException(f"{file.name} must hold a JSON list of objects")
    try:
        count = safety.import_contents(_ready_db(), entries, storage.now_utc(), "cli")
    except PickupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Saved {count} safety instructions.")
