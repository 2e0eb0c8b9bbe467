"""Sender adapters: the seam between the outbox and an SMS gateway.

A sender has one method, ``send(to, body) -> provider message id``, and raises
:class:`SendError` saying whether trying again later could help. Twilio's REST client is
one adapter; the console adapter logs instead, masked (development); :class:`FakeSender` is for
tests. A generic HTTP gateway or a GSM modem would be another class with the same method.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from shared import logsafe
from shared.errors import InvalidInput
from shared.settings import is_development

log = logging.getLogger(__name__)

TWILIO_OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"


class SendError(Exception):
    """The gateway did not take the message; ``retryable`` if a later try may succeed."""

    def __init__(
        self, message: str, retryable: bool, status: int | None = None, opted_out: bool = False
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.opted_out = opted_out


class Sender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Hand one SMS to the gateway; return its id for the message."""
        ...


def retryable_status(status: int | None) -> bool:
    """Rate limits (429) and server errors (5xx) pass; other 4xx will fail again."""
    return status is None or status == 429 or status >= 500


class TwilioSender:
    """Sends through Twilio's REST API. The client is made on first send, never at import."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback: str | None = None,
        client: Any = None,
        timeout_seconds: float = 30,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.status_callback = status_callback
        self.timeout_seconds = timeout_seconds
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            self._client = Client(
                self.account_sid,
                self.auth_token,
                http_client=TwilioHttpClient(timeout=self.timeout_seconds),
            )
        return self._client

    def send(self, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioRestException

        options: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if self.status_callback:
            options["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**options)
        except TwilioRestException as exc:
            raise SendError(
                f"Twilio {exc.status} (error {exc.code}): {exc.msg}",
                retryable=retryable_status(exc.status),
                status=exc.status,
                opted_out=exc.code == TWILIO_OPTED_OUT,
            ) from exc
        except OSError as exc:  # connection refused, DNS, timeout (requests' errors are OSError)
            raise SendError(f"Twilio unreachable: {exc}", retryable=True) from exc
        return message.sid


class ConsoleSender:
    """Development: logs each message instead of sending it, and reports it as sent."""

    def send(self, to: str, body: str) -> str:
        # Masked here as well as by the log redaction: the code an SMS carries is a key.
        log.info("SMS to %s: %s", logsafe.mask_phone(to), logsafe.redact(body))
        return f"console-{uuid.uuid4().hex}"


class FakeSender:
    """Tests: records what it sends; fails the first ``fail_times`` sends with ``status``."""

    def __init__(self, fail_times: int = 0, status: int = 503) -> None:
        self.fail_times = fail_times
        self.status = status
        self.calls = 0
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, body: str) -> str:
        self.calls += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise SendError(
                f"fake gateway answered {self.status}",
                retryable=retryable_status(self.status),
                status=self.status,
            )
        sid = f"SMfake{len(self.sent) + 1:026d}"
        self.sent.append((to, body, sid))
        return sid


def make_sender(config: Mapping[str, Any]) -> Sender:
    """The sender the settings ask for: an injected one, Twilio, or the console in development.

    Outside development with Twilio not configured this refuses instead of pretending:
    the messages stay queued until it is.
    """
    injected = config.get("SMS_SENDER")
    if injected is not None:
        return injected
    sid, token, from_number = (
        config.get("TWILIO_ACCOUNT_SID"),
        config.get("TWILIO_AUTH_TOKEN"),
        config.get("TWILIO_FROM"),
    )
    if sid and token and from_number:
        base = config.get("PUBLIC_BASE_URL")
        callback = f"{base.rstrip('/')}/sms/status" if base else None
        return TwilioSender(sid, token, from_number, callback)
    if is_development(config):
        return ConsoleSender()
    raise InvalidInput(
        "Twilio is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM. "
        "Queued messages stay queued until then."
    )
