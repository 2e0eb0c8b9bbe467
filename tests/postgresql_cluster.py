"""A throwaway PostgreSQL cluster for the tests: its own data directory, socket and port.

``.ci/run`` starts one for the whole run (``python tests/postgresql_cluster.py start DIR``
prints its URL; ``stop DIR`` stops it); a test session given no
``PICKUP_TEST_POSTGRESQL`` URL starts its own the same way when the binaries are there.
Run as root (CI containers), the server runs as the ``postgres`` user. Durability is off
(``fsync``, ``full_page_writes``): the cluster lives for one test run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

INSTALL_HINT = "apt-get install postgresql, or set PICKUP_TEST_POSTGRESQL to a server's URL"


def binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(base: Path | None = None) -> tuple[Path, str]:
    """Create and start a cluster under ``base`` (a new temporary directory if None).

    Returns the directory (for :func:`stop`) and the URL of its ``postgres`` database.
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(f"PostgreSQL is not installed: {INSTALL_HINT}")
    base = Path(base or tempfile.mkdtemp(prefix="pickup-pg-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    data = base / "data"
    port = _free_port()
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
            + ["--no-sync", "-E", "UTF8", "--locale", "C"]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {base} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log")]
            + ["-o", options, "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    (base / "port").write_text(str(port))
    return base, url(base, "postgres")


def url(base: Path, database: str) -> str:
    port = (base / "port").read_text().strip()
    return f"postgresql://postgres@/{database}?host={base}&port={port}"


def stop(base: Path) -> None:
    """Stop the cluster started under ``base`` and delete it."""
    bin_dir = binaries()
    if bin_dir is not None and (base / "data" / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    action, directory = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(directory)[1])
    elif action == "stop":
        stop(directory)
    else:
        raise SystemExit("usage: postgresql_cluster.py start|stop DIR")
