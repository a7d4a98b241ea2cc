"""When check-ins are due: two a day (早晚各一次), a morning one by noon and an evening one by
`LOUZHANG_CHECK_IN_EVENING_DEADLINE` (21:00), in Asia/Shanghai time.

A slot is half a day: a check-in before noon fills the morning, one after it the evening. A slot
is *missed* when its deadline passed with no check-in in it, counting only the slots of the
observation's days that ended after it was opened (nobody misses the morning of the day they
came home at three in the afternoon).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

NOON = time(12, 0)


@dataclass(frozen=True, order=True)
class Slot:
    day: date
    half: int  # 0 morning, 1 evening

    @property
    def deadline(self) -> datetime:
        if self.half == 0:
            at = NOON
        else:
            hour, minute = (int(p) for p in settings.LOUZHANG_CHECK_IN_EVENING_DEADLINE.split(":"))
            at = time(hour, minute)
        return timezone.make_aware(datetime.combine(self.day, at))

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.day, time(0) if self.half == 0 else NOON))

    def label(self) -> str:
        return f"{self.day:%m-%d} {'AM' if self.half == 0 else 'PM'}"


def slot_of(at: datetime) -> Slot:
    local = timezone.localtime(at)
    return Slot(local.date(), 0 if local.time() < NOON else 1)


def slots_between(first: date, last: date) -> Iterator[Slot]:
    day = first
    while day <= last:
        yield Slot(day, 0)
        yield Slot(day, 1)
        day += timedelta(days=1)


def slots_due(*, starts_on: date, ends_on: date, opened_at: datetime, after: datetime | None,
              now: datetime) -> list[Slot]:
    """The slots of the observation whose deadline passed in (`after`, `now`] and that ended
    after it was opened."""
    today = timezone.localtime(now).date()
    return [s for s in slots_between(starts_on, min(ends_on, today))
            if s.deadline <= now and s.deadline > opened_at and (after is None or s.deadline > after)]


def missed(due: Iterable[Slot], check_ins: Iterable[datetime]) -> list[Slot]:
    filled = {slot_of(at) for at in check_ins}
    return [s for s in due if s not in filled]
