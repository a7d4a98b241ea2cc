"""WeCom (企业微信) group robot: `POST …/cgi-bin/webhook/send?key=KEY`.

Text ≤ 2,048 bytes (the only type where `mentioned_mobile_list` works), markdown ≤ 4,096 bytes;
20 messages a minute per robot. errcode 45009 = rate limited, 93000 = bad key, 40058 = too long.
"""

from __future__ import annotations

import httpx

from louzhang.notifications.transports.base import (
    FormatOptions,
    Message,
    Outgoing,
    Permanent,
    RateLimited,
    Retryable,
    TooLong,
    Transport,
    clip_bytes,
    json_body,
)

TEXT_BYTES = 2048
MARKDOWN_BYTES = 4096


class WeCom(Transport):
    kind = "wecom"
    options_model = FormatOptions
    per_minute = 20
    mentions = True

    def build(self, message: Message, *, uid: str, recipient: str, now_ms: int) -> Outgoing:
        assert isinstance(self.options, FormatOptions)
        if self.options.format == "markdown":
            limit = min(MARKDOWN_BYTES, message.max_bytes or MARKDOWN_BYTES)
            text = message.markdown("**", "**")
            payload = {"msgtype": "markdown", "markdown": {"content": clip_bytes(text, limit)}}
        else:
            limit = min(TEXT_BYTES, message.max_bytes or TEXT_BYTES)
            text_part: dict[str, object] = {"content": clip_bytes(message.plain(), limit)}
            if message.mentions:
                text_part["mentioned_mobile_list"] = list(message.mentions)
            payload = {"msgtype": "text", "text": text_part}
        return Outgoing(self.url, json_body(payload), {"Content-Type": "application/json"})

    def interpret(self, response: httpx.Response) -> None:
        data = self.platform_json(response)
        code = data.get("errcode")
        excerpt = response.text[:300]
        if code == 0:
            return
        if code == 45009:
            raise RateLimited("WeCom 45009: rate limited", retry_after=60, response=excerpt)
        if code == 40058:
            raise TooLong("WeCom 40058: message too long", response=excerpt)
        if code == -1:
            raise Retryable("WeCom -1: system busy", response=excerpt)
        raise Permanent(f"WeCom {code}: {data.get('errmsg', '')}", response=excerpt)
