"""The FVC form record; the scoring lives in scoring.py, the entry form in forms.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pghistory
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord, in_progress_index
from crfs.fvc.scoring import (
    AGE_RANGE_YEARS,
    HEIGHT_RANGE_CM,
    MAX_MANOEUVRES,
    MAX_VOLUME_L,
    MIN_VOLUME_L,
    Equation,
    Ethnicity,
    FvcError,
    Manoeuvre,
    Measure,
    Position,
    _litres,
    age_at,
    predict,
    summarize,
    volume_problems,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MANOEUVRES = tuple(range(1, MAX_MANOEUVRES + 1))
LITRES_FIELDS = tuple(f"trial_{n}_litres" for n in MANOEUVRES)
ACCEPTABLE_FIELDS = tuple(f"trial_{n}_acceptable" for n in MANOEUVRES)

# participants.choices.Ethnicity code -> GLI-2012 group (only GLI-2012 uses it). GLI-2012
# counts Middle Eastern populations, Iran included, in its Caucasian group.
GLI_2012_GROUP: Mapping[str, Ethnicity] = {
    "caucasian": Ethnicity.CAUCASIAN,
    "african_american": Ethnicity.AFRICAN_AMERICAN,
    "north_east_asian": Ethnicity.NORTH_EAST_ASIAN,
    "south_east_asian": Ethnicity.SOUTH_EAST_ASIAN,
    "other_mixed": Ethnicity.OTHER,
    "iranian": Ethnicity.CAUCASIAN,
}


def equation_of_trial(trial) -> Equation:
    """The study's reference equation (trials.choices.SpirometryEquation stores its name)."""
    return Equation(trial.spirometry_equation)


def manoeuvre_errors(
    litres: Sequence[Decimal | float | str | None], filled: Sequence[bool] | None = None
) -> dict[str, str]:
    """{field: reason} for implausible volumes and for gaps (an empty row before a filled one).

    ``filled`` marks rows that hold something even when its value is unusable (the entry
    form passes rows that already failed to parse), so they do not count as gaps.
    """
    filled = list(filled) if filled is not None else [value is not None for value in litres]
    errors: dict[str, str] = {}
    last_filled = max((i for i, is_filled in enumerate(filled) if is_filled), default=-1)
    for i, value in enumerate(litres):
        name = LITRES_FIELDS[i]
        if value is None:
            if i < last_filled and not filled[i]:
                errors[name] = str(
                    _("Record the manoeuvres in order: this row is empty but a later one is not.")
                )
            continue
        problems = volume_messages(value)
        if problems:
            errors[name] = "; ".join(problems)
    return errors


def volume_messages(value: Decimal | float | str) -> list[str]:
    """`volume_problems` in the page's language: the pure scoring words its reasons in
    English, each one is said again here through gettext (the same English)."""
    try:
        litres = _litres(value)
    except FvcError as error:
        return error.reasons
    values = {"value": litres, "min": MIN_VOLUME_L, "max": MAX_VOLUME_L}
    messages = []
    for problem in volume_problems(litres):
        if "more than two decimals" in problem:
            message = _("%(value)s L has more than two decimals (record to 0.01 L)")
        elif " is below " in problem:
            message = _("%(value)s L is below %(min)s L, not a plausible vital capacity")
        elif " is above " in problem:
            message = _("%(value)s L is above %(max)s L, not a plausible vital capacity")
        else:
            messages.append(problem)
            continue
        messages.append(str(message) % values)
    return messages


@dataclass(frozen=True)
class PredictionInputs:
    """What the reference equation needs, taken from the participant and the visit."""

    equation: Equation
    sex: str | None = None
    age_years: float | None = None
    height_cm: Decimal | None = None
    ethnicity: Ethnicity | None = None
    # Why no % predicted: blocking problems refuse completion, the others only explain.
    blocking: str = ""
    note: str = ""

    @property
    def ready(self) -> bool:
        return not self.blocking and not self.note


def prediction_inputs(visit) -> PredictionInputs:
    """Sex, age at the visit date, height (demographics) and the study's equation."""
    participant = visit.participant
    equation = equation_of_trial(participant.trial)
    try:
        demographics = participant.demographics
    except ObjectDoesNotExist:
        return PredictionInputs(
            equation,
            blocking=str(
                _(
                    "The participant's demographics (sex, date of birth, height) are missing: "
                    "record them before completing the FVC, % predicted needs them."
                )
            ),
        )
    height = demographics.height_cm
    problems: list[StrOrPromise] = []
    if height is None or not HEIGHT_RANGE_CM[0] <= float(height) <= HEIGHT_RANGE_CM[1]:
        problems.append(
            _(
                "The height in the demographics (%(height)s cm) is not plausible "
                "(%(low)g-%(high)g cm): correct it before completing the FVC."
            )
            % {"height": height, "low": HEIGHT_RANGE_CM[0], "high": HEIGHT_RANGE_CM[1]}
        )
    ethnicity = GLI_2012_GROUP.get(demographics.ethnicity)
    if equation is Equation.GLI_2012 and ethnicity is None:
        problems.append(
            _("GLI-2012 needs the ethnicity group in the demographics: record it first.")
        )
    if visit.actual_date is None:
        return PredictionInputs(
            equation,
            sex=demographics.sex,
            height_cm=height,
            ethnicity=ethnicity,
            blocking=" ".join(str(p) for p in problems),
            note=str(
                _(
                    "The visit has no date yet. The test date is the visit date, so % predicted, "
                    "z-score and LLN are computed once the visit date is recorded; manoeuvres "
                    "can be saved meanwhile (partial save)."
                )
            ),
        )
    age = age_at(demographics.date_of_birth, visit.actual_date)
    if not AGE_RANGE_YEARS[0] <= age <= AGE_RANGE_YEARS[1]:
        problems.append(
            _(
                "The age at the visit date (%(age).1f years, from the date of birth in the "
                "demographics) is outside %(low)g-%(high)g years: correct the date of birth."
            )
            % {"age": age, "low": AGE_RANGE_YEARS[0], "high": AGE_RANGE_YEARS[1]}
        )
    return PredictionInputs(
        equation,
        sex=demographics.sex,
        age_years=age,
        height_cm=height,
        ethnicity=ethnicity,
        blocking=" ".join(str(p) for p in problems),
    )


def _litres_field(n: int) -> models.DecimalField:
    return models.DecimalField(
        format_lazy(_("manoeuvre {n} (L)"), n=n),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
    )


def _acceptable_field(n: int) -> models.BooleanField:
    return models.BooleanField(format_lazy(_("manoeuvre {n} acceptable"), n=n), default=True)


def _volume_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(**{f"{name}__isnull": True})
        | models.Q(**{f"{name}__gte": MIN_VOLUME_L, f"{name}__lte": MAX_VOLUME_L}),
        name=f"fvc_{name}_plausible",
    )


@pghistory.track()
class Fvc(FormRecord):
    """Spirometry at one visit: up to 8 manoeuvres, best value, % predicted by the study's
    equation (sex, age at the visit date and height from the demographics)."""

    form_code = "fvc"
    derived_from_context = True
    required_answers = ("measure", "position", "trial_1_litres")
    optional_answers = (*LITRES_FIELDS[1:], *ACCEPTABLE_FIELDS)

    # NULL (never "") when not answered: the missing-data reason says why.
    measure = models.CharField(  # noqa: DJ001
        _("measure"),
        max_length=3,
        choices=[(Measure.FVC.value, _("FVC (forced)")), (Measure.SVC.value, _("SVC (slow)"))],
        null=True,
        blank=True,
    )
    position = models.CharField(  # noqa: DJ001
        _("position"),
        max_length=7,
        choices=[(Position.SITTING.value, _("Sitting")), (Position.SUPINE.value, _("Supine"))],
        null=True,
        blank=True,
    )
    trial_1_litres = _litres_field(1)
    trial_1_acceptable = _acceptable_field(1)
    trial_2_litres = _litres_field(2)
    trial_2_acceptable = _acceptable_field(2)
    trial_3_litres = _litres_field(3)
    trial_3_acceptable = _acceptable_field(3)
    trial_4_litres = _litres_field(4)
    trial_4_acceptable = _acceptable_field(4)
    trial_5_litres = _litres_field(5)
    trial_5_acceptable = _acceptable_field(5)
    trial_6_litres = _litres_field(6)
    trial_6_acceptable = _acceptable_field(6)
    trial_7_litres = _litres_field(7)
    trial_7_acceptable = _acceptable_field(7)
    trial_8_litres = _litres_field(8)
    trial_8_acceptable = _acceptable_field(8)

    best_litres = models.DecimalField(
        _("best (L)"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    second_best_litres = models.DecimalField(
        _("second best (L)"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    repeatable = models.BooleanField(_("repeatable (≤ 0.150 L)"), null=True, blank=True)
    acceptable_count = models.PositiveSmallIntegerField(
        _("acceptable manoeuvres"), null=True, blank=True
    )
    predicted_litres = models.FloatField(_("predicted (L)"), null=True, blank=True)
    percent_predicted = models.FloatField(_("% predicted"), null=True, blank=True)
    z_score = models.FloatField(_("z-score"), null=True, blank=True)
    lln_litres = models.FloatField(_("lower limit of normal (L)"), null=True, blank=True)
    equation = models.CharField(_("reference equation"), max_length=40, blank=True)
    equation_software = models.CharField(_("equation software"), max_length=40, blank=True)
    age_at_test = models.DecimalField(
        _("age at test (years)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    height_cm_used = models.DecimalField(
        _("height used (cm)"), max_digits=4, decimal_places=1, null=True, blank=True
    )

    class Meta:
        verbose_name = _("FVC (spirometry)")
        verbose_name_plural = _("FVC (spirometry)")
        indexes = [in_progress_index("fvc")]
        constraints = [
            *(_volume_check(name) for name in LITRES_FIELDS),
            models.CheckConstraint(
                condition=models.Q(acceptable_count__isnull=True)
                | models.Q(acceptable_count__lte=MAX_MANOEUVRES),
                name="fvc_acceptable_count_range",
            ),
        ]

    DERIVED = (
        "best_litres",
        "second_best_litres",
        "repeatable",
        "acceptable_count",
        "predicted_litres",
        "percent_predicted",
        "z_score",
        "lln_litres",
        "age_at_test",
        "height_cm_used",
    )

    def litres_values(self) -> list[Decimal | None]:
        return [getattr(self, name) for name in LITRES_FIELDS]

    def manoeuvre_rows(self) -> list[tuple[int, Decimal | None, bool]]:
        return [
            (n, getattr(self, litres), getattr(self, acceptable))
            for n, litres, acceptable in zip(
                MANOEUVRES, LITRES_FIELDS, ACCEPTABLE_FIELDS, strict=True
            )
        ]

    def completion_errors(self) -> dict[str, str]:
        if all(value is None for value in self.litres_values()):
            return {}  # test not done (its reason is on manoeuvre 1): nothing to predict
        inputs = prediction_inputs(self.visit)
        errors: dict[str, str] = {}
        if inputs.blocking:
            errors[NON_FIELD_ERRORS] = inputs.blocking
        if self.visit.actual_date is None:
            errors[NON_FIELD_ERRORS] = " ".join(
                filter(
                    None,
                    [
                        errors.get(NON_FIELD_ERRORS, ""),
                        str(
                            _(
                                "Record the visit date before completing the FVC: the test "
                                "date is the visit date and % predicted needs the age at it."
                            )
                        ),
                    ],
                )
            )
        return errors

    def compute_derived(self) -> None:
        for name in self.DERIVED:
            setattr(self, name, None)
        self.equation = self.equation_software = ""
        for litres, acceptable in zip(LITRES_FIELDS, ACCEPTABLE_FIELDS, strict=True):
            if getattr(self, litres) is None:
                setattr(self, acceptable, True)  # an empty row has no verdict
        errors = manoeuvre_errors(self.litres_values())
        if errors:
            raise ValidationError(errors)
        blows = [
            Manoeuvre(litres, acceptable)
            for _n, litres, acceptable in self.manoeuvre_rows()
            if litres is not None
        ]
        if not blows:
            return
        measure = Measure(self.measure) if self.measure else Measure.FVC
        session = summarize(blows, measure=measure)
        self.best_litres = session.best_l
        self.second_best_litres = session.second_l
        self.repeatable = session.repeatable
        self.acceptable_count = session.n_acceptable
        if session.best_l is None:
            return  # no acceptable manoeuvre: no reportable value to predict from
        inputs = prediction_inputs(self.visit)
        if not inputs.ready:
            return
        assert inputs.age_years is not None and inputs.height_cm is not None
        try:
            result = predict(
                session.best_l,
                sex=inputs.sex or "",
                age_years=inputs.age_years,
                height_cm=float(inputs.height_cm),
                equation=inputs.equation,
                ethnicity=inputs.ethnicity,
                measure=measure,
            )
        except FvcError:
            return  # implausible demographics: completion refuses them with the reason
        self.equation = result.equation
        self.equation_software = result.software
        self.age_at_test = Decimal(str(round(inputs.age_years, 2)))
        self.height_cm_used = inputs.height_cm
        self.predicted_litres = _rounded(result.predicted_l, 3)
        self.percent_predicted = _rounded(result.percent_predicted, 2)
        self.z_score = _rounded(result.zscore, 3)
        self.lln_litres = _rounded(result.lln_l, 3)

    def derived_values(self) -> list[tuple[str, object]]:
        label = self.field_label

        def yes_no(value: bool | None) -> str | None:
            return None if value is None else str(_("yes") if value else _("no"))

        def fixed(value: float | None, places: int) -> str | None:
            return None if value is None else f"{value:.{places}f}"

        return [
            (label("best_litres"), self.best_litres),
            (label("second_best_litres"), self.second_best_litres),
            (label("repeatable"), yes_no(self.repeatable)),
            (label("acceptable_count"), self.acceptable_count),
            (label("percent_predicted"), fixed(self.percent_predicted, 1)),
            (label("z_score"), fixed(self.z_score, 2)),
            (label("lln_litres"), fixed(self.lln_litres, 2)),
            (label("predicted_litres"), fixed(self.predicted_litres, 2)),
            (label("equation"), self.equation or None),
            (label("age_at_test"), self.age_at_test),
            (label("height_cm_used"), self.height_cm_used),
        ]


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)
