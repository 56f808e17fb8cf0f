"""The EMG form record and its muscle rows; the scoring lives in scoring.py, the entry form
in forms.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord, in_progress_index
from crfs.emg.scoring import (
    MUNIX_MUSCLES,
    MUSCLES,
    Fasciculation,
    Fibrillation,
    Mup,
    MuscleFinding,
    Recruitment,
    Region,
    Side,
    munix_sum,
    summarize,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CMAP_RANGE_MV = (0, 30)  # plausible compound muscle action potential amplitudes
MUNIX_RANGE = (0, 1000)  # plausible MUNIX of one muscle
CMAP_FIELDS: Mapping[str, str] = {
    "median": "cmap_median",
    "ulnar": "cmap_ulnar",
    "peroneal": "cmap_peroneal",
    "tibial": "cmap_tibial",
}
MUNIX_FIELDS: Mapping[str, str] = {muscle: f"munix_{muscle}" for muscle in MUNIX_MUSCLES}
# Stored per-region summary: (field suffix, RegionSummary attribute).
REGION_SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("active", "active_denervation"),
    ("chronic", "chronic_denervation"),
    ("awaji_lmn", "meets_awaji_lmn"),
)
FINDING_FIELDS = ("fibrillations", "fasciculations", "mup", "recruitment")
# The needle examination's answer: the number of muscle rows (counted, never typed).
NEEDLE = "needle_muscles"
NO_MUSCLE = _(
    "Enter the findings of at least one muscle, or give the reason the needle examination "
    "is missing."
)
MUSCLES_AND_REASON = _(
    "Muscle findings are entered: remove them or the reason the needle examination is missing."
)

SIDE_CHOICES = [(Side.LEFT.value, _("Left")), (Side.RIGHT.value, _("Right"))]
REGION_CHOICES = [(region.value, region.value.capitalize()) for region in Region]
FIBRILLATION_CHOICES = [(0, "0"), (1, "1+"), (2, "2+"), (3, "3+"), (4, "4+")]
FASCICULATION_CHOICES = [
    (Fasciculation.ABSENT.value, _("absent")),
    (Fasciculation.PRESENT.value, _("present")),
]
MUP_CHOICES = [
    (Mup.NORMAL.value, _("normal")),
    (Mup.NEUROGENIC.value, _("neurogenic (large, long-duration, polyphasic)")),
]
RECRUITMENT_CHOICES = [
    (Recruitment.NORMAL.value, _("normal")),
    (Recruitment.REDUCED.value, _("reduced")),
    (Recruitment.DISCRETE.value, _("discrete")),
]


def _amplitude_field(label: StrOrPromise) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CMAP_RANGE_MV[0]), MaxValueValidator(CMAP_RANGE_MV[1])],
    )


def _munix_field(label: StrOrPromise) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(MUNIX_RANGE[0]), MaxValueValidator(MUNIX_RANGE[1])],
    )


def _in_range(names: Iterable[str], low: int, high: int) -> models.Q:
    condition = models.Q()
    for name in names:
        condition &= models.Q(**{f"{name}__isnull": True}) | models.Q(
            **{f"{name}__gte": low, f"{name}__lte": high}
        )
    return condition


def finding_label(muscle: str, side: str) -> str:
    """The stable key of one muscle row (also what a conflict lists)."""
    known = MUSCLES.get(muscle)
    return f"{known.name if known else muscle}, {side}"


@pghistory.track()
class Emg(FormRecord):
    """Needle EMG and nerve conduction at one visit; per-muscle rows in EmgMuscleFinding."""

    form_code = "emg"
    derived_from_context = True
    # NEEDLE is the number of muscle rows, counted, never typed: a needle examination
    # without any row needs a missing-data reason like any other answer.
    required_answers = (*CMAP_FIELDS.values(), NEEDLE)
    optional_answers = (*MUNIX_FIELDS.values(), "munix_side")

    study_date = models.DateField(_("study date (the visit date)"), null=True, blank=True)
    cmap_median = _amplitude_field(_("CMAP median nerve (APB), mV"))
    cmap_ulnar = _amplitude_field(_("CMAP ulnar nerve (ADM), mV"))
    cmap_peroneal = _amplitude_field(_("CMAP peroneal nerve (EDB), mV"))
    cmap_tibial = _amplitude_field(_("CMAP tibial nerve (AH), mV"))

    needle_muscles = models.PositiveSmallIntegerField(
        _("muscles examined by needle EMG"), null=True, blank=True
    )

    munix_side = models.CharField(
        _("MUNIX side (less affected)"), max_length=5, choices=SIDE_CHOICES, blank=True
    )
    munix_apb = _munix_field(_("MUNIX abductor pollicis brevis"))
    munix_adm = _munix_field(_("MUNIX abductor digiti minimi"))
    munix_biceps = _munix_field(_("MUNIX biceps brachii"))
    munix_ta = _munix_field(_("MUNIX tibialis anterior"))
    munix_edb = _munix_field(_("MUNIX extensor digitorum brevis"))
    munix_ah = _munix_field(_("MUNIX abductor hallucis"))
    munix_sum = models.FloatField(_("MUNIX sum (6 muscles)"), null=True, blank=True)
    munix_version = models.CharField(_("MUNIX sum version"), max_length=100, blank=True)

    # Per region: None = no muscle of the region tested.
    bulbar_active = models.BooleanField(_("bulbar: active denervation"), null=True, blank=True)
    bulbar_chronic = models.BooleanField(_("bulbar: chronic denervation"), null=True, blank=True)
    bulbar_awaji_lmn = models.BooleanField(_("bulbar: Awaji LMN criteria"), null=True, blank=True)
    cervical_active = models.BooleanField(_("cervical: active denervation"), null=True, blank=True)
    cervical_chronic = models.BooleanField(
        _("cervical: chronic denervation"), null=True, blank=True
    )
    cervical_awaji_lmn = models.BooleanField(
        _("cervical: Awaji LMN criteria"), null=True, blank=True
    )
    thoracic_active = models.BooleanField(_("thoracic: active denervation"), null=True, blank=True)
    thoracic_chronic = models.BooleanField(
        _("thoracic: chronic denervation"), null=True, blank=True
    )
    thoracic_awaji_lmn = models.BooleanField(
        _("thoracic: Awaji LMN criteria"), null=True, blank=True
    )
    lumbosacral_active = models.BooleanField(
        _("lumbosacral: active denervation"), null=True, blank=True
    )
    lumbosacral_chronic = models.BooleanField(
        _("lumbosacral: chronic denervation"), null=True, blank=True
    )
    lumbosacral_awaji_lmn = models.BooleanField(
        _("lumbosacral: Awaji LMN criteria"), null=True, blank=True
    )
    summary_version = models.CharField(_("summary version"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("EMG / nerve conduction")
        verbose_name_plural = _("EMG / nerve conduction")
        indexes = [in_progress_index("emg")]
        constraints = [
            models.CheckConstraint(
                condition=_in_range(CMAP_FIELDS.values(), *CMAP_RANGE_MV), name="emg_cmap_range"
            ),
            models.CheckConstraint(
                condition=_in_range(MUNIX_FIELDS.values(), *MUNIX_RANGE), name="emg_munix_range"
            ),
        ]

    # --- child rows -------------------------------------------------------------

    def saved_children(self) -> dict[str, dict[str, Any]]:
        if self.pk is None:
            return {}
        return {finding_label(f.muscle, f.side): f.as_row() for f in self.findings.order_by("pk")}

    def save_children(self, rows: dict[str, dict[str, Any]]) -> None:
        """Upsert by (muscle, side), delete rows no longer listed: unchanged rows stay
        untouched (no audit noise), changed ones are audited as updates."""
        existing = {(f.muscle, f.side): f for f in self.findings.all()}
        wanted = {(row["muscle"], row["side"]): row for row in rows.values()}
        gone = [f.pk for key, f in existing.items() if key not in wanted]
        if gone:
            EmgMuscleFinding.objects.filter(pk__in=gone).delete()
        for key, row in wanted.items():
            finding = existing.get(key)
            if finding is None:
                EmgMuscleFinding.objects.create(
                    emg=self, region=MUSCLES[row["muscle"]].region.value, **row
                )
            elif finding.as_row() != row:
                for name in FINDING_FIELDS:
                    setattr(finding, name, row[name])
                finding.save(update_fields=list(FINDING_FIELDS))

    def _rows(self) -> list[dict[str, Any]]:
        rows = self.pending_children if self.pending_children is not None else self.saved_children()
        return list(rows.values())

    # --- derived -----------------------------------------------------------------

    def unanswered(self) -> list[str]:
        # The stored count may be stale until compute_derived: the rows are checked by
        # completion_errors instead.
        return [name for name in super().unanswered() if name != NEEDLE]

    def completion_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.visit.actual_date is None:
            errors["study_date"] = str(
                _("Record the visit date first: the EMG study date is the visit date.")
            )
        has_rows = bool(self._rows())
        has_reason = bool(self.missing_reasons.get(NEEDLE))
        if not has_rows and not has_reason:
            errors[NEEDLE] = str(NO_MUSCLE)
        elif has_rows and has_reason:
            errors[NEEDLE] = str(MUSCLES_AND_REASON)
        return errors

    def compute_derived(self) -> None:
        self.study_date = self.visit.actual_date
        rows = self._rows()
        self.needle_muscles = len(rows) or None
        findings = [
            MuscleFinding.of(
                row["muscle"],
                side=Side(row["side"]),
                fibrillations=Fibrillation(row["fibrillations"]),
                fasciculations=Fasciculation(row["fasciculations"]),
                mup=Mup(row["mup"]),
                recruitment=Recruitment(row["recruitment"]),
            )
            for row in rows
        ]
        summary = summarize(findings)
        for region, result in summary.regions.items():
            tested = bool(result.muscles_tested)
            for suffix, attribute in REGION_SUMMARY_FIELDS:
                setattr(self, f"{region}_{suffix}", getattr(result, attribute) if tested else None)
        self.summary_version = summary.version if findings else ""
        munix = munix_sum(
            {
                muscle: None if getattr(self, name) is None else float(getattr(self, name))
                for muscle, name in MUNIX_FIELDS.items()
            }
        )
        self.munix_sum = munix.total
        self.munix_version = munix.version if munix.total is not None else ""

    def derived_values(self) -> list[tuple[str, object]]:
        names = [
            "study_date",
            "munix_sum",
            *(f"{region}_{suffix}" for region in Region for suffix, _a in REGION_SUMMARY_FIELDS),
        ]
        return [(self.field_label(n), _shown(getattr(self, n))) for n in names]


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


# Rows are also deleted (a muscle cleared on the page): the audit keeps deletions too.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class EmgMuscleFinding(models.Model):
    """Needle EMG of one muscle on one side."""

    emg = models.ForeignKey(
        Emg, on_delete=models.CASCADE, related_name="findings", verbose_name=_("EMG")
    )
    muscle = models.CharField(
        _("muscle"), max_length=30, choices=[(m.code, m.name) for m in MUSCLES.values()]
    )
    side = models.CharField(_("side"), max_length=5, choices=SIDE_CHOICES)
    region = models.CharField(_("region"), max_length=12, choices=REGION_CHOICES)
    fibrillations = models.PositiveSmallIntegerField(
        _("fibrillations / PSW"), choices=FIBRILLATION_CHOICES
    )
    fasciculations = models.CharField(
        _("fasciculations"), max_length=10, choices=FASCICULATION_CHOICES
    )
    mup = models.CharField(_("MUP morphology"), max_length=12, choices=MUP_CHOICES)
    recruitment = models.CharField(_("recruitment"), max_length=10, choices=RECRUITMENT_CHOICES)

    class Meta:
        verbose_name = _("EMG muscle finding")
        verbose_name_plural = _("EMG muscle findings")
        constraints = [
            models.UniqueConstraint(
                fields=["emg", "muscle", "side"], name="emg_finding_one_row_per_muscle_side"
            ),
        ]

    def __str__(self) -> str:
        return finding_label(self.muscle, self.side)

    def as_row(self) -> dict[str, Any]:
        return {
            "muscle": self.muscle,
            "side": self.side,
            **{name: getattr(self, name) for name in FINDING_FIELDS},
        }
