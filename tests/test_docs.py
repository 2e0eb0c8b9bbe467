"""The README keeps up with the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.cli import COMMANDS
from shared.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_documented(setting):
    assert f"| `{setting.name}` |" in README
    assert setting.help


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_command_documented(command):
    assert f"| `{command.name}" in README or f"`{command.name} " in README


def test_two_setup_commands():
    assert "make run" in README and "make test" in README
