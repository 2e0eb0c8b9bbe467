"""Versioned schema migrations, applied in order by ``flask --app wsgi init-db``.

One ordered list for both engines, written in SQLite's DDL: on PostgreSQL each statement
goes through :func:`shared.storage.postgres.ddl` (types, triggers), and the list is
applied by :func:`shared.storage.postgres.migrate`. Write new ones with the types it maps
(``id INTEGER PRIMARY KEY``, ``TEXT``, ``INTEGER``, ``REAL``, ``BLOB``) and SQL both
engines accept.

Each migration runs in a transaction with the record of it having been applied, so a
migration that fails is rolled back and stays pending. Never edit an applied migration:
add a new one. Times are stored as ISO 8601 text in UTC (``...+00:00``) so that they
sort as text; they are shown in the distribution's time zone.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database, Migrations

migrations = Migrations("pickup")


def _run_script(db: Database, script: str) -> None:
    """Run the statements of ``script`` one by one inside the migration's transaction.

    ``executescript`` would COMMIT first and break the migration's atomicity, so the
    script is split at complete statements (``complete_statement`` knows trigger bodies).
    On PostgreSQL each statement is translated first.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if db.engine == "sqlite":
                db.execute(statement)
            else:
                from shared.storage import postgres

                for translated in postgres.ddl(statement):
                    db.execute(translated)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement.strip()[:60]}")


@migrations(name="0001_core")
def core(db: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE distributions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            item TEXT NOT NULL,
            item_key TEXT,                       -- which safety instructions apply
            unit_name TEXT NOT NULL,             -- "20 kg drum"
            unit_size REAL NOT NULL CHECK (unit_size > 0),
            measure TEXT NOT NULL,               -- "kg", "masks"
            stock_units INTEGER NOT NULL CHECK (stock_units >= 0),
            timezone TEXT NOT NULL,
            slot_minutes INTEGER NOT NULL CHECK (slot_minutes > 0),
            capacity_people INTEGER NOT NULL CHECK (capacity_people > 0),
            capacity_units INTEGER CHECK (capacity_units IS NULL OR capacity_units > 0),
            early_minutes INTEGER NOT NULL DEFAULT 15,
            grace_minutes INTEGER NOT NULL DEFAULT 30,
            weight_basis TEXT NOT NULL DEFAULT 'headcount'
                CHECK (weight_basis IN ('headcount', 'population', 'requested', 'equal')),
            allocation_method TEXT NOT NULL DEFAULT 'sainte_lague',
            created_at TEXT NOT NULL
        );

        CREATE TABLE sites (
            id INTEGER PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            address TEXT NOT NULL
        );
        CREATE INDEX sites_distribution ON sites(distribution_id);

        CREATE TABLE pickup_windows (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            CHECK (starts_at < ends_at)
        );
        CREATE INDEX pickup_windows_site ON pickup_windows(site_id);

        CREATE TABLE recipients (
            id INTEGER PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            external_id TEXT NOT NULL,           -- unified social credit code or other id
            town TEXT NOT NULL DEFAULT '',
            headcount INTEGER,
            population INTEGER,
            requested_units INTEGER,
            floor_units INTEGER NOT NULL DEFAULT 0,
            contact_name TEXT NOT NULL DEFAULT '',
            phone TEXT,                          -- E.164
            language TEXT NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
            priority INTEGER NOT NULL DEFAULT 0,
            earliest TEXT,
            latest TEXT,
            UNIQUE (distribution_id, external_id)
        );
        CREATE INDEX recipients_phone ON recipients(phone);

        CREATE TABLE allocation_runs (
            id INTEGER PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            method TEXT NOT NULL,
            stock_units INTEGER NOT NULL,
            allocated_units INTEGER NOT NULL,
            inputs TEXT NOT NULL,                -- JSON: method, stock and every claimant
            created_at TEXT NOT NULL
        );

        CREATE TABLE allotments (
            recipient_id INTEGER PRIMARY KEY REFERENCES recipients(id) ON DELETE CASCADE,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            units INTEGER NOT NULL CHECK (units >= 0),
            allocation_run_id INTEGER NOT NULL REFERENCES allocation_runs(id)
        );
        CREATE INDEX allotments_distribution ON allotments(distribution_id);

        CREATE TABLE slots (
            id INTEGER PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            capacity_people INTEGER NOT NULL CHECK (capacity_people > 0),
            capacity_units INTEGER,
            -- Bumped by every booking change: the UPDATE takes the row lock first, so
            -- "take the last place" is safe on PostgreSQL as well as SQLite.
            version INTEGER NOT NULL DEFAULT 0,
            UNIQUE (site_id, starts_at)
        );
        CREATE INDEX slots_distribution ON slots(distribution_id, starts_at);

        CREATE TABLE slot_holds (
            id INTEGER PRIMARY KEY,
            slot_id INTEGER NOT NULL REFERENCES slots(id) ON DELETE CASCADE,
            recipient_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
            expires_at TEXT NOT NULL,
            UNIQUE (slot_id, recipient_id)
        );
        CREATE INDEX slot_holds_recipient ON slot_holds(recipient_id);

        CREATE TABLE bookings (
            id INTEGER PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            recipient_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
            slot_id INTEGER NOT NULL REFERENCES slots(id),
            units INTEGER NOT NULL CHECK (units >= 0),
            status TEXT NOT NULL DEFAULT 'booked'
                CHECK (status IN ('booked', 'cancelled', 'missed')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            cancelled_at TEXT,
            checked_in_at TEXT,
            queue_number INTEGER
        );
        -- One live booking per recipient; cancelled ones stay for the record.
        CREATE UNIQUE INDEX bookings_one_live ON bookings(recipient_id)
            WHERE status != 'cancelled';
        CREATE INDEX bookings_slot ON bookings(slot_id, status);

        CREATE TABLE vouchers (
            serial INTEGER PRIMARY KEY,          -- the first 7 digits of the code
            code TEXT NOT NULL UNIQUE,
            booking_id INTEGER NOT NULL UNIQUE REFERENCES bookings(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );

        CREATE TABLE handovers (
            id INTEGER PRIMARY KEY,
            booking_id INTEGER NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
            units INTEGER NOT NULL CHECK (units > 0),
            staff TEXT NOT NULL,
            station TEXT NOT NULL,
            handed_at TEXT NOT NULL,
            undone_at TEXT,
            undone_by TEXT
        );
        CREATE INDEX handovers_booking ON handovers(booking_id);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,               -- "booking:12", "distribution:1"
            detail TEXT NOT NULL DEFAULT '{}'    -- JSON
        );
        -- The audit log is append-only: nobody, the operator included, edits history.
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """,
    )


@migrations(name="0002_sms")
def sms(db: Database) -> None:
    _run_script(
        db,
        """
        -- Every SMS the service sends goes through here, so a provider outage loses nothing.
        CREATE TABLE sms_outbox (
            id INTEGER PRIMARY KEY,
            phone TEXT NOT NULL,                 -- E.164
            body TEXT NOT NULL,
            kind TEXT NOT NULL,                  -- invitation, confirmation, reminder
            dedup_key TEXT UNIQUE,               -- "reminder:12:<slot start>": queued once
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN (
                'queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered',
                'opted_out')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            provider_id TEXT UNIQUE,             -- Twilio's MessageSid
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX sms_outbox_due ON sms_outbox(status, next_attempt_at);
        CREATE INDEX sms_outbox_phone ON sms_outbox(phone);

        -- One row per incoming SMS: the provider's id makes a retried webhook a no-op that
        -- answers with the reply stored the first time.
        CREATE TABLE sms_inbound (
            message_id TEXT PRIMARY KEY,
            phone TEXT NOT NULL,
            to_phone TEXT,
            body TEXT NOT NULL,
            reply TEXT NOT NULL,
            language TEXT NOT NULL,
            received_at TEXT NOT NULL
        );
        CREATE INDEX sms_inbound_phone ON sms_inbound(phone, received_at);

        -- What a phone asked for: its language and whether it opted out of SMS.
        CREATE TABLE phone_prefs (
            phone TEXT PRIMARY KEY,
            language TEXT CHECK (language IS NULL OR language IN ('zh', 'en')),
            opted_out_at TEXT,
            updated_at TEXT NOT NULL
        );

        -- Where an SMS conversation stands: slots offered, or a cancel waiting for "1".
        CREATE TABLE phone_conversations (
            phone TEXT PRIMARY KEY,
            recipient_id INTEGER NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
            state TEXT NOT NULL CHECK (state IN ('choosing', 'confirm_cancel')),
            offered TEXT NOT NULL DEFAULT '[]',  -- JSON list of slot ids, in offer order
            expires_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- The answer given to each step of a call: a retried step gets the same answer.
        CREATE TABLE ivr_steps (
            call_id TEXT NOT NULL,
            step TEXT NOT NULL,
            turn TEXT NOT NULL,                  -- JSON of the turn that was answered
            created_at TEXT NOT NULL,
            PRIMARY KEY (call_id, step)
        );
        """,
    )


@migrations(name="0003_pickup_point")
def pickup_point(db: Database) -> None:
    """Staff accounts, API tokens, safety instructions (seeded) and their acknowledgements."""
    _run_script(
        db,
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,         -- werkzeug.security, never the password
            role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
            created_at TEXT NOT NULL,
            disabled_at TEXT
        );

        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,     -- sha256 hex of the token; the token is shown once
            role TEXT NOT NULL CHECK (role IN ('staff', 'kiosk')),
            device TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_used_at TEXT,
            revoked_at TEXT
        );

        CREATE TABLE safety_contents (
            item_key TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
            title TEXT NOT NULL,
            hazards TEXT NOT NULL,               -- each field: JSON list of short lines
            protective_equipment TEXT NOT NULL,
            dilution TEXT NOT NULL,
            storage TEXT NOT NULL,
            never_mix TEXT NOT NULL,
            first_aid TEXT NOT NULL,
            pictograms TEXT NOT NULL DEFAULT '[]',  -- JSON list of GHS codes, e.g. ["GHS05"]
            sms TEXT NOT NULL,                   -- the short version for one SMS segment
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (item_key, language)
        );

        CREATE TABLE safety_acknowledgements (
            id INTEGER PRIMARY KEY,
            booking_id INTEGER NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
            item_key TEXT NOT NULL,
            language TEXT NOT NULL,
            channel TEXT NOT NULL,               -- "kiosk", "staff:<name>", "api:<device>"
            acknowledged_at TEXT NOT NULL,
            UNIQUE (booking_id, item_key)
        );
        """,
    )
    # The seed is frozen data loaded once; the operator edits the rows afterwards.
    import json
    from datetime import UTC, datetime

    from shared.safety_seed import FIELDS, SEED

    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    for item_key, item in SEED.items():
        for language in ("zh", "en"):
            content = item[language]
            values = {
                field: content[field]
                if isinstance(content[field], str)
                else json.dumps(content[field], ensure_ascii=False)
                for field in FIELDS
            }
            db.execute(
                "INSERT INTO safety_contents (item_key, language, title, hazards, "
                "protective_equipment, dilution, storage, never_mix, first_aid, pictograms, "
                "sms, updated_at, updated_by) VALUES (:item_key, :language, :title, :hazards, "
                ":protective_equipment, :dilution, :storage, :never_mix, :first_aid, "
                ":pictograms, :sms, :stamp, 'seed')",
                {
                    **values,
                    "item_key": item_key,
                    "language": language,
                    "pictograms": json.dumps(item["pictograms"]),
                    "stamp": stamp,
                },
            )


@migrations(name="0004_hardening")
def hardening(db: Database) -> None:
    _run_script(
        db,
        """
        -- Failed sign-ins, one row each: counted per user name and per client address over a
        -- window. In the database, not in memory, so that every app node sees the same count.
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL CHECK (scope IN ('user', 'address')),
            key TEXT NOT NULL,                   -- the user name or the client address
            failed_at TEXT NOT NULL
        );
        CREATE INDEX login_failures_key ON login_failures(scope, key, failed_at);

        -- A user name or address refused until ``locked_until``.
        CREATE TABLE login_locks (
            scope TEXT NOT NULL CHECK (scope IN ('user', 'address')),
            key TEXT NOT NULL,
            locked_until TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        );

        -- Calls to the phone menu by caller, for the per-phone call limit.
        CREATE TABLE ivr_calls (
            call_id TEXT PRIMARY KEY,
            phone TEXT NOT NULL,
            started_at TEXT NOT NULL
        );
        CREATE INDEX ivr_calls_phone ON ivr_calls(phone, started_at);

        -- When a phone over its limit was last told so: it is told once, then silence.
        CREATE TABLE phone_limit_notices (
            phone TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('sms', 'call')),
            noticed_at TEXT NOT NULL,
            PRIMARY KEY (phone, channel)
        );
        """,
    )


@migrations(name="0005_handover_token")
def handover_token(db: Database) -> None:
    _run_script(
        db,
        """
        -- The scanner API token that made a handover (NULL for the staff page): a token may
        -- undo only its own handovers, and device names need not be unique.
        ALTER TABLE handovers ADD COLUMN api_token_id INTEGER REFERENCES api_tokens(id);
        """,
    )


@migrations(name="0006_roster_previews")
def roster_previews(db: Database) -> None:
    _run_script(
        db,
        """
        -- A roster file checked and shown to the operator, kept here until it is imported or
        -- expires: the preview page carries only this random token, never the file itself.
        CREATE TABLE roster_previews (
            token TEXT PRIMARY KEY,
            distribution_id INTEGER NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
            filename TEXT NOT NULL,
            data BLOB NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX roster_previews_created ON roster_previews(created_at);
        """,
    )


@migrations(name="0007_sms_gateways")
def sms_gateways(db: Database) -> None:
    _run_script(
        db,
        """
        -- The id the outbox gives a gateway that accepts one (the Android gateway): a retry
        -- after a lost answer reuses it, and the gateway refuses the copy (409) instead of
        -- sending it twice. Cleared when a failed message is queued again on purpose.
        ALTER TABLE sms_outbox ADD COLUMN send_key TEXT;
        -- When the gateway took the message; the daily invitation cap counts these.
        ALTER TABLE sms_outbox ADD COLUMN sent_at TEXT;
        -- An invitation waiting for the daily cap to free up (then due again).
        ALTER TABLE sms_outbox ADD COLUMN held_until TEXT;
        CREATE INDEX sms_outbox_sent ON sms_outbox(kind, sent_at);

        -- Webhook events of the Android gateway by their own id: the app retries an event
        -- until it gets a 2xx, and a retried event must change nothing.
        CREATE TABLE gateway_events (
            gateway TEXT NOT NULL,
            event_id TEXT NOT NULL,
            event TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (gateway, event_id)
        );
        """,
    )


@migrations(name="0008_ivr_code_tries")
def ivr_code_tries(db: Database) -> None:
    _run_script(
        db,
        """
        -- Wrong codes typed into the phone menu, one row each, counted over an hour per
        -- scope: 'caller' (a caller ID), 'anonymous' (every call without caller ID together)
        -- and 'voucher' (a voucher serial whose tag was guessed wrong).
        CREATE TABLE ivr_code_failures (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL CHECK (scope IN ('caller', 'anonymous', 'voucher')),
            key TEXT NOT NULL,
            failed_at TEXT NOT NULL
        );
        CREATE INDEX ivr_code_failures_key ON ivr_code_failures(scope, key, failed_at);

        -- Code entry refused for a scope and key until ``locked_until``.
        CREATE TABLE ivr_code_locks (
            scope TEXT NOT NULL CHECK (scope IN ('caller', 'anonymous', 'voucher')),
            key TEXT NOT NULL,
            locked_until TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        );
        """,
    )


@migrations(name="0009_bounded_numbers")
def bounded_numbers(db: Database) -> None:
    # Before the console checked ranges it stored anything: an early_minutes of 10**15 made
    # every later check of that distribution's vouchers fail. Bring stored minutes into the
    # range the console now enforces (shared.distributions.NUMBER_RANGES: 0 or 1 to 1440).
    # (CASE, not SQLite's two-argument max and min, so that PostgreSQL runs it too.)
    _run_script(
        db,
        """
        UPDATE distributions SET early_minutes = CASE WHEN early_minutes < 0 THEN 0 ELSE 1440 END
            WHERE early_minutes NOT BETWEEN 0 AND 1440;
        UPDATE distributions SET grace_minutes = CASE WHEN grace_minutes < 0 THEN 0 ELSE 1440 END
            WHERE grace_minutes NOT BETWEEN 0 AND 1440;
        UPDATE distributions SET slot_minutes = CASE WHEN slot_minutes < 1 THEN 1 ELSE 1440 END
            WHERE slot_minutes NOT BETWEEN 1 AND 1440;
        """,
    )


@migrations(name="0010_queue_calls_and_overrides")
def queue_calls_and_overrides(db: Database) -> None:
    _run_script(
        db,
        """
        -- The queue at a site: when staff last called a checked-in number (shown on the
        -- site's public board) and when they skipped it (no longer shown).
        ALTER TABLE bookings ADD COLUMN called_at TEXT;
        ALTER TABLE bookings ADD COLUMN skipped_at TEXT;

        -- A handover staff made although the voucher was refused as too early or missed:
        -- which refusal was overridden, the reason chosen from a short list, free text.
        ALTER TABLE handovers ADD COLUMN overridden TEXT
            CHECK (overridden IS NULL OR overridden IN ('too_early', 'missed'));
        ALTER TABLE handovers ADD COLUMN override_reason TEXT
            CHECK (override_reason IS NULL
                   OR override_reason IN ('came_from_far', 'elderly_or_ill', 'staff_decision'));
        ALTER TABLE handovers ADD COLUMN override_note TEXT;
        """,
    )


@migrations(name="0011_user_sessions")
def user_sessions(db: Database) -> None:
    _run_script(
        db,
        """
        -- A signed-in browser, one row each. The cookie holds a random token; only its
        -- SHA-256 is stored. Signing out deletes the row; disabling a user or changing their
        -- role or password deletes all of theirs, so a copied cookie dies with them.
        CREATE TABLE user_sessions (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );
        CREATE INDEX user_sessions_user ON user_sessions(user_id);
        """,
    )


@migrations(name="0012_login_throttle")
def login_throttle(db: Database) -> None:
    _run_script(
        db,
        """
        -- Failed sign-ins counted per (user name, client address) and per address (name ''),
        -- never per name alone, so that nobody can lock a user out from elsewhere. Past the
        -- free failures each one pauses the count for longer (doubling); the count is
        -- forgotten at ``forget_at``, a window after the last failure or pause. The counts
        -- of 0004 are dropped: they only ever held minutes of history.
        DROP TABLE login_failures;
        DROP TABLE login_locks;
        CREATE TABLE login_throttle (
            username TEXT NOT NULL,              -- '' for the address as a whole
            address TEXT NOT NULL,
            failures INTEGER NOT NULL,
            paused_until TEXT,
            forget_at TEXT NOT NULL,
            PRIMARY KEY (username, address)
        );
        CREATE INDEX login_throttle_forget ON login_throttle(forget_at);
        """,
    )


@migrations(name="0013_sites")
def sites(db: Database) -> None:
    _run_script(
        db,
        """
        -- A site's own slot capacity; NULL takes the distribution's (so one form field fills
        -- every site, and a site that needs fewer or more people per slot says so).
        ALTER TABLE sites ADD COLUMN capacity_people INTEGER
            CHECK (capacity_people IS NULL OR capacity_people > 0);
        ALTER TABLE sites ADD COLUMN capacity_units INTEGER
            CHECK (capacity_units IS NULL OR capacity_units > 0);

        -- The site a recipient collects at (the roster's ``site`` column); NULL while the
        -- distribution has one site.
        ALTER TABLE recipients ADD COLUMN site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL;

        -- The site a scanner device stands at (``create-token --site``); NULL: any site.
        ALTER TABLE api_tokens ADD COLUMN site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL;
        """,
    )


@migrations(name="0014_unit_names")
def unit_names(db: Database) -> None:
    _run_script(
        db,
        """
        -- A distribution's shipping unit has a Chinese name (unit_name: 桶, 箱, 件) and an
        -- English one (unit_name_en: "20 kg drum"). Until an operator gives the English name
        -- the existing name stands for both.
        ALTER TABLE distributions ADD COLUMN unit_name_en TEXT NOT NULL DEFAULT '';
        UPDATE distributions SET unit_name_en = unit_name;
        """,
    )


@migrations(name="0015_offline_stations")
def offline_stations(db: Database) -> None:
    _run_script(
        db,
        """
        -- Actions a station or kiosk made offline and uploaded later (POST /api/v1/sync),
        -- one row per client-made UUID: a retried upload finds its row and changes nothing.
        CREATE TABLE sync_actions (
            id INTEGER PRIMARY KEY,
            client_id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,                  -- "handover" or "checkin"
            booking_id INTEGER REFERENCES bookings(id) ON DELETE CASCADE,
            staff TEXT NOT NULL,
            station TEXT NOT NULL,
            happened_at TEXT NOT NULL,           -- when it was done, by the device's clock
            applied_at TEXT NOT NULL,            -- when the server received it
            outcome TEXT NOT NULL,               -- "applied", "conflict" or "refused"
            reason TEXT NOT NULL DEFAULT '',     -- a refusal's reason (a verdict word)
            handover_id INTEGER REFERENCES handovers(id) ON DELETE SET NULL,
            queue_number INTEGER,
            queue_label TEXT
        );
        CREATE INDEX sync_actions_booking ON sync_actions(booking_id);

        -- A handover made offline beyond what the voucher had left (two stations handing
        -- over the same voucher) stands in the ledger flagged, with the others of its
        -- voucher, until the operator accepts it or records a return.
        ALTER TABLE handovers ADD COLUMN conflict INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE handovers ADD COLUMN conflict_resolution TEXT;
        ALTER TABLE handovers ADD COLUMN conflict_resolved_at TEXT;
        ALTER TABLE handovers ADD COLUMN conflict_resolved_by TEXT;
        CREATE INDEX handovers_conflict ON handovers(conflict, conflict_resolution);

        -- The number an offline kiosk gave a representative (its station prefix and its
        -- own count, "K3-7"): never a number the server gives, so the two cannot collide.
        ALTER TABLE bookings ADD COLUMN queue_label TEXT;
        """,
    )


@migrations(name="0016_search_indexes")
def search_indexes(db: Database) -> None:
    _run_script(
        db,
        """
        -- Staff search and the console's recipients search (shared/search.py): a name or
        -- contact name by its beginning, a phone or voucher code by its last four digits
        -- (then checked for the whole suffix typed). Expressions both engines index alike.
        CREATE INDEX recipients_name_key ON recipients ((lower(name)));
        CREATE INDEX recipients_contact_key ON recipients ((lower(contact_name)));
        CREATE INDEX recipients_phone_last4 ON recipients ((substr(phone, length(phone) - 3)));
        CREATE INDEX vouchers_code_last4 ON vouchers ((substr(code, 13)));

        -- The console's recipients list, a page at a time in roster order, filtered by town
        -- or site (in order too: an index's entries sort by id after its columns).
        CREATE INDEX recipients_distribution ON recipients (distribution_id, id);
        CREATE INDEX recipients_town ON recipients (distribution_id, town);
        CREATE INDEX recipients_site ON recipients (distribution_id, site_id);

        -- A distribution's bookings counted per slot and state (the dashboard and the
        -- recipients list): everything the state needs from a booking, read from the index.
        CREATE INDEX bookings_states ON bookings
            (distribution_id, slot_id, status, checked_in_at, units);
        -- A recipient's cancelled bookings (their state when no booking is live).
        CREATE INDEX bookings_recipient ON bookings (recipient_id, status);
        -- The dashboard's fingerprint (count and latest change of a distribution's bookings).
        CREATE INDEX bookings_changed ON bookings (distribution_id, updated_at);
        -- Who checked in on a day: the next queue number, the staff queue, the dashboard's
        -- queue and late arrivals (a range, instead of reading every booking).
        CREATE INDEX bookings_checked_in ON bookings (checked_in_at);
        """,
    )
