"""The seed's unit representatives in the demo city.

In 富贵佳园 (九原区), 28 unit representatives disinfect the stairwells and lifts under the
warden's lead: one for each of its 24 units, two in four of them. Every unit has a plan
(stairwell, lift, door handles, twice a day), most have logged today's rounds through their
representative's link, two have not (overdue on the coverage page once 12:00 has passed; the sweep reminds and
opens follow-ups only for deadlines after the demo was loaded). The log-in `unit_rep` is
the representative of 保利百合 34号楼二单元.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from louzhang.access.holders import warden_of
from louzhang.accounts.models import User
from louzhang.areas.models import Area, Level
from louzhang.disinfection.models import (
    CommonArea,
    Disinfection,
    DisinfectionPlan,
    UnitRepresentative,
)
from louzhang.disinfection.services import representative_register
from louzhang.registry.models import Resident

FUGUI = "150207001001001"
BAOLI_34_2 = "150202001001001-34-2"
REPRESENTATIVES = 28
AREAS = [CommonArea.STAIRWELL.value, CommonArea.LIFT.value, CommonArea.HANDLES.value]
TIMES_PER_DAY = 2
#: units of 富贵佳园 that have not disinfected today: 3号楼二单元, 5号楼一单元
OVERDUE = {f"{FUGUI}-3-2", f"{FUGUI}-5-1"}
AGENT = "84消毒液"
#: adults only: a representative is a grown-up resident (the demo city's day is 2020-01-28)
BORN_BEFORE = date(2002, 1, 28)


def demo_disinfection() -> int:
    """Whatever of the demo's representatives, plans and today's rounds is missing; how many
    things were added (idempotent: running it again adds nothing, on another day that day's
    rounds)."""
    commander = User.objects.get(username="commander")
    units = list(Area.objects.filter(path__subtree=Area.objects.get(code=FUGUI).path, level=Level.UNIT)
                 .select_related("parent").order_by("parent__ordinal", "ordinal"))
    added = 0
    # one representative per unit, a second in the first units until there are 28
    wanted = {u.pk: 1 for u in units}
    for unit in units[:max(0, REPRESENTATIVES - len(units))]:
        wanted[unit.pk] += 1
    for unit in units:
        registrar = warden_of(unit) or commander
        added += _representatives(unit, wanted[unit.pk], registrar)
        added += _plan(unit, registrar)
    baoli = Area.objects.select_related("parent").get(code=BAOLI_34_2)
    warden = User.objects.get(username="warden")
    added += _representatives(baoli, 1, warden, user=User.objects.get(username="unit_rep"))
    added += _plan(baoli, warden)
    added += _rounds_today([u for u in units if u.code not in OVERDUE])
    return added


def _representatives(unit: Area, wanted: int, registrar: User, user: User | None = None) -> int:
    have = list(UnitRepresentative.objects.filter(unit=unit, ended_at__isnull=True))
    if user is not None and any(r.user_id == user.pk for r in have):
        return 0
    added = 0
    taken = {r.resident_id for r in have}
    # grown-ups with a phone, heads of household first; not the household under observation
    candidates = (Resident.objects.filter(household__parent=unit, birth_date__lt=BORN_BEFORE)
                  .exclude(Q(phone="") | Q(pk__in=taken)).exclude(household__code__endswith="-0601")
                  .order_by("household__ordinal", "-is_head", "birth_date", "pk"))
    for resident in candidates[:max(0, wanted - len(have))]:
        representative_register(actor=registrar, unit=unit, resident=resident, consent=True,
                                user=user)
        added += 1
    return added


def _plan(unit: Area, registrar: User) -> int:
    _plan_row, created = DisinfectionPlan.objects.get_or_create(
        unit=unit, defaults={"areas": AREAS, "times_per_day": TIMES_PER_DAY, "updated_by": registrar,
                             # the sweep looks at deadlines from now on: loading the demo in the
                             # afternoon does not open follow-ups for the morning it was not there
                             "since": timezone.now()})
    return int(created)


def _rounds_today(units: list[Area]) -> int:
    """The morning round (07:30 on) and, once it is past, the afternoon one (15:30 on) of each
    unit, by its first representative through their link — never later than now."""
    now = timezone.now()
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    reps: dict[int, UnitRepresentative] = {}
    for rep in UnitRepresentative.objects.filter(unit__in=units, ended_at__isnull=True).order_by("-pk"):
        reps[rep.unit_id] = rep  # the earliest registered wins
    new: list[Disinfection] = []
    for n, unit in enumerate(units):
        for k, start in ((1, time(7, 30)), (2, time(15, 30))):
            planned = timezone.make_aware(datetime.combine(today, start)) + timedelta(minutes=3 * n)
            if k == 2 and planned > now:
                continue
            at = min(planned, now - timedelta(minutes=5, seconds=n))
            if at < midnight:
                continue
            new.append(Disinfection(unit=unit, at=at, areas=AREAS, agent=AGENT, representative=reps.get(unit.pk),
                                    client_id=f"demo-{today:%Y%m%d}-{k}"))
    stored = Disinfection.objects.filter(client_id__startswith=f"demo-{today:%Y%m%d}-")
    before = stored.count()
    Disinfection.objects.bulk_create(new, ignore_conflicts=True)
    return stored.count() - before
