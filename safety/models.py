"""Adverse events, concomitant medication and each visit's safety review.

Adverse events and medications are logs of the participant, not one form per visit; each
row names the visit it was reported at. They still are case report form records: they
subclass `crfs.base.FormRecord` for its status, version (optimistic locking),
missing-data reasons and completion, replacing its one-to-one `visit` with a foreign key.
Their write path is `safety.services` (the rules of `crfs.entry.save_form`, keyed by the
row rather than by the visit). The per-visit review is one per visit, so it is saved by
`save_form` itself.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord
from participants import partial_dates
from participants.choices import DatePrecision
from participants.models import Participant
from safety import coding
from safety.choices import (
    CRITERIA_FIELDS,
    Action,
    DoseUnit,
    Frequency,
    Grade,
    Medication,
    MedRoute,
    Outcome,
    Relatedness,
)


def _partial(value, precision) -> str:
    return partial_dates.format_partial_date(value, precision)


@pghistory.track()
class AdverseEvent(FormRecord):
    """One adverse event of a participant, as the coordinator entered it (the investigator's
    assessment is kept apart, in `AdverseEventAssessment`)."""

    form_code = "adverse_event"
    required_answers = (
        "verbatim_term",
        "term_code",
        "onset_date",
        "grade",
        "serious",
        "related_procedure",
        "related_cells",
        "action",
        "outcome",
    )
    optional_answers = (
        "onset_precision",
        "end_date",
        "end_precision",
        "ongoing",
        *CRITERIA_FIELDS,
        "treatment",
    )
    free_text_fields = ("verbatim_term", "treatment")

    # FormRecord's visit is one-to-one; many events may be reported at one visit.
    visit = models.ForeignKey(
        "visits.Visit",
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("reported at visit"),
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="adverse_events",
        verbose_name=_("participant"),
    )
    number = models.PositiveIntegerField(_("AE number"))
    verbatim_term = models.CharField(  # noqa: DJ001 - NULL is "not answered"
        _("verbatim term"), max_length=200, null=True, blank=True
    )
    # The codes of safety.coding (not model choices: the term list grows without migrations).
    term_code = models.CharField(  # noqa: DJ001
        _("coded term"), max_length=40, null=True, blank=True
    )
    onset_date = models.DateField(_("onset"), null=True, blank=True)
    onset_precision = models.CharField(
        _("onset precision"), max_length=5, choices=DatePrecision.choices, blank=True
    )
    end_date = models.DateField(_("end"), null=True, blank=True)
    end_precision = models.CharField(
        _("end precision"), max_length=5, choices=DatePrecision.choices, blank=True
    )
    ongoing = models.BooleanField(_("ongoing"), default=False)
    grade = models.PositiveSmallIntegerField(
        _("CTCAE grade"), choices=Grade.choices, null=True, blank=True
    )
    serious = models.BooleanField(_("serious"), null=True, blank=True)
    sae_death = models.BooleanField(_("results in death"), default=False)
    sae_life_threatening = models.BooleanField(_("is life-threatening"), default=False)
    sae_hospitalisation = models.BooleanField(
        _("requires or prolongs hospitalisation"), default=False
    )
    sae_disability = models.BooleanField(_("persistent or significant disability"), default=False)
    sae_congenital_anomaly = models.BooleanField(
        _("congenital anomaly or birth defect"), default=False
    )
    sae_important_medical_event = models.BooleanField(
        _("other important medical event"), default=False
    )
    related_procedure = models.CharField(  # noqa: DJ001
        _("related to the procedure"),
        max_length=10,
        choices=Relatedness.choices,
        null=True,
        blank=True,
    )
    related_cells = models.CharField(  # noqa: DJ001
        _("related to the cells"), max_length=10, choices=Relatedness.choices, null=True, blank=True
    )
    action = models.CharField(  # noqa: DJ001
        _("action taken"), max_length=20, choices=Action.choices, null=True, blank=True
    )
    outcome = models.CharField(  # noqa: DJ001
        _("outcome"), max_length=20, choices=Outcome.choices, null=True, blank=True
    )
    treatment = models.TextField(_("treatment"), blank=True)
    # The nonce of the form the event was entered on (safety.forms): a form submitted twice
    # finds the event its first submission saved.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # When the first SAE alert was raised: later saves of the event are follow-up updates.
    sae_alerted_at = models.DateTimeField(_("SAE reported"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        ordering = ["participant", "number"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="ae_number_unique"),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=1, grade__lte=5),
                name="ae_grade_range",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(ongoing=False),
                name="ae_ongoing_has_no_end",
            ),
        ]
        indexes = [models.Index(fields=["visit"])]

    def __str__(self) -> str:
        return f"AE {self.number} · {self.term_label}"

    @property
    def term_label(self) -> str:
        return coding.label(self.term_code)

    @property
    def is_procedure_event(self) -> bool:
        """One of the events the injection is expected to cause (their listing shows the
        needle the transplantation used)."""
        term = coding.BY_CODE.get(self.term_code or "")
        return bool(term and term.procedure)

    @property
    def soc(self) -> str:
        return coding.soc(self.term_code)

    @property
    def onset_display(self) -> str:
        return _partial(self.onset_date, self.onset_precision)

    @property
    def end_display(self) -> str:
        return _partial(self.end_date, self.end_precision)

    def latest_assessment(self) -> AdverseEventAssessment | None:
        """The investigator's last signed assessment (from the prefetched rows the selectors
        load)."""
        assessments = list(self.assessments.all())
        return assessments[-1] if assessments else None

    def criteria(self) -> list[str]:
        return [name for name in CRITERIA_FIELDS if getattr(self, name)]

    def criteria_labels(self) -> list[str]:
        return [self.field_label(name) for name in self.criteria()]

    def completion_errors(self) -> dict[str, str]:
        if not self.ongoing and self.end_date is None:
            return {"end_date": str(_("Give the end date, or tick 'ongoing'."))}
        return {}


@pghistory.track()
class AdverseEventAssessment(models.Model):
    """An investigator's signed assessment of an event's seriousness and relatedness. The
    coordinator's entry stays as entered; each assessment is a row of its own."""

    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="assessments"
    )
    # The version of the event the investigator saw.
    event_version = models.PositiveIntegerField(_("event version assessed"))
    serious = models.BooleanField(_("serious"))
    related_procedure = models.CharField(
        _("related to the procedure"), max_length=10, choices=Relatedness.choices
    )
    related_cells = models.CharField(
        _("related to the cells"), max_length=10, choices=Relatedness.choices
    )
    comment = models.TextField(_("comment"), blank=True)
    investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("investigator"),
    )
    signed_at = models.DateTimeField(_("signed"))

    class Meta:
        ordering = ["adverse_event", "signed_at", "pk"]
        verbose_name = _("investigator assessment")
        verbose_name_plural = _("investigator assessments")

    def __str__(self) -> str:
        return f"{self.adverse_event} · {self.investigator_id} · {self.signed_at:%Y-%m-%d}"


@pghistory.track()
class ConcomitantMedication(FormRecord):
    """One medication of a participant, with the visit it was recorded at."""

    form_code = "conmed"
    required_answers = (
        "medication",
        "indication",
        "dose",
        "dose_unit",
        "route",
        "frequency",
        "start_date",
    )
    optional_answers = (
        "other_name",
        "start_precision",
        "stop_date",
        "stop_precision",
        "ongoing",
    )
    free_text_fields = ("other_name", "indication")

    visit = models.ForeignKey(
        "visits.Visit",
        on_delete=models.PROTECT,
        related_name="conmeds",
        verbose_name=_("recorded at visit"),
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="conmeds", verbose_name=_("participant")
    )
    medication = models.CharField(  # noqa: DJ001
        _("medication"), max_length=20, choices=Medication.choices, null=True, blank=True
    )
    other_name = models.CharField(_("name of the medication"), max_length=200, blank=True)
    indication = models.CharField(  # noqa: DJ001
        _("indication"), max_length=200, null=True, blank=True
    )
    dose = models.DecimalField(_("dose"), max_digits=10, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(  # noqa: DJ001
        _("unit"), max_length=10, choices=DoseUnit.choices, null=True, blank=True
    )
    route = models.CharField(  # noqa: DJ001
        _("route"), max_length=20, choices=MedRoute.choices, null=True, blank=True
    )
    frequency = models.CharField(  # noqa: DJ001
        _("frequency"), max_length=10, choices=Frequency.choices, null=True, blank=True
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    start_precision = models.CharField(
        _("start precision"), max_length=5, choices=DatePrecision.choices, blank=True
    )
    stop_date = models.DateField(_("stop"), null=True, blank=True)
    stop_precision = models.CharField(
        _("stop precision"), max_length=5, choices=DatePrecision.choices, blank=True
    )
    ongoing = models.BooleanField(_("ongoing"), default=False)
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["participant", "start_date", "pk"]
        verbose_name = _("concomitant medication")
        verbose_name_plural = _("concomitant medications")
        constraints = [
            models.CheckConstraint(
                condition=Q(stop_date__isnull=True) | Q(ongoing=False),
                name="conmed_ongoing_has_no_stop",
            ),
        ]
        indexes = [models.Index(fields=["visit"])]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if self.medication == Medication.OTHER:
            return self.other_name
        return str(Medication(self.medication).label) if self.medication else ""

    @property
    def start_display(self) -> str:
        return _partial(self.start_date, self.start_precision)

    @property
    def stop_display(self) -> str:
        return _partial(self.stop_date, self.stop_precision)

    def completion_errors(self) -> dict[str, str]:
        errors = {}
        if self.medication == Medication.OTHER and not self.other_name:
            errors["other_name"] = str(_("Name the medication."))
        if not self.ongoing and self.stop_date is None:
            errors["stop_date"] = str(_("Give the stop date, or tick 'ongoing'."))
        return errors


@pghistory.track()
class VisitSafetyReview(FormRecord):
    """A visit's explicit safety answers, so its safety status is never silently empty:
    no adverse event since the last visit, no change in concomitant medication."""

    form_code = "safety_review"
    optional_answers = ("no_adverse_events", "no_conmed_changes")

    visit = models.OneToOneField(
        "visits.Visit",
        on_delete=models.PROTECT,
        related_name="safety_review",
        verbose_name=_("visit"),
    )
    no_adverse_events = models.BooleanField(
        _("No adverse events since the last visit"), null=True, blank=True
    )
    no_conmed_changes = models.BooleanField(
        _("No change in concomitant medication since the last visit"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("visit safety review")
        verbose_name_plural = _("visit safety reviews")
