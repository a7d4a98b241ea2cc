"""`GET /api/v1/offline`: what an officer's phone keeps for working without signal (the offline
app, issue 15) — the passes of their gates' compounds (as keyed hashes), their checkpoints and the key regions in force
there, the households they visit with their members, the home observations they check in.

Only what the user's roles need, from their jurisdiction, masked as the pages mask it for them
(`access.masking.present`); people shown in full are written to the audit log as a page showing
them is; the passes sent to gate staff are audited as a read of the compound's passes. A gate
guard's phone never holds a pass code nor a household: only `HMAC-SHA256(pass_salt, code)` of each
valid pass (a fresh random salt per answer) and whether its household is under home observation —
enough to recognise a scanned code and warn, as the gate page does, and no list of codes to print
passes from. Every part is read in a bounded number of queries, whatever the number of passes or
households. The answer carries an `ETag`: a phone that sends it back in `If-None-Match` gets
304 with nothing to read (and nothing audited: it was shown nothing new).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import parse_etags
from ninja import Field, Router, Schema

from louzhang.access.jurisdiction import jurisdiction_for, scope
from louzhang.access.masking import Presented, present
from louzhang.accounts.models import Role
from louzhang.areas.models import Area, Level
from louzhang.audit.models import AuditEvent
from louzhang.audit.services import audit_record
from louzhang.checkpoints.key_regions import city_path, in_force, key_regions_for_cities
from louzhang.checkpoints.models import Checkpoint, KeyRegion
from louzhang.core.clock import today_start
from louzhang.core.paths import AreaPath
from louzhang.gates.models import HomeObservation, HouseholdPass
from louzhang.gates.selectors import gates_for
from louzhang.identifiers.divisions import division, place_names_under, province_name
from louzhang.observation.models import Observation, Status
from louzhang.registry.models import Resident

router = Router(tags=["offline"])

#: the roles whose households go on the phone for the visit form: a warden climbs the stairs of
#: their buildings; a commander's area (a district: tens of thousands of households) does not
#: fit a phone, and they visit through the pages
VISITING_ON_FOOT = (Role.WARDEN,)
#: the roles whose open observations go on the phone for the check-in form (a commander's city
#: is left to the pages, as above)
CHECKING_IN_ON_FOOT = (Role.WARDEN, Role.HEALTH)


# --- the answer ------------------------------------------------------------------------------

class OfflineUserOut(Schema):
    username: str
    name: str


class OfflinePassOut(Schema):
    hash: str = Field(description="HMAC-SHA256 keyed with `pass_salt` (hex) of the pass code as printed "
                                  "(no spaces, upper case), hex, first 32 digits")
    under_observation: bool = Field(description="the household is under home observation today: warn the guard")
    observation_until: date | None = Field(description="the last day of that observation")


class OfflineGateOut(Schema):
    code: str
    name: str
    compound: str
    compound_code: str = Field(description="its compound in `compounds`")


class OfflineCompoundOut(Schema):
    code: str
    name: str
    passes: list[OfflinePassOut] = Field(description="every valid (not revoked) pass of the compound, hashed")


class OfflineCheckpointOut(Schema):
    code: str
    name: str
    road: str


class OfflineKeyRegionOut(Schema):
    name: str
    province: str = Field(description="the province of its first division prefix (湖北省), or empty")
    city: str = Field(description="the prefecture-level city of its first division prefix (武汉市), or empty")
    plate_prefixes: list[str] = Field(description="a plate starting with one of these is from the region (鄂A)")
    division_prefixes: list[str] = Field(description="GB/T 2260 code prefixes of its divisions (4201)")
    places: list[str] = Field(
        description="names (without suffix) of its provinces and cities: an origin naming one is in the region")
    risk: str
    starts_on: date
    ends_on: date | None


class OfflineMemberOut(Schema):
    resident: int = Field(description='send it back as `people[].resident` of a visit')
    name: str
    id_number: str
    phone: str


class OfflineHouseholdOut(Schema):
    code: str
    label: str
    compound: str
    members: list[OfflineMemberOut]


class OfflineObservationOut(Schema):
    id: int
    household: str
    person: str
    ends: date
    checked_in_today: bool


class OfflineOut(Schema):
    user: OfflineUserOut
    generated_at: str
    pass_salt: str = Field(description="the key (hex) of the pass hashes of this answer: random per answer")
    gates: list[OfflineGateOut]
    compounds: list[OfflineCompoundOut] = Field(description="the compounds of `gates`, with their passes")
    checkpoints: list[OfflineCheckpointOut]
    key_regions: list[OfflineKeyRegionOut]
    households: list[OfflineHouseholdOut]
    observations: list[OfflineObservationOut]


# --- reading it ------------------------------------------------------------------------------

@dataclass
class Pack:
    """The answer, and the people in it shown in full (to audit when it is sent)."""

    body: dict[str, Any]
    #: (area path to audit under, model label) -> ids of records shown in full
    full_views: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: over the content before the pass codes were hashed (the salt is new in every answer)
    etag: str = ""

    def note_full(self, presented: Sequence[Presented], under: str) -> None:
        for shown in presented:
            if shown.full:
                label = type(shown.obj)._meta.label_lower
                self.full_views.setdefault((under, label), []).append(str(shown.obj.pk))


def _label(household: Area) -> str:
    """34号楼二单元6楼西户: building, unit and household names."""
    unit = household.parent
    building = unit.parent if unit is not None else None
    return "".join(a.name for a in (building, unit, household) if a is not None)


def _compound_of(household: Area) -> Area | None:
    area: Area | None = household
    while area is not None and area.level > Level.COMPOUND:
        area = area.parent
    return area


def _subtrees(field_name: str, paths: Iterable[str]) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field_name}__subtree": path})
    return condition


PASS_HASH_DIGITS = 32  # 16 bytes of the HMAC


def pass_hash(salt: str, code: str) -> str:
    """The pass code as the phone recognises it: HMAC-SHA256 keyed with the salt's bytes of the
    code as printed (no spaces, upper case), hex, first `PASS_HASH_DIGITS` digits — offline.js
    computes the same with WebCrypto."""
    normal = code.replace(" ", "").upper()
    return hmac.new(bytes.fromhex(salt), normal.encode(), hashlib.sha256).hexdigest()[:PASS_HASH_DIGITS]


def _gates(user: Any, today: date, pack: Pack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The gates the user stands at (gate staff of the compound), and their compounds with every
    valid pass — the code in clear here, hashed by `_hash_passes` once the ETag is taken: one query
    for the gates, one for the passes, one for the observation marks. The passes are audited as a
    read of each compound's passes."""
    gates = list(gates_for(user, roles=[Role.GATE]).order_by("compound__path", "code"))
    if not gates:
        return [], []
    compounds = {g.compound.path: g.compound for g in gates}
    marks: dict[int, date] = {}
    for household_id, ends_on in HomeObservation.objects.filter(
            _subtrees("household__path", compounds), ended_at__isnull=True, starts_on__lte=today,
            ends_on__gte=today).values_list("household_id", "ends_on"):
        marks[household_id] = max(ends_on, marks.get(household_id, ends_on))
    by_compound: dict[str, list[dict[str, Any]]] = {path: [] for path in compounds}
    for pk, code, household_id, household_path in (
            HouseholdPass.objects.filter(_subtrees("household__path", compounds), revoked_at__isnull=True)
            .order_by("household__path", "code").values_list("pk", "code", "household_id", "household__path")):
        until = marks.get(household_id)
        compound = AreaPath(household_path).ancestor(Level.COMPOUND)
        by_compound[compound].append({"code": code, "under_observation": until is not None,
                                      "observation_until": until})
        pack.full_views.setdefault((compound, HouseholdPass._meta.label_lower), []).append(str(pk))
    return ([{"code": g.code, "name": g.name, "compound": g.compound.name, "compound_code": g.compound.code}
             for g in gates],
            [{"code": c.code, "name": c.name, "passes": by_compound[path]}
             for path, c in sorted(compounds.items())])


def _hash_passes(body: dict[str, Any], salt: str) -> None:
    """Replace every pass code of the answer by its keyed hash (`pass_hash`)."""
    body["pass_salt"] = salt
    for compound in body["compounds"]:
        compound["passes"] = [{"hash": pass_hash(salt, p["code"]), "under_observation": p["under_observation"],
                               "observation_until": p["observation_until"]} for p in compound["passes"]]


def _checkpoints(user: Any) -> list[Checkpoint]:
    """The checkpoints the user works at as a checkpoint officer."""
    return list(scope(Checkpoint.objects.select_related("area"), user, roles=[Role.CHECKPOINT]).order_by("code"))


def _key_region(region: KeyRegion) -> dict[str, Any]:
    first = region.division_prefixes[0] if region.division_prefixes else ""
    city = division(first[:4] + "00") if len(first) >= 4 else None
    places = sorted({p for prefix in region.division_prefixes for p in place_names_under(prefix)},
                    key=lambda p: (-len(p), p))
    return {"name": region.name, "province": (province_name(first) or "") if first else "",
            "city": city.name if city else "", "plate_prefixes": list(region.plate_prefixes),
            "division_prefixes": list(region.division_prefixes), "places": places, "risk": region.risk,
            "starts_on": region.starts_on, "ends_on": region.ends_on}


def _key_regions(checkpoints: list[Checkpoint], today: date) -> list[dict[str, Any]]:
    """The key regions in force today where the user's checkpoints are: the operator's list and
    their cities' (`checkpoints.key_regions`)."""
    if not checkpoints:
        return []
    regions = key_regions_for_cities({city_path(c.area.path) for c in checkpoints}).filter(in_force(today))
    return [_key_region(r) for r in regions.order_by("starts_on", "name", "pk")]


def _households(user: Any, pack: Pack) -> list[dict[str, Any]]:
    """The households of the user's buildings (a warden's), with their members masked as the
    household page masks them: one query for the households, one for the members."""
    wardens = jurisdiction_for(user, roles=VISITING_ON_FOOT)
    if wardens.is_empty:
        return []
    households = list(Area.objects.filter(wardens.q("path"), level=Level.HOUSEHOLD)
                      .select_related("parent__parent__parent").order_by("path"))
    if not households:
        return []
    members: dict[int, list[Resident]] = {h.pk: [] for h in households}
    for resident in Resident.objects.filter(wardens.q("household__path")).order_by(
            "household_id", "-is_head", "birth_date", "pk"):
        members.setdefault(resident.household_id, []).append(resident)
    by_id = {h.pk: h for h in households}
    # per compound: one audit event for the compound's people shown in full, as an export does
    by_compound: dict[str, list[Resident]] = {}
    for household in households:
        by_compound.setdefault(AreaPath(household.path).ancestor(Level.COMPOUND), []).extend(members[household.pk])
    shown: dict[int, Presented] = {}
    for compound, people in by_compound.items():
        presented = present(user, people, path_of=lambda r: by_id[r.household_id].path, record=False)
        pack.note_full(presented, compound)
        shown.update({p.obj.pk: p for p in presented})
    answer = []
    for household in households:
        compound_area = _compound_of(household)
        answer.append({"code": household.code, "label": _label(household),
                       "compound": compound_area.name if compound_area else "",
                       "members": [{"resident": r.pk, "name": shown[r.pk]["name"],
                                    "id_number": shown[r.pk]["id_number"], "phone": shown[r.pk]["phone"]}
                                   for r in members[household.pk]]})
    return answer


def _observations(user: Any, pack: Pack) -> list[dict[str, Any]]:
    """The active home observations the user checks in (a warden's, a health liaison's), the
    person masked as the observation pages mask them: one query."""
    if jurisdiction_for(user, roles=CHECKING_IN_ON_FOOT).is_empty:
        return []
    observations = list(scope(Observation.objects.filter(status=Status.ACTIVE), user, roles=CHECKING_IN_ON_FOOT)
                        .select_related("household__parent__parent", "resident").order_by("household__path", "pk"))
    if not observations:
        return []
    paths = {o.resident.pk: o.household.path for o in observations}
    people = {p.obj.pk: p for p in present(user, [o.resident for o in observations],
                                            path_of=lambda r: paths[r.pk], record=False)}
    for observation in observations:
        pack.note_full([people[observation.resident.pk]],
                       AreaPath(observation.household.path).ancestor(Level.COMPOUND))
    start = today_start()
    return [{"id": o.pk, "household": _label(o.household), "person": people[o.resident.pk]["name"],
             "ends": o.ends_on, "checked_in_today": o.last_check_in_at is not None and o.last_check_in_at >= start}
            for o in observations]


def offline_pack(user: Any) -> Pack:
    """What `user`'s phone keeps (see the module). The operator (a superuser) holds no role in
    the field: their jurisdiction is everything, which no phone keeps — empty lists."""
    today = timezone.localdate()
    pack = Pack(body={})
    if getattr(user, "is_superuser", False):
        pack.body = {"user": {"username": user.username, "name": str(user)}, "gates": [], "compounds": [],
                     "checkpoints": [], "key_regions": [], "households": [], "observations": []}
    else:
        pack.body = _pack_body(user, today, pack)
    pack.etag = _etag(pack.body)
    _hash_passes(pack.body, secrets.token_hex(16))
    return pack


def _pack_body(user: Any, today: date, pack: Pack) -> dict[str, Any]:
    checkpoints = _checkpoints(user)
    gates, compounds = _gates(user, today, pack)
    return {
        "user": {"username": user.username, "name": str(user)},
        "gates": gates,
        "compounds": compounds,
        "checkpoints": [{"code": c.code, "name": c.name, "road": c.road} for c in checkpoints],
        "key_regions": _key_regions(checkpoints, today),
        "households": _households(user, pack),
        "observations": _observations(user, pack),
    }


def offline_audit(user: Any, pack: Pack) -> None:
    """The people the pack shows in full and the passes it holds (hashed: still a read of the
    compound's passes), one event per compound and kind of record (a page showing them writes
    one per household it shows)."""
    for (path, label), ids in pack.full_views.items():
        audit_record(actor=user, action=AuditEvent.Action.VIEW, object_type=label,
                     object_id=ids[0] if len(ids) == 1 else "", area_path=path,
                     summary=f"{len(ids)} {label} (offline app)", detail={"ids": ids})


def _etag(body: dict[str, Any]) -> str:
    content = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
    return '"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'


# --- the endpoint ----------------------------------------------------------------------------

_OPENAPI = {
    "parameters": [{"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                    "description": "the `ETag` of the answer the phone keeps: 304 if it is still current "
                                   "(any other value, `*` included: the whole answer)"}],
    "responses": {
        200: {"headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}},
        304: {"description": "Not changed since the `ETag` sent in `If-None-Match`: keep what you have.",
              "headers": {"ETag": {"schema": {"type": "string"}}}},
    },
}


@router.get("/offline", response={200: OfflineOut, 304: None}, openapi_extra=_OPENAPI)
def get_offline(request: HttpRequest) -> HttpResponse:
    """What the phone keeps for working offline, for the token's or the session's user — only
    what their roles need, from their jurisdiction (empty lists for the rest):

    - `gates`: the gates they staff; `compounds`: their compounds, each with every valid pass as
      `HMAC-SHA256(pass_salt, code)` (the code as printed, no spaces, upper case; hex, first 32
      digits; `pass_salt` new in every answer) and whether the pass's household is under home
      observation today — no code, no household: a scanned code is recognised, nothing listed;
    - `checkpoints` they work at and the `key_regions` in force there (the operator's list and
      their cities');
    - `households`: a warden's households with their members — names, phones and ID numbers
      masked as the household page masks them for this user;
    - `observations`: the active home observations a warden or health liaison checks in.

    People shown in full, and the passes sent, are written to the audit log. Send the `ETag` back in `If-None-Match`:
    304 while nothing changed. Never cached by the browser (`Cache-Control: private, no-store`)."""
    user = request.auth  # type: ignore[attr-defined]
    pack = offline_pack(user)
    etag = pack.etag
    headers = {"ETag": etag, "Cache-Control": "private, no-store", "Vary": "Authorization, Cookie"}
    sent = request.headers.get("If-None-Match", "")
    # only the tag itself: `*` ("anything you have") is no answer a phone keeps, so it gets the pack
    if sent and etag in {e.removeprefix("W/") for e in parse_etags(sent)}:
        response = HttpResponse(status=304)
    else:
        offline_audit(user, pack)
        body = {**pack.body, "generated_at": timezone.localtime().isoformat(timespec="seconds")}
        response = HttpResponse(json.dumps(body, ensure_ascii=False, default=str),
                                content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response
