"""The demo's officers (fictional): 库都尔派出所 — the seed's five-officer station that ran
prevention for its whole town — and some of 西脑包派出所, whose beat holds 保利百合.

库都尔派出所's 所长 is the demo log-in `station_kde`; at 西脑包派出所 the 所长 is `station_xnb` and
the community officer 郝志东 is the warden `warden`. One officer is on leave (home for the
Spring Festival), one is sick; the others are on post.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from louzhang.accounts.models import User
from louzhang.areas.models import PoliceUnit
from louzhang.duty.models import DutyStatus, Officer, StatusChange

POLICE = Officer.Category.POLICE
AUXILIARY = Officer.Category.AUXILIARY


@dataclass(frozen=True)
class OfficerSpec:
    badge_number: str
    name: str
    unit: str
    category: str
    post: str
    work_phone: str
    status: str
    #: the demo log-in of this officer, if any
    username: str = ""
    #: why they are in this status (the first line of their history)
    reason: str = ""


OFFICERS = [
    # 库都尔派出所 (牙克石市): five officers for the whole town
    OfficerSpec("150782101", "孟庆国", "HLBE-YKS-KDE", POLICE, "所长", "13904701101",
                DutyStatus.ON_POST, "station_kde"),
    OfficerSpec("150782102", "吴海涛", "HLBE-YKS-KDE", POLICE, "教导员", "13904701102",
                DutyStatus.ON_LEAVE, reason="春节探亲假"),
    OfficerSpec("150782103", "包丽娟", "HLBE-YKS-KDE", POLICE, "社区民警", "13904701103",
                DutyStatus.ON_POST),
    OfficerSpec("150782104", "王振宇", "HLBE-YKS-KDE", AUXILIARY, "辅警", "13904701104",
                DutyStatus.SICK, reason="发热，在家休息"),
    OfficerSpec("150782105", "李春燕", "HLBE-YKS-KDE", AUXILIARY, "辅警", "13904701105",
                DutyStatus.ON_POST),
    # 西脑包派出所 (东河区): the station whose beat holds 保利百合
    OfficerSpec("150202201", "赵建军", "BT-DH-XNB", POLICE, "所长", "13904721201",
                DutyStatus.ON_POST, "station_xnb"),
    OfficerSpec("150202217", "郝志东", "BT-DH-XNB", POLICE, "社区民警（楼长）", "13904721217",
                DutyStatus.ON_POST, "warden"),
    OfficerSpec("150202230", "田晓梅", "BT-DH-XNB", POLICE, "社区民警", "13904721230",
                DutyStatus.ON_POST),
    OfficerSpec("150202241", "高鹏", "BT-DH-XNB", AUXILIARY, "辅警", "13904721241",
                DutyStatus.ON_POST),
]


def demo_duty() -> int:
    """Insert the demo's officers that are missing (never changes one that exists); returns
    how many were created."""
    units = {u.code: u for u in PoliceUnit.objects.filter(code__in={s.unit for s in OFFICERS})}
    users = {u.username: u for u in User.objects.filter(username__in={s.username for s in OFFICERS if s.username})}
    linked = set(Officer.objects.filter(user__in=list(users.values())).values_list("user_id", flat=True))
    created = 0
    now = timezone.now()
    with transaction.atomic():
        for spec in OFFICERS:
            if spec.unit not in units or Officer.objects.filter(badge_number=spec.badge_number).exists():
                continue
            user = users.get(spec.username)
            if user is not None and user.pk in linked:
                user = None
            officer = Officer.objects.create(
                badge_number=spec.badge_number, name=spec.name, unit=units[spec.unit],
                category=spec.category, post=spec.post, work_phone=spec.work_phone, user=user,
                status=spec.status, status_since=now)
            StatusChange.objects.create(officer=officer, status=spec.status, at=now,
                                        reason=spec.reason or "演示数据")
            created += 1
    return created
