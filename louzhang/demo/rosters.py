"""The seed's rosters and reassignment in the demo city.

Ordos's traffic police staff the 达拉特旗 checkpoint 24 hours a day: today as three 8-hour
shifts, tomorrow with the night not covered yet — the roster flags it before it comes. In
Hulunbuir an office officer of 牙克石市公安局 is reassigned (下沉) to 胜利派出所 for seven days
from today, and sees its community for those days only.

Runs after `demo_duty()` (the officers): what it needs and does not find — officers by badge
number, the brigade's and the branch's commanders — it creates. All people are fictional.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from louzhang.accounts.models import Role, User
from louzhang.accounts.services import user_create
from louzhang.areas.models import PoliceUnit
from louzhang.core.clock import today_start
from louzhang.duty.models import DutyStatus, Officer, Reassignment, Shift
from louzhang.duty.reassignments import reassignment_create
from louzhang.duty.rosters import post_find, shift_plan

CHECKPOINT = "DLT-CP1"
BRIGADE = "ORD-TP-DLT"  # 鄂尔多斯市公安局交通管理支队达拉特旗大队
BRANCH = "HLBE-YKS"  # 牙克石市公安局
SHENGLI = "HLBE-YKS-SL"  # 胜利派出所

#: (badge number, name, post) of the checkpoint's officers
CHECKPOINT_OFFICERS = [
    ("150621031", "白永刚", "交警"),
    ("150621032", "乌云其其格", "交警"),
    ("150621033", "张海军", "交警"),
]
#: the office officer reassigned to 胜利派出所 (badge number, name, post, user name)
OFFICE_OFFICER = ("150782051", "刘晓明", "政治处科员", "yks_office")
#: the commanders who plan and reassign (user name, name, unit)
COMMANDERS = [("dlt_commander", "达拉特旗大队值班长", BRIGADE), ("yks_commander", "牙克石市局指挥室值班长", BRANCH)]
#: today from 08:00 as three 8-hour shifts, tomorrow from 08:00 two: tomorrow night uncovered
SHIFTS = [(0, 8, 0), (0, 16, 1), (1, 0, 2), (1, 8, 0), (1, 16, 1)]  # (day, hour, officer)
SHIFT_HOURS = 8
REASSIGNED_DAYS = 7


def _commander(username: str, name: str, unit: PoliceUnit) -> tuple[User, int]:
    found = User.objects.filter(username=username).first()
    if found is not None:
        return found, 0
    return user_create(username=username, role=Role.COMMANDER, area_codes=[unit.code],
                       display_name=name, police_unit=unit), 1


def _officer(badge: str, name: str, unit: PoliceUnit, post: str, user: User | None = None) -> tuple[Officer, int]:
    officer, created = Officer.objects.get_or_create(
        badge_number=badge, defaults={"name": name, "unit": unit, "category": Officer.Category.POLICE,
                                      "post": post, "status": DutyStatus.ON_POST, "user": user})
    if officer.user is None and user is not None:
        officer.user = user
        officer.save(update_fields=["user", "updated_at"])
    return officer, int(created)


def demo_rosters() -> int:
    """Add whatever of the demo's rosters and reassignment is missing; how many things were
    added (idempotent: run again the same day, nothing)."""
    added = 0
    with transaction.atomic():
        units = {u.code: u for u in PoliceUnit.objects.filter(code__in=[BRIGADE, BRANCH, SHENGLI])}
        commanders = {}
        for username, name, unit_code in COMMANDERS:
            commanders[unit_code], n = _commander(username, name, units[unit_code])
            added += n
        officers = []
        for badge, name, post_name in CHECKPOINT_OFFICERS:
            officer, n = _officer(badge, name, units[BRIGADE], post_name)
            officers.append(officer)
            added += n
        post = post_find("checkpoint", CHECKPOINT)
        assert post is not None, "the demo city's checkpoint is loaded first"
        midnight = today_start()
        for day, hour, which in SHIFTS:
            starts = midnight + timedelta(days=day, hours=hour)
            if Shift.objects.filter(post_kind=post.kind, post_code=post.code, starts_at=starts).exists():
                continue
            shift_plan(actor=commanders[BRIGADE], post=post, officer=officers[which], starts_at=starts,
                       ends_at=starts + timedelta(hours=SHIFT_HOURS))
            added += 1
        badge, name, post_name, username = OFFICE_OFFICER
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=name, police_unit=units[BRANCH])
            user.set_unusable_password()
            user.save()
            added += 1
        office, n = _officer(badge, name, units[BRANCH], post_name, user)
        added += n
        if not Reassignment.objects.filter(officer=office, to_unit=units[SHENGLI], cancelled_at__isnull=True,
                                           ends_at__gt=midnight).exists():
            reassignment_create(actor=commanders[BRANCH], officer=office, to_unit=units[SHENGLI],
                                starts_at=midnight, ends_at=midnight + timedelta(days=REASSIGNED_DAYS),
                                reason="机关警力下沉派出所，充实社区防控力量")
            added += 1
    return added
