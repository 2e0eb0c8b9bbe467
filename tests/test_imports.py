"""The import rules hold: checked by reading every module's imports with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = sorted((ROOT / "tests").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, by its full name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_tests_import_helpers_from_support_not_conftest(path):
    # pytest loads conftest.py itself; importing it again by name runs it twice under
    # two names. Helpers live in tests/support.py (and tests/*_support.py).
    assert "conftest" not in imported_modules(path)
