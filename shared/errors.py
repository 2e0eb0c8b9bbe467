"""Domain exceptions. Each says what went wrong in one line; the edges translate them."""


class PickupError(Exception):
    """Base class for every domain error."""


class InvalidInput(PickupError, ValueError):
    """An argument is out of range or malformed."""


class InfeasibleAllocation(PickupError):
    """The stock cannot be divided as asked (floors above stock, no weights)."""


class SchedulingInfeasible(PickupError):
    """The slots cannot take every recipient within capacity and constraints."""


class MistypedCode(PickupError):
    """A voucher code fails its check digit or has the wrong length."""


class UnknownCode(PickupError):
    """A voucher code is well formed but was never issued (or is forged)."""


class NotFound(PickupError):
    """A record that was asked for does not exist."""


class SlotFull(PickupError):
    """The slot has no place left for another recipient or their load."""


class HoldExpired(PickupError):
    """The slot offered to the recipient was released before they chose it."""


class BookingClosed(PickupError):
    """The booking cannot change any more (collected, cancelled, or slot passed)."""


class AlreadyCollected(PickupError):
    """Every unit of the allotment has already been handed over."""


class UndoWindowPassed(PickupError):
    """A handover can only be undone for a short time after it was made."""


class RosterInvalid(PickupError):
    """A roster file has rows with errors; nothing was imported."""


class VoucherRefused(PickupError):
    """The voucher is not good for this action now; ``verdict`` says why."""

    def __init__(self, verdict: object, message: str = "") -> None:
        super().__init__(message or f"voucher refused: {getattr(verdict, 'reason', verdict)}")
        self.verdict = verdict


class StorageUnavailable(PickupError):
    """The database could not take the write (busy past the timeout, or the disk is full)."""
