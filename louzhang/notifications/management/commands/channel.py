from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from louzhang.core.commands import LouzhangCommand
from louzhang.notifications.models import Channel, ChannelKind
from louzhang.notifications.services import (
    ChannelError,
    channel_add,
    channel_set_active,
    channel_test,
)
from louzhang.notifications.views import display_address


class Command(LouzhangCommand):
    """Channels as the operator at the console keeps them: the services are called with
    `actor=None`, the operator, who may bind and switch channels of any area."""

    help = "Delivery channels: `louzhang channel add NAME --kind K --url URL --area CODE [--role R …]`."

    def arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|test|disable|enable")
        add = sub.add_parser("add", help="bind a group robot, webhook or SMS gateway to an area")
        add.add_argument("name")
        add.add_argument("--kind", required=True, choices=ChannelKind.values)
        add.add_argument("--url", required=True, help="the robot's webhook address")
        add.add_argument("--area", required=True, help="area code: follow-ups inside it are announced")
        add.add_argument("--role", action="append", default=[], dest="roles",
                         help="a role this channel serves (repeat; none: every staff role); "
                              "`resident` for a residents' group, which never gets staff work")
        add.add_argument("--secret-stdin", action="store_true",
                         help="read the signing secret from standard input")
        add.add_argument("--markdown", action="store_true", help="WeCom/DingTalk: send markdown")
        add.add_argument("--per-minute", type=int, default=None,
                         help="webhook/SMS: the receiver's own rate limit")
        sub.add_parser("list", help="list channels (addresses without their keys)")
        test = sub.add_parser("test", help="queue a test message on a channel")
        test.add_argument("name")
        for verb in ("disable", "enable"):
            toggle = sub.add_parser(verb, help=f"{verb} a channel (a leaked key, a dissolved group)")
            toggle.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for c in Channel.objects.select_related("area").order_by("name"):
                roles = ",".join(c.roles) or "all"
                state = "active" if c.is_active else "off"
                self.stdout.write(f"{c.name}\t{c.kind}\t{c.area.code}\t{roles}\t{state}\t{display_address(c.url)}")
            return
        if action in ("test", "disable", "enable"):
            channel = Channel.objects.filter(name=options["name"]).first()
            if channel is None:
                raise CommandError(f"no channel named {options['name']!r}")
        if action in ("disable", "enable"):
            assert channel is not None
            if not channel_set_active(channel=channel, active=action == "enable", actor=None):
                raise CommandError(f"channel {channel.name} is already {action}d")
            self.stdout.write(f"{action}d channel {channel.name}")
            return
        if action == "test":
            assert channel is not None
            with transaction.atomic():
                delivery = channel_test(channel=channel)
            self.stdout.write(f"queued test message {delivery.uid}; a running worker sends it")
            return
        secret = ""
        if options["secret_stdin"]:
            secret = sys.stdin.readline().strip()
            if not secret:
                raise CommandError("--secret-stdin: nothing on standard input")
        channel_options: dict[str, Any] = {}
        if options["markdown"]:
            if options["kind"] not in (ChannelKind.WECOM, ChannelKind.DINGTALK):
                raise CommandError("--markdown: only for wecom and dingtalk")
            channel_options["format"] = "markdown"
        if options["per_minute"] is not None:
            if options["kind"] not in (ChannelKind.WEBHOOK, ChannelKind.SMS):
                raise CommandError("--per-minute: only for webhook and sms (robots have fixed limits)")
            channel_options["per_minute"] = options["per_minute"]
        try:
            channel = channel_add(
                name=options["name"], kind=options["kind"], url=options["url"],
                area_code=options["area"], roles=options["roles"], secret=secret,
                options=channel_options, actor=None,
            )
        except ChannelError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"added channel {channel.name} ({channel.kind}) for {channel.area.name} "
                          f"serving {', '.join(channel.roles) or 'all roles'}")
