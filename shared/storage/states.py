"""The state word in SQL: the console's recipients list (paged, filtered, searched), the
counts the dashboard and that list share, the dashboard's bounded lists of people, and staff
search. The words are :mod:`shared.booking_states`'; ``_BOOKING_STATE_SQL`` says them as
:func:`shared.booking_states.booking_state` does (tests/test_console_scale.py checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared.storage.bookings import _HANDED_JOIN, _VOUCHER_VIEW_SQL
from shared.storage.connection import Row, _all, to_db_time

# A live booking's state word, as :func:`shared.booking_states.booking_state` says it, over
# a row with ``status``, ``booked_units``, ``handed_units``, ``checked_in_at`` and
# ``ends_at``; ``:missed_before`` is the clock less the grace period (ISO text, compared as
# text). tests/test_console_scale.py checks both agree on every state.
_BOOKING_STATE_SQL = """
    CASE
        WHEN status = 'cancelled' THEN 'cancelled'
        WHEN handed_units > 0 AND handed_units >= booked_units THEN 'collected'
        WHEN handed_units > 0 THEN 'partly_collected'
        WHEN checked_in_at IS NOT NULL THEN 'checked_in'
        WHEN status = 'missed' THEN 'missed'
        WHEN ends_at < :missed_before THEN 'missed'
        ELSE 'booked'
    END
"""


# Every recipient of distribution :d with their allotment, their live booking (if any) and
# their one state word. {where} narrows the recipients (town, site, search hits).
_RECIPIENT_STATES_SQL = f"""
    SELECT x.*, CASE
        WHEN x.booking_id IS NULL THEN
            CASE WHEN x.has_cancelled = 1 THEN 'cancelled' ELSE 'no_booking' END
        ELSE {_BOOKING_STATE_SQL}
    END AS state
    FROM (
        SELECT r.id, r.name, r.external_id, r.town, r.site_id, r.phone, r.contact_name,
               a.units, b.id AS booking_id, b.status, b.units AS booked_units,
               b.checked_in_at, s.starts_at, s.ends_at,
               CASE WHEN b.id IS NULL AND EXISTS (
                   SELECT 1 FROM bookings c WHERE c.recipient_id = r.id
                   AND c.status = 'cancelled') THEN 1 ELSE 0 END AS has_cancelled,
               coalesce(h.units, 0) AS handed_units
        FROM {{source}}
        LEFT JOIN allotments a ON a.recipient_id = r.id
        LEFT JOIN bookings b ON b.recipient_id = r.id AND b.status != 'cancelled'
        LEFT JOIN slots s ON s.id = b.slot_id
        {_HANDED_JOIN}
        WHERE r.distribution_id = :d {{where}}
    ) x
"""


# Recipients that a search finds (shared.search.SearchTerms' params), in any distribution
# (the list keeps its own): each branch is a lookup its own index serves (migration 0016).
_RECIPIENT_HITS_SQL = """
    SELECT id FROM recipients
        WHERE lower(name) >= :name_from AND lower(name) < :name_until
        AND lower(name) LIKE :name_like ESCAPE '\\'
    UNION SELECT id FROM recipients
        WHERE lower(contact_name) >= :name_from AND lower(contact_name) < :name_until
        AND lower(contact_name) LIKE :name_like ESCAPE '\\'
    UNION SELECT id FROM recipients WHERE distribution_id = :d
        AND external_id >= :id_from AND external_id < :id_until
    UNION SELECT id FROM recipients WHERE distribution_id = :d
        AND external_id >= :id_upper_from AND external_id < :id_upper_until
    UNION SELECT id FROM recipients
        WHERE substr(phone, length(phone) - 3) = :last4 AND phone LIKE :ends_like
    UNION SELECT b.recipient_id FROM vouchers v JOIN bookings b ON b.id = v.booking_id
        WHERE substr(v.code, 13) = :last4 AND v.code LIKE :ends_like
    UNION SELECT b.recipient_id FROM vouchers v JOIN bookings b ON b.id = v.booking_id
        WHERE v.code >= :digits AND v.code < :code_until
"""


def _recipient_filter(
    distribution_id: int,
    missed_before: datetime,
    town: str | None,
    site_id: int | None,
    terms: dict[str, Any] | None,
) -> tuple[str, dict[str, Any]]:
    where = ""
    params: dict[str, Any] = {"d": distribution_id, "missed_before": to_db_time(missed_before)}
    if town is not None:
        where += " AND r.town = :town"
        params["town"] = town
    if site_id is not None:
        where += " AND r.site_id = :site"
        params["site"] = site_id
    source = "recipients r"
    if terms is not None:  # the search's few hits first, then their rows
        source = f"({_RECIPIENT_HITS_SQL}) found JOIN recipients r ON r.id = found.id"
        params.update(terms)
    return _RECIPIENT_STATES_SQL.format(source=source, where=where), params


def _state_condition(state: str | None) -> str:
    if state is None:
        return ""
    if state == "waiting":  # allotted, without a live booking
        return " WHERE y.units > 0 AND y.booking_id IS NULL"
    return " WHERE y.state = :state"


def recipient_state_rows(
    db: Database,
    distribution_id: int,
    missed_before: datetime,
    *,
    state: str | None = None,
    town: str | None = None,
    site_id: int | None = None,
    terms: dict[str, Any] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Row]:
    """One page of a distribution's recipients with their allotment, live booking and state
    word, in roster order; narrowed by state (or ``waiting``), town, site and search terms
    (:meth:`shared.search.SearchTerms.as_params`). ``missed_before``: now less the grace."""
    sql, params = _recipient_filter(distribution_id, missed_before, town, site_id, terms)
    params.update(state=state, limit=limit, offset=offset)
    return _all(
        db,
        f"SELECT * FROM ({sql}) y{_state_condition(state)} ORDER BY y.id "
        "LIMIT :limit OFFSET :offset",
        params,
    )


def count_recipient_state_rows(
    db: Database,
    distribution_id: int,
    missed_before: datetime,
    *,
    state: str | None = None,
    town: str | None = None,
    site_id: int | None = None,
    terms: dict[str, Any] | None = None,
) -> int:
    """How many recipients :func:`recipient_state_rows` finds in all its pages."""
    sql, params = _recipient_filter(distribution_id, missed_before, town, site_id, terms)
    params["state"] = state
    row = db.execute(f"SELECT count(*) FROM ({sql}) y{_state_condition(state)}", params).fetchone()
    return int(row[0])


def recipient_totals(db: Database, distribution_id: int) -> dict[str, int]:
    """Recipients of a distribution; of those without a live booking, how many cancelled
    theirs (``cancelled``) and how many are allotted units (``waiting``)."""
    row = db.execute(
        """
        SELECT count(*),
               coalesce(sum(CASE WHEN b.id IS NULL AND EXISTS (
                   SELECT 1 FROM bookings c WHERE c.recipient_id = r.id
                   AND c.status = 'cancelled') THEN 1 ELSE 0 END), 0),
               coalesce(sum(CASE WHEN b.id IS NULL AND a.units > 0 THEN 1 ELSE 0 END), 0)
        FROM recipients r
        LEFT JOIN allotments a ON a.recipient_id = r.id
        LEFT JOIN bookings b ON b.recipient_id = r.id AND b.status != 'cancelled'
        WHERE r.distribution_id = :d
        """,
        {"d": distribution_id},
    ).fetchone()
    return {"recipients": int(row[0]), "cancelled": int(row[1]), "waiting": int(row[2])}


_LIVE_BOOKINGS_SQL = f"""
    SELECT z.*, {_BOOKING_STATE_SQL} AS state FROM (
        SELECT b.id, b.recipient_id, b.slot_id, b.status, b.units AS booked_units,
               b.checked_in_at, b.queue_number, s.starts_at, s.ends_at,
               coalesce(h.units, 0) AS handed_units
        FROM bookings b JOIN slots s ON s.id = b.slot_id
        {_HANDED_JOIN}
        WHERE b.distribution_id = :d AND b.status != 'cancelled' {{where}}
    ) z
"""


def live_booking_state_counts(
    db: Database, distribution_id: int, missed_before: datetime
) -> list[Row]:
    """Live bookings per slot and state word: ``slot_id``, ``state``, ``bookings``,
    ``handed_units`` (each slot's rows; slots without bookings have none)."""
    sql = _LIVE_BOOKINGS_SQL.format(where="")
    rows = db.execute(
        f"SELECT w.slot_id, w.state, count(*), coalesce(sum(w.handed_units), 0) FROM ({sql}) w "
        "GROUP BY w.slot_id, w.state ORDER BY w.slot_id, w.state",
        {"d": distribution_id, "missed_before": to_db_time(missed_before)},
    ).fetchall()
    return [
        {"slot_id": s, "state": state, "bookings": int(n), "handed_units": int(h)}
        for s, state, n, h in rows
    ]


_NAMED_BOOKING_COLUMNS = "w.*, r.name AS recipient_name, r.phone, w.booked_units AS units"


def missed_in_slots(
    db: Database,
    distribution_id: int,
    slot_ids: Sequence[int],
    missed_before: datetime,
    per_slot: int,
) -> list[Row]:
    """The first ``per_slot`` people (by booking) who missed each of ``slot_ids``."""
    if not slot_ids:
        return []
    marks = ", ".join(f":s{n}" for n in range(len(slot_ids)))
    sql = _LIVE_BOOKINGS_SQL.format(where=f"AND b.slot_id IN ({marks})")
    return _all(
        db,
        f"SELECT * FROM (SELECT {_NAMED_BOOKING_COLUMNS}, row_number() OVER "
        f"(PARTITION BY w.slot_id ORDER BY w.id) AS place FROM ({sql}) w "
        "JOIN recipients r ON r.id = w.recipient_id WHERE w.state = 'missed') m "
        "WHERE m.place <= :per_slot ORDER BY m.starts_at, m.slot_id, m.id",
        {
            "d": distribution_id,
            "missed_before": to_db_time(missed_before),
            "per_slot": per_slot,
            **{f"s{n}": slot_id for n, slot_id in enumerate(slot_ids)},
        },
    )


def _checked_in(late: bool) -> tuple[str, str]:
    """The checked-in live bookings of distribution :d (index on ``checked_in_at``), and
    which of them: those with units still due (the queue) or, with ``late``, those who
    checked in after their slot ended. Returns the SQL and its ORDER BY."""
    sql = _LIVE_BOOKINGS_SQL.format(where="AND b.checked_in_at IS NOT NULL")
    if late:
        which, order = "w.checked_in_at > w.ends_at", "w.checked_in_at DESC, w.id DESC"
    else:
        which, order = "w.state IN ('checked_in', 'partly_collected')", "w.queue_number, w.id"
    return f"SELECT {_NAMED_BOOKING_COLUMNS} FROM ({sql}) w " + (
        f"JOIN recipients r ON r.id = w.recipient_id WHERE {which}"
    ), order


def checked_in_bookings(
    db: Database,
    distribution_id: int,
    missed_before: datetime,
    *,
    late: bool = False,
    limit: int = 100,
) -> list[Row]:
    """Live bookings checked in with units still due, by queue number (the queue); or with
    ``late`` those who checked in after their slot ended, the latest first; with their state
    word and recipient."""
    sql, order = _checked_in(late)
    return _all(
        db,
        f"{sql} ORDER BY {order} LIMIT :limit",
        {"d": distribution_id, "missed_before": to_db_time(missed_before), "limit": limit},
    )


def count_checked_in_bookings(
    db: Database, distribution_id: int, missed_before: datetime, *, late: bool = False
) -> int:
    """How many :func:`checked_in_bookings` finds without its limit."""
    sql, _ = _checked_in(late)
    row = db.execute(
        f"SELECT count(*) FROM ({sql}) c",
        {"d": distribution_id, "missed_before": to_db_time(missed_before)},
    ).fetchone()
    return int(row[0])


# Bookings that a staff search finds (shared.search.SearchTerms' params), in every
# distribution: each branch is a lookup its own index serves (migration 0016).
_BOOKING_HITS_SQL = """
    SELECT b.id FROM recipients r JOIN bookings b ON b.recipient_id = r.id
        WHERE lower(r.name) >= :name_from AND lower(r.name) < :name_until
        AND lower(r.name) LIKE :name_like ESCAPE '\\'
    UNION SELECT b.id FROM recipients r JOIN bookings b ON b.recipient_id = r.id
        WHERE lower(r.contact_name) >= :name_from AND lower(r.contact_name) < :name_until
        AND lower(r.contact_name) LIKE :name_like ESCAPE '\\'
    UNION SELECT b.id FROM recipients r JOIN bookings b ON b.recipient_id = r.id
        WHERE substr(r.phone, length(r.phone) - 3) = :last4 AND r.phone LIKE :ends_like
    UNION SELECT booking_id FROM vouchers
        WHERE substr(code, 13) = :last4 AND code LIKE :ends_like
    UNION SELECT booking_id FROM vouchers WHERE code >= :digits AND code < :code_until
"""


def find_vouchers(
    db: Database, terms: dict[str, Any], limit: int = 20, offset: int = 0
) -> list[Row]:
    """Vouchers a staff search finds (:meth:`shared.search.SearchTerms.as_params`): live
    bookings first, then by slot."""
    return _all(
        db,
        f"SELECT * FROM ({_VOUCHER_VIEW_SQL} WHERE b.id IN ({_BOOKING_HITS_SQL})) hits "
        "ORDER BY CASE WHEN status = 'booked' THEN 0 ELSE 1 END, starts_at, serial "
        "LIMIT :limit OFFSET :offset",
        {**terms, "limit": limit, "offset": offset},
    )


def count_vouchers_found(db: Database, terms: dict[str, Any]) -> int:
    """How many vouchers :func:`find_vouchers` finds in all its pages."""
    row = db.execute(
        f"SELECT count(*) FROM vouchers WHERE booking_id IN ({_BOOKING_HITS_SQL})", terms
    ).fetchone()
    return int(row[0])
