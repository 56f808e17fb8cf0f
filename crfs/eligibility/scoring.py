"""Eligibility checklist of the screening visit (NCT02116634): every inclusion and
exclusion criterion as its own answer, the measured ones derived from their source.

Rules as implemented
--------------------
Each criterion evaluates to PASS, FAIL or UNKNOWN ("passes" means: an inclusion
criterion is met, or an exclusion criterion does not apply).

- El Escorial: the category (definite / probable / probable laboratory-supported /
  possible) is recorded on the checklist; any recorded category passes (the
  registry says "ALS according to El Escorial criteria" without restricting it).
- Sporadic: derived from the family history of the ALS history: "yes" fails,
  "no" and "unknown" pass (sporadic = no known familial ALS).
- Spinal onset: derived from the onset region: upper or lower limb pass; bulbar,
  respiratory and generalised onset fail.
- Under 3 years from onset: derived from the onset date and its precision and the
  screening visit date. A partial onset date stands for a period (a month, a year):
  the criterion passes only if every day of the period is under 3 calendar years
  before screening, fails only if every day is 3 years or more before, and is
  UNKNOWN when the period straddles the limit (a more precise onset, or an
  investigator's override, resolves it). "Under 3 years" is: screening date <
  onset + 3 calendar years (29 Feb + 3 years = 28 Feb).
- Progression over the past 6 months: recorded (yes passes).
- ALSFRS-R swallowing (item 3) >= 3, cutting food (5a, or 5b when that is the item-5
  answer) >= 2, walking (item 8) >= 2: derived from the screening visit's ALSFRS-R;
  UNKNOWN while the item is not entered.
- FVC >= 50 % of predicted: derived from the screening visit's spirometry
  (crfs.fvc.models.Fvc.percent_predicted); UNKNOWN while it is not entered.
- Normal polysomnography: date and result recorded; "normal" passes.
- Signed informed consent: derived from the consent records (participants app).
- Exclusions, each recorded yes/no: "no" passes, "yes" fails.

Decision: SCREEN_FAILURE if any criterion fails (all failed criteria listed);
otherwise INCOMPLETE while any is UNKNOWN; otherwise ELIGIBLE. An investigator's
override (reason + signature) covers the failed and unknown criteria it lists; it
stops covering as soon as another criterion fails or becomes unknown.

The functions above the storage section are pure (no ORM) and typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from participants.partial_dates import PartialDate, plus_years

RULES_VERSION = "NCT02116634 eligibility 1.0"
ONSET_LIMIT_YEARS = 3
SWALLOWING_MIN = 3
CUTTING_MIN = 2
WALKING_MIN = 2
FVC_MIN_PERCENT = 50.0
SPINAL_REGIONS = frozenset({"upper_limb", "lower_limb"})


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    SCREEN_FAILURE = "screen_failure"
    INCOMPLETE = "incomplete"


DECISION_LABELS: Mapping[str, Promise] = {
    Decision.ELIGIBLE: _("Eligible"),
    Decision.SCREEN_FAILURE: _("Screen failure"),
    Decision.INCOMPLETE: _("Incomplete"),
}


class Kind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: Kind
    label: str | Promise
    derived: bool = False


CRITERIA: tuple[Criterion, ...] = (
    Criterion("el_escorial", Kind.INCLUSION, _("ALS by the (revised) El Escorial criteria")),
    Criterion("sporadic", Kind.INCLUSION, _("Sporadic ALS (no familial ALS)"), derived=True),
    Criterion("spinal_onset", Kind.INCLUSION, _("Spinal (limb) onset"), derived=True),
    Criterion(
        "onset_under_3_years", Kind.INCLUSION, _("Under 3 years from symptom onset"), derived=True
    ),
    Criterion("progression_6_months", Kind.INCLUSION, _("Progression over the past 6 months")),
    Criterion(
        "alsfrs_swallowing", Kind.INCLUSION, _("ALSFRS-R swallowing (item 3) ≥ 3"), derived=True
    ),
    Criterion(
        "alsfrs_cutting", Kind.INCLUSION, _("ALSFRS-R cutting food (item 5a/5b) ≥ 2"), derived=True
    ),
    Criterion("alsfrs_walking", Kind.INCLUSION, _("ALSFRS-R walking (item 8) ≥ 2"), derived=True),
    # Not a format string ("% o" would read as one).
    # xgettext:no-python-format
    Criterion("fvc_50", Kind.INCLUSION, _("FVC ≥ 50 % of predicted"), derived=True),
    Criterion("polysomnography", Kind.INCLUSION, _("Normal polysomnography")),
    Criterion("consent", Kind.INCLUSION, _("Signed informed consent"), derived=True),
    Criterion("pregnancy_lactation", Kind.EXCLUSION, _("Pregnancy or lactation")),
    Criterion("vascular_disease", Kind.EXCLUSION, _("Vascular disease")),
    Criterion("diabetes", Kind.EXCLUSION, _("Diabetes")),
    Criterion(
        "systemic_disease",
        Kind.EXCLUSION,
        _("Systemic disease (cancer, autoimmune, liver or haematological disease)"),
    ),
    Criterion(
        "recent_hospitalisation",
        Kind.EXCLUSION,
        _("Hospitalisation for a serious illness in the last 2 months"),
    ),
    Criterion("short_survival", Kind.EXCLUSION, _("Expected survival under 2 years")),
    Criterion(
        "cell_culture_hypersensitivity",
        Kind.EXCLUSION,
        _("Hypersensitivity to any component of the cell culture"),
    ),
)
CRITERIA_BY_CODE: Mapping[str, Criterion] = {c.code: c for c in CRITERIA}
EXCLUSION_CODES: tuple[str, ...] = tuple(c.code for c in CRITERIA if c.kind == Kind.EXCLUSION)


def at_least(value: float | None, minimum: float) -> Outcome:
    if value is None:
        return Outcome.UNKNOWN
    return Outcome.PASS if value >= minimum else Outcome.FAIL


def yes_passes(value: bool | None) -> Outcome:
    if value is None:
        return Outcome.UNKNOWN
    return Outcome.PASS if value else Outcome.FAIL


def exclusion(applies: bool | None) -> Outcome:
    if applies is None:
        return Outcome.UNKNOWN
    return Outcome.FAIL if applies else Outcome.PASS


def onset_within(
    onset: date | None, precision: str | None, screened_on: date | None, years: int
) -> Outcome:
    """Under `years` from onset at screening, for a full or partial onset date."""
    if onset is None or screened_on is None:
        return Outcome.UNKNOWN
    earliest, latest = PartialDate.of(onset, precision).period()
    if screened_on < plus_years(earliest, years):
        return Outcome.PASS  # even the earliest possible onset is recent enough
    if screened_on >= plus_years(latest, years):
        return Outcome.FAIL  # even the latest possible onset is too long ago
    return Outcome.UNKNOWN


def spinal_onset(region: str | None) -> Outcome:
    if not region:
        return Outcome.UNKNOWN
    return Outcome.PASS if region in SPINAL_REGIONS else Outcome.FAIL


def sporadic(family_history: str | None) -> Outcome:
    if not family_history:
        return Outcome.UNKNOWN
    return Outcome.FAIL if family_history == "yes" else Outcome.PASS


def polysomnography(result: str | None) -> Outcome:
    if not result:
        return Outcome.UNKNOWN
    return Outcome.PASS if result == "normal" else Outcome.FAIL


@dataclass(frozen=True)
class Inputs:
    """Everything the decision needs: typed answers and the source values of derived ones."""

    el_escorial: str | None = None
    family_history: str | None = None
    onset_region: str | None = None
    onset_date: date | None = None
    onset_precision: str | None = None
    screened_on: date | None = None
    progression_6_months: bool | None = None
    swallowing: int | None = None
    cutting: int | None = None
    walking: int | None = None
    fvc_percent: float | None = None
    polysomnography_result: str | None = None
    consent_signed: bool | None = None
    exclusions: Mapping[str, bool | None] | None = None


def evaluate(inputs: Inputs) -> dict[str, Outcome]:
    """The outcome of every criterion, in CRITERIA order."""
    exclusions = inputs.exclusions or {}
    outcomes = {
        "el_escorial": Outcome.PASS if inputs.el_escorial else Outcome.UNKNOWN,
        "sporadic": sporadic(inputs.family_history),
        "spinal_onset": spinal_onset(inputs.onset_region),
        "onset_under_3_years": onset_within(
            inputs.onset_date, inputs.onset_precision, inputs.screened_on, ONSET_LIMIT_YEARS
        ),
        "progression_6_months": yes_passes(inputs.progression_6_months),
        "alsfrs_swallowing": at_least(inputs.swallowing, SWALLOWING_MIN),
        "alsfrs_cutting": at_least(inputs.cutting, CUTTING_MIN),
        "alsfrs_walking": at_least(inputs.walking, WALKING_MIN),
        "fvc_50": at_least(inputs.fvc_percent, FVC_MIN_PERCENT),
        "polysomnography": polysomnography(inputs.polysomnography_result),
        "consent": yes_passes(inputs.consent_signed),
    }
    outcomes.update({code: exclusion(exclusions.get(code)) for code in EXCLUSION_CODES})
    return {c.code: outcomes[c.code] for c in CRITERIA}


@dataclass(frozen=True)
class Result:
    decision: Decision
    failed: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def not_passing(self) -> tuple[str, ...]:
        return self.failed + self.unknown


def decide(outcomes: Mapping[str, Outcome]) -> Result:
    """Eligible only when every criterion passes; any failure is a screen failure."""
    failed = tuple(c.code for c in CRITERIA if outcomes.get(c.code) == Outcome.FAIL)
    unknown = tuple(
        c.code for c in CRITERIA if outcomes.get(c.code, Outcome.UNKNOWN) == Outcome.UNKNOWN
    )
    if failed:
        return Result(Decision.SCREEN_FAILURE, failed, unknown)
    if unknown:
        return Result(Decision.INCOMPLETE, failed, unknown)
    return Result(Decision.ELIGIBLE, (), ())


def override_covers(overridden: tuple[str, ...] | list[str], result: Result) -> bool:
    """An override holds while every criterion not passing is one it lists."""
    return result.decision != Decision.ELIGIBLE and set(result.not_passing) <= set(overridden)


def labels(codes: tuple[str, ...] | list[str]) -> list[str]:
    return [str(CRITERIA_BY_CODE[code].label) for code in codes if code in CRITERIA_BY_CODE]
