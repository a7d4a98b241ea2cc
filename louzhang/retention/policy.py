"""What happens to personal data when an emergency ends (PIPL): one declarative table.

Every kind of record that holds (or may hold) personal data has one `Rule`: its rows are
deleted, or the named fields anonymised (blanked, or replaced by a fixed mark), or the rows are
kept — each with the reason, and after how many days from the end of the emergency. The purge
(`retention.services.purge`) does exactly what this table says, and the residents' page
(`/privacy/`) says exactly what this table says: there is no second description to drift.

Anonymising, not deleting, the event tables keeps every row the daily roll-ups (`stats`) count:
the fields the figures read (times, places, temperatures, dispositions, whether somebody was a
returnee or had symptoms) are kept or replaced by a mark that still counts as "something was
found", so the emergency's history shows the same figures even when a day is rolled up again.

Who is "registered only for the emergency": the registry has no source column, so the purge
reads it from the audit log — `registry.people.person_register` (a visit, a traveller put under
home observation, a device's record) writes one `create` event of object type
`registry.resident` per person it adds; the registry's import writes one event per file, never
per person. A person added that way during the emergency is anonymised; if the police registry
lists them too, its next import registers them again (it matches by ID number, which the purge
replaced).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: what replaces personal text that the figures count as "something was there" (a returnee's
#: region, a finding's symptoms) or that a page must show (a follow-up's summary); stored data,
#: the same in every language
MARK = "已清除"
#: the first character of a replaced personal link (never in a `secrets.token_urlsafe` token)
TOKEN_MARK = "~"  # noqa: S105 - a marker, not a secret


class Action(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"
    KEEP = "keep"


class Replace(StrEnum):
    #: ""
    BLANK = "blank"
    #: `MARK` where something was written, "" stays ""
    MARK = "mark"
    #: NULL (dates, links to other records)
    NULL = "null"
    #: `MARK` and the row's id: for a unique column (an ID number)
    UNIQUE = "unique"
    #: a fresh random secret starting with `TOKEN_MARK`: the old personal link opens nothing
    TOKEN = "token"  # noqa: S105 - the name of a replacement
    #: a date turned into the 1 January of its year (a birth date: the age stays, the person goes)
    YEAR = "year"


#: where a file named by a field lives
MEDIA = "media"
VAR = "var"


@dataclass(frozen=True)
class Rule:
    #: the key of the kind in reports (`PurgeRun.counts`) and on the page
    kind: str
    #: "app_label.Model"
    model: str
    action: Action
    #: what it is, in residents' words
    what: str | Promise
    #: why it is kept, anonymised or deleted
    why: str | Promise
    #: ANONYMISE: each personal field and what replaces it
    fields: Mapping[str, Replace] = field(default_factory=dict)
    #: the field (or path) dating a row: rows dated up to the end of the emergency are purged
    when: str = ""
    #: a named selection of rows beyond the date (`services.SCOPES`): "emergency_only"
    scope: str = ""
    #: fields naming files (relative to the media or the var/ folder), removed with their rows
    files: Mapping[str, str] = field(default_factory=dict)
    #: days after the end of the emergency before the rule applies
    after_days: int = 0
    #: KEEP: for how long, in residents' words
    kept_for: str | Promise = ""

    def pending(self) -> Q:
        """The rows that still hold something this rule removes (all rows in scope, for
        DELETE): what a run changes, and why a second run changes nothing."""
        if self.action == Action.DELETE:
            return Q()
        q = Q(pk__in=[])
        for name, how in self.fields.items():
            q |= _pending(name, how)
        return q


def _pending(name: str, how: Replace) -> Q:
    if how == Replace.BLANK:
        return ~Q(**{name: ""})
    if how == Replace.MARK:
        return ~Q(**{name: ""}) & ~Q(**{name: MARK})
    if how == Replace.NULL:
        return Q(**{f"{name}__isnull": False})
    if how == Replace.UNIQUE:
        return ~Q(**{f"{name}__startswith": MARK})
    if how == Replace.TOKEN:
        return ~Q(**{f"{name}__startswith": TOKEN_MARK})
    if how == Replace.YEAR:
        return ~(Q(**{f"{name}__month": 1}) & Q(**{f"{name}__day": 1}))
    raise ValueError(how)


B, M = Replace.BLANK, Replace.MARK

POLICY: tuple[Rule, ...] = (
    # --- people registered only for the emergency ------------------------------------------
    Rule(
        "residents_added", "registry.Resident", Action.ANONYMISE,
        what=_("People registered during the emergency (at a visit, at a checkpoint, under home observation)"),
        why=_("They were registered only for the emergency; the records about them stay as counts without a name."),
        fields={"name": M, "id_number": Replace.UNIQUE, "phone": B, "care_tags": B, "note": B,
                "birth_date": Replace.YEAR},
        when="created_at", scope="emergency_only",
    ),
    # --- the emergency's records ------------------------------------------------------------
    Rule(
        "gate_records", "gates.GateRecord", Action.ANONYMISE,
        what=_("Temperature checks at compound gates"),
        why=_("Visitors' names, phones, ID numbers and whom they visited are removed; time, gate and temperature stay as counts."),
        fields={"visitor_name": B, "visitor_phone": B, "visitor_id_number": B, "visitor_reason": B, "visiting": B},
        when="at",
    ),
    Rule(
        "household_marks", "gates.HomeObservation", Action.DELETE,
        what=_("Households marked at the gates as under home observation"),
        why=_("The mark only served the gates during the observation."),
        when="ends_on",
    ),
    Rule(
        "inspections", "checkpoints.VehicleInspection", Action.ANONYMISE,
        what=_("Vehicles checked at checkpoints"),
        why=_("The plate, where the car came from and its link to the vehicle register are removed; time, checkpoint and region stay as counts."),
        fields={"plate": M, "origin": B, "vehicle": Replace.NULL},
        when="at",
    ),
    Rule(
        "occupants", "checkpoints.Occupant", Action.ANONYMISE,
        what=_("People in vehicles checked at checkpoints"),
        why=_("Names, phones and ID numbers are removed; temperatures stay as counts."),
        fields={"name": B, "phone": B, "id_number": B},
        when="inspection__at",
    ),
    Rule(
        "visits", "screening.Visit", Action.ANONYMISE,
        what=_("Door-to-door visits"),
        why=_("The warden's notes are removed; which household was reached, and when, stay as counts."),
        fields={"note": B},
        when="at",
    ),
    Rule(
        "findings", "screening.Finding", Action.ANONYMISE,
        what=_("What visits found about each person (travel, symptoms, care needs)"),
        why=_("Places, dates, travel, symptoms, care needs and notes are removed; whether a returnee or symptoms were found stays as a count."),
        fields={"key_region": M, "stay_from": Replace.NULL, "stay_to": Replace.NULL,
                "returned_on": Replace.NULL, "travel": B, "symptoms": M, "care_tags": B,
                "advice": B, "note": B},
        when="visit__at",
    ),
    Rule(
        "observations", "observation.Observation", Action.ANONYMISE,
        what=_("Home observations"),
        why=_("Reasons, exposure places and notes are removed and the personal check-in link stops working; dates and outcomes stay as counts."),
        fields={"reason": M, "exposure_region": B, "close_note": B, "token": Replace.TOKEN},
        when="opened_at",
    ),
    Rule(
        "check_ins", "observation.CheckIn", Action.ANONYMISE,
        what=_("Temperature check-ins under home observation"),
        why=_("Symptoms and notes are removed; temperatures stay as counts."),
        fields={"symptoms": B, "note": B},
        when="at",
    ),
    Rule(
        "observation_events", "observation.ObservationEvent", Action.ANONYMISE,
        what=_("The history of home observations"),
        why=_("Notes are removed; what happened when stays as counts."),
        fields={"note": B},
        when="at",
    ),
    Rule(
        "tips", "tips.Tip", Action.ANONYMISE,
        what=_("Tips from residents, and their photos"),
        why=_("What was reported, where, the plate, the reporter's phone, the photo and the answer are removed; when and whether it was dealt with stay as counts."),
        fields={"place": B, "content": M, "plate": B, "contact_phone": B, "photo": B, "outcome": B},
        files={"photo": MEDIA},
        when="received_at",
    ),
    Rule(
        "tip_events", "tips.TipEvent", Action.ANONYMISE,
        what=_("The history of tips"),
        why=_("Notes are removed."),
        fields={"note": B},
        when="at",
    ),
    Rule(
        "followups", "followups.FollowUp", Action.ANONYMISE,
        what=_("Officers' follow-up tasks (fever, breach, tip …)"),
        why=_("What happened, what to do and the closing finding are removed; when it was opened and closed stays as counts."),
        fields={"summary": M, "action": M, "finding": B},
        when="opened_at",
    ),
    Rule(
        "followup_events", "followups.FollowUpEvent", Action.ANONYMISE,
        what=_("The history of follow-up tasks"),
        why=_("Notes are removed."),
        fields={"note": B},
        when="at",
    ),
    Rule(
        "notifications", "notifications.Notification", Action.DELETE,
        what=_("Messages in officers' inboxes"),
        why=_("They told officers what to do during the emergency."),
        when="created_at",
    ),
    Rule(
        "deliveries", "notifications.Delivery", Action.DELETE,
        what=_("Messages sent to group chats and by SMS, and the answers of the platforms"),
        why=_("They were sent during the emergency."),
        when="created_at",
    ),
    Rule(
        "unit_representatives", "disinfection.UnitRepresentative", Action.DELETE,
        what=_("Unit representatives for disinfection, and their personal links"),
        why=_("Residents volunteered for the emergency; the disinfection rounds they logged stay as counts."),
        when="registered_at",
    ),
    Rule(
        "import_files", "registry.ImportJob", Action.ANONYMISE,
        what=_("Copies of uploaded registry files and their lists of rejected rows"),
        why=_("The registry itself holds what was imported; the copies are removed."),
        fields={"stored_path": B, "rejects_path": B},
        files={"stored_path": VAR, "rejects_path": VAR},
        when="created_at",
    ),
    Rule(
        "export_files", "registry.ExportJob", Action.ANONYMISE,
        what=_("Spreadsheets of residents exported by officers"),
        why=_("They were copies of the registry made for the emergency."),
        fields={"file_path": B},
        files={"file_path": VAR},
        when="created_at",
    ),
    # --- what is kept -------------------------------------------------------------------------
    Rule(
        "residents_registry", "registry.Resident", Action.KEEP,
        what=_("The population registry of the police (residents and their households)"),
        why=_("It is the police registry, not a record of the emergency."),
        kept_for=_("As long as the police registry keeps it."),
    ),
    Rule(
        "vehicles", "registry.Vehicle", Action.KEEP,
        what=_("The register of residents' vehicles"),
        why=_("It is the police vehicle register, not a record of the emergency."),
        kept_for=_("As long as the police registry keeps it."),
    ),
    Rule(
        "figures", "stats.AreaDay", Action.KEEP,
        what=_("Daily figures of each area (how many checks, fevers, visits …)"),
        why=_("They are counts and name nobody; they are the history of the emergency."),
        kept_for=_("Kept as the record of the emergency."),
    ),
    Rule(
        "audit_log", "audit.AuditEvent", Action.KEEP,
        what=_("The log of who looked at or changed personal data"),
        why=_("It protects you: it shows who saw or changed your data, and nobody can change it."),
        kept_for=_("Kept as the record of access; the purge does not delete it."),
    ),
    Rule(
        "cross_lookups", "breakglass.LookUp", Action.KEEP,
        what=_("Officers' look-ups outside their own area, with the reason they gave"),
        why=_("Like the log of access, it shows who looked for whom and why."),
        kept_for=_("Kept as the record of access; the purge does not delete it."),
    ),
    Rule(
        "officers", "duty.Officer", Action.KEEP,
        what=_("Officers, their duty status and rosters"),
        why=_("They are the police's staff records, not residents' data."),
        kept_for=_("As long as the police keep their staff records."),
    ),
    Rule(
        "accounts", "accounts.User", Action.KEEP,
        what=_("Officers' and staff log-ins"),
        why=_("They are the accounts of the people who work in the system, not residents' data."),
        kept_for=_("Until the account is closed."),
    ),
    Rule(
        "notices", "notices.Notice", Action.KEEP,
        what=_("Published notices and wardens' public cards"),
        why=_("They were written to be public and name no resident."),
        kept_for=_("Until the officer who published them withdraws them."),
    ),
)


def rules(action: Action | None = None) -> list[Rule]:
    return [r for r in POLICY if action is None or r.action == action]
