"""Every reason a voucher is refused, check-in, handover and the ledger."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from support import DEMO_LOADED_AT, SECRET, make_code, small_distribution

from shared import booking, planning, storage
from shared.errors import (
    AlreadyHandedOver,
    AlreadyUndone,
    InvalidInput,
    UndoWindowPassed,
    VoucherRefused,
)
from shared.handover import hand_over, reconcile, undo_handover
from shared.verification import Reason, check_in, verify_voucher
from shared.vouchers import voucher_code

KEY = SECRET.encode()


@pytest.fixture
def booked(db):
    """A booked voucher in the first slot (12:00-12:30) plus its distribution id."""
    distribution_id = small_distribution(db)
    planning.ensure_slots(db, distribution_id)
    recipient = storage.list_recipients(db, distribution_id)[3]
    slot = storage.list_slots(db, distribution_id)[0]
    view = booking.book_slot(db, recipient["id"], slot["id"], DEMO_LOADED_AT, "t", make_code)
    return view, distribution_id


def _at(view, minutes: int):
    return storage.from_db_time(view["starts_at"]) + timedelta(minutes=minutes)


def test_valid_in_slot(db, booked):
    view, distribution_id = booked
    verdict = verify_voucher(db, view["code"], KEY, _at(view, 5), distribution_id)
    assert verdict.reason is Reason.VALID
    assert verdict.remaining_units == view["units"]


def _swap_first_differing_neighbours(code: str) -> str:
    """The code with its first two different neighbouring digits swapped (serials are
    random: the first two digits may be equal, and swapping those changes nothing)."""
    i = next(i for i in range(len(code) - 1) if code[i] != code[i + 1])
    return code[:i] + code[i + 1] + code[i] + code[i + 2 :]


@pytest.mark.parametrize(
    ("transform", "reason"),
    [
        (lambda c: c[:-1] + str((int(c[-1]) + 1) % 10), Reason.MISTYPED),
        (lambda c: _swap_first_differing_neighbours(c), Reason.MISTYPED),
        (lambda c: c[:15], Reason.MISTYPED),
        (lambda c: "hello", Reason.MISTYPED),
        (lambda c: voucher_code(int(c[:7]), b"another key"), Reason.UNKNOWN),
        (lambda c: voucher_code((int(c[:7]) + 1) % 10**7, KEY), Reason.UNKNOWN),
    ],
    ids=["wrong-digit", "swap", "short", "letters", "forged", "never-issued"],
)
def test_bad_codes(db, booked, transform, reason):
    view, _ = booked
    verdict = verify_voucher(db, transform(view["code"]), KEY, _at(view, 5))
    assert verdict.reason is reason
    assert verdict.voucher is None


def test_any_single_digit_change_is_mistyped(db, booked):
    view, _ = booked
    code = view["code"]
    for position in range(16):
        for digit in "0123456789":
            if digit == code[position]:
                continue
            changed = code[:position] + digit + code[position + 1 :]
            assert verify_voucher(db, changed, KEY, _at(view, 5)).reason is Reason.MISTYPED


def test_spaces_and_qr_prefix_are_accepted(db, booked):
    view, _ = booked
    spaced = " ".join(view["code"][i : i + 4] for i in range(0, 16, 4))
    for text in (spaced, "PV1" + view["code"], "pv1" + view["code"] + "\r\n"):
        assert verify_voucher(db, text, KEY, _at(view, 5)).reason is Reason.VALID


def test_too_early_says_when_to_come(db, booked):
    view, _ = booked
    verdict = verify_voucher(db, view["code"], KEY, _at(view, -60))
    assert verdict.reason is Reason.TOO_EARLY
    assert verdict.come_at == _at(view, -15)  # early_minutes = 15
    assert verify_voucher(db, view["code"], KEY, _at(view, -15)).reason is Reason.VALID


def test_missed_after_slot_and_grace(db, booked):
    view, _ = booked
    # The slot is 30 minutes, grace 30: valid until 60 minutes after the start.
    assert verify_voucher(db, view["code"], KEY, _at(view, 60)).reason is Reason.VALID
    assert verify_voucher(db, view["code"], KEY, _at(view, 61)).reason is Reason.MISSED


def test_checked_in_is_not_missed_while_waiting(db, booked):
    view, _ = booked
    check_in(db, view["code"], KEY, _at(view, 10), "kiosk")
    assert verify_voucher(db, view["code"], KEY, _at(view, 120)).reason is Reason.VALID


def test_cancelled(db, booked):
    view, _ = booked
    booking.cancel_booking(db, view["recipient_id"], DEMO_LOADED_AT, "t")
    assert verify_voucher(db, view["code"], KEY, _at(view, 5)).reason is Reason.CANCELLED


def test_wrong_distribution_and_site(db, booked):
    view, distribution_id = booked
    now = _at(view, 5)
    verdict = verify_voucher(db, view["code"], KEY, now, distribution_id=distribution_id + 1)
    assert verdict.reason is Reason.WRONG_DISTRIBUTION
    verdict = verify_voucher(db, view["code"], KEY, now, site_id=view["site_id"] + 1)
    assert verdict.reason is Reason.WRONG_SITE


def test_already_collected_says_when(db, booked):
    view, _ = booked
    handed_at = _at(view, 7)
    hand_over(db, view["code"], KEY, handed_at, "staff-li", "desk-1")
    verdict = verify_voucher(db, view["code"], KEY, _at(view, 9))
    assert verdict.reason is Reason.ALREADY_COLLECTED
    assert verdict.collected_at == handed_at
    # Even long after the slot it says "collected", not "missed".
    assert verify_voucher(db, view["code"], KEY, _at(view, 600)).reason is (
        Reason.ALREADY_COLLECTED
    )


# -- check-in -------------------------------------------------------------------------------


def test_check_in_is_idempotent_with_queue_numbers(db, booked):
    view, distribution_id = booked
    first = check_in(db, view["code"], KEY, _at(view, 1), "kiosk")
    again = check_in(db, view["code"], KEY, _at(view, 2), "kiosk")
    assert (first.queue_number, first.first_time) == (1, True)
    assert (again.queue_number, again.first_time) == (1, False)
    other = storage.list_recipients(db, distribution_id)[0]
    slot = storage.list_slots(db, distribution_id)[0]
    view2 = booking.book_slot(db, other["id"], slot["id"], DEMO_LOADED_AT, "t", make_code)
    assert check_in(db, view2["code"], KEY, _at(view, 3), "kiosk").queue_number == 2


def test_check_in_refused_carries_the_verdict(db, booked):
    view, _ = booked
    with pytest.raises(VoucherRefused) as info:
        check_in(db, view["code"], KEY, _at(view, -120), "kiosk")
    assert info.value.verdict.reason is Reason.TOO_EARLY


# -- handover -------------------------------------------------------------------------------


def test_partial_handovers_then_collected(db, booked):
    view, _ = booked
    assert view["units"] == 4
    first = hand_over(db, view["code"], KEY, _at(view, 5), "li", "desk-1", units=1)
    assert (first.units, first.remaining_units) == (1, 3)
    with pytest.raises(InvalidInput, match="^units must be between 1 and 3, the units still due$"):
        hand_over(db, view["code"], KEY, _at(view, 6), "li", "desk-1", units=4)
    rest = hand_over(db, view["code"], KEY, _at(view, 6), "li", "desk-1")
    assert (rest.units, rest.remaining_units) == (3, 0)
    with pytest.raises(AlreadyHandedOver) as info:
        hand_over(db, view["code"], KEY, _at(view, 8), "wang", "desk-2")
    assert (info.value.staff, info.value.station, info.value.at) == ("li", "desk-1", _at(view, 6))


def test_handover_refuses_invalid_voucher(db, booked):
    view, _ = booked
    with pytest.raises(VoucherRefused) as info:
        hand_over(db, view["code"], KEY, _at(view, -60), "li", "desk-1")
    assert info.value.verdict.reason is Reason.TOO_EARLY


def test_undo_within_window_only(db, booked):
    view, _ = booked
    made = hand_over(db, view["code"], KEY, _at(view, 5), "li", "desk-1")
    with pytest.raises(UndoWindowPassed, match="within 120 seconds"):
        undo_handover(db, made.id, _at(view, 5) + timedelta(seconds=121), "li", 120)
    undo_handover(db, made.id, _at(view, 5) + timedelta(seconds=60), "li", 120)
    with pytest.raises(AlreadyUndone, match="^That handover was already undone; nothing changed.$"):
        undo_handover(db, made.id, _at(view, 6), "li", 120)
    assert verify_voucher(db, view["code"], KEY, _at(view, 7)).reason is Reason.VALID


def test_two_stations_at_once_make_one_handover(app, db, booked):
    view, distribution_id = booked
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def station(name: str) -> None:
        database = storage.open_database(app.config["PICKUP_DB"])
        barrier.wait()
        try:
            hand_over(database, view["code"], KEY, _at(view, 5), name, name)
            outcomes.append("handed")
        except AlreadyHandedOver as exc:
            outcomes.append(f"told:{exc.staff}")
        finally:
            database.conn.close()

    threads = [threading.Thread(target=station, args=(n,)) for n in ("desk-1", "desk-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["handed", "told"]
    assert storage.count_handovers(db, distribution_id) == 1


def test_ledger_reconciles_through_every_operation(db, booked):
    view, distribution_id = booked
    ledger = reconcile(db, distribution_id)
    assert ledger.balanced and ledger.handed_over == 0 and ledger.unallocated == 0
    made = hand_over(db, view["code"], KEY, _at(view, 5), "li", "desk-1", units=3)
    ledger = reconcile(db, distribution_id)
    assert (ledger.stock, ledger.handed_over, ledger.outstanding) == (10, 3, 7)
    assert ledger.outstanding_booked == 1 and ledger.balanced
    undo_handover(db, made.id, _at(view, 6), "li", 120)
    assert reconcile(db, distribution_id).handed_over == 0
    assert reconcile(db, distribution_id).balanced
