"""The import rules hold: checked by reading every module's imports with ``ast``.

* The channels (``sms``, ``kiosk``, ``admin``) never import each other.
* The core (``shared``) imports no channel, and not the web layer (``web``, ``auth``).
* The web layer never imports a channel: ``web`` imports only the core, ``auth`` the core
  and ``web`` (and both any third-party package).
* Nothing imports ``wsgi``, the composition root, which imports everything.

Imports inside functions count too: hiding one there does not make it go away.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = {"sms", "kiosk", "admin"}
CORE = {"shared"}
WEB = {"web", "auth"}
# What each layer may import of ours: itself and the layers below it.
ALLOWED: dict[str, set[str]] = {
    "shared": CORE,
    "web": CORE | {"web"},
    "auth": CORE | {"web", "auth"},
    **{channel: CORE | WEB | {channel} for channel in CHANNELS},
}
FIRST_PARTY = CHANNELS | CORE | WEB | {"wsgi", "web_security"}


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, full module name) of every import in ``path``, at the top or in a function.

    ``package`` is the dotted package ``path`` is in, to resolve relative imports.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def _modules() -> list[tuple[Path, str]]:
    """Every .py file of the core, the channels and the web layer, with its package."""
    files = []
    for top in sorted(ALLOWED):
        for path in sorted((ROOT / top).rglob("*.py")):
            package = ".".join(path.relative_to(ROOT).parts[:-1])
            files.append((path, package))
    return files


MODULES = _modules()


@pytest.mark.parametrize(
    ("path", "package"), MODULES, ids=[str(p.relative_to(ROOT)) for p, _ in MODULES]
)
def test_layers_import_only_what_they_may(path, package):
    layer = package.split(".")[0]
    broken = [
        f"line {line}: {module}"
        for line, module in imported_modules(path, package)
        if module.split(".")[0] in FIRST_PARTY and module.split(".")[0] not in ALLOWED[layer]
    ]
    assert not broken, f"{layer}/ may import only {sorted(ALLOWED[layer])}: {broken}"


def test_every_package_has_a_place_in_the_rule():
    # A new top-level package must be given its layer here before it can be imported.
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages <= set(ALLOWED)


def test_the_walk_finds_imports_in_functions_and_relative_ones(tmp_path):
    source = tmp_path / "views.py"
    source.write_text(
        "import flask\n"
        "from . import texts\n"
        "from .web import now\n"
        "def late():\n"
        "    from sms.outbox import queue\n"
        "    import kiosk.web\n"
    )
    assert imported_modules(source, "admin") == [
        (1, "flask"),
        (2, "admin"),
        (3, "admin.web"),
        (5, "sms.outbox"),
        (6, "kiosk.web"),
    ]


TESTS = sorted((ROOT / "tests").glob("*.py"))


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_tests_import_helpers_from_support_not_conftest(path):
    # pytest loads conftest.py itself; importing it again by name runs it twice under
    # two names. Helpers live in tests/support.py (and tests/*_support.py).
    assert "conftest" not in {module for _, module in imported_modules(path, "tests")}
