"""The outbox: pacing, retries with backoff, outages, opt-outs, invitations, reminders, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import DEMO_LOADED_AT, DEMO_START, SECRET, fresh_demo
from twilio.base.exceptions import TwilioRestException

from shared import outreach, storage
from shared.db import get_db
from shared.errors import InvalidInput
from shared.segments import count_segments
from sms import worker
from sms.senders import ConsoleSender, FakeSender, SendError, TwilioSender, make_sender
from wsgi import create_app

PHONES = [f"+86170000000{n:02d}" for n in range(1, 6)]


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def fast_pacer():
    clock = FakeClock()
    return worker.Pacer(1000, clock.time, clock.sleep)


def queue(db, count=5, now=DEMO_LOADED_AT):
    return [
        storage.enqueue_sms(db, PHONES[i % len(PHONES)], f"message {i}", "confirmation", now)
        for i in range(count)
    ]


def drain_until_quiet(db, sender, start, max_attempts=5, retry_seconds=30, rounds=20):
    """Run the worker repeatedly, jumping the clock to the next retry each time."""
    now = start
    for _ in range(rounds):
        worker.drain(db, sender, lambda at=now: at, max_attempts, retry_seconds, fast_pacer())
        pending = db.execute(
            "SELECT min(next_attempt_at) FROM sms_outbox WHERE status = 'queued'"
        ).fetchone()[0]
        if pending is None:
            return now
        now = max(now, storage.from_db_time(pending))
    return now


def statuses(db):
    return [r[0] for r in db.execute("SELECT status FROM sms_outbox ORDER BY id")]


def test_provider_outage_loses_and_duplicates_nothing(db):
    ids = queue(db)
    sender = FakeSender(fail_times=12, status=503)
    drain_until_quiet(db, sender, DEMO_LOADED_AT)
    assert statuses(db) == ["sent"] * 5
    assert sorted(body for _, body, _ in sender.sent) == [f"message {i}" for i in range(5)]
    assert sender.calls == 5 + 12
    provider_ids = {storage.get_outbox(db, i)["provider_id"] for i in ids}
    assert len(provider_ids) == 5


def test_backoff_doubles(db):
    (outbox_id,) = queue(db, 1)
    sender = FakeSender(fail_times=3, status=429)
    now = DEMO_LOADED_AT
    waits = []
    for _ in range(3):
        worker.send_one(db, outbox_id, sender, now, 5, 30)
        row = storage.get_outbox(db, outbox_id)
        assert row["status"] == "queued" and "429" in row["last_error"]
        retry_at = storage.from_db_time(row["next_attempt_at"])
        waits.append((retry_at - now).total_seconds())
        # Not due yet: nothing is tried early.
        due = worker.drain(db, sender, lambda at=now: at, 5, 30, fast_pacer())
        assert due.attempted == 0
        now = retry_at
    assert waits == [30, 60, 120]
    assert worker.send_one(db, outbox_id, sender, now, 5, 30) == "sent"


@pytest.mark.parametrize(
    ("status", "max_attempts", "attempts"),
    [(503, 3, 3), (500, 1, 1), (429, 4, 4), (400, 5, 1), (404, 5, 1)],
)
def test_gives_up_and_shows_failed(db, status, max_attempts, attempts):
    (outbox_id,) = queue(db, 1)
    sender = FakeSender(fail_times=99, status=status)
    drain_until_quiet(db, sender, DEMO_LOADED_AT, max_attempts=max_attempts)
    row = storage.get_outbox(db, outbox_id)
    assert row["status"] == "failed"
    assert row["attempts"] == attempts == sender.calls
    assert row["last_error"] == f"fake gateway answered {status}"


def test_opted_out_phone_is_never_sent_to(db):
    storage.set_phone_opt_out(db, PHONES[0], True, DEMO_LOADED_AT)
    queue(db, 2)
    sender = FakeSender()
    drain_until_quiet(db, sender, DEMO_LOADED_AT)
    assert statuses(db) == ["opted_out", "sent"]
    assert [to for to, _, _ in sender.sent] == [PHONES[1]]


def test_provider_opt_out_error_records_the_opt_out(db):
    (outbox_id,) = queue(db, 1)

    class Unsubscribed:
        def send(self, to, body, key):
            raise SendError("unsubscribed", retryable=False, status=400, opted_out=True)

    assert worker.send_one(db, outbox_id, Unsubscribed(), DEMO_LOADED_AT, 5, 30) == "opted_out"
    assert storage.is_opted_out(db, PHONES[0])


def test_pacing_spaces_sends():
    clock = FakeClock()
    pacer = worker.Pacer(2, clock.time, clock.sleep)
    for _ in range(5):
        pacer.wait()
    assert clock.slept == [0.5] * 4


def test_drain_is_paced(db):
    queue(db, 4)
    clock = FakeClock()
    worker.drain(
        db, FakeSender(), lambda: DEMO_LOADED_AT, 5, 30, worker.Pacer(1, clock.time, clock.sleep)
    )
    assert clock.slept == [1.0] * 3


def test_stale_claims_are_requeued(db):
    (outbox_id,) = queue(db, 1)
    storage.claim_outbox(db, outbox_id, DEMO_LOADED_AT)
    later = DEMO_LOADED_AT + worker.STALE_SENDING + timedelta(seconds=1)
    assert storage.requeue_stale_outbox(db, later - worker.STALE_SENDING, later) == 1
    assert storage.get_outbox(db, outbox_id)["status"] == "queued"


def test_claimed_message_is_not_sent_twice(db):
    (outbox_id,) = queue(db, 1)
    assert storage.claim_outbox(db, outbox_id, DEMO_LOADED_AT) is not None
    assert worker.send_one(db, outbox_id, FakeSender(), DEMO_LOADED_AT, 5, 30) == "skipped"


def test_invitations_once_per_recipient(demo_db):
    queued, already = outreach.queue_invitations(demo_db, 1, DEMO_LOADED_AT)
    assert (queued, already) == (112, 0)
    assert outreach.queue_invitations(demo_db, 1, DEMO_LOADED_AT) == (0, 112)
    for message in storage.outbox_for_phone(demo_db, "+8617000000009"):
        count = count_segments(message["body"])
        assert count.encoding == "GSM-7" and count.units <= 160
    for message in storage.outbox_for_phone(demo_db, "+8617000000001"):
        assert "凭证号" in message["body"] and count_segments(message["body"]).units <= 134


def test_invitations_in_the_language_each_phone_asked_for(demo_db):
    # +8617000000001 is a Chinese row of the roster; its phone asked for English.
    storage.set_phone_language(demo_db, "+8617000000001", "en", DEMO_LOADED_AT)
    assert outreach.queue_invitations(demo_db, 1, DEMO_LOADED_AT) == (112, 0)
    (english,) = storage.outbox_for_phone(demo_db, "+8617000000001")
    (chinese,) = storage.outbox_for_phone(demo_db, "+8617000000002")
    assert "凭证号" not in english["body"] and "凭证号" in chinese["body"]
    assert english["kind"] == chinese["kind"] == "invitation"


def test_invitation_without_booking_asks_to_book(demo_db):
    recipient = storage.find_recipients_by_phone(demo_db, "+8617000000009")[0]
    booking = storage.live_booking_for(demo_db, recipient["id"])
    storage.cancel_booking_row(demo_db, booking["id"], DEMO_LOADED_AT)
    outreach.queue_invitations(demo_db, 1, DEMO_LOADED_AT)
    (message,) = storage.outbox_for_phone(demo_db, "+8617000000009")
    assert message["body"].startswith("Disinfectant: you can collect")
    assert "Reply BOOK" in message["body"]


def test_reminders_before_the_slot_once(demo_db):
    before = DEMO_START - timedelta(minutes=60)
    first = outreach.queue_reminders(demo_db, before, 120)
    # Slots starting 12:00 up to 13:00 (inclusive), five people per 15-minute slot at most.
    assert 0 < first <= 5 * 5
    assert outreach.queue_reminders(demo_db, before, 120) == 0
    assert outreach.queue_reminders(demo_db, before - timedelta(hours=3), 120) == 0
    kinds = demo_db.execute("SELECT DISTINCT kind FROM sms_outbox").fetchall()
    assert kinds == [("reminder",)]


class RaisingClient:
    def __init__(self, exc):
        self.exc = exc
        self.messages = self

    def create(self, **options):
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "retryable", "opted_out"),
    [
        (TwilioRestException(429, "/Messages", "Too many requests", 20429), True, False),
        (TwilioRestException(503, "/Messages", "Unavailable"), True, False),
        (TwilioRestException(400, "/Messages", "Invalid To", 21211), False, False),
        (TwilioRestException(400, "/Messages", "Unsubscribed", 21610), False, True),
        (ConnectionError("connection refused"), True, False),
    ],
)
def test_twilio_sender_classifies_errors(exc, retryable, opted_out):
    sender = TwilioSender("AC1", "token", "+15005550006", client=RaisingClient(exc))
    with pytest.raises(SendError) as caught:
        sender.send("+8617000000001", "hi", "pk-1-a")
    assert caught.value.retryable is retryable and caught.value.opted_out is opted_out


def test_twilio_sender_sends_with_status_callback():
    seen = {}

    class Client:
        messages = None

        def __init__(self):
            self.messages = self

        def create(self, **options):
            seen.update(options)
            return type("Message", (), {"sid": "SM123"})()

    sender = TwilioSender("AC1", "t", "+15005550006", "https://x.org/sms/status", Client())
    assert sender.send("+8617000000001", "hi", "pk-1-a") == "SM123"
    assert seen == {
        "to": "+8617000000001",
        "from_": "+15005550006",
        "body": "hi",
        "status_callback": "https://x.org/sms/status",
    }


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (
            {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+1"},
            TwilioSender,
        ),
        ({"PICKUP_ENV": "development"}, ConsoleSender),
        ({"SMS_SENDER": FakeSender()}, FakeSender),
    ],
)
def test_make_sender(config, kind):
    sender = make_sender(config)
    assert isinstance(sender, kind)
    if isinstance(sender, TwilioSender):
        assert sender._client is None  # no client until the first send


def test_make_sender_refuses_in_production_without_twilio():
    with pytest.raises(InvalidInput, match="Twilio is not configured"):
        make_sender({"PICKUP_ENV": "production"})


@pytest.fixture
def worker_app(tmp_path, demo_template):
    path = fresh_demo(demo_template, tmp_path)
    sender = FakeSender(fail_times=2)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "PICKUP_DB": str(path),
            "PICKUP_ENV": "test",
            "SMS_SENDER": sender,
            "PICKUP_SMS_PER_SECOND": 1000.0,
            "PICKUP_SMS_RETRY_SECONDS": 0,
        }
    )
    return app, sender


def test_cli_invitations_and_outbox(worker_app):
    app, sender = worker_app
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-invitations", "--distribution", "2"])
    assert result.exit_code == 0, result.output
    assert "Queued 12 invitations for distribution 2 (0 were already queued)" in result.output
    result = runner.invoke(args=["send-outbox", "--once"])
    assert result.exit_code == 0, result.output
    assert "Outbox: 12 tried (2 to retry, 10 sent)" in result.output
    result = runner.invoke(args=["send-outbox", "--once"])
    assert "Outbox: 2 tried (2 sent)" in result.output
    assert len(sender.sent) == 12
    with app.app_context():
        assert storage.outbox_counts(get_db()) == {"sent": 12}


def test_cli_send_outbox_without_twilio_in_production(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "PICKUP_DB": str(tmp_path / "p.sqlite3"),
            "PICKUP_ENV": "production",
        }
    )
    result = app.test_cli_runner().invoke(args=["send-outbox", "--once"])
    assert result.exit_code == 1
    assert "Error: Twilio is not configured" in result.output
