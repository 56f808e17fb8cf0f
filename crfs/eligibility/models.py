"""The eligibility checklist record and the investigator's override; the decision lives in
scoring.py, the entry form in forms.py, the re-derivation and the enrolment check in
services.py, the checklist lookup in selectors.py."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

import pghistory
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord, in_progress_index
from crfs.eligibility.scoring import (
    CRITERIA,
    DECISION_LABELS,
    EXCLUSION_CODES,
    RULES_VERSION,
    Decision,
    Inputs,
    Outcome,
    Result,
    decide,
    evaluate,
    labels,
    override_covers,
)
from participants.choices import ElEscorial

YES_NO = [(True, _("Yes")), (False, _("No"))]


class PolysomnographyResult(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ABNORMAL = "abnormal", _("Abnormal")


class GoldCoast(models.TextChoices):
    YES = "yes", _("ALS by the Gold Coast criteria")
    NO = "no", _("Not ALS by the Gold Coast criteria")


def _yes_no(label) -> models.BooleanField:
    return models.BooleanField(label, null=True, blank=True, choices=YES_NO)


class _Sources(TypedDict):
    swallowing: int | None
    walking: int | None
    cutting_5a: int | None
    cutting_5b: int | None
    fvc_percent: float | None
    fvc_equation: str | None
    consent_signed_on: date | None
    consent_version: str | None


def _source_values(visit) -> _Sources:
    """The visit's ALSFRS-R items, its spirometry and the participant's first consent, in
    one query: the checklist is re-derived after every save of a source form. A record
    not entered yet reads as None throughout."""
    from participants.models import Consent
    from visits.models import Visit

    first_consent = Consent.objects.filter(participant_id=OuterRef("participant_id")).order_by(
        "signed_on", "pk"
    )
    return (
        Visit.objects.filter(pk=visit.pk)
        .values(
            swallowing=F("alsfrsr__q3_swallowing"),
            walking=F("alsfrsr__q8_walking"),
            cutting_5a=F("alsfrsr__q5a_cutting_no_gastrostomy"),
            cutting_5b=F("alsfrsr__q5b_cutting_gastrostomy"),
            fvc_percent=F("fvc__percent_predicted"),
            fvc_equation=F("fvc__equation"),
            consent_signed_on=Subquery(first_consent.values("signed_on")[:1]),
            consent_version=Subquery(first_consent.values("version__version")[:1]),
        )
        .get()
    )


@pghistory.track()
class Eligibility(FormRecord):
    form_code = "eligibility"
    required_answers = (
        "el_escorial",
        "progression_6_months",
        "polysomnography_date",
        "polysomnography_result",
        "ex_pregnancy_lactation",
        "ex_vascular_disease",
        "ex_diabetes",
        "ex_systemic_disease",
        "ex_recent_hospitalisation",
        "ex_short_survival",
        "ex_cell_culture_hypersensitivity",
    )
    optional_answers = ("gold_coast_als",)

    # Recorded answers.
    # NULL is "not answered" in every form record (its missing reason is stored apart).
    el_escorial = models.CharField(  # noqa: DJ001
        _("El Escorial category"), max_length=20, choices=ElEscorial.choices, null=True, blank=True
    )
    # NULL is "not answered" in every form record (its missing reason is stored apart).
    gold_coast_als = models.CharField(  # noqa: DJ001
        _("Gold Coast criteria (optional)"),
        max_length=3,
        choices=GoldCoast.choices,
        null=True,
        blank=True,
    )
    progression_6_months = _yes_no(_("Documented progression over the past 6 months"))
    polysomnography_date = models.DateField(_("polysomnography date"), null=True, blank=True)
    # NULL is "not answered" in every form record (its missing reason is stored apart).
    polysomnography_result = models.CharField(  # noqa: DJ001
        _("polysomnography result"),
        max_length=10,
        choices=PolysomnographyResult.choices,
        null=True,
        blank=True,
    )
    ex_pregnancy_lactation = _yes_no(_("Pregnancy or lactation"))
    ex_vascular_disease = _yes_no(_("Vascular disease"))
    ex_diabetes = _yes_no(_("Diabetes"))
    ex_systemic_disease = _yes_no(
        _("Systemic disease (cancer, autoimmune, liver or haematological disease)")
    )
    ex_recent_hospitalisation = _yes_no(
        _("Hospitalisation for a serious illness in the last 2 months")
    )
    ex_short_survival = _yes_no(_("Expected survival under 2 years"))
    ex_cell_culture_hypersensitivity = _yes_no(
        _("Hypersensitivity to any component of the cell culture")
    )

    # Source values of the derived criteria, as they were when last derived.
    screened_on = models.DateField(_("screening date"), null=True, blank=True)
    family_history = models.CharField(_("family history of ALS"), max_length=10, blank=True)
    onset_region = models.CharField(_("onset region"), max_length=20, blank=True)
    onset_date = models.DateField(_("symptom onset"), null=True, blank=True)
    onset_precision = models.CharField(_("onset precision"), max_length=5, blank=True)
    alsfrs_swallowing = models.PositiveSmallIntegerField(
        _("ALSFRS-R item 3 (swallowing)"), null=True, blank=True
    )
    alsfrs_cutting = models.PositiveSmallIntegerField(
        _("ALSFRS-R item 5 (cutting food)"), null=True, blank=True
    )
    alsfrs_cutting_item = models.CharField(_("item 5 answered as"), max_length=2, blank=True)
    alsfrs_walking = models.PositiveSmallIntegerField(
        _("ALSFRS-R item 8 (walking)"), null=True, blank=True
    )
    fvc_percent_predicted = models.FloatField(_("FVC % predicted"), null=True, blank=True)
    fvc_equation = models.CharField(_("FVC reference equation"), max_length=100, blank=True)
    consent_signed_on = models.DateField(_("consent signed"), null=True, blank=True)
    consent_version = models.CharField(_("consent version"), max_length=20, blank=True)

    # The decision.
    outcomes = models.JSONField(_("criterion outcomes"), default=dict, blank=True)
    decision = models.CharField(
        _("decision"),
        max_length=20,
        choices=[(d.value, DECISION_LABELS[d]) for d in Decision],
        default=Decision.INCOMPLETE,
    )
    failed_criteria = models.JSONField(_("failed criteria"), default=list, blank=True)
    unknown_criteria = models.JSONField(_("unresolved criteria"), default=list, blank=True)
    rules_version = models.CharField(_("rules version"), max_length=60, default=RULES_VERSION)

    class Meta:
        verbose_name = _("eligibility")
        verbose_name_plural = _("eligibility checklists")
        indexes = [in_progress_index("eligibility")]

    @classmethod
    def initial_answers(cls, visit) -> dict[str, object]:
        """The El Escorial category given at registration (ALS history) as a starting point."""
        try:
            return {"el_escorial": visit.participant.als_history.el_escorial}
        except ObjectDoesNotExist:
            return {}

    def completion_errors(self) -> dict[str, str]:
        errors = {}
        today = self.visit.participant.site.local_today()
        if self.polysomnography_date and self.polysomnography_date > today:
            errors["polysomnography_date"] = str(_("This date is in the future at the site."))
        return errors

    # -- derivation -----------------------------------------------------------

    def read_sources(self) -> None:
        """Copy the source values of the derived criteria from their records."""
        participant = self.visit.participant
        self.screened_on = self.visit.actual_date
        try:
            history = participant.als_history
        except ObjectDoesNotExist:
            history = None
        self.family_history = history.family_history if history else ""
        self.onset_region = history.onset_region if history else ""
        self.onset_date = history.onset_date if history else None
        self.onset_precision = history.onset_precision if history else ""

        sources = _source_values(self.visit)
        self.alsfrs_swallowing = sources["swallowing"]
        self.alsfrs_walking = sources["walking"]
        self.alsfrs_cutting, self.alsfrs_cutting_item = None, ""
        if sources["cutting_5b"] is not None:
            self.alsfrs_cutting, self.alsfrs_cutting_item = sources["cutting_5b"], "5b"
        elif sources["cutting_5a"] is not None:
            self.alsfrs_cutting, self.alsfrs_cutting_item = sources["cutting_5a"], "5a"

        self.fvc_percent_predicted, self.fvc_equation = None, ""
        if sources["fvc_percent"] is not None:
            self.fvc_percent_predicted = float(sources["fvc_percent"])
            self.fvc_equation = str(sources["fvc_equation"] or "")

        self.consent_signed_on = sources["consent_signed_on"]
        self.consent_version = sources["consent_version"] or ""

    def inputs(self) -> Inputs:
        return Inputs(
            el_escorial=self.el_escorial,
            family_history=self.family_history or None,
            onset_region=self.onset_region or None,
            onset_date=self.onset_date,
            onset_precision=self.onset_precision or None,
            screened_on=self.screened_on,
            progression_6_months=self.progression_6_months,
            swallowing=self.alsfrs_swallowing,
            cutting=self.alsfrs_cutting,
            walking=self.alsfrs_walking,
            fvc_percent=self.fvc_percent_predicted,
            polysomnography_result=self.polysomnography_result,
            consent_signed=self.consent_signed_on is not None or None,
            exclusions={code: getattr(self, f"ex_{code}") for code in EXCLUSION_CODES},
        )

    def compute_derived(self) -> None:
        self.read_sources()
        outcomes = evaluate(self.inputs())
        result = decide(outcomes)
        self.outcomes = {code: str(outcome) for code, outcome in outcomes.items()}
        self.decision = result.decision
        self.failed_criteria = list(result.failed)
        self.unknown_criteria = list(result.unknown)
        self.rules_version = RULES_VERSION

    def result(self) -> Result:
        return Result(
            Decision(self.decision), tuple(self.failed_criteria), tuple(self.unknown_criteria)
        )

    # -- display --------------------------------------------------------------

    def source_text(self, code: str) -> str:
        """The source value a derived criterion was taken from, as shown on the page."""
        from participants.choices import OnsetRegion, YesNoUnknown
        from participants.partial_dates import format_partial_date

        none = str(_("not entered"))
        if code == "sporadic":
            value = self.family_history
            label = YesNoUnknown(value).label if value in YesNoUnknown.values else none
            return str(_("ALS history: family history %(value)s")) % {"value": label}
        if code == "spinal_onset":
            value = self.onset_region
            label = OnsetRegion(value).label if value in OnsetRegion.values else none
            return str(_("ALS history: onset region %(value)s")) % {"value": label}
        if code == "onset_under_3_years":
            return str(_("ALS history: onset %(onset)s; screening %(screened)s")) % {
                "onset": format_partial_date(self.onset_date, self.onset_precision) or none,
                "screened": self.screened_on.isoformat() if self.screened_on else none,
            }
        if code in ("alsfrs_swallowing", "alsfrs_cutting", "alsfrs_walking"):
            value = getattr(self, code)
            item = {"alsfrs_swallowing": "3", "alsfrs_walking": "8"}.get(
                code, self.alsfrs_cutting_item or "5"
            )
            return str(_("Screening ALSFRS-R item %(item)s = %(value)s")) % {
                "item": item,
                "value": none if value is None else value,
            }
        if code == "fvc_50":
            if self.fvc_percent_predicted is None:
                return str(_("unknown — FVC not entered"))
            return str(_("Screening spirometry: %(value).1f %% predicted %(equation)s")) % {
                "value": self.fvc_percent_predicted,
                "equation": f"({self.fvc_equation})" if self.fvc_equation else "",
            }
        if code == "consent":
            if self.consent_signed_on is None:
                return str(_("no consent recorded"))
            return str(_("Version %(version)s signed %(date)s")) % {
                "version": self.consent_version,
                "date": self.consent_signed_on.isoformat(),
            }
        return ""

    def criteria_rows(self) -> list[dict]:
        """One row per criterion for the page: label, kind, outcome, source."""
        rows = []
        for criterion in CRITERIA:
            outcome = self.outcomes.get(criterion.code, Outcome.UNKNOWN)
            rows.append(
                {
                    "code": criterion.code,
                    "label": criterion.label,
                    "kind": criterion.kind,
                    "derived": criterion.derived,
                    "outcome": outcome,
                    "source": self.source_text(criterion.code) if criterion.derived else "",
                }
            )
        return rows

    def failed_labels(self) -> list[str]:
        return labels(self.failed_criteria)

    def unknown_labels(self) -> list[str]:
        return labels(self.unknown_criteria)

    @property
    def decision_label(self) -> str:
        return str(DECISION_LABELS[Decision(self.decision)])

    def current_override(self) -> EligibilityOverride | None:
        """The investigator's override, if it still covers every criterion not passing."""
        try:
            override = self.override
        except ObjectDoesNotExist:
            return None
        return override if override_covers(override.criteria, self.result()) else None


@pghistory.track()
class EligibilityOverride(models.Model):
    """An investigator's signed decision to accept a participant the checklist does not."""

    eligibility = models.OneToOneField(
        Eligibility, on_delete=models.PROTECT, related_name="override", primary_key=True
    )
    criteria = models.JSONField(_("criteria overridden"))
    reason = models.TextField(_("reason"))
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("investigator"),
    )
    signed_at = models.DateTimeField(_("signed"))
    eligibility_version = models.PositiveIntegerField(_("checklist version signed"))

    class Meta:
        verbose_name = _("eligibility override")
        verbose_name_plural = _("eligibility overrides")
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="override_has_reason")
        ]

    def __str__(self) -> str:
        return f"{self.eligibility} · override by {self.investigator}"

    def criteria_labels(self) -> list[str]:
        return labels(self.criteria)
