"""Channel kinds, by the name stored on the channel: adding one needs no migration."""

from __future__ import annotations

from typing import Any

from louzhang.notifications.transports.base import Transport
from louzhang.notifications.transports.dingtalk import DingTalk
from louzhang.notifications.transports.feishu import Feishu
from louzhang.notifications.transports.webhook import Sms, Webhook
from louzhang.notifications.transports.wecom import WeCom

TRANSPORTS: dict[str, type[Transport]] = {t.kind: t for t in (WeCom, DingTalk, Feishu, Webhook, Sms)}


def transport_for(channel: Any) -> Transport:
    """The channel's transport, with its address and secret decrypted (`DataKeyError` without
    the right data key: only a delivery needs them in plain)."""
    return TRANSPORTS[channel.kind](url=channel.plain_url(), secret=channel.plain_secret(),
                                    options=channel.options)
