"""Domain exceptions, all of them. Each says what went wrong in one line; the edges translate them.

The core raises these and never handles a request; each channel turns them into its own
answer (a page in the user's language, a JSON error, an SMS, a CLI message).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from shared import error_texts, messages


class PickupError(Exception):
    """Base class for every domain error: a ``key`` of :mod:`shared.error_texts` and its values.

    ``str(exc)`` is the English text (the commands' language and the logs'); ``exc.text(lang)``
    says it in the user's language.
    """

    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(error_texts.text(key, "en", **values))
        self.key, self.values = key, values

    def text(self, language: str) -> str:
        """What went wrong, in ``language``."""
        return error_texts.text(self.key, language, **self.values)


class InvalidInput(PickupError, ValueError):
    """An argument is out of range or malformed."""


class InfeasibleAllocation(PickupError):
    """The stock cannot be divided as asked (floors above stock, no weights)."""


class SchedulingInfeasible(PickupError):
    """The slots cannot take every recipient within capacity and constraints."""


class MistypedCode(PickupError):
    """A voucher code fails its check digit or has the wrong length."""

    def __init__(self, key: str, /, *, missing_digits: int = 0, **values: Any) -> None:
        super().__init__(key, **values)
        self.missing_digits = missing_digits  # too short: how many; too long: minus how many


class UnknownCode(PickupError):
    """A voucher code is well formed but was never issued (or is forged)."""


class NotFound(PickupError):
    """A record that was asked for does not exist."""


class SlotFull(PickupError):
    """The slot has no place left for another recipient or their load."""


class HoldExpired(PickupError):
    """The slot offered to the recipient was released before they chose it."""


class NoPhone(PickupError):
    """The recipient cannot be sent an SMS: no phone on the roster, or the phone opted out."""


class BookingClosed(PickupError):
    """The booking cannot change any more (collected, cancelled, or slot passed)."""


class SlotStarted(BookingClosed):
    """The slot asked for has already started: nobody can be booked into it."""


class NoAllotment(BookingClosed):
    """The recipient has no allotment in the distribution, so there is nothing to book."""


class AlreadyCollected(PickupError):
    """Every unit of the allotment has already been handed over."""


class AlreadyHandedOver(AlreadyCollected):
    """Every unit has been handed over; ``staff``, ``station`` and ``at`` say by whom and when."""

    def __init__(self, staff: str, station: str, at: datetime | None) -> None:
        super().__init__("already_handed_over", staff=staff, station=station)
        self.staff, self.station, self.at = staff, station, at


class BadHandoverRequest(InvalidInput):
    """A handover request's body is not JSON holding a whole number of units; ``key`` says why."""


class BadSyncRequest(InvalidInput):
    """A station's upload is not ``{"actions": [...]}`` as JSON; ``key`` says why."""


class NotYourHandover(PickupError):
    """A scanner token asked to undo a handover some other token or person made."""

    def __init__(self) -> None:
        super().__init__("not_your_handover")


class UndoWindowPassed(PickupError):
    """A handover can only be undone for a short time after it was made."""


class UnitsOutOfRange(InvalidInput):
    """A handover asked for fewer than 1 unit or more than are still due (``remaining``)."""

    def __init__(self, remaining: int) -> None:
        super().__init__("units_range", max=remaining)
        self.remaining = remaining


class AlreadyUndone(PickupError):
    """The handover was undone before; undoing it again changes nothing."""

    def __init__(self) -> None:
        super().__init__("already_undone")


class RosterInvalid(PickupError):
    """A roster file has rows with errors; nothing was imported. ``errors`` lists each one."""

    def __init__(self, key: str, /, errors: list[Any], **values: Any) -> None:
        super().__init__(key, **values)
        self.errors = errors


class VoucherRefused(PickupError):
    """The voucher is not good for this action now; ``verdict`` says why."""

    def __init__(self, verdict: object) -> None:
        reason = getattr(verdict, "reason", verdict)
        super().__init__("voucher_refused", reason=getattr(reason, "value", reason))
        self.verdict = verdict

    def text(self, language: str) -> str:
        """The verdict as the kiosk and the staff station say it."""
        return messages.verdict_message(self.verdict, language)


class EditRefused(PickupError):
    """An edit of a distribution would break its bookings or ledger; ``key`` says which rule."""


class AccountRefused(InvalidInput):
    """An account change breaks a rule (bad name, short password, last admin, ...).

    Its keys are those of :mod:`shared.account_texts`.
    """


class NotAuthenticated(PickupError):
    """The user name and password, or the token, do not match an account."""


class LoginLocked(PickupError):
    """Too many failed sign-ins: this name from this address, or the address, is paused."""

    def __init__(self, until: datetime) -> None:
        super().__init__("login_locked", until=until.isoformat())
        self.until = until

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes until the lock ends, at least 1 (what the message says)."""
        return max(1, math.ceil((self.until - now).total_seconds() / 60))


class CopyRefused(PickupError):
    """``copy-db`` will not copy (the target is not an empty PostgreSQL database, the
    source is not migrated) or found the copy different from the source."""


class StorageUnavailable(PickupError):
    """The database could not take the write (busy past the timeout, or the disk is full)."""
