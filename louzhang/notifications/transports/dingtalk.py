"""DingTalk (钉钉) custom robot: `POST …/robot/send?access_token=T&timestamp=MS&sign=S`.

`S = urlencode(base64(HMAC-SHA256(key=secret, msg="{ms}\\n{secret}")))`. An @mobile must also
appear as `@138…` in the text. 20 messages a minute; going over locks the robot for 10 minutes
(errcode 130101), so the sender paces itself below the limit. 310000 = keyword, signature or IP
check failed.
"""

from __future__ import annotations

from urllib.parse import quote_plus

import httpx

from louzhang.notifications.transports.base import (
    FormatOptions,
    Message,
    Outgoing,
    Permanent,
    RateLimited,
    Retryable,
    Transport,
    clip_bytes,
    hmac_sha256_b64,
    json_body,
)

LOCK_SECONDS = 600
TEXT_BYTES = 5000


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    raw = hmac_sha256_b64(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode())
    return quote_plus(raw)


class DingTalk(Transport):
    kind = "dingtalk"
    options_model = FormatOptions
    # documented 20 a minute; one spare, because crossing it costs ten silent minutes
    per_minute = 19
    mentions = True

    def build(self, message: Message, *, uid: str, recipient: str, now_ms: int) -> Outgoing:
        assert isinstance(self.options, FormatOptions)
        limit = min(TEXT_BYTES, message.max_bytes or TEXT_BYTES)
        at_line = " ".join(f"@{m}" for m in message.mentions)
        at = {"atMobiles": list(message.mentions), "isAtAll": False}
        if self.options.format == "markdown":
            text = clip_bytes(message.markdown("### ", gap="\n\n"), limit) + (f"\n\n{at_line}" if at_line else "")
            payload = {"msgtype": "markdown",
                       "markdown": {"title": message.title, "text": text}, "at": at}
        else:
            text = clip_bytes(message.plain(), limit) + (f"\n{at_line}" if at_line else "")
            payload = {"msgtype": "text", "text": {"content": text}, "at": at}
        url = self.url
        if self.secret:
            url += f"&timestamp={now_ms}&sign={dingtalk_sign(self.secret, now_ms)}"
        return Outgoing(url, json_body(payload), {"Content-Type": "application/json"})

    def interpret(self, response: httpx.Response) -> None:
        data = self.platform_json(response)
        code = data.get("errcode")
        excerpt = response.text[:300]
        if code == 0:
            return
        if code == 130101:
            raise RateLimited("DingTalk 130101: robot locked for sending too fast",
                              retry_after=LOCK_SECONDS, pause_channel_for=LOCK_SECONDS,
                              response=excerpt)
        if code == -1:
            raise Retryable("DingTalk -1: system busy", response=excerpt)
        raise Permanent(f"DingTalk {code}: {data.get('errmsg', '')}", response=excerpt)
