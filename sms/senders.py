"""Sender adapters: the seam between the outbox and an SMS gateway.

A sender has one method, ``send(to, body, key) -> provider message id``, and raises
:class:`SendError` saying whether trying again later could help. ``key`` is the outbox's
own id for the message, the same on every retry: a gateway that takes a message id (the
Android gateway) refuses a second copy, so a retry after a lost answer is not sent twice.
Twilio's REST client is one adapter, SMS Gateway for Android (a phone with a local SIM)
another; the console adapter logs instead, masked (development); :class:`FakeSender` is for
tests.
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
    """The gateway did not take the message; ``retryable`` if a later try may succeed.

    ``unreachable``: the gateway could not be reached at all (refused, timed out), so every
    other message would fail the same way until it is back.
    """

    def __init__(
        self,
        message: str,
        retryable: bool,
        status: int | None = None,
        opted_out: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.opted_out = opted_out
        self.unreachable = unreachable


class Sender(Protocol):
    def send(self, to: str, body: str, key: str) -> str:
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

    def send(self, to: str, body: str, key: str) -> str:
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
            raise SendError(f"Twilio unreachable: {exc}", retryable=True, unreachable=True) from exc
        return message.sid


class AndroidSender:
    """Sends through SMS Gateway for Android: the phone's local server, the cloud or a private
    server, with the project's client (``POST {url}/messages``, basic auth).

    The message id is the outbox's key, so a retry after a lost answer gets 409 (the
    gateway has it already) and counts as sent instead of sending a copy.
    """

    def __init__(self, url: str, login: str, password: str, timeout_seconds: float = 30) -> None:
        self.url = url.rstrip("/")
        self.login = login
        self.password = password
        self.timeout_seconds = timeout_seconds
        self._http: Any = None

    @property
    def http(self) -> Any:
        """The client's requests transport, kept between sends, with a timeout on each call."""
        if self._http is None:
            import requests
            from android_sms_gateway.http import RequestsHttpClient

            timeout = self.timeout_seconds

            class TimedSession(requests.Session):
                def request(self, *args: Any, **kwargs: Any) -> Any:
                    kwargs.setdefault("timeout", timeout)
                    return super().request(*args, **kwargs)

            self._http = RequestsHttpClient(TimedSession())
        return self._http

    def send(self, to: str, body: str, key: str) -> str:
        import requests
        from android_sms_gateway import APIClient, Message, ProcessState, TextMessage
        from android_sms_gateway.errors import APIError

        message = Message(
            phone_numbers=[to],
            text_message=TextMessage(text=body),
            with_delivery_report=True,
            id=key,
        )
        client = APIClient(self.login, self.password, base_url=self.url, http=self.http)
        try:
            state = client.send(message)
        except APIError as exc:
            status = exc.status_code
            if status == 409 and key:
                log.info("Android gateway already has message %s: not sent again", key)
                return key
            raise SendError(
                f"Android gateway {status}: {_api_error_text(exc)}",
                retryable=retryable_status(status),
                status=status,
            ) from exc
        except (requests.exceptions.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            # It answered 2xx with something that is not a message state: it may have taken
            # the message, so retry with the same key (a copy gets 409, not a second SMS).
            raise SendError(f"Android gateway answered unreadably: {exc}", retryable=True) from exc
        except OSError as exc:  # refused, DNS, timeout: requests' errors are OSError
            raise SendError(
                f"Android gateway unreachable: {exc}", retryable=True, unreachable=True
            ) from exc
        if state.state == ProcessState.Failed:
            errors = "; ".join(r.error for r in state.recipients if r.error)
            raise SendError(f"Android gateway failed it: {errors or 'no reason given'}", False)
        return state.id


def _api_error_text(exc: Any) -> str:
    """The gateway's own message from an error answer, else the HTTP error."""
    response = exc.response if isinstance(exc.response, dict) else {}
    return str(response.get("message") or response.get("error") or exc)


class ConsoleSender:
    """Development: logs each message instead of sending it, and reports it as sent."""

    def send(self, to: str, body: str, key: str) -> str:
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

    def send(self, to: str, body: str, key: str) -> str:
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
    """The sender the settings ask for: an injected one, the gateway named by
    PICKUP_SMS_GATEWAY (Twilio or Android), or the console in development.

    Outside development with the gateway not configured this refuses instead of
    pretending: the messages stay queued until it is.
    """
    injected = config.get("SMS_SENDER")
    if injected is not None:
        return injected
    if config.get("PICKUP_SMS_GATEWAY") == "android":
        return _android_sender(config)
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
    raise InvalidInput("twilio_not_configured")


def _android_sender(config: Mapping[str, Any]) -> Sender:
    url, login, password = (
        config.get("ANDROID_SMS_GATEWAY_URL"),
        config.get("ANDROID_SMS_GATEWAY_LOGIN"),
        config.get("ANDROID_SMS_GATEWAY_PASSWORD"),
    )
    if url and login and password:
        return AndroidSender(url, login, password)
    if is_development(config):
        return ConsoleSender()
    raise InvalidInput("android_not_configured")
