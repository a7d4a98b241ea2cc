"""Recording visits (走访): one household, how it was reached, what was found about each person;
people not in the registry added on the spot; a returnee from a key region put under home
observation; the round's coverage kept up to date. And opening and closing rounds.

A visit is written whole or not at all: a person who cannot be matched or added rejects the
visit (with the person and field named), and nothing of it — no resident added, no observation
opened — is kept. Sending a visit again with the same `client_id` stores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import VISITING, may_command, may_visit
from louzhang.areas.models import Area, Level
from louzhang.audit.services import audit_record
from louzhang.checkpoints.key_regions import key_regions_for_area
from louzhang.checkpoints.models import KeyRegion
from louzhang.core.ingest import (
    Day,
    DeviceRecordIn,
    DeviceTime,
    Errors,
    Id,
    RequiredWords,
    Result,
    Text,
    Words,
    error,
    validate_each,
)
from louzhang.core.paths import AreaPath
from louzhang.followups.rules import Fired, rules_fire
from louzhang.identifiers.divisions import place_names_under
from louzhang.observation.models import Source, Symptom
from louzhang.observation.services import ObservationError, observation_days, observation_open
from louzhang.registry.care import CareTag
from louzhang.registry.models import Resident
from louzhang.registry.people import PersonError, PersonIn, person_match, person_resolve
from louzhang.screening.models import Finding, Mode, Round, RoundHousehold, RoundUnit, Visit

MAX_PEOPLE = 30


class KeyRegionStayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    region: RequiredWords = Field(max_length=100)
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None


class PersonFoundIn(BaseModel):
    """A person as the warden found them (API.md, `people` of a visit)."""

    model_config = ConfigDict(extra="forbid")
    #: a registered member, by id (the visit page sends it for the members it listed)
    resident: Id | None = None
    id_number: Text = Field(default="", max_length=30)
    name: Words = Field(default="", max_length=50)
    phone: Text = Field(default="", max_length=30)
    key_region_stay: KeyRegionStayIn | None = None
    returned_at: Day | None = None
    travel: Words = Field(default="", max_length=50)
    symptoms: list[Text] = Field(default_factory=list, max_length=10)
    contact_with_case: bool = False
    care: list[Text] = Field(default_factory=list, max_length=7)
    advice: Words = Field(default="", max_length=200)
    note: Words = Field(default="", max_length=300)


class VisitIn(DeviceRecordIn):
    """One visit as a device (or the visit page) sends it (API.md, `POST /api/v1/visits`)."""

    household: Text = Field(min_length=1, max_length=64)
    at: DeviceTime
    mode: Literal["in_person", "phone", "wechat", "nobody_home"]
    people: list[PersonFoundIn] = Field(default_factory=list, max_length=MAX_PEOPLE)
    note: Words = Field(default="", max_length=300)


@dataclass
class VisitResult(Result):
    """A visit's answer: `Result` and the observations its findings point to (opened or proposed
    now, or one the person was already under), and the people it added to the registry."""

    observations: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    #: for the visit page: which of `observations` this visit opened or proposed, and what the
    #: rules did (the API answers without them)
    opened: list[int] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        answer = super().as_dict()
        del answer["fired"], answer["opened"]
        return answer


class VisitRejected(Exception):
    """The visit cannot be stored as sent: `errors` say where (`["people", 2, "id_number"]`)."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Candidates:
    """Registered people who may be the person at `index` (same name and phone): the officer
    picks one, or gives the ID number."""

    index: int
    residents: tuple[Resident, ...]


class NeedsConfirmation(Exception):
    def __init__(self, candidates: list[Candidates]) -> None:
        super().__init__("confirm who these people are")
        self.candidates = candidates


@dataclass(frozen=True)
class VisitEvent:
    """What the visit rules read (`visit.recorded`)."""

    visit_id: int
    household: Area
    place: str
    reached: bool
    #: per round the household is in: (round id, round name, times nobody was home, reached ever)
    rounds: tuple[tuple[int, str, int, bool], ...]
    symptomatic: int


def household_for_visit(user: Any, code: str) -> Area | None:
    """The household with `code`, if `user` may visit it (None for missing and forbidden alike)."""
    household = Area.objects.filter(code=code, level=Level.HOUSEHOLD).select_related("parent__parent").first()
    if household is None or not may_visit(user, household.path):
        return None
    return household


def _place(household: Area) -> str:
    unit = household.parent
    building = unit.parent if unit is not None else None
    return "".join(a.name for a in (building, unit, household) if a is not None)


def key_region_named(text: str, on: date, area: Area | None = None) -> KeyRegion | None:
    """The key region `text` names (its name, or a place inside it), in force on `on`: of the
    operator's list or the list of the city of `area` (`checkpoints.key_regions`)."""
    best: tuple[int, KeyRegion] | None = None
    for region in key_regions_for_area(area, on):
        score = 100 if region.name == text else 0
        for prefix in region.division_prefixes:
            if any(place and place in text for place in place_names_under(prefix)):
                score = max(score, len(prefix))
        if score and (best is None or score > best[0]):
            best = (score, region)
    return best[1] if best else None


def _resolve(actor: Any, household: Area, index: int, person: PersonFoundIn, *, confirm: bool,
             errors: Errors, candidates: list[Candidates]) -> tuple[Resident | None, bool]:
    """The registered resident the person is, added if new; None with an error or candidates."""
    if person.resident is not None:
        member = Resident.objects.filter(pk=person.resident, household=household).first()
        if member is None and person.name:
            member = _confirmed(household, person)
        if member is None:
            errors.append(error(["people", index, "resident"], _("not a member of this household")))
        return member, False
    try:
        said = PersonIn.clean(id_number=person.id_number, name=person.name, phone=person.phone)
        match = person_match(household, said) if not said.empty else None
        if confirm and match is not None and match.resident is None and not said.id_number \
                and match.candidates:
            # the officer is there to say which of them it is
            candidates.append(Candidates(index, match.candidates))
            return None, False
        return person_resolve(actor=actor, household=household, person=said,
                              note=_("added at a visit"), match=match)
    except PersonError as exc:
        errors.append(error(["people", index, exc.field], exc.message))
        return None, False


def _confirmed(household: Area, person: PersonFoundIn) -> Resident | None:
    """The registered person the officer picked among the candidates for the name and phone
    they gave (`NeedsConfirmation`), who may be registered elsewhere in the compound."""
    try:
        said = PersonIn.clean(name=person.name, phone=person.phone)
    except PersonError:
        return None
    return next((r for r in person_match(household, said).candidates if r.pk == person.resident), None)


def _check_codes(index: int, person: PersonFoundIn, errors: Errors) -> None:
    for n, code in enumerate(person.symptoms):
        if code not in Symptom.values:
            errors.append(error(["people", index, "symptoms", n], _("unknown symptom: %(code)s") % {"code": code}))
    for n, code in enumerate(person.care):
        if code not in CareTag.values:
            errors.append(error(["people", index, "care", n], _("unknown care tag: %(code)s") % {"code": code}))
    stay = person.key_region_stay
    if stay is not None and stay.from_ and stay.to and stay.from_ > stay.to:
        errors.append(error(["people", index, "key_region_stay", "to"], _("ends before it starts")))


def _observe(actor: Any, household: Area, resident: Resident, person: PersonFoundIn, day: date,
             errors: Errors, index: int) -> tuple[int, bool] | None:
    """Open (or propose) home observation for a returnee from a key region, propose it for a
    contact of a case; the id, or None when none is needed."""
    stay = person.key_region_stay
    region = key_region_named(stay.region, stay.to or person.returned_at or day, household) if stay else None
    if region is None and not person.contact_with_case:
        return None
    last = min(filter(None, [person.returned_at or (stay.to if stay else None) or day, day]))
    if stay is not None and region is not None:
        reason = _("came back from %(region)s") % {"region": stay.region}
        if person.travel:
            reason += f"（{person.travel}）"
        propose = bool(settings.LOUZHANG_OBSERVATION_NEEDS_CONFIRMATION)
    else:
        reason = _("contact with a confirmed or suspected case")
        propose = True
    days = (region.observation_days if region else None) or observation_days()
    if last + timedelta(days=days) < day:
        return None  # back long enough ago: the period is over
    try:
        observation, new = observation_open(
            actor=actor, household=household, resident=resident, reason=reason, last_exposure=last,
            source=Source.VISIT, exposure_region=stay.region if stay else "", propose=propose,
            days=days, today=day)
    except ObservationError as exc:
        errors.append(error(["people", index], str(exc)))
        return None
    return observation.pk, new


def _rounds_of(household: Area, day: date) -> list[Round]:
    ancestors = [*AreaPath(household.path).ancestors(), household.path]
    return list(Round.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day), area__path__in=ancestors, starts_on__lte=day,
        closed_at__isnull=True))


def _count_in_rounds(visit: Visit, household: Area, findings: list[Finding]) -> list[tuple[int, str, int, bool]]:
    """Keep the coverage rows of the rounds the household is in up to date."""
    day = timezone.localtime(visit.at).date()
    reached = visit.mode != Mode.NOBODY_HOME
    counts = {
        "returnees": sum(f.returnee for f in findings),
        "symptomatic": sum(bool(f.symptoms) for f in findings),
        "contacts": sum(f.contact_with_case for f in findings),
        "care": sum(bool(f.care_tags) for f in findings),
    }
    seen = []
    for round_ in _rounds_of(household, day):
        created = False
        with transaction.atomic():  # a savepoint: a visit racing this one may create the row
            try:
                row, created = RoundHousehold.objects.select_for_update().get_or_create(
                    round=round_, household=household,
                    defaults={"path": household.path, "unit_id": household.parent_id,
                              "last_visit_at": visit.at})
            except IntegrityError:
                row = RoundHousehold.objects.select_for_update().get(round=round_, household=household)
        changes: dict[str, Any] = {"visits": F("visits") + 1}
        if not row.last_visit_at or visit.at >= row.last_visit_at:
            changes["last_visit_at"] = visit.at
        # what the household adds to its unit's sums (`RoundUnit`): the change of its state
        was_reached = row.reached_on is not None
        unit_delta = {"reached": int(reached and not was_reached),
                      "nobody_home": int(not reached and created) - int(reached and not was_reached and not created)}
        if reached:
            if row.reached_on is None or day < row.reached_on:
                changes["reached_on"] = day
                changes["reached_by"] = visit.visited_by
            for name, n in counts.items():
                if n > getattr(row, name):
                    changes[name] = n
                    unit_delta[name] = n - getattr(row, name)
        else:
            changes["nobody_home"] = F("nobody_home") + 1
        RoundHousehold.objects.filter(pk=row.pk).update(**changes)
        _count_in_unit(round_, household, unit_delta)
        seen.append((round_.pk, round_.name, row.nobody_home + (0 if reached else 1),
                     reached or row.reached_on is not None))
    return seen


def _count_in_unit(round_: Round, household: Area, delta: dict[str, int]) -> None:
    """Add a household's change to its unit's sums in the round (row locked: two visits to
    one unit at once both count)."""
    if not any(delta.values()):
        return
    unit_path = AreaPath(household.path).ancestor(Level.UNIT)
    with transaction.atomic():
        try:
            RoundUnit.objects.get_or_create(round=round_, unit_id=household.parent_id,
                                            defaults={"path": unit_path})
        except IntegrityError:  # created a moment ago by a visit to a neighbour
            pass
    RoundUnit.objects.filter(round=round_, unit_id=household.parent_id).update(
        **{name: F(name) + value for name, value in delta.items() if value})


def visit_record(*, actor: Any, data: VisitIn, confirm: bool = False) -> VisitResult:
    """Store one visit (see the module). `confirm`: a person matched only by name and phone is
    not taken as certain — `NeedsConfirmation` lists the candidates for the officer to pick
    (the visit page); without it (devices) a single candidate is taken, several are an error.
    Raises `VisitRejected` with the errors of a visit that cannot be stored."""
    existing = Visit.objects.filter(visited_by=actor, client_id=data.client_id).first()
    if existing is not None:
        return VisitResult(0, "duplicate", id=existing.pk)
    household = household_for_visit(actor, data.household)
    if household is None:
        raise VisitRejected([error(["household"], _("no household with this code in your area"))])
    now = timezone.now()
    if data.at > now + timedelta(minutes=10):
        raise VisitRejected([error(["at"], _("time is in the future: check the device clock"))])
    if data.mode == "nobody_home" and data.people:
        raise VisitRejected([error(["people"], _("nobody was home: there is nobody to report on"))])
    errors: Errors = []
    for index, person in enumerate(data.people):
        _check_codes(index, person, errors)
    if errors:
        raise VisitRejected(errors)
    day = timezone.localtime(data.at).date()
    try:
        with transaction.atomic():
            result = _store(actor, household, data, day, confirm=confirm)
    except IntegrityError:
        # the same visit (client_id) stored a moment ago from another tab or a resend
        existing = Visit.objects.filter(visited_by=actor, client_id=data.client_id).first()
        if existing is None:
            raise
        return VisitResult(0, "duplicate", id=existing.pk)
    return result


def _store(actor: Any, household: Area, data: VisitIn, day: date, *, confirm: bool) -> VisitResult:
    visit = Visit.objects.create(household=household, visited_by=actor, client_id=data.client_id,
                                 at=data.at, mode=data.mode, note=data.note.strip())
    errors: Errors = []
    candidates: list[Candidates] = []
    findings: list[Finding] = []
    added: list[int] = []
    observations: list[int] = []
    opened: list[int] = []
    seen: set[int] = set()
    for index, person in enumerate(data.people):
        resident, new = _resolve(actor, household, index, person, confirm=confirm, errors=errors,
                                 candidates=candidates)
        if resident is None:
            continue
        if resident.pk in seen:
            errors.append(error(["people", index], _("this person is listed twice")))
            continue
        seen.add(resident.pk)
        if new:
            added.append(resident.pk)
        stay = person.key_region_stay
        finding = Finding(
            visit=visit, resident=resident, key_region=stay.region.strip() if stay else "",
            stay_from=stay.from_ if stay else None, stay_to=stay.to if stay else None,
            returned_on=person.returned_at, travel=person.travel.strip(),
            symptoms=",".join(dict.fromkeys(person.symptoms)),
            contact_with_case=person.contact_with_case, care_tags=",".join(dict.fromkeys(person.care)),
            advice=person.advice.strip(), note=person.note.strip(), added=new)
        if person.care:
            tags = [t for t in resident.care_tags.split(",") if t]
            merged = ",".join(dict.fromkeys([*tags, *person.care]))
            if merged != resident.care_tags:
                Resident.objects.filter(pk=resident.pk).update(care_tags=merged, updated_at=timezone.now())
        observed = _observe(actor, household, resident, person, day, errors, index)
        if observed is not None:
            finding.observation_id = observed[0]
            observations.append(observed[0])
            if observed[1]:
                opened.append(observed[0])
        findings.append(finding)
    if candidates:
        transaction.set_rollback(True)
        raise NeedsConfirmation(candidates)
    if errors:
        transaction.set_rollback(True)
        raise VisitRejected(errors)
    Finding.objects.bulk_create(findings)
    rounds = _count_in_rounds(visit, household, findings)
    fired = rules_fire("visit.recorded", VisitEvent(
        visit.pk, household, _place(household), data.mode != "nobody_home", tuple(rounds),
        sum(bool(f.symptoms) for f in findings)))
    audit_record(actor=actor, action="create", object_type="screening.visit", object_id=visit.pk,
                 area_path=household.path, summary=f"visit {data.mode}, {len(findings)} people")
    return VisitResult(0, "created", id=visit.pk, alerts=sorted({f.rule for f in fired}),
                       observations=observations, added=added, opened=opened, fired=fired)


def visits_ingest(*, user: Any, records: list[Any]) -> list[VisitResult]:
    """A batch of visits from a device (API.md): each answered on its own, in order."""
    if jurisdiction_for(user, roles=VISITING).is_empty:
        raise PermissionDenied("visits are recorded by wardens and commanders")
    parsed, invalid = validate_each(VisitIn, records)
    results: dict[int, VisitResult] = {
        index: VisitResult(index, "rejected", errors=errors) for index, errors in invalid.items()}
    for index, record in parsed:
        try:
            result = visit_record(actor=user, data=record)
        except VisitRejected as exc:
            result = VisitResult(index, "rejected", errors=exc.errors)
        result.index = index
        results[index] = result
    return [results[i] for i in range(len(records))]


# --- rounds ------------------------------------------------------------------------------

class RoundError(ValueError):
    pass


def round_open(*, actor: Any, area: Area, name: str, starts_on: date, ends_on: date | None = None) -> Round:
    """A commander opens a screening round over their area."""
    if not may_command(actor, area.path):
        raise PermissionDenied("a round is opened by a commander of the area")
    if area.level > Level.COMPOUND:
        raise RoundError(_("a round covers a compound or a larger area"))
    if ends_on is not None and ends_on < starts_on:
        raise RoundError(_("the round ends before it starts"))
    name = name.strip()
    if not name:
        raise RoundError(_("give the round a name"))
    round_ = Round.objects.create(name=name[:100], area=area, starts_on=starts_on, ends_on=ends_on,
                                  opened_by=actor)
    audit_record(actor=actor, action="create", object_type="screening.round", object_id=round_.pk,
                 area_path=area.path, summary=f"screening round {name}")
    return round_


def round_close(*, actor: Any, round_: Round) -> bool:
    if not may_command(actor, round_.area.path):
        raise PermissionDenied("a round is closed by a commander of the area")
    closed = Round.objects.filter(pk=round_.pk, closed_at__isnull=True).update(closed_at=timezone.now())
    if closed:
        audit_record(actor=actor, action="change", object_type="screening.round", object_id=round_.pk,
                     area_path=round_.area.path, summary="screening round closed")
    return bool(closed)
