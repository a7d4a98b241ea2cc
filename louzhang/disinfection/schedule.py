"""When a unit's rounds of disinfection are due, in Asia/Shanghai time, and the settings that say so.

Settings (the environment, or a Django setting of the same name; a value that cannot be used
stops start-up with one line naming the variable — `apps.ready` reads them):

- `LOUZHANG_DISINFECTION_DEADLINES` (default `12:00,20:00`): the first round of the day is due
  by the first time, the second by the second …; rounds beyond the list (a plan of three or
  four a day) are due by the last one. So a plan of once a day is due by 12:00, twice a day by
  12:00 and 20:00. One to four times, rising, as HH:MM.
- `LOUZHANG_DISINFECTION_WARDEN_AFTER_MINUTES` (default 60): a unit short of its plan at a
  deadline reminds its representatives at once; this long after, with still nothing logged,
  the unit's warden gets a follow-up. When no representative could be reminded (none has a
  log-in, or there is none), the warden's follow-up opens at once: there is nobody to wait for.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from louzhang.env import ConfigurationError, env_str

DEADLINES = "LOUZHANG_DISINFECTION_DEADLINES"
WARDEN_AFTER = "LOUZHANG_DISINFECTION_WARDEN_AFTER_MINUTES"
DEFAULT_DEADLINES = "12:00,20:00"
DEFAULT_WARDEN_AFTER_MINUTES = 60


def _setting(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        value = env_str(name) or default
    return str(value).strip()


def deadlines() -> list[time]:
    """The deadlines of the day's rounds, rising (`LOUZHANG_DISINFECTION_DEADLINES`)."""
    raw = _setting(DEADLINES, DEFAULT_DEADLINES)
    found: list[time] = []
    try:
        for item in (p.strip() for p in raw.replace("，", ",").split(",")):
            hour, minute = (int(p) for p in item.split(":"))
            found.append(time(hour, minute))
    except ValueError:
        raise ConfigurationError(f"{DEADLINES}={raw!r}: expected times as HH:MM separated by commas, "
                                 "like 12:00,20:00") from None
    if not 1 <= len(found) <= 4 or any(a >= b for a, b in zip(found, found[1:], strict=False)):
        raise ConfigurationError(f"{DEADLINES}={raw!r}: one to four times of the day, rising")
    return found


def warden_after() -> timedelta:
    """How long after reminding the representatives the warden's follow-up opens."""
    raw = _setting(WARDEN_AFTER, str(DEFAULT_WARDEN_AFTER_MINUTES))
    try:
        minutes = int(raw)
    except ValueError:
        raise ConfigurationError(f"{WARDEN_AFTER}={raw!r}: expected a whole number of minutes") from None
    if minutes < 0:
        raise ConfigurationError(f"{WARDEN_AFTER}={raw!r}: must be at least 0")
    return timedelta(minutes=minutes)


def check_settings() -> None:
    """Read every setting once, so that a bad value stops start-up, not the sweep."""
    deadlines()
    warden_after()


def deadline_of(round_number: int, times: list[time]) -> time:
    """By when round `round_number` (1, 2 …) of a day is due."""
    return times[min(round_number, len(times)) - 1]


def due_at(index: int, times_per_day: int, times: list[time]) -> int:
    """At the deadline `times[index]`, how many rounds a plan of `times_per_day` needs done —
    0 when none of its rounds falls due at that deadline (a plan of once a day at 20:00)."""
    due = [k for k in range(1, times_per_day + 1) if min(k, len(times)) - 1 == index]
    return max(due, default=0)


def due_by(moment: time, times_per_day: int, times: list[time]) -> int:
    """How many rounds a plan of `times_per_day` needs done by the local time `moment`."""
    return sum(1 for k in range(1, times_per_day + 1) if deadline_of(k, times) <= moment)


def at_local(day: date, moment: time) -> datetime:
    """`moment` of `day`, local time, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, moment))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as [start, end)."""
    start = at_local(day, time.min)
    return start, at_local(day + timedelta(days=1), time.min)
