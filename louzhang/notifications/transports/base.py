"""The interface every channel kind implements, and the errors that decide what happens next.

A transport turns one rendered message into one HTTP request in the platform's own format and
reads the platform's answer: success, "try again later" (`Retryable`, `RateLimited`) or "never
like this" (`Permanent`). Pacing limits are declared here and enforced by the sender.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict


class DeliveryError(Exception):
    def __init__(self, message: str, *, http_status: int | None = None, response: str = "") -> None:
        super().__init__(message)
        self.http_status = http_status
        self.response = response


class Retryable(DeliveryError):
    """Failed this time (network, 5xx, timeout); try again after a backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimited(Retryable):
    """The platform says "too many": wait (and, for a locked robot, pause the channel)."""

    def __init__(self, message: str, *, pause_channel_for: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.pause_channel_for = pause_channel_for


class TooLong(Retryable):
    """The platform refused the length: send again shorter, never as it was."""


class Permanent(DeliveryError):
    """Refused for good (bad key, bad signature, malformed): sending again will not help."""


class BaseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FormatOptions(BaseOptions):
    """Group robots that take plain text or markdown."""

    format: Literal["text", "markdown"] = "text"


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    link: str = ""
    #: officers' mobile numbers to @ in group chats that support it
    mentions: tuple[str, ...] = ()
    #: a byte cap lowered after a platform said "too long"
    max_bytes: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(title=data.get("title", ""), text=data.get("text", ""), link=data.get("link", ""),
                   mentions=tuple(data.get("mentions", ())), max_bytes=data.get("max_bytes"))

    def plain(self) -> str:
        return "\n".join(part for part in (self.title, self.text, self.link) if part)

    def markdown(self, before: str, after: str = "", gap: str = "\n") -> str:
        """The title marked up (`before`/`after`: the platform's markup), text, then the link."""
        text = f"{before}{self.title}{after}{gap}{self.text}"
        if self.link:
            text += f"{gap}[{self.link}]({self.link})"
        return text


@dataclass
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def clip_bytes(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` UTF-8 bytes without breaking a character, marking the cut."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: max(0, limit - 3)].decode("utf-8", errors="ignore") + "…"


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def hmac_sha256_b64(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode("ascii")


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class Transport:
    kind: ClassVar[str]
    options_model: ClassVar[type[BaseOptions]] = BaseOptions
    #: the platform's documented limits per robot; the sender paces itself to stay under them
    per_minute: ClassVar[int | None] = None
    per_second: ClassVar[int | None] = None
    #: the platform can @ people by mobile number
    mentions: ClassVar[bool] = False
    #: one delivery per recipient (SMS) rather than one per channel (group chats)
    per_recipient: ClassVar[bool] = False

    def __init__(self, *, url: str, secret: str = "", options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.secret = secret
        self.options = self.options_model.model_validate(options or {})

    @classmethod
    def check_url(cls, url: str) -> str:
        """`ValueError` (`policy.Refused`) for an address this kind may not reach
        (`notifications.policy`)."""
        from louzhang.notifications.policy import check_address

        check_address(cls.kind, url)
        return url

    def limits(self) -> tuple[int | None, int | None]:
        return self.per_minute, self.per_second

    def build(self, message: Message, *, uid: str, recipient: str, now_ms: int) -> Outgoing:
        raise NotImplementedError

    def interpret(self, response: httpx.Response) -> None:
        """Raise the matching error unless the platform accepted the message."""
        raise NotImplementedError

    def check_http(self, response: httpx.Response) -> None:
        """The HTTP status alone: 5xx and 429 are worth retrying, other 4xx are not."""
        status = response.status_code
        excerpt = response.text[:300]
        if status == 429:
            raise RateLimited("HTTP 429", retry_after=retry_after_seconds(response),
                              http_status=status, response=excerpt)
        if status >= 500 or status in (408, 425):
            raise Retryable(f"HTTP {status}", retry_after=retry_after_seconds(response),
                            http_status=status, response=excerpt)
        if status >= 400:
            raise Permanent(f"HTTP {status}", http_status=status, response=excerpt)
        if status >= 300:  # never followed: it could lead anywhere, inside the network too
            raise Permanent(f"HTTP {status}: redirects are not followed", http_status=status,
                            response=excerpt)

    def platform_json(self, response: httpx.Response) -> dict[str, Any]:
        self.check_http(response)
        try:
            data = response.json()
        except ValueError:
            raise Retryable("answer is not JSON", http_status=response.status_code,
                            response=response.text[:300]) from None
        if not isinstance(data, dict):
            raise Retryable("answer is not a JSON object", http_status=response.status_code,
                            response=response.text[:300])
        return data
