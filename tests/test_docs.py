"""The README keeps up with the code: every setting and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from support import app_settings

from shared.settings import SETTINGS
from wsgi import create_app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMANDS_SECTION = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
# Built without a request or a database: the commands are registered by create_app.
APP = create_app(app_settings(Path("never-opened.sqlite3")))


def walk(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command of ``group`` by its full name (``export ledger``), groups included."""
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(walk(command, f"{path} "))
    return found


COMMANDS = walk(APP.cli)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_documented(setting):
    assert f"| `{setting.name}` |" in README
    assert setting.help


def test_every_channel_has_its_commands():
    names = {path for path, _ in COMMANDS}
    for expected in ("init-db", "create-user", "send-outbox", "mark-no-shows", "export ledger"):
        assert expected in names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_documented(path, command):
    assert re.search(rf"`{re.escape(path)}[ `]", COMMANDS_SECTION), f"{path} not in README"
    assert command.help, f"{path} has no --help text"


def _documented_options() -> list[tuple[str, str]]:
    """(command, option) for every ``--option`` the README's command table names."""
    paths = sorted((p for p, _ in COMMANDS), key=len, reverse=True)
    found = []
    for snippet in re.findall(r"`([a-z][^`]*)`", COMMANDS_SECTION):
        path = next((p for p in paths if snippet == p or snippet.startswith(p + " ")), None)
        if path is not None:
            found.extend((path, option) for option in re.findall(r"--[a-z][a-z-]*", snippet))
    return found


@pytest.mark.parametrize(("path", "option"), _documented_options())
def test_documented_option_exists(path, option):
    command = dict(COMMANDS)[path]
    names = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    assert option in names


def test_two_setup_commands():
    assert "make run" in README and "make test" in README
