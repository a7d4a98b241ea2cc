"""Feishu (飞书) custom bot: `POST …/open-apis/bot/v2/hook/ID`.

The body carries `timestamp` (seconds) and `sign = base64(HMAC-SHA256(key="{s}\\n{secret}",
msg=""))`. 100 a minute and 5 a second per bot; body ≤ 20 KB. Code 11232 = rate limited,
19021 = bad signature.
"""

from __future__ import annotations

from typing import Any

import httpx

from louzhang.notifications.transports.base import (
    Message,
    Outgoing,
    Permanent,
    RateLimited,
    Transport,
    clip_bytes,
    hmac_sha256_b64,
    json_body,
)

BODY_TEXT_BYTES = 18 * 1024  # room for the envelope under the 20 KB cap


def feishu_sign(secret: str, timestamp_s: int) -> str:
    return hmac_sha256_b64(f"{timestamp_s}\n{secret}".encode(), b"")


class Feishu(Transport):
    kind = "feishu"
    per_minute = 100
    per_second = 5

    def build(self, message: Message, *, uid: str, recipient: str, now_ms: int) -> Outgoing:
        limit = min(BODY_TEXT_BYTES, message.max_bytes or BODY_TEXT_BYTES)
        payload: dict[str, Any] = {"msg_type": "text",
                                   "content": {"text": clip_bytes(message.plain(), limit)}}
        if self.secret:
            seconds = now_ms // 1000
            payload = {"timestamp": str(seconds), "sign": feishu_sign(self.secret, seconds), **payload}
        return Outgoing(self.url, json_body(payload), {"Content-Type": "application/json"})

    def interpret(self, response: httpx.Response) -> None:
        data = self.platform_json(response)
        code = data.get("code", data.get("StatusCode"))
        excerpt = response.text[:300]
        if code == 0:
            return
        if code == 11232:
            raise RateLimited("Feishu 11232: rate limited", retry_after=10, response=excerpt)
        raise Permanent(f"Feishu {code}: {data.get('msg', '')}", response=excerpt)
