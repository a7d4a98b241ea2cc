"""Door-to-door screening (上门入户走访、摸排): visits to households, what was found about each
person, and the rounds a commander opens over an area ("1月25日起全面摸排") with their coverage.

Coverage is read from `RoundHousehold`, one row per household a round has seen, kept up to date
by every visit (a district's coverage is then a GROUP BY over its households' rows, not over
every visit ever made).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from louzhang.areas.models import Area, Level
from louzhang.core.paths import PathField
from louzhang.core.personal import Kind, PersonalCharField, Sensitivity
from louzhang.observation.models import Observation
from louzhang.registry.models import Resident


class Round(models.Model):
    """A screening round (摸排) over an area: every household in it is to be visited."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    jurisdiction_path = "area__path"

    class Meta:
        verbose_name = _("screening round")
        verbose_name_plural = _("screening rounds")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name


class Mode(models.TextChoices):
    IN_PERSON = "in_person", _("in person")  # 上门
    PHONE = "phone", _("by phone")  # 电话
    WECHAT = "wechat", _("by WeChat")  # 微信
    NOBODY_HOME = "nobody_home", _("nobody home")  # 无人应答


class Visit(models.Model):
    household = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+",
                                  limit_choices_to={"level": Level.HOUSEHOLD},
                                  verbose_name=_("household"))
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("visited by"))
    #: the device's (or the page's) own id of the visit: sending it again stores nothing twice
    client_id = models.CharField(max_length=64)
    at = models.DateTimeField(_("time"))
    mode = models.CharField(_("how"), max_length=16, choices=Mode.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    jurisdiction_path = "household__path"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["visited_by", "client_id"], name="visit_client_once")]
        indexes = [models.Index(fields=["household", "at"], name="visit_household_time")]

    def __str__(self) -> str:
        return f"{self.household} {self.at:%Y-%m-%d}"


class Finding(models.Model):
    """What a visit found about one person (or "nothing to report")."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="findings")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="findings")
    #: where they stayed or passed through (武汉市), and when
    key_region = models.CharField(_("key region"), max_length=100, blank=True)
    stay_from = models.DateField(_("stayed from"), null=True, blank=True)
    stay_to = models.DateField(_("stayed until"), null=True, blank=True)
    returned_on = models.DateField(_("came back on"), null=True, blank=True)
    #: train number, flight or car plate
    travel = models.CharField(_("travel"), max_length=50, blank=True)
    #: codes of `observation.models.Symptom`, comma-separated: health information
    symptoms = PersonalCharField(_("symptoms"), max_length=200, blank=True, kind=Kind.HEALTH,
                                 sensitivity=Sensitivity.SENSITIVE)
    contact_with_case = models.BooleanField(_("contact with a case"), default=False)
    #: care tags found at the door (codes of `registry.care.CareTag`), also set on the resident
    care_tags = PersonalCharField(_("care"), max_length=100, blank=True, kind=Kind.HEALTH,
                                  sensitivity=Sensitivity.SENSITIVE)
    advice = models.CharField(_("advice given"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    #: the resident was added to the registry at this visit
    added = models.BooleanField(default=False)
    observation = models.ForeignKey(Observation, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")

    jurisdiction_path = "visit__household__path"

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return f"{self.visit_id}/{self.resident_id}"

    @property
    def returnee(self) -> bool:
        """Came back from (or through) a key region (返包人员)."""
        return bool(self.key_region)

    @property
    def nothing(self) -> bool:
        return not (self.key_region or self.symptoms or self.contact_with_case or self.care_tags
                    or self.note)


#: the people a round counts per household, by category
COUNTED = ["returnees", "symptomatic", "contacts", "care"]


class RoundHousehold(models.Model):
    """A household as a round has seen it: reached or not, and how many people were found in
    each category (the largest number any visit of the round found)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="households")
    household = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    #: the household's path and unit, so that coverage groups by area without a join
    path = PathField(max_length=255)
    unit = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_index=False)
    visits = models.PositiveSmallIntegerField(default=0)
    nobody_home = models.PositiveSmallIntegerField(default=0)
    #: the first day somebody was reached (in person, by phone or WeChat); null: not yet
    reached_on = models.DateField(null=True, blank=True)
    last_visit_at = models.DateTimeField()
    #: the warden who reached them
    reached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    returnees = models.PositiveSmallIntegerField(default=0)
    symptomatic = models.PositiveSmallIntegerField(default=0)
    contacts = models.PositiveSmallIntegerField(default=0)
    care = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "household"], name="roundhousehold_once")]
        # covering: a district's coverage is read from this index alone
        indexes = [models.Index(fields=["round", "path", "unit", "reached_on", *COUNTED],
                                name="roundhousehold_coverage")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.household_id}"


class RoundUnit(models.Model):
    """A unit (单元) as a round has seen it: the sums of its `RoundHousehold` rows, kept by every
    visit with the change it made. A district's coverage reads its ~7,000 units, not its
    ~40,000 households (on PostgreSQL the households' LIKE on a composite index is a scan of
    the whole round)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_index=False)
    #: the unit's path
    path = PathField(max_length=255)
    reached = models.PositiveIntegerField(default=0)
    #: households tried, nobody ever answered
    nobody_home = models.PositiveIntegerField(default=0)
    returnees = models.PositiveIntegerField(default=0)
    symptomatic = models.PositiveIntegerField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    care = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "unit"], name="roundunit_once")]
        indexes = [models.Index(fields=["round", "path"], name="roundunit_round_path")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.unit_id}"
