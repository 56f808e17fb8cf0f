"""The emg form record and its entry form; the scoring lives in scoring.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# --- Storage and entry ---------------------------------------------------------
# Imported here, below the pure scoring, so the functions above stay usable without Django.
from typing import Any

import pghistory
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crfs.base import MISSING_SUFFIX, FormRecord, FormRecordForm
from crfs.emg.scoring import (
    MUNIX_MUSCLES,
    MUSCLES,
    Fasciculation,
    Fibrillation,
    Mup,
    Muscle,
    MuscleFinding,
    Recruitment,
    Region,
    Side,
    munix_sum,
    summarize,
)

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
NEEDLE_MISSING = NEEDLE + MISSING_SUFFIX
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


def _amplitude_field(label: str) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CMAP_RANGE_MV[0]), MaxValueValidator(CMAP_RANGE_MV[1])],
    )


def _munix_field(label: str) -> models.DecimalField:
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
        return [
            (str(self._meta.get_field(n).verbose_name), _shown(getattr(self, n))) for n in names
        ]


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


# --- entry page ---------------------------------------------------------------

EXTRA_FINDING_ROWS = 4  # for a second side or a repeated catalogue muscle


class FindingForm(forms.ModelForm):
    """One muscle row; a row without any finding is blank and ignored."""

    class Meta:
        model = EmgMuscleFinding
        fields = ["muscle", "side", *FINDING_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            form_field.required = False
        if self.initial.get("muscle") in MUSCLES:  # pre-listed: the muscle is fixed
            self.fields["muscle"].widget = forms.HiddenInput()

    @property
    def catalogue_muscle(self) -> Muscle | None:
        return MUSCLES.get(self.initial.get("muscle", ""))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return all(data.get(name) in (None, "") for name in FINDING_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if self.is_blank():
            return cleaned
        for name in ("muscle", "side", *FINDING_FIELDS):
            if cleaned.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, _("Needed when the muscle has findings."))
        return cleaned

    def validate_unique(self):
        # Duplicates are checked across the rows by the formset (blank rows aside) and,
        # at the end, by the database constraint; no query per row.
        pass


class BaseFindingFormSet(forms.BaseInlineFormSet):
    def clean(self):
        # Not the model formset's validate_unique: it would count blank rows too.
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.is_blank():
                continue
            key = (form.cleaned_data.get("muscle") or "", form.cleaned_data.get("side") or "")
            if not all(key):
                continue
            if key in seen:
                form.add_error(
                    "side",
                    _("%(muscle)s is already entered on this side: keep one row.")
                    % {"muscle": finding_label(*key)},
                )
            seen.add(key)


FindingFormSet = forms.inlineformset_factory(
    Emg,
    EmgMuscleFinding,
    form=FindingForm,
    formset=BaseFindingFormSet,
    fields=["muscle", "side", *FINDING_FIELDS],
    extra=0,
    can_delete=False,
)


def _initial_rows(record: Emg | None) -> list[dict[str, Any]]:
    """Every catalogue muscle pre-listed (with its saved rows), then a few free rows."""
    saved: dict[str, list[EmgMuscleFinding]] = {}
    if record is not None and record.pk:
        for finding in record.findings.all():
            saved.setdefault(finding.muscle, []).append(finding)
    rows: list[dict[str, Any]] = []
    for code in MUSCLES:
        mine = sorted(saved.pop(code, []), key=lambda f: f.side)
        rows.extend([f.as_row() for f in mine] or [{"muscle": code}])
    for others in saved.values():  # a muscle no longer in the catalogue
        rows.extend(f.as_row() for f in others)
    return rows + [{} for _i in range(EXTRA_FINDING_ROWS)]


class EmgForm(FormRecordForm):
    """CMAP amplitudes, MUNIX and, as an inline formset, the per-muscle findings."""

    class Meta:
        model = Emg
        fields = [*CMAP_FIELDS.values(), "munix_side", *MUNIX_FIELDS.values()]
        widgets = {
            name: forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
            for name in CMAP_FIELDS.values()
        } | {
            name: forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"})
            for name in MUNIX_FIELDS.values()
        }

    cmap_names = tuple(CMAP_FIELDS.values())
    munix_names = ("munix_side", *MUNIX_FIELDS.values())
    # The needle examination's only input is its missing-reason select: the service's
    # errors on the muscle count are shown there.
    error_fields = {NEEDLE: NEEDLE_MISSING}

    def __init__(self, data=None, *args, instance: Emg | None = None, **kwargs):
        super().__init__(data, *args, instance=instance, **kwargs)
        initial = _initial_rows(instance)
        self.findings = FindingFormSet(
            data,
            instance=instance if instance is not None else Emg(),
            queryset=EmgMuscleFinding.objects.none(),  # rows are keyed by muscle and side
            initial=initial,
            prefix="finding",
            form_kwargs={"empty_permitted": False},
        )
        self.findings.extra = len(initial)

    def is_valid(self) -> bool:
        record_ok = super().is_valid()
        rows_ok = self.findings.is_valid()
        if record_ok and not rows_ok:
            self.add_error(None, _("Check the muscle rows marked below."))
        if not (record_ok and rows_ok):
            return False
        # The answer is the number of rows, not an input: counted here so an unchanged
        # page compares equal to the stored record.
        count = len(self.child_rows()) or None
        if count and self.cleaned_data["missing_reasons"].get(NEEDLE):
            self.add_error(NEEDLE_MISSING, MUSCLES_AND_REASON)
            return False
        self.cleaned_data[NEEDLE] = count
        return True

    def child_rows(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for form in self.findings.forms:
            if form.is_blank():
                continue
            data = form.cleaned_data
            row = {"muscle": data["muscle"], "side": data["side"]}
            row |= {name: data[name] for name in FINDING_FIELDS}
            rows[finding_label(row["muscle"], row["side"])] = row
        return rows
