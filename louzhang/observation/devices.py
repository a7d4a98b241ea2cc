"""Home observation from devices and other systems (API.md, "Home observation"): opening
observations and recording check-ins in batches, and the reads the device API answers with.

Each record is stored in its own transaction, so a bad record costs the batch nothing else, and
answered on its own (`created`, `duplicate`, `rejected` with errors naming the field):

- an observation sent again with the same `client_id` by the same user is `duplicate` with the
  stored observation's id; a person already under observation (or proposed for it) is not
  observed twice: `duplicate` with the open observation's id and a `note` saying so;
- the person is matched to the registry by ID number, else by name and phone (a single
  registered candidate in the household's compound is taken, several are an error); one not
  registered is added to the household when the ID number is given;
- a check-in sent again with the same `client_id` for the same observation is `duplicate`.

Only users who observe (`access.roles.OBSERVING`: warden, health liaison, commander) may post
(403 otherwise); an observation outside their jurisdiction is "not found" (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from louzhang.access.jurisdiction import jurisdiction_for
from louzhang.access.roles import OBSERVING, may_observe
from louzhang.areas.models import Area, Level
from louzhang.core.ingest import (
    Day,
    DeviceRecordIn,
    DeviceTime,
    Errors,
    RequiredWords,
    Result,
    Text,
    Words,
    error,
    future_error,
    validate_each,
)
from louzhang.observation.models import (
    CheckIn,
    Observation,
    Source,
    Symptom,
)
from louzhang.observation.selectors import access_observation
from louzhang.observation.services import ObservationError, check_in_record, observation_open
from louzhang.registry.models import Resident
from louzhang.registry.people import PersonError, PersonIn, person_resolve

#: records per request: each observation may register a person and opens a gate mark, each
#: check-in may open a follow-up — heavier than a gate record
MAX_BATCH = 200
#: the longest observation a device may ask for (the health liaison may extend it later)
MAX_DAYS = 28


class ObservedPersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: Text = Field(default="", max_length=30)
    name: Words = Field(default="", max_length=50)
    phone: Text = Field(default="", max_length=30)


class ObservationIn(DeviceRecordIn):
    """One observation as a device sends it (API.md, `POST /api/v1/observations`)."""

    household: Text = Field(min_length=1, max_length=64)
    person: ObservedPersonIn
    reason: RequiredWords = Field(max_length=200)
    last_exposure: Day
    #: where the exposure was, in words (武汉市)
    exposure_region: Words = Field(default="", max_length=100)
    #: days from the last exposure (default `LOUZHANG_OBSERVATION_DAYS`, 14)
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)


class CheckInIn(DeviceRecordIn):
    """One check-in (API.md, `POST /api/v1/observations/{id}/check-ins`)."""

    at: DeviceTime
    temperature: Decimal = Field(ge=Decimal("34.0"), le=Decimal("43.0"), max_digits=3, decimal_places=1)
    symptoms: list[Text] = Field(default_factory=list, max_length=10)
    note: Words = Field(default="", max_length=200)


@dataclass
class ObservationResult(Result):
    """`Result`, and whether the person was added to the registry, and a note when the record
    was answered with an observation opened before (the person was already under observation)."""

    added: bool = False
    note: str = ""


@dataclass
class CheckInResult(Result):
    """`Result` and the follow-ups the check-in opened (a fever: the health liaison's)."""

    followups: list[int] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors


def _check_may_observe(user: Any) -> None:
    """Only officers who observe somewhere may post observations or check-ins."""
    if jurisdiction_for(user, roles=OBSERVING).is_empty:
        raise PermissionDenied("home observation is kept by wardens, health liaisons and commanders")


# --- observations ----------------------------------------------------------------------------

def _household(user: Any, code: str) -> Area:
    household = Area.objects.filter(code=code, level=Level.HOUSEHOLD).first()
    if household is None or not may_observe(user, household.path):
        raise _Rejected([error(["household"], _("no household with this code in your area"))])
    return household


def _person(user: Any, household: Area, person: ObservedPersonIn) -> tuple[Resident, bool]:
    """The registered resident the person is (added to `household` if new) and whether added."""
    try:
        said = PersonIn.clean(id_number=person.id_number, name=person.name, phone=person.phone)
        return person_resolve(actor=user, household=household, person=said,
                              note=_("added when put under home observation"))
    except PersonError as exc:
        raise _Rejected([error(["person", exc.field], exc.message)]) from None


def _open(user: Any, index: int, record: ObservationIn) -> ObservationResult:
    """Inside the record's transaction: match or add the person, open the observation."""
    household = _household(user, record.household)
    resident, added = _person(user, household, record.person)
    try:
        observation, new = observation_open(
            actor=user, household=household, resident=resident, reason=record.reason,
            last_exposure=record.last_exposure, source=Source.DEVICE,
            exposure_region=record.exposure_region.strip(), days=record.days,
            client_id=record.client_id)
    except ObservationError as exc:
        raise _Rejected([error(["last_exposure"], str(exc))]) from None
    if new:
        return ObservationResult(index, "created", id=observation.pk, added=added)
    if observation.opened_by_id == user.pk and observation.client_id == record.client_id:
        return ObservationResult(index, "duplicate", id=observation.pk)  # a resend, racing
    if not may_observe(user, observation.household.path):
        # under observation in a household the user does not see: say so, show nothing of it
        raise _Rejected([error(["person"], _(
            "already under home observation outside your area: the command centre can move it"))])
    # nothing of this record is kept: a person added a moment ago goes too
    transaction.set_rollback(True)
    note = _("already under home observation (%(status)s) from %(start)s to %(end)s: not opened again") % {
        "status": observation.get_status_display(), "start": observation.starts_on,
        "end": observation.ends_on}
    return ObservationResult(index, "duplicate", id=observation.pk, note=note)


def observation_record(*, user: Any, index: int, record: ObservationIn) -> ObservationResult:
    """One observation from a device, in its own transaction (see the module)."""
    stored = Observation.objects.filter(opened_by=user, client_id=record.client_id).first()
    if stored is not None:
        return ObservationResult(index, "duplicate", id=stored.pk)
    try:
        with transaction.atomic():
            return _open(user, index, record)
    except _Rejected as exc:
        return ObservationResult(index, "rejected", errors=exc.errors)
    except IntegrityError:
        # the same client_id stored a moment ago by a resend of this batch
        stored = Observation.objects.filter(opened_by=user, client_id=record.client_id).first()
        if stored is None:
            raise
        return ObservationResult(index, "duplicate", id=stored.pk)


def observations_ingest(*, user: Any, records: list[Any]) -> list[ObservationResult]:
    """A batch of observations from a device: each answered on its own, in order."""
    _check_may_observe(user)
    parsed, invalid = validate_each(ObservationIn, records)
    results: dict[int, ObservationResult] = {
        index: ObservationResult(index, "rejected", errors=errors) for index, errors in invalid.items()}
    for index, record in parsed:
        results[index] = observation_record(user=user, index=index, record=record)
    return [results[i] for i in range(len(records))]


# --- check-ins -------------------------------------------------------------------------------

def _check(observation: Observation, record: CheckInIn) -> Errors:
    errors: Errors = []
    for n, code in enumerate(record.symptoms):
        if code not in Symptom.values:
            errors.append(error(["symptoms", n], _("unknown symptom: %(code)s") % {"code": code}))
    if record.at > timezone.now() + timedelta(minutes=10):
        errors.append(future_error())
    elif timezone.localtime(record.at).date() < observation.starts_on:
        errors.append(error(["at"], _("the observation started on %(date)s") % {"date": observation.starts_on}))
    return errors


def check_ins_ingest(*, user: Any, observation_id: int | str, records: list[Any]) -> list[CheckInResult]:
    """A batch of check-ins of one observation: each answered on its own, in order, with the
    rules it fired (`check_in_fever`) and the follow-ups opened. An observation the user does
    not observe is "not found" for the whole request (`Http404`)."""
    _check_may_observe(user)
    observation = access_observation(user, observation_id)
    parsed, invalid = validate_each(CheckInIn, records)
    results: dict[int, CheckInResult] = {
        index: CheckInResult(index, "rejected", errors=errors) for index, errors in invalid.items()}
    stored = dict(CheckIn.objects.filter(
        observation=observation, client_id__in={r.client_id for _i, r in parsed},
    ).values_list("client_id", "id"))
    for index, record in parsed:
        if record.client_id in stored:
            results[index] = CheckInResult(index, "duplicate", id=stored[record.client_id])
            continue
        errors = _check(observation, record)
        if errors:
            results[index] = CheckInResult(index, "rejected", errors=errors)
            continue
        try:
            done = check_in_record(
                observation=observation, at=record.at, temperature=record.temperature,
                symptoms=record.symptoms, note=record.note, actor=user, via=CheckIn.Via.DEVICE,
                client_id=record.client_id)
        except ObservationError as exc:  # closed: released, to hospital, moved away …
            results[index] = CheckInResult(index, "rejected", errors=[error([], str(exc))])
            continue
        stored[record.client_id] = done.check_in.pk
        results[index] = CheckInResult(
            index, "created" if done.created else "duplicate", id=done.check_in.pk,
            alerts=done.alerts, followups=done.followups)
    return [results[i] for i in range(len(records))]
