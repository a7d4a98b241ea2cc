"""Generic JSON webhook and SMS gateway over HTTP, both with an HMAC-signed body.

Headers: `X-Louzhang-Delivery` (the stable delivery id: the receiver drops what it has seen),
`X-Louzhang-Timestamp` (seconds) and `X-Louzhang-Signature: sha256=<hex HMAC-SHA256 of
"{timestamp}." + body, keyed with the channel secret>`. Any 2xx is success; 408, 425, 429 and
5xx are retried (honouring Retry-After); other statuses are refused for good.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
from pydantic import Field

from louzhang.notifications.transports.base import (
    BaseOptions,
    Message,
    Outgoing,
    Transport,
    json_body,
)

SMS_CHARS = 300


class PacedOptions(BaseOptions):
    #: the receiver's own limit, if it has one
    per_minute: int | None = Field(default=None, ge=1)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                      hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhook(Transport):
    kind = "webhook"
    options_model = PacedOptions

    def limits(self) -> tuple[int | None, int | None]:
        assert isinstance(self.options, PacedOptions)
        return self.options.per_minute, None

    def payload(self, message: Message, *, uid: str, recipient: str) -> dict[str, Any]:
        return {"id": uid, "title": message.title, "text": message.text, "link": message.link}

    def build(self, message: Message, *, uid: str, recipient: str, now_ms: int) -> Outgoing:
        body = json_body(self.payload(message, uid=uid, recipient=recipient))
        timestamp = str(now_ms // 1000)
        headers = {"Content-Type": "application/json", "X-Louzhang-Delivery": uid,
                   "X-Louzhang-Timestamp": timestamp}
        if self.secret:
            headers["X-Louzhang-Signature"] = signature(self.secret, timestamp, body)
        return Outgoing(self.url, body, headers)

    def interpret(self, response: httpx.Response) -> None:
        self.check_http(response)


class Sms(Webhook):
    """An SMS gateway: one message per recipient, to the officer's own phone."""

    kind = "sms"
    per_recipient = True

    def payload(self, message: Message, *, uid: str, recipient: str) -> dict[str, Any]:
        text = message.plain()
        if len(text) > SMS_CHARS:
            text = text[: SMS_CHARS - 1] + "…"
        return {"id": uid, "to": recipient, "text": text}
