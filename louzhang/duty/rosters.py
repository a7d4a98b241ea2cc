"""Duty rosters (排班): who is on post at a checkpoint, at a compound's gates or at a station,
and when — and what will go wrong before it does.

The seed: checkpoints were staffed 24 hours a day. A post is a checkpoint (`checkpoints`,
round the clock unless it says otherwise), a compound's gates (its code) or a police station
(its code); a shift is one officer there from one time to another. Commanders of the post's
area plan shifts — one at a time, or a whole day as three eight-hour shifts —; its wardens and
checkpoint officers see the roster. For the next 48 hours the roster flags gaps in the cover of
a round-the-clock post, shifts longer than `LOUZHANG_MAX_SHIFT_HOURS`, officers on two posts
at once and officers on leave, sick or isolated put on a shift; the sweep (`rosters_sweep`,
rule `shift_uncovered` in `duty.roster_rules`) gives the commander a follow-up for a gap in the
next 12 hours and settles it when the gap is filled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.roles import COMMANDING
from louzhang.accounts.models import Role
from louzhang.areas.models import Area, Level, PoliceUnit
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.checkpoints.models import Checkpoint
from louzhang.duty.models import DutyStatus, Officer, Reassignment, Shift
from louzhang.duty.reassignments import commanded_units, may_command_unit
from louzhang.followups.models import ACTIVE_STATES, FollowUp, FollowUpEvent
from louzhang.followups.rules import rules_fire_many
from louzhang.followups.services import followups_settle

Kind = Shift.PostKind

#: who sees a post's roster (its commanders plan it)
SEEING_ROSTERS = (Role.COMMANDER, Role.WARDEN, Role.CHECKPOINT)
#: an officer with one of these statuses should not be on a shift
UNAVAILABLE = (DutyStatus.ON_LEAVE, DutyStatus.SICK, DutyStatus.ISOLATED)
#: how far ahead the roster looks for problems
LOOK_AHEAD = timedelta(hours=48)
#: how far ahead the sweep gives the commander a follow-up for a gap
SWEEP_AHEAD = timedelta(hours=12)
#: a post is on the roster while it had a shift this recently (or has one coming)
ROSTERED_WITHIN = timedelta(days=7)
SHIFTS_A_DAY = 3
RULE_UNCOVERED = "shift_uncovered"


class RosterError(Exception):
    """A shift that cannot be planned as asked; the message says why."""


# --- posts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """Where officers stand: a checkpoint, a compound's gates or a police station."""

    kind: str
    code: str
    name: str
    #: the area shifts are filed under (`Shift.area`): the checkpoint's, the compound, the
    #: station's district
    area: Area
    #: the areas it answers for: the checkpoint's area, the compound, the station's beat
    paths: tuple[str, ...]
    round_the_clock: bool
    unit: PoliceUnit | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.code)

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)


def _checkpoint_post(checkpoint: Checkpoint) -> Post:
    return Post(Kind.CHECKPOINT, checkpoint.code, checkpoint.name, checkpoint.area,
                (checkpoint.area.path,), checkpoint.round_the_clock)


def _gate_post(compound: Area) -> Post:
    return Post(Kind.GATE, compound.code, compound.name, compound, (compound.path,), False)


def _station_post(unit: PoliceUnit) -> Post:
    paths = tuple(sorted(a.path for a in unit.communities.all()))
    return Post(Kind.STATION, unit.code, unit.name, unit.area, paths, False, unit)


def post_find(kind: str, code: str) -> Post | None:
    """The post of this kind and code, if there is one."""
    if kind == Kind.CHECKPOINT:
        checkpoint = Checkpoint.objects.select_related("area").filter(code=code).first()
        return _checkpoint_post(checkpoint) if checkpoint else None
    if kind == Kind.GATE:
        compound = Area.objects.filter(code=code, level=Level.COMPOUND).first()
        return _gate_post(compound) if compound else None
    if kind == Kind.STATION:
        unit = (PoliceUnit.objects.select_related("area").prefetch_related("communities")
                .filter(code=code, kind=PoliceUnit.Kind.STATION).first())
        return _station_post(unit) if unit else None
    return None


def may_plan(user: Any, post: Post) -> bool:
    """Plan and remove shifts: a commander of the post's area (of the station, for a station)."""
    if post.unit is not None:
        return may_command_unit(user, post.unit)
    commanding = jurisdiction_for(user, roles=COMMANDING)
    return all(commanding.covers(path) for path in post.paths)


def may_see(user: Any, post: Post) -> bool:
    """See the roster: its commanders, the wardens and checkpoint officers of its area (a
    building's warden sees the compound's gates)."""
    if may_plan(user, post):
        return True
    seeing = jurisdiction_for(user, roles=SEEING_ROSTERS)
    if post.kind == Kind.GATE:
        return any(seeing.covers(p) or seeing.leads_to(p) for p in post.paths)
    return any(seeing.covers(p) for p in post.paths)


def access_post(user: Any, kind: str, code: str) -> Post:
    """The post, if `user` may see its roster; "not found" otherwise, as for a missing one."""
    post = post_find(kind, code)
    if post is None or not may_see(user, post):
        raise Http404("no such post")
    return post


def posts_seen(user: Any, now: datetime | None = None) -> list[Post]:
    """The posts whose roster `user` sees: the checkpoints and stations of their area, and
    the compounds with shifts planned at their gates from now on."""
    now = now or timezone.now()
    seeing = jurisdiction_for(user, roles=SEEING_ROSTERS)
    if seeing.is_empty:
        return []
    posts = [_checkpoint_post(c) for c in scope(Checkpoint.objects.select_related("area"), user,
                                                   roles=SEEING_ROSTERS).order_by("code")]
    stations = PoliceUnit.objects.filter(kind=PoliceUnit.Kind.STATION).select_related("area").prefetch_related(
        "communities")
    if not seeing.everything:
        stations = stations.filter(seeing.q("communities__path")).distinct()
    posts += [_station_post(unit) for unit in stations.order_by("code")]
    compounds = (Shift.objects.filter(post_kind=Kind.GATE, ends_at__gt=now)
                 .filter(seeing.q_in_reach("area__path", Level.COMPOUND))
                 .values_list("area_id", flat=True).distinct())
    posts += [_gate_post(a) for a in Area.objects.filter(pk__in=list(compounds)).order_by("path")]
    return posts


# --- what the roster holds ---------------------------------------------------------------------


def _posts_q(posts: Iterable[Post]) -> Q:
    codes: dict[str, set[str]] = defaultdict(set)
    for post in posts:
        codes[post.kind].add(post.code)
    condition = Q(pk__in=[])
    for kind, kind_codes in codes.items():
        condition |= Q(post_kind=kind, post_code__in=sorted(kind_codes))
    return condition


def shifts_of(posts: Sequence[Post], start: datetime, end: datetime) -> QuerySet[Shift]:
    """The shifts at `posts` overlapping `start`–`end`, earliest first."""
    return (Shift.objects.filter(_posts_q(posts), ends_at__gt=start, starts_at__lt=end)
            .select_related("officer").order_by("starts_at", "pk"))


def uncovered(spans: Iterable[tuple[datetime, datetime]], start: datetime,
              end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of `start`–`end` that none of `spans` covers, in order."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for span_start, span_end in sorted(spans):
        if cursor >= end:
            break
        if span_end <= cursor:
            continue
        if span_start > cursor:
            gaps.append((cursor, min(span_start, end)))
        cursor = max(cursor, span_end)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


@dataclass(frozen=True)
class OnDuty:
    post: Post
    #: on shift at the moment asked
    now: list[Shift]
    #: the shifts starting next (all that start at that same time)
    next: list[Shift]


def on_duty(posts: Sequence[Post], at: datetime | None = None) -> dict[tuple[str, str], OnDuty]:
    """Who is on shift at each post at `at` (now), and who comes next (within 48 hours)."""
    at = at or timezone.now()
    by_post: dict[tuple[str, str], list[Shift]] = defaultdict(list)
    for shift in shifts_of(posts, at, at + LOOK_AHEAD) if posts else []:
        by_post[(shift.post_kind, shift.post_code)].append(shift)
    found = {}
    for post in posts:
        shifts = by_post[post.key]
        current = [s for s in shifts if s.starts_at <= at]
        later = [s for s in shifts if s.starts_at > at]
        first = min((s.starts_at for s in later), default=None)
        found[post.key] = OnDuty(post, current, [s for s in later if s.starts_at == first])
    return found


# --- problems, before they happen -------------------------------------------------------------

GAP, TOO_LONG, DOUBLE_BOOKED, UNAVAILABLE_OFFICER = "gap", "too_long", "double_booked", "unavailable"


@dataclass(frozen=True)
class Problem:
    kind: str
    post: Post
    starts_at: datetime
    ends_at: datetime
    shift: Shift | None = None
    #: for an officer on two posts at once: their shift at the other post, and its name
    other: Shift | None = None
    other_post: str = ""

    @property
    def text(self) -> str:
        """What is wrong, in a sentence of the current language."""
        span = f"{_local(self.starts_at)}–{_local(self.ends_at)}"
        if self.kind == GAP:
            return _("Nobody on duty %(span)s.") % {"span": span}
        assert self.shift is not None
        officer = self.shift.officer
        if self.kind == TOO_LONG:
            return _("%(officer)s: a shift of %(hours)s hours (%(span)s), longer than %(limit)s.") % {
                "officer": officer, "hours": _hours(self.shift.ends_at - self.shift.starts_at),
                "span": span, "limit": settings.LOUZHANG_MAX_SHIFT_HOURS}
        if self.kind == DOUBLE_BOOKED:
            return _("%(officer)s is also on duty at %(other)s %(span)s.") % {
                "officer": officer, "other": self.other_post, "span": span}
        return _("%(officer)s is %(status)s but on a shift %(span)s.") % {
            "officer": officer, "status": DutyStatus(officer.status).label, "span": span}


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def _hours(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    return f"{hours:g}" if hours == int(hours) else f"{hours:.1f}"


def max_shift() -> timedelta:
    return timedelta(hours=settings.LOUZHANG_MAX_SHIFT_HOURS)


def roster_problems(posts: Sequence[Post], *, start: datetime | None = None,
                    within: timedelta = LOOK_AHEAD) -> list[Problem]:
    """What will go wrong at `posts` from `start` (now) for `within` (48 hours): gaps in the
    cover of a round-the-clock post, shifts too long, officers on two posts at once, officers
    on leave, sick or isolated on a shift. Earliest first."""
    if not posts:
        return []
    start = start or timezone.now()
    end = start + within
    shifts = list(shifts_of(posts, start, end))
    problems: list[Problem] = []
    by_post: dict[tuple[str, str], list[Shift]] = defaultdict(list)
    for shift in shifts:
        by_post[(shift.post_kind, shift.post_code)].append(shift)
    posts_by_key = {post.key: post for post in posts}
    for post in posts:
        if post.round_the_clock:
            spans = [(s.starts_at, s.ends_at) for s in by_post[post.key]]
            problems += [Problem(GAP, post, gap_start, gap_end)
                         for gap_start, gap_end in uncovered(spans, start, end)]
    for shift in shifts:
        post = posts_by_key[(shift.post_kind, shift.post_code)]
        if shift.ends_at - shift.starts_at > max_shift():
            problems.append(Problem(TOO_LONG, post, shift.starts_at, shift.ends_at, shift))
        if shift.officer.status in UNAVAILABLE:
            problems.append(Problem(UNAVAILABLE_OFFICER, post, shift.starts_at, shift.ends_at, shift))
    problems += _double_booked(shifts, posts_by_key, start, end)
    return sorted(problems, key=lambda p: (p.starts_at, p.kind, p.post.code))


def _double_booked(shifts: list[Shift], posts: dict[tuple[str, str], Post], start: datetime,
                   end: datetime) -> list[Problem]:
    """Officers of these shifts on duty at two posts at once (anywhere), once per pair."""
    officers = {s.officer_id for s in shifts}
    if not officers:
        return []
    theirs: dict[int, list[Shift]] = defaultdict(list)
    for shift in (Shift.objects.filter(officer__in=officers, ends_at__gt=start, starts_at__lt=end)
                  .select_related("officer").order_by("starts_at", "pk")):
        theirs[shift.officer_id].append(shift)
    pairs: list[tuple[Shift, Shift]] = []
    for own in theirs.values():
        for i, first in enumerate(own):
            for second in own[i + 1:]:
                if second.starts_at >= first.ends_at:
                    break
                if (first.post_kind, first.post_code) != (second.post_kind, second.post_code):
                    pairs.append((first, second))
    names = post_names({(s.post_kind, s.post_code) for pair in pairs for s in pair})
    problems = []
    for first, second in pairs:
        for here, there in ((first, second), (second, first)):
            post = posts.get((here.post_kind, here.post_code))
            if post is not None:
                problems.append(Problem(DOUBLE_BOOKED, post, max(first.starts_at, second.starts_at),
                                        min(first.ends_at, second.ends_at), here, there,
                                        names.get((there.post_kind, there.post_code), there.post_code)))
                break
    return problems


def post_names(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The names of posts by (kind, code): a checkpoint's, a compound's, a station's."""
    codes: dict[str, set[str]] = defaultdict(set)
    for kind, code in keys:
        codes[kind].add(code)
    names: dict[tuple[str, str], str] = {}
    if codes[Kind.CHECKPOINT]:
        names.update({(Kind.CHECKPOINT, c): n for c, n in Checkpoint.objects.filter(
            code__in=codes[Kind.CHECKPOINT]).values_list("code", "name")})
    if codes[Kind.GATE]:
        names.update({(Kind.GATE, c): n for c, n in Area.objects.filter(
            code__in=codes[Kind.GATE]).values_list("code", "name")})
    if codes[Kind.STATION]:
        names.update({(Kind.STATION, c): n for c, n in PoliceUnit.objects.filter(
            code__in=codes[Kind.STATION]).values_list("code", "name")})
    return names


# --- planning -----------------------------------------------------------------------------------


def officers_for(actor: Any, starts_at: datetime, ends_at: datetime) -> QuerySet[Officer]:
    """The officers `actor` may put on a shift from `starts_at` to `ends_at`: those of the
    units they command, and those reassigned (下沉) to one of them for that time."""
    units = [unit.pk for unit in commanded_units(actor)]
    reassigned = Reassignment.objects.filter(to_unit__in=units, cancelled_at__isnull=True,
                                             starts_at__lt=ends_at, ends_at__gt=starts_at)
    return (Officer.objects.filter(Q(unit__in=units) | Q(pk__in=reassigned.values("officer_id")))
            .select_related("unit").order_by("name", "pk"))


def _audit_path(post: Post) -> str:
    return post.paths[0] if post.paths else post.area.path


def shift_plan(*, actor: Any, post: Post, officer: Officer, starts_at: datetime,
               ends_at: datetime) -> Shift:
    """Put `officer` on duty at `post` from `starts_at` until `ends_at`; audited.

    `actor` must command the post (`PermissionDenied` otherwise) and the officer must be at
    their disposal (`officers_for`). A shift too long, an officer busy elsewhere or on leave
    is planned all the same — plans change — and flagged by `roster_problems`."""
    if not may_plan(actor, post):
        raise PermissionDenied("shifts are planned by a commander of the post")
    if ends_at <= starts_at:
        raise RosterError(_("A shift ends after it starts."))
    if not officers_for(actor, starts_at, ends_at).filter(pk=officer.pk).exists():
        raise RosterError(_("%(officer)s is not an officer of a unit you command, nor reassigned to one "
                            "for that time.") % {"officer": officer})
    with transaction.atomic():
        shift = Shift.objects.create(post_kind=post.kind, area=post.area, post_code=post.code,
                                     officer=officer, starts_at=starts_at, ends_at=ends_at,
                                     created_by=actor)
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, object_type="duty.shift",
                     object_id=shift.pk, area_path=_audit_path(post),
                     summary=f"{post.name} {officer} {_local(starts_at)}–{_local(ends_at)}",
                     detail={"post": f"{post.kind}:{post.code}", "officer": officer.badge_number,
                             "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return shift


def day_start(day: date, start_hour: int) -> datetime:
    """`start_hour` o'clock on `day`, local time."""
    return timezone.make_aware(datetime.combine(day, time(hour=start_hour)))


def day_plan(*, actor: Any, post: Post, day: date, start_hour: int,
             officers: Sequence[Officer]) -> list[Shift]:
    """A day at `post` as three eight-hour shifts from `start_hour` (local) on `day`, one for
    each of `officers` in turn; all or none."""
    if len(officers) != SHIFTS_A_DAY:
        raise RosterError(_("A day is three shifts: name one officer for each."))
    if not 0 <= start_hour <= 23:
        raise RosterError(_("The first shift starts at an hour from 0 to 23."))
    first = day_start(day, start_hour)
    length = timedelta(hours=24 // SHIFTS_A_DAY)
    with transaction.atomic():
        return [shift_plan(actor=actor, post=post, officer=officer, starts_at=first + i * length,
                           ends_at=first + (i + 1) * length) for i, officer in enumerate(officers)]


def shift_remove(*, actor: Any, shift: Shift) -> None:
    """Take a shift off the roster; audited."""
    post = post_find(shift.post_kind, shift.post_code)
    if post is None or not may_plan(actor, post):
        raise PermissionDenied("shifts are removed by a commander of the post")
    with transaction.atomic():
        audit_record(actor=actor, action=AuditEvent.Action.DELETE, object_type="duty.shift",
                     object_id=shift.pk, area_path=_audit_path(post),
                     summary=f"{post.name} {shift.officer} {_local(shift.starts_at)}–{_local(shift.ends_at)}",
                     detail={"post": f"{post.kind}:{post.code}", "officer": shift.officer.badge_number})
        shift.delete()


def shift_problems(shift: Shift, post: Post) -> list[Problem]:
    """The problems a newly planned shift takes part in (for the page to say at once)."""
    return [p for p in roster_problems([post], start=min(shift.starts_at, timezone.now()),
                                       within=max(LOOK_AHEAD, shift.ends_at - shift.starts_at))
            if p.shift is not None and p.shift.pk == shift.pk]


# --- the sweep: a round-the-clock post uncovered in the next 12 hours --------------------------


@dataclass(frozen=True)
class PostUncovered:
    """A gap in the cover of a round-the-clock post that the sweep found (`roster.swept`)."""

    post_kind: str
    post_code: str
    name: str
    area: Area
    starts_at: datetime
    ends_at: datetime

    @property
    def subject_id(self) -> str:
        return f"{self.post_kind}:{self.post_code}:{self.starts_at:%Y%m%d%H%M}"


def round_the_clock_posts(now: datetime) -> list[Post]:
    """Checkpoints staffed round the clock that are on the roster: a shift there ended within
    the last week or is planned. A checkpoint nobody rosters in Louzhang is not watched (its
    commander would be told every few minutes of a gap they do not plan here)."""
    rostered = Shift.objects.filter(post_kind=Kind.CHECKPOINT, ends_at__gt=now - ROSTERED_WITHIN)
    return [_checkpoint_post(c) for c in Checkpoint.objects.filter(
        round_the_clock=True, code__in=rostered.values("post_code")).select_related("area").order_by("code")]


def _window(detail: Any) -> tuple[str, datetime, datetime] | None:
    """(post key, gap start, gap end) an uncovered-post follow-up was opened for, from the
    detail of its "opened" event (`roster_rules.shift_uncovered`)."""
    try:
        return (f"{detail['post_kind']}:{detail['post_code']}", datetime.fromisoformat(detail["starts_at"]),
                datetime.fromisoformat(detail["ends_at"]))
    except (KeyError, TypeError, ValueError):
        return None


def _told(now: datetime) -> list[tuple[FollowUp, tuple[str, datetime, datetime]]]:
    """The uncovered-post follow-ups that stand for a gap, with the gap: those open, and those
    an officer closed by hand lately (a gap may be covered by means the roster does not know:
    it is not told again); not those the sweep settled, so a gap that opens again where a
    shift was taken off is told again."""
    followups = list(FollowUp.objects.filter(rule=RULE_UNCOVERED).filter(
        Q(state__in=ACTIVE_STATES) | Q(closed_by__isnull=False, opened_at__gt=now - 2 * LOOK_AHEAD)))
    opened = dict(FollowUpEvent.objects.filter(followup__in=followups, kind=FollowUpEvent.Kind.OPENED)
                  .values_list("followup_id", "detail"))
    return [(f, window) for f in followups if (window := _window(opened.get(f.pk))) is not None]


def rosters_sweep(now: datetime | None = None) -> dict[str, int]:
    """Look 12 hours ahead at every round-the-clock post on the roster: each gap in its cover
    fires `roster.swept` (rule `shift_uncovered`: a follow-up for the commander of its area),
    once per post and gap — a gap already followed up, or what remains of it, is not told
    again. A follow-up whose gap is filled from now to its end is settled. Run by the worker
    every few minutes; running it twice changes nothing."""
    now = now or timezone.now()
    posts = round_the_clock_posts(now)
    windows: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    open_now: list[tuple[FollowUp, tuple[str, datetime, datetime]]] = []
    for followup, window in _told(now):
        windows[window[0]].append(window[1:])
        if followup.state in ACTIVE_STATES:
            open_now.append((followup, window))
    by_post: dict[tuple[str, str], list[Shift]] = defaultdict(list)
    for shift in shifts_of(posts, now, now + LOOK_AHEAD) if posts else []:
        by_post[(shift.post_kind, shift.post_code)].append(shift)
    events: list[PostUncovered] = []
    for post in posts:
        spans = [(s.starts_at, s.ends_at) for s in by_post[post.key]]
        for gap_start, gap_end in uncovered(spans, now, now + LOOK_AHEAD):
            if gap_start >= now + SWEEP_AHEAD:
                break
            if any(start < gap_end and gap_start < end for start, end in windows[f"{post.kind}:{post.code}"]):
                continue
            events.append(PostUncovered(post.kind, post.code, post.name, post.area, gap_start, gap_end))
    settled = 0
    with transaction.atomic():
        for followup, (key, gap_start, gap_end) in open_now:
            if gap_end <= now:
                continue  # it happened: the commander closes it with what was done
            kind, code = key.split(":", 1)
            spans = [(s.starts_at, s.ends_at) for s in Shift.objects.filter(
                post_kind=kind, post_code=code, ends_at__gt=max(gap_start, now), starts_at__lt=gap_end)]
            if not uncovered(spans, max(gap_start, now), gap_end):
                settled += followups_settle(
                    rule=RULE_UNCOVERED, subject_type=followup.subject_type, subject_id=followup.subject_id,
                    actor=None, finding=_("Covered: shifts are planned for %(span)s.")
                    % {"span": f"{_local(max(gap_start, now))}–{_local(gap_end)}"})
        rules_fire_many("roster.swept", events)
    return {"posts": len(posts), "gaps": len(events), "settled": settled}
