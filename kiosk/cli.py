"""Pickup-point accounts and content: ``create-user``, ``disable-user``, ``enable-user``,
``set-role``, ``set-password``, ``create-token``, ``safety-content``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from shared import accounts, clock, safety
from shared.cli import cli_actor, ready_db


@click.command("create-user")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.USER_ROLES), required=True)
@click.password_option(help="Prompted for (twice) when not given.")
@with_appcontext
def create_user_command(name: str, role: str, password: str) -> None:
    """Create a staff station account; the password is prompted for and confirmed."""
    accounts.create_user(ready_db(), name, password, role, clock.now(), cli_actor())
    click.echo(f"Created {role} user {name}.")


@click.command("disable-user")
@click.argument("name")
@with_appcontext
def disable_user_command(name: str) -> None:
    """Disable an account: it cannot sign in, and every session it has ends at once."""
    changed = accounts.set_disabled(ready_db(), name, True, clock.now(), cli_actor())
    click.echo(
        f"Disabled {name}; their sessions are ended." if changed else f"{name} was disabled."
    )


@click.command("enable-user")
@click.argument("name")
@with_appcontext
def enable_user_command(name: str) -> None:
    """Let a disabled account sign in again."""
    changed = accounts.set_disabled(ready_db(), name, False, clock.now(), cli_actor())
    click.echo(f"Enabled {name}." if changed else f"{name} was enabled.")


@click.command("set-role")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.USER_ROLES), required=True)
@with_appcontext
def set_role_command(name: str, role: str) -> None:
    """Give an account another role; its sessions end, so it signs in again with the new one."""
    changed = accounts.set_role(ready_db(), name, role, clock.now(), cli_actor())
    click.echo(
        f"{name} is now {role}; their sessions are ended." if changed else f"{name} was {role}."
    )


@click.command("set-password")
@click.argument("name")
@click.password_option(help="Prompted for (twice) when not given.")
@with_appcontext
def set_password_command(name: str, password: str) -> None:
    """Give an account a new password (prompted for twice); its sessions end at once."""
    accounts.set_password(ready_db(), name, password, clock.now(), cli_actor())
    click.echo(f"New password set for {name}; their sessions are ended.")


@click.command("create-token")
@click.option("--role", type=click.Choice(accounts.TOKEN_ROLES), required=True)
@click.option("--name", "device", required=True, help="The device it is for, e.g. 'gate-1'.")
@click.option(
    "--site",
    "site_id",
    type=int,
    help="The pickup site id the device stands at (create-distribution prints them); its "
    "vouchers for other sites are refused as wrong_site. Default: any site.",
)
@with_appcontext
def create_token_command(role: str, device: str, site_id: int | None) -> None:
    """Make a scanner API token. It is printed once and only its hash is kept."""
    token = accounts.create_token(ready_db(), role, device, clock.now(), cli_actor(), site_id)
    click.echo(token)
    where = f" at site {site_id}" if site_id is not None else ""
    click.echo(
        f"A {role} token for {device}{where}. Store it now: it cannot be shown again.", err=True
    )


@click.group("safety-content")
def safety_content() -> None:
    """Show and edit the safety instructions (JSON: one object per item and language)."""


@safety_content.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8"), default="-")
@with_appcontext
def export_command(file) -> None:
    """Write every item's instructions as JSON to FILE (default: standard output)."""
    json.dump(safety.export_contents(ready_db()), file, ensure_ascii=False, indent=2)
    file.write("\n")


@safety_content.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_command(file: Path) -> None:
    """Replace the instructions named in FILE. Any error writes nothing."""
    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file.name} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise click.ClickException(f"{file.name} must hold a JSON list of objects")
    count = safety.import_contents(ready_db(), entries, clock.now(), cli_actor())
    click.echo(f"Saved {count} safety instructions.")


COMMANDS = (
    create_user_command,
    disable_user_command,
    enable_user_command,
    set_role_command,
    set_password_command,
    create_token_command,
    safety_content,
)
