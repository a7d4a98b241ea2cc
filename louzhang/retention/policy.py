"""What happens to personal data when an emergency ends (PIPL): one declarative table.

Every kind of record that holds (or may hold) personal data has one `Rule`: its rows are
deleted, or the named fields anonymised (blanked, or replaced by a fixed mark), or the rows are
kept — each with the reason, and after how many days from the end of the emergency. The purge
(`retention.services.purge`) does exactly what this table says, and the residents' page
(`/privacy/`) says exactly what this table says: there is no second description to drift.

Health records tied to a person (what visits found, home observations with their check-ins and
history) are deleted, not anonymised: a row kept with its link to the person would still say who
had a fever. The other event tables are anonymised. The daily figures (`stats`) stay as they
were: `louzhang purge` (in `ops`, which sees both floors) freezes every day up to the end of the
emergency in `stats` before anything is removed (`stats.models.freeze_through`), and a frozen day
is never rolled up again.

Work still under way is not touched: a rule's `open_if` names the rows still open (an
observation under way, a follow-up or a tip not closed); they are kept until they are closed, the
report counts them, and the next purge after that removes them.

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
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from louzhang.followups.models import ACTIVE_STATES
from louzhang.observation.models import OPEN_STATUSES as OBSERVATION_OPEN
from louzhang.tips.models import OPEN_STATUSES as TIP_OPEN

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
    #: False (an account's `is_active`)
    FALSE = "false"
    #: a password nobody can log in with (Django's unusable mark "!" and a random secret)
    UNUSABLE = "unusable"
    #: a time that is later than now, or none, becomes now (a grant ends)
    ENDED = "ended"
    #: the first 6 characters (the region of an ID number) and `MASK_TAIL`
    MASK = "mask"


#: what follows the region of a masked ID number
MASK_TAIL = "*" * 12


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
    #: rows still open, skipped and reported until closed: (field or path, the open values)
    open_if: tuple[str, tuple[str, ...]] | None = None

    def still_open(self) -> Q:
        if self.open_if is None:
            return Q(pk__in=[])
        path, values = self.open_if
        return Q(**{f"{path}__in": list(values)})

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
    if how == Replace.FALSE:
        return Q(**{name: True})
    if how == Replace.UNUSABLE:
        return ~Q(**{f"{name}__startswith": "!"})
    if how == Replace.ENDED:
        return Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gt": timezone.now()})
    if how == Replace.MASK:
        return ~Q(**{name: ""}) & ~Q(**{f"{name}__endswith": MASK_TAIL})
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
        why=_("The household a check belonged to, and visitors' names, phones, ID numbers, reasons and whom they visited are removed; time, gate and temperature stay, linked to nobody."),
        fields={"household": Replace.NULL, "visitor_name": B, "visitor_phone": B,
                "visitor_id_number": B, "visitor_reason": B, "visiting": B},
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
        "findings", "screening.Finding", Action.DELETE,
        what=_("What visits found about each person (travel, symptoms, care needs)"),
        why=_("They are health records about a person; the daily figures already counted them."),
        when="visit__at",
    ),
    # check-ins and history before their observations (which would take them along uncounted)
    Rule(
        "check_ins", "observation.CheckIn", Action.DELETE,
        what=_("Temperature check-ins under home observation"),
        why=_("They are health records about a person; the daily figures already counted them."),
        when="observation__opened_at", open_if=("observation__status", OBSERVATION_OPEN),
    ),
    Rule(
        "observation_events", "observation.ObservationEvent", Action.DELETE,
        what=_("The history of home observations"),
        why=_("It is part of a person's home observation."),
        when="observation__opened_at", open_if=("observation__status", OBSERVATION_OPEN),
    ),
    Rule(
        "observations", "observation.Observation", Action.DELETE,
        what=_("Home observations, and their personal check-in links"),
        why=_("They are health records about a person; the daily figures already counted them."),
        when="opened_at", open_if=("status", OBSERVATION_OPEN),
    ),
    Rule(
        "tips", "tips.Tip", Action.ANONYMISE,
        what=_("Tips from residents, and their photos"),
        why=_("What was reported, where, the plate, the reporter's phone, the photo and the answer are removed; when and whether it was dealt with stay as counts."),
        fields={"place": B, "content": M, "plate": B, "contact_phone": B, "photo": B, "outcome": B},
        files={"photo": MEDIA},
        when="received_at", open_if=("status", TIP_OPEN),
    ),
    Rule(
        "tip_events", "tips.TipEvent", Action.ANONYMISE,
        what=_("The history of tips"),
        why=_("Notes are removed."),
        fields={"note": B},
        when="at", open_if=("tip__status", TIP_OPEN),
    ),
    Rule(
        "followups", "followups.FollowUp", Action.ANONYMISE,
        what=_("Officers' follow-up tasks (fever, breach, tip …)"),
        why=_("What happened, what to do and the closing finding are removed; when it was opened and closed stays as counts."),
        fields={"summary": M, "action": M, "finding": B},
        when="opened_at", open_if=("state", ACTIVE_STATES),
    ),
    Rule(
        "followup_events", "followups.FollowUpEvent", Action.ANONYMISE,
        what=_("The history of follow-up tasks"),
        why=_("Notes are removed."),
        fields={"note": B},
        when="at", open_if=("followup__state", ACTIVE_STATES),
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
    # grants first: the accounts' scope reads them
    Rule(
        "unit_rep_grants", "accounts.Grant", Action.ANONYMISE,
        what=_("The unit representatives' permission to log in"),
        why=_("They were given only for the emergency; they end."),
        fields={"ends_at": Replace.ENDED},
        scope="unit_reps_only",
    ),
    Rule(
        "unit_rep_accounts", "accounts.User", Action.ANONYMISE,
        what=_("Log-ins of unit representatives (residents)"),
        why=_("The account is closed: nobody can log in with it, and the name, phone and e-mail are removed."),
        fields={"display_name": B, "first_name": B, "last_name": B, "phone": B, "email": B,
                "is_active": Replace.FALSE, "password": Replace.UNUSABLE},
        scope="unit_reps_only",
    ),
    Rule(
        "cross_lookups", "breakglass.LookUp", Action.ANONYMISE,
        what=_("Officers' look-ups outside their own area, with the reason they gave"),
        why=_("The reason is removed and the ID number looked up is cut to its region; which officer looked up, when, and what they opened stay as the record of access."),
        fields={"reason": M, "id_number": Replace.MASK},
        when="created_at",
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
        "officers", "duty.Officer", Action.KEEP,
        what=_("Officers, their duty status and rosters"),
        why=_("They are the police's staff records, not residents' data."),
        kept_for=_("As long as the police keep their staff records."),
    ),
    Rule(
        "accounts", "accounts.User", Action.KEEP,
        what=_("Officers' and staff log-ins (not those of unit representatives)"),
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
