"""The audit log's detail column in words: each stored field labelled, its value said.

The log stores a detail as JSON with English keys (``{"units": 2, "station": "Desk 1"}``);
the console shows it as labelled fields in the reader's language (件数 2 · 工作台 Desk 1),
ids of sites and slots as their names and times, times in the console's zone. A field
the code writes without a label here shows as stored, so nothing is ever hidden.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from admin.texts import TEXTS, t
from shared import safety, storage
from shared.errors import NotFound

# The fields of a distribution (create and edit): labelled as on its form.
FORM_FIELDS = frozenset(storage.DISTRIBUTION_FIELDS)


class AuditDetails:
    """Says audit details in ``language``; looks up sites, slots and safety items once each."""

    def __init__(self, db: Database, language: str, tz: ZoneInfo) -> None:
        self.db, self.language, self.tz = db, language, tz
        self._sites: dict[object, str] = {}
        self._slots: dict[object, str] = {}
        self._titles: dict[str, str] | None = None
        self._values: dict[str, Callable[[object], str]] = {
            "until": self._time,
            "uploaded_at": self._time,
            "resolution": lambda v: self._label(f"audit_value_{v}", v),
            "role": self._role,
            "from": self._role,
            "to": self._role,
            "weight_basis": lambda v: self._label(f"basis_{v}", v),
            "allocation_method": self._method,
            "method": self._method,
            "overridden": lambda v: self._label(f"audit_value_{v}", v),
            "override_reason": lambda v: self._label(f"override_{v}", v),
            "language": lambda v: self._label(f"language_{v}", v),
            "site": self._site,
            "slot": self._slot,
            "from_slot": self._slot,
            "to_slot": self._slot,
            "item_key": self._item,
            "handovers": lambda v: self._join([f"#{h}" for h in _listed(v)]),
            "changed": lambda v: self._join([self.label(str(name)) for name in _listed(v)]),
            "entries": lambda v: self._join([self._entry(str(e)) for e in _listed(v)]),
        }

    def fields(self, detail: str | None) -> list[tuple[str, str]]:
        """(label, value) for each field of a stored detail, in the stored (sorted) order."""
        try:
            data = json.loads(detail or "{}")
        except ValueError:
            return [("", str(detail))]
        if not isinstance(data, dict):
            return [("", str(detail))]
        return [(self.label(key), self.value(key, value)) for key, value in data.items()]

    def label(self, key: str) -> str:
        """A field's name in words; a field without a label keeps its stored name."""
        if key in FORM_FIELDS:
            return t(key, self.language)
        return self._label(f"audit_field_{key}", key)

    def value(self, key: str, value: object) -> str:
        if value is None or value == "" or value == []:
            return "—"
        say = self._values.get(key)
        if say is not None:
            return say(value)
        if isinstance(value, list):
            return self._join([str(item) for item in value])
        if isinstance(value, bool):
            return t("audit_yes" if value else "audit_no", self.language)
        return str(value)

    # -- the values -----------------------------------------------------------------------

    def _label(self, text_key: str, fallback: object) -> str:
        entry = TEXTS.get(text_key)
        if entry is None:
            try:
                return t(text_key, self.language)
            except KeyError:
                return str(fallback)
        return entry[self.language]

    def _join(self, items: list[str]) -> str:
        return ("、" if self.language == "zh" else ", ").join(items)

    def _time(self, value: object) -> str:
        moment = storage.from_db_time(str(value))
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if moment else str(value)

    def _role(self, value: object) -> str:
        return self._label(f"role_{value}", value)

    def _method(self, value: object) -> str:
        return self._label(f"method_{value}", value)

    def _site(self, value: object) -> str:
        if value not in self._sites:
            site = storage.find_site(self.db, value) if isinstance(value, int) else None
            self._sites[value] = site["name"] if site else f"#{value}"
        return self._sites[value]

    def _slot(self, value: object) -> str:
        if value not in self._slots:
            try:
                slot = storage.get_slot(self.db, value) if isinstance(value, int) else None
            except NotFound:
                slot = None
            if slot is None:
                self._slots[value] = f"#{value}"
            else:
                where = self._aside(self._site(slot["site_id"]))
                self._slots[value] = f"{self._time(slot['starts_at'])}{where}"
        return self._slots[value]

    def _item(self, value: object) -> str:
        if self._titles is None:
            self._titles = safety.item_titles(self.db, self.language)
        return self._titles.get(str(value), str(value))

    def _entry(self, entry: str) -> str:
        item, _, language = entry.partition("/")
        return self._item(item) + self._aside(self._label(f"language_{language}", language))

    def _aside(self, text: str) -> str:
        return f"（{text}）" if self.language == "zh" else f" ({text})"


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]
