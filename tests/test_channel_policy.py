"""Channels cannot be a way inside: without `LOUZHANG_CHANNEL_ALLOW`, no channel reaches a
loopback, private, link-local, multicast or unspecified address, whatever the address is written
as, at binding (service, page, command line) and again at sending (after DNS); robots go only to
their platform; what the deliveries page says tells no open port from a closed one.

The suite allows the test receiver on 127.0.0.1 explicitly (tests/conftest.py); each test here
that proves a refusal takes that allowance away first."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from django.utils import translation

from louzhang.accounts.models import User
from louzhang.notifications import policy
from louzhang.notifications.models import Channel, Delivery, DeliveryAttempt
from louzhang.notifications.services import NO_ANSWER, ChannelError, channel_add, channel_test
from tests.conftest import DONGHE, InlineWorker, run_cli, web_client
from tests.receiver import Receiver


@pytest.fixture(autouse=True)
def _in_english() -> Any:
    """The policy's messages are matched in English (the product's default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def no_allowance(settings: Any) -> None:
    settings.LOUZHANG_CHANNEL_ALLOW = []


def _add(kind: str, url: str, name: str = "群", **kw: Any) -> Channel:
    secret = "s" if kind in ("dingtalk", "feishu") else ""
    return channel_add(name=name, kind=kind, url=url, area_code=DONGHE, secret=secret, actor=None, **kw)


INTERNAL = [
    "http://127.0.0.1:5432/",
    "http://127.8.9.10/hook",
    "http://localhost:8000/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://[::1]:6379/",
    "http://[::ffff:127.0.0.1]/",  # IPv6-mapped
    "http://[::ffff:a9fe:a9fe]/",  # mapped 169.254.169.254
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f000001/",  # hexadecimal
    "http://0177.0.0.1/",  # octal
    "http://127.1/",  # short form
    "http://0.0.0.0:8000/",
    "http://[::]/",
    "http://10.1.2.3/hook",
    "http://172.16.0.5/hook",
    "http://192.168.1.1/admin",
    "http://100.64.0.1/",  # shared address space (carrier NAT)
    "http://169.254.169.254/latest/meta-data/",  # link-local: the cloud's metadata service
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",  # multicast
    "http://255.255.255.255/",
]


@pytest.mark.parametrize("url", INTERNAL)
@pytest.mark.parametrize("kind", ["webhook", "sms"])
def test_webhooks_and_sms_gateways_never_reach_inside(url: str, kind: str, no_allowance: None, db: None) -> None:
    with pytest.raises(ChannelError, match="channel policy"):
        _add(kind, url)
    assert not Channel.objects.exists()


def test_the_servers_own_public_address_is_refused(no_allowance: None, db: None, monkeypatch: Any) -> None:
    monkeypatch.setattr(policy, "_is_own", lambda ip: str(ip) == "93.184.216.7")
    with pytest.raises(ChannelError, match="channel policy"):
        _add("webhook", "http://93.184.216.7/hook")
    assert _add("webhook", "http://93.184.216.8/hook").url == "http://93.184.216.8/hook"


@pytest.mark.parametrize(("kind", "url"), [
    ("wecom", "https://example.org/cgi-bin/webhook/send?key=K"),
    ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"),  # not https
    ("wecom", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=K"),
    ("wecom", "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=K"),
    ("wecom", "https://qyapi.weixin.qq.com@127.0.0.1/cgi-bin/webhook/send?key=K"),  # user@host
    ("wecom", "https://127.0.0.1/cgi-bin/webhook/send?key=K"),
    ("dingtalk", "https://qyapi.weixin.qq.com/robot/send?access_token=T"),  # another platform's
    ("feishu", "https://hooks.example.net/open-apis/bot/v2/hook/X"),
])
def test_robots_go_only_to_their_platform(kind: str, url: str, no_allowance: None, db: None) -> None:
    with pytest.raises(ChannelError):
        _add(kind, url)


@pytest.mark.parametrize(("kind", "url"), [
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=T"),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/X"),
    ("feishu", "https://open.larksuite.com/open-apis/bot/v2/hook/X"),
    ("webhook", "https://93.184.216.9/hooks/louzhang"),
])
def test_the_platforms_and_public_addresses_are_fine(kind: str, url: str, no_allowance: None, db: None) -> None:
    assert _add(kind, url).url == url


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http:///x", "http://exa mple.org/", "http://a\\@127.0.0.1/",
                                 "http://example.org:99999/"])
def test_what_is_no_address_at_all_is_refused(url: str, no_allowance: None, db: None) -> None:
    with pytest.raises(ChannelError):
        _add("webhook", url)


def test_the_operator_allows_networks_and_hosts(settings: Any, db: None) -> None:
    settings.LOUZHANG_CHANNEL_ALLOW = ["10.20.0.0/16", "im.gaj.example", "localhost"]
    assert _add("webhook", "http://10.20.3.4/hook", name="a")
    assert _add("wecom", "https://im.gaj.example/cgi-bin/webhook/send?key=K", name="b")  # a private WeCom
    assert _add("webhook", "http://localhost:9000/hook", name="c")
    for url in ("http://10.21.0.1/hook", "http://127.0.0.1/hook", "http://192.168.1.1/"):
        with pytest.raises(ChannelError, match="channel policy"):
            _add("webhook", url, name="d")


def test_a_mistyped_allowance_is_refused_at_start_up() -> None:
    for bad in (["10.20.0.0/33"], ["im gaj"], ["http://im.gaj.example/"]):
        with pytest.raises(ValueError, match="LOUZHANG_CHANNEL_ALLOW"):
            policy.parse_allowance(bad)
    allowed = policy.parse_allowance(["127.0.0.1/32", " 10.20.0.0/16 ", "IM.gaj.example."])
    assert allowed.host("im.gaj.example") and allowed.address(ipaddress.ip_address("10.20.9.9"))


def test_the_channels_page_says_what_is_wrong_and_keeps_the_form(commander: User, no_allowance: None) -> None:
    response = web_client(commander).post("/channels/", {
        "name": "东河区楼长工作群", "kind": "webhook", "url": "http://127.0.0.1:5432/", "area": DONGHE})
    page = response.content.decode()
    assert response.status_code == 200 and "渠道策略拒绝" in page
    assert 'value="http://127.0.0.1:5432/"' in page and not Channel.objects.exists()


def test_the_command_line_refuses_in_one_line(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "LOUZHANG_CHANNEL_ALLOW": ""}
    assert run_cli(env, "init").returncode == 0 and run_cli(env, "demo").returncode == 0
    for kind, url in (("webhook", "http://2130706433:5432/"), ("wecom", "https://example.org/x?key=K")):
        result = run_cli(env, "channel", "add", "x", "--kind", kind, "--url", url, "--area", DONGHE)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- at sending ------------------------------------------------------------------------------


def test_without_the_allowance_the_worker_does_not_post_to_loopback(receiver: Receiver, worker: InlineWorker,
                                                                     settings: Any, db: None) -> None:
    channel = _add("webhook", f"{receiver.url}/hook")  # bound while the receiver was allowed
    settings.LOUZHANG_CHANNEL_ALLOW = []
    delivery = channel_test(channel=channel)
    worker.run()
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.state == Delivery.State.DEAD
    assert delivery.last_error.startswith("Refused by the channel policy")


def test_a_name_that_resolves_to_loopback_later_is_refused_at_sending(
    receiver: Receiver, worker: InlineWorker, no_allowance: None, monkeypatch: Any, db: None,
) -> None:
    port = receiver.server.server_address[1]
    url = f"http://hooks.example.net:{port}/hook"
    answers = {"hooks.example.net": "93.184.216.10"}

    def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(answers[host])]

    monkeypatch.setattr(policy, "resolve_host", resolve)
    channel = _add("webhook", url)  # a public address when it was bound
    answers["hooks.example.net"] = "127.0.0.1"  # … and loopback since (DNS rebinding)
    delivery = channel_test(channel=channel)
    worker.run()
    delivery.refresh_from_db()
    assert receiver.requests == [] and delivery.state == Delivery.State.DEAD
    assert "channel policy" in delivery.last_error


def test_a_name_allowed_by_the_operator_is_reached_at_the_address_it_resolves_to(
    receiver: Receiver, worker: InlineWorker, settings: Any, monkeypatch: Any, db: None,
) -> None:
    settings.LOUZHANG_CHANNEL_ALLOW = ["im.gaj.example"]
    monkeypatch.setattr(policy, "resolve_host", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    port = receiver.server.server_address[1]
    channel = _add("webhook", f"http://im.gaj.example:{port}/hook")
    channel_test(channel=channel)
    worker.run()
    [request] = receiver.requests
    assert request.path == "/hook" and request.headers["Host"] == f"im.gaj.example:{port}"


def test_a_redirect_is_not_followed(receiver: Receiver, worker: InlineWorker, db: None) -> None:
    receiver.script = [(302, {})]
    delivery = channel_test(channel=_add("webhook", f"{receiver.url}/hook"))
    worker.run()
    delivery.refresh_from_db()
    assert len(receiver.requests) == 1 and delivery.state == Delivery.State.DEAD
    assert "redirects are not followed" in delivery.last_error


def test_a_closed_port_and_a_silent_one_read_the_same(receiver: Receiver, worker: InlineWorker, settings: Any,
                                                       commander: User) -> None:
    settings.LOUZHANG_DELIVERY_TIMEOUT_SECONDS = 0.5
    settings.LOUZHANG_DELIVERY_MAX_FAILURES = 1
    receiver.script = ["hang"]
    receiver.hang_seconds = 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    closed = channel_test(channel=_add("webhook", f"http://127.0.0.1:{closed_port}/", name="closed"))
    silent = channel_test(channel=_add("webhook", f"{receiver.url}/hook", name="silent"))
    worker.run()
    closed.refresh_from_db()
    silent.refresh_from_db()
    assert closed.state == silent.state == Delivery.State.DEAD
    assert closed.last_error == silent.last_error == NO_ANSWER
    errors = set(DeliveryAttempt.objects.filter(delivery__in=[closed, silent]).values_list("error", flat=True))
    assert errors == {NO_ANSWER}
    page = web_client(commander).get("/deliveries/").content.decode()
    assert "refused" not in page.lower() and "timeout" not in page.lower() and "Errno" not in page


@pytest.mark.parametrize(("url", "shown"), [
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…"),
    ("https://oapi.dingtalk.com/robot/send?access_token=abc123", "https://oapi.dingtalk.com/robot/send?…"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/6a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
     "https://open.feishu.cn/open-apis/bot/v2/hook/…"),
    ("https://im.gaj.example/hooks/T0123456789ABCDEF/send", "https://im.gaj.example/hooks/…"),
])
def test_a_channel_address_is_shown_without_its_key(url: str, shown: str) -> None:
    from louzhang.notifications.views import display_address

    assert display_address(url) == shown
    assert "6a2b3c4d" not in display_address(url) and "693a91f6" not in display_address(url)
