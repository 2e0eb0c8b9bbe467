"""Waking the outbox worker: the app rings, the worker, waiting for work, wakes at once.

The Android gateway has no inline reply as TwiML does: the reply to an SMS goes into the
outbox, and the worker (another process, ``send-outbox --loop``) should send it within a
second rather than at its next poll. A UNIX datagram socket in the instance folder is the
doorbell: ringing costs one datagram, ringing with nobody listening does nothing, and
only processes that may write the instance folder can ring.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def ring(path: str) -> bool:
    """Wake the worker listening on ``path``; False if none is (it will poll instead)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as bell:
            bell.setblocking(False)
            bell.sendto(b"!", path)
    except OSError:  # no worker, a full queue (it is awake anyway), a path too long
        return False
    return True


class Doorbell:
    """The worker's end: bound while it runs; :meth:`wait` returns early on a ring."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._socket: socket.socket | None = None

    @contextlib.contextmanager
    def listening(self) -> Iterator[Doorbell]:
        """Bind the socket (replacing one a dead worker left) for the ``with`` block."""
        try:
            Path(self.path).unlink(missing_ok=True)
            bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            bell.bind(self.path)
        except OSError as exc:
            log.warning("cannot listen on %s (%s): polling only", self.path, exc)
            yield self
            return
        os.chmod(self.path, 0o660)
        bell.setblocking(False)
        self._socket = bell
        try:
            yield self
        finally:
            self._socket = None
            bell.close()
            Path(self.path).unlink(missing_ok=True)

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if rung. Rings that piled up count as one."""
        if self._socket is None:
            time.sleep(timeout)
            return False
        readable, _, _ = select.select([self._socket], [], [], timeout)
        if not readable:
            return False
        with contextlib.suppress(BlockingIOError):
            while True:
                self._socket.recv(16)
        return True
