"""The console's recipients list: one page at a time, narrowed by state, town, site and a
search, counted in SQL so that its cost does not grow with the roster.

The state words and their counts are :mod:`shared.booking_states`' (the dashboard's), the
search is :mod:`shared.search`'s (the staff station's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from shared import booking_states, storage
from shared.search import search_terms

PER_PAGE = 50
WAITING = "waiting"  # not a state: allotted recipients without a live booking
STATE_FILTERS = (*booking_states.RECIPIENT_STATES, WAITING)


@dataclass(frozen=True)
class RecipientFilter:
    """What the operator narrowed the list to (None or '': not narrowed)."""

    state: str | None = None  # one of STATE_FILTERS
    town: str | None = None
    site_id: int | None = None
    query: str = ""

    @property
    def narrowed(self) -> bool:
        return bool(self.state or self.town is not None or self.site_id or self.query.strip())


@dataclass(frozen=True)
class RecipientPage:
    rows: list[dict[str, Any]]  # recipient columns, ``units``, ``booking_id``, ``state``
    total: int  # recipients matching the filter, on every page
    page: int  # 1-based, within 1..pages
    pages: int
    states: booking_states.DistributionStates  # the whole distribution's counts

    @property
    def first(self) -> int:
        """The position of the page's first row in the whole list (1-based)."""
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0


def recipient_page(
    db: Database,
    distribution_id: int,
    now: datetime,
    chosen: RecipientFilter,
    page: int = 1,
) -> RecipientPage:
    """The ``page``-th page of recipients that ``chosen`` lets through (a page past the end
    gives the last), with the distribution's state counts."""
    distribution = storage.get_distribution(db, distribution_id)
    states = booking_states.distribution_states(db, distribution_id, now)
    before = booking_states.missed_before(now, distribution["grace_minutes"])
    terms = search_terms(chosen.query)
    narrowing = {
        "state": chosen.state or None,
        "town": chosen.town,
        "site_id": chosen.site_id,
        "terms": terms.as_params() if terms else None,
    }
    if chosen.town is None and not chosen.site_id and terms is None:
        # State alone: the counts already say how many.
        if chosen.state == WAITING:
            total = states.waiting
        elif chosen.state:
            total = states.counts[chosen.state]
        else:
            total = sum(states.counts.values())
    else:
        total = storage.count_recipient_state_rows(db, distribution_id, before, **narrowing)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = storage.recipient_state_rows(
        db, distribution_id, before, **narrowing, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    return RecipientPage(rows, total, page, pages, states)


def towns(db: Database, distribution_id: int) -> list[str]:
    """The towns of a distribution's roster, to filter by."""
    return storage.recipient_towns(db, distribution_id)
