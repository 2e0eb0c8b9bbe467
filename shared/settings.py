"""Settings: each declared once, with its default and help text, read from the environment.

The README's configuration table is checked against :data:`SETTINGS` by
``tests/test_docs.py``, so a setting cannot be added without being documented.
Secrets come only from the environment; in production a missing ``SECRET_KEY`` stops
the app from starting instead of falling back to a known value. A few settings are not
read from the environment (``from_environment=False``): ``create_app`` derives them, or
tests pass them in ``test_config``; they are declared here all the same.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.error_texts import Said
from shared.errors import InvalidInput, PickupError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False
    from_environment: bool = True


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise InvalidInput("flag_invalid", text=text)


def _said(exc: ValueError) -> Said:
    """A setting's parse error in both languages (a plain ValueError has only English)."""
    if isinstance(exc, PickupError):
        return Said(exc.text("zh"), exc.text("en"))
    return Said(str(exc), str(exc))


def _database(text: str) -> str:
    from shared.storage import engine_of

    engine_of(text)  # refuses any scheme:// but postgresql://
    return text


SMS_GATEWAYS = ("twilio", "android")


def _gateway(text: str) -> str:
    value = text.strip().lower()
    if value not in SMS_GATEWAYS:
        raise InvalidInput("gateway_invalid", known=", ".join(SMS_GATEWAYS), text=text)
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PICKUP_ENV",
        "production",
        "`development` turns on the dev secret key and the phone simulator; anything else is "
        "treated as production, which requires SECRET_KEY.",
    ),
    Setting(
        "PICKUP_DB",
        None,
        "The database: a file path is SQLite (default: `pickup.sqlite3` in the instance "
        "folder); `postgresql://user:password@host:port/dbname` is PostgreSQL. Any other "
        "`scheme://` is refused.",
        _database,
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and voucher codes. Required in production; in development a random "
        "key is generated once and kept in the instance folder.",
        secret=True,
    ),
    Setting(
        "PUBLIC_BASE_URL",
        None,
        "The public URL the service is reached at (e.g. `https://pickup.example.org`); "
        "Twilio signatures are checked against it, and links in SMS use it.",
    ),
    Setting("TWILIO_ACCOUNT_SID", None, "Twilio account SID for outbound SMS.", secret=True),
    Setting(
        "TWILIO_AUTH_TOKEN",
        None,
        "Twilio auth token: sends SMS and checks webhook signatures.",
        secret=True,
    ),
    Setting("TWILIO_FROM", None, "The Twilio phone number (E.164) messages are sent from."),
    Setting(
        "PICKUP_SMS_GATEWAY",
        "twilio",
        "Which gateway carries SMS: `twilio`, or `android` (a phone with a local SIM running "
        "SMS Gateway for Android). The phone menu (IVR) needs Twilio either way.",
        _gateway,
    ),
    Setting(
        "ANDROID_SMS_GATEWAY_URL",
        None,
        "The Android gateway's API base: the phone's local server (e.g. "
        "`http://192.168.1.20:8080`), or `https://api.sms-gate.app/3rdparty/v1` (cloud) or "
        "`.../3rdparty/v1` of a private server.",
    ),
    Setting(
        "ANDROID_SMS_GATEWAY_LOGIN",
        None,
        "User name of the Android gateway's API (shown in the app).",
    ),
    Setting(
        "ANDROID_SMS_GATEWAY_PASSWORD",
        None,
        "Password of the Android gateway's API (shown in the app).",
        secret=True,
    ),
    Setting(
        "ANDROID_SMS_GATEWAY_SIGNING_KEY",
        None,
        "The app's webhook signing key (Settings, Webhooks): every request to `/sms/android` "
        "must carry its HMAC; without it that webhook answers 401 to everything.",
        secret=True,
    ),
    Setting(
        "PICKUP_SMS_INVITATIONS_PER_DAY",
        0,
        "At most this many invitation SMS in any 24 hours, so that invitations cannot use up "
        "a SIM's daily allowance; the rest wait until the window frees up. 0: no cap.",
        int,
    ),
    Setting(
        "PICKUP_OUTBOX_SOCKET",
        None,
        "UNIX socket by which the app wakes the outbox worker when it queues a reply. "
        "Default: `outbox.sock` in the instance folder.",
    ),
    Setting(
        "PICKUP_BUSY_TIMEOUT_MS",
        5000,
        "How long a write waits for the database lock before failing, in milliseconds.",
        int,
    ),
    Setting(
        "PICKUP_HOLD_MINUTES",
        5,
        "How long a slot offered to someone who is choosing is held for them.",
        int,
    ),
    Setting(
        "PICKUP_SMS_PER_SECOND",
        1.0,
        "How many SMS the outbox worker hands per second to the gateway in use (a Twilio "
        "long code takes about 1; an Android phone as many as its own send limit allows).",
        float,
    ),
    Setting(
        "PICKUP_SMS_MAX_ATTEMPTS",
        5,
        "Tries per outbound SMS on rate limits and provider errors before it is marked failed.",
        int,
    ),
    Setting(
        "PICKUP_SMS_RETRY_SECONDS",
        30,
        "Wait before the first retry of an outbound SMS; doubled on each further try.",
        int,
    ),
    Setting(
        "PICKUP_REMINDER_MINUTES",
        120,
        "How long before a booked slot the outbox worker queues the reminder SMS.",
        int,
    ),
    Setting(
        "PICKUP_UNDO_SECONDS",
        120,
        "How long staff can undo a handover.",
        int,
    ),
    Setting(
        "PICKUP_KIOSK_IDLE_SECONDS",
        45,
        "Seconds without a touch after which the kiosk goes back to its start screen.",
        int,
    ),
    Setting(
        "PICKUP_DEFAULT_REGION",
        "CN",
        "Region used to read phone numbers written without a country code.",
    ),
    Setting(
        "PICKUP_LOG_SQL",
        False,
        "Log every SQL statement (development only; never logs parameters).",
        _flag,
    ),
    Setting(
        "PICKUP_LOGIN_MAX_FAILURES",
        5,
        "Failed sign-ins for one user name from one client address before that pair is "
        "paused (PICKUP_LOGIN_LOCK_MINUTES, doubled with each further failure). The same "
        "name from another address is not affected.",
        int,
    ),
    Setting(
        "PICKUP_LOGIN_MAX_FAILURES_PER_ADDRESS",
        20,
        "Failed sign-ins from one client address (any user names) before the address is "
        "paused, the same way; higher than per name because an office may share one address.",
        int,
    ),
    Setting(
        "PICKUP_LOGIN_WINDOW_MINUTES",
        15,
        "How long failed sign-ins are remembered after the last one or the end of the last pause.",
        int,
    ),
    Setting(
        "PICKUP_LOGIN_LOCK_MINUTES",
        1,
        "The first pause after too many failed sign-ins; each further failure doubles it.",
        int,
    ),
    Setting(
        "PICKUP_LOGIN_MAX_LOCK_MINUTES",
        1440,
        "The longest pause, however many failures.",
        int,
    ),
    Setting(
        "PICKUP_TRUSTED_PROXIES",
        0,
        "How many reverse proxies in front of the app set X-Forwarded-For (1 behind the nginx "
        "of deploy/); the sign-in limit per address then counts the real client address.",
        int,
    ),
    Setting(
        "PICKUP_MAX_REQUEST_KB",
        64,
        "The largest request body any route reads, in KB; a larger one gets 413 with the "
        "limit in the user's language before it is read.",
        int,
    ),
    Setting(
        "PICKUP_MAX_UPLOAD_MB",
        5,
        "The largest roster upload, in MB (the console's roster check, the one route that "
        "takes a file).",
        int,
    ),
    Setting(
        "PICKUP_SMS_PER_PHONE",
        10,
        "Incoming SMS one phone may send in 10 minutes; beyond that it gets one short notice, "
        "then silence. 0 turns the limit off.",
        int,
    ),
    Setting(
        "PICKUP_CALLS_PER_PHONE",
        6,
        "Calls one phone may make to the phone menu in an hour; beyond that it hears one short "
        "notice, then calls are hung up at once. 0 turns the limit off.",
        int,
    ),
    Setting(
        "PICKUP_IVR_CODE_TRIES",
        5,
        "Wrong codes the phone menu takes in an hour from one caller ID, from all calls "
        "without caller ID together, or aimed at one voucher; the next hour code entry is "
        "closed for them (said in the caller's language). 0 turns the limit off.",
        int,
    ),
    Setting(
        "PICKUP_IVR_VOICE_ZH",
        "Polly.Zhiyu",
        "The voice the phone menu speaks Chinese with (language `cmn-CN`): Amazon Polly's "
        "Mandarin voice by default; a Google `cmn-CN` voice also works. Twilio's default "
        "voice speaks no Chinese, and a voice that cannot speak the language fails the call.",
    ),
    Setting(
        "PICKUP_IVR_VOICE_EN",
        "Polly.Joanna",
        "The voice the phone menu speaks English with (language `en-US`), e.g. "
        "`Polly.Joanna` or `Google.en-US-Standard-C`.",
    ),
    Setting(
        "VOUCHER_SECRET",
        None,
        "The key of the vouchers' HMAC tags: SECRET_KEY as bytes, set by create_app. Never "
        "read from the environment, so there is one secret to keep, not two.",
        secret=True,
        from_environment=False,
    ),
    Setting(
        "CLOCK",
        None,
        "A function returning the current time (an aware datetime) that every page, command "
        "and webhook asks instead of the system clock; unset, the system clock. Given in "
        "create_app's test_config by tests (to replay the article's day), never by the "
        "environment.",
        from_environment=False,
    ),
    Setting(
        "SMS_SENDER",
        None,
        "An SMS sender object used instead of the one made from the TWILIO_* settings (tests "
        "give a fake that records what was sent). Given in create_app's test_config, never by "
        "the environment.",
        from_environment=False,
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def load_settings(environ: Mapping[str, str], instance_path: str | Path) -> dict[str, Any]:
    """Read every setting from ``environ``, applying defaults, and fill in derived ones."""
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name) if setting.from_environment else None
        if raw is None or raw == "":
            config[setting.name] = setting.default
            continue
        try:
            config[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise InvalidInput("setting_invalid", name=setting.name, problem=_said(exc)) from exc
    instance = Path(instance_path)
    if not config["PICKUP_DB"]:
        config["PICKUP_DB"] = str(instance / "pickup.sqlite3")
    if not config["PICKUP_OUTBOX_SOCKET"]:
        config["PICKUP_OUTBOX_SOCKET"] = str(instance / "outbox.sock")
    return config


def is_development(config: Mapping[str, Any]) -> bool:
    return config.get("PICKUP_ENV") == "development"


def ensure_secret_key(config: dict[str, Any], instance_path: str | Path) -> None:
    """Make sure ``SECRET_KEY`` is set: from the environment, or a dev key kept on disk.

    Fails closed: outside development a missing key is an error, never a default.
    """
    if config.get("SECRET_KEY"):
        return
    if not is_development(config):
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment (e.g. `python -c "
            '"import secrets; print(secrets.token_hex(32))"`), or set PICKUP_ENV=development '
            "for a local key."
        )
    key_file = Path(instance_path) / "dev-secret-key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        # Written to a temporary file, then linked into place: link fails if the key exists,
        # so two workers starting at once agree on one key and never read a half-written one.
        tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    config["SECRET_KEY"] = key_file.read_text().strip()
