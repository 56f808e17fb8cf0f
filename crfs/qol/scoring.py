"""Quality of life: ALSAQ-40, ALSAQ-5 (derived or stand-alone) and SEIQoL-DW.

Sources
-------
- Jenkinson C, Fitzpatrick R, Brennan C, Bromberg M, Swash M. Development and
  validation of a short measure of health status for individuals with amyotrophic
  lateral sclerosis/motor neurone disease: the ALSAQ-40. J Neurol. 1999;246 Suppl
  3:III16-21.
- Jenkinson C, Fitzpatrick R. Reduced item set for the amyotrophic lateral sclerosis
  assessment questionnaire: development and validation of the ALSAQ-5. J Neurol
  Neurosurg Psychiatry. 2001;70(1):70-73.
- Jenkinson C, Fitzpatrick R, Swash M, Levvy G. ALSAQ User Manual. Health Services
  Research Unit, University of Oxford (scoring and missing-data rules).
- O'Boyle CA, Browne J, Hickey A, McGee HM, Joyce CRB. Schedule for the Evaluation
  of Individual Quality of Life - Direct Weighting (SEIQoL-DW): administration
  manual. Royal College of Surgeons in Ireland, 1995; Hickey AM, Bury G, O'Boyle
  CA, et al. A new short form individual quality of life measure (SEIQoL-DW):
  application in a cohort of individuals with HIV/AIDS. BMJ. 1996;313:29-33.

ALSAQ-40 item wording is copyrighted (University of Oxford, licensed via Oxford
University Innovation) and is not reproduced here: items carry their number, domain
and a neutral label ("Physical mobility item 1"). The licensed form is shown to
the participant; this module only scores the answers.

Rules as implemented
--------------------
- ALSAQ-40 answers 0-4: never, rarely, sometimes, often, always or cannot do at all.
  Domains: physical mobility items 1-10, activities of daily living / independence
  11-20, eating and drinking 21-23, communication 24-30, emotional reactions 31-40.
- Domain score = sum of item scores / (4 x number of items) x 100 (0 best, 100 worst).
- Missing items (developer's rule, ALSAQ user manual): a domain is scored when at
  most half of its items are missing; each missing item is imputed with the mean of
  the answered items of that domain (so the score equals the mean answered score /
  4 x 100). With more than half missing the domain score is None. "At most half"
  allows 5 of 10, 1 of 3 and 3 of 7 missing.
- ALSAQ-40 summary index = mean of the five domain scores (None if any is None).
- ALSAQ-5: one item per domain, the ALSAQ-40 items set in italics in Table 6 of
  Jenkinson & Fitzpatrick 2001 ("Dimensions and items of the ALSAQ-40 and ALSAQ-5"):
  item 9 (physical mobility: difficulty standing up), 11 (ADL / independence:
  difficulty using arms and hands), 22 (eating and drinking: difficulty eating solid
  food), 25 (communication: speech not easy to understand), 34 (emotional reactions:
  felt hopeless about the future); published translations of the ALSAQ-5 carry the
  same five items. Each item is scaled item / 4 x 100; the ALSAQ-5 total is the sum
  of the five items / 20 x 100 (the mean of the scaled items). Any missing item makes
  its domain and the total None (no imputation with one item per domain). (Until
  2026-11-27 this module used items 8, 17, 22, 29, 35: migration 0007 re-derived the
  stored ALSAQ-5 scores.)
- SEIQoL-DW: five cues (self-named life areas), each with a level 0-100 and a
  weight 0-100; weights must sum to 100 within +/- 0.5 (rounding when read off the
  disc); index = sum(level x weight) / 100, range 0-100 (higher is better). Weights
  are used as recorded, not renormalised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

ALSAQ40_VERSION = "ALSAQ-40 (Jenkinson 1999)"
ALSAQ5_VERSION = "ALSAQ-5 (Jenkinson 2001; items 9, 11, 22, 25, 34)"
SEIQOL_VERSION = "SEIQoL-DW (O'Boyle 1995; Hickey 1996)"

RESPONSES: Mapping[int, str] = {
    0: "Never",
    1: "Rarely",
    2: "Sometimes",
    3: "Often",
    4: "Always or cannot do at all",
}


class AlsaqDomain(StrEnum):
    PHYSICAL_MOBILITY = "physical_mobility"
    INDEPENDENCE = "independence"  # activities of daily living / independence
    EATING_DRINKING = "eating_drinking"
    COMMUNICATION = "communication"
    EMOTIONAL_REACTIONS = "emotional_reactions"


DOMAIN_LABELS: Mapping[AlsaqDomain, str] = {
    AlsaqDomain.PHYSICAL_MOBILITY: "Physical mobility",
    AlsaqDomain.INDEPENDENCE: "Activities of daily living / independence",
    AlsaqDomain.EATING_DRINKING: "Eating and drinking",
    AlsaqDomain.COMMUNICATION: "Communication",
    AlsaqDomain.EMOTIONAL_REACTIONS: "Emotional reactions",
}

DOMAIN_ITEMS: Mapping[AlsaqDomain, range] = {
    AlsaqDomain.PHYSICAL_MOBILITY: range(1, 11),
    AlsaqDomain.INDEPENDENCE: range(11, 21),
    AlsaqDomain.EATING_DRINKING: range(21, 24),
    AlsaqDomain.COMMUNICATION: range(24, 31),
    AlsaqDomain.EMOTIONAL_REACTIONS: range(31, 41),
}


@dataclass(frozen=True)
class AlsaqItem:
    number: int  # 1-40, as numbered on the ALSAQ-40
    domain: AlsaqDomain
    label: str  # neutral, e.g. "Physical mobility item 1"; never the copyrighted wording


def _items() -> tuple[AlsaqItem, ...]:
    items = []
    for domain, numbers in DOMAIN_ITEMS.items():
        for position, number in enumerate(numbers, start=1):
            items.append(AlsaqItem(number, domain, f"{DOMAIN_LABELS[domain]} item {position}"))
    return tuple(items)


ALSAQ40_ITEMS: tuple[AlsaqItem, ...] = _items()
ALSAQ5_ITEMS: Mapping[AlsaqDomain, int] = {
    AlsaqDomain.PHYSICAL_MOBILITY: 9,
    AlsaqDomain.INDEPENDENCE: 11,
    AlsaqDomain.EATING_DRINKING: 22,
    AlsaqDomain.COMMUNICATION: 25,
    AlsaqDomain.EMOTIONAL_REACTIONS: 34,
}

Answers = Mapping[int, int | None]  # ALSAQ-40 item number -> 0-4, None = missing


class QolError(ValueError):
    def __init__(self, errors: Mapping[int, str] | Mapping[str, str]) -> None:
        self.errors: dict[int | str, str] = dict(errors.items())
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in self.errors.items()))


def alsaq_validation_errors(answers: Mapping[int, object], items: Sequence[int]) -> dict[int, str]:
    """Answers must be ints 0-4 or None (missing) and only for the given item numbers."""
    errors: dict[int, str] = {}
    allowed = set(items)
    for number, value in answers.items():
        if number not in allowed:
            errors[number] = "unknown item"
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4
        ):
            errors[number] = "must be an integer from 0 to 4"
    return errors


def _check(answers: Mapping[int, object], items: Sequence[int]) -> None:
    errors = alsaq_validation_errors(answers, items)
    if errors:
        raise QolError(errors)


@dataclass(frozen=True)
class DomainScore:
    score: float | None  # 0 (best) - 100 (worst); None if too many items are missing
    answered: int
    missing: int

    @property
    def imputed(self) -> bool:
        return self.score is not None and self.missing > 0


def domain_score(domain: AlsaqDomain, answers: Answers) -> DomainScore:
    """One ALSAQ-40 domain, with the at-most-half-missing mean imputation."""
    _check(answers, range(1, 41))
    numbers = DOMAIN_ITEMS[domain]
    given = [v for n in numbers if (v := answers.get(n)) is not None]
    missing = len(numbers) - len(given)
    if not given or missing > len(numbers) / 2:
        return DomainScore(score=None, answered=len(given), missing=missing)
    mean = sum(given) / len(given)
    imputed_sum = sum(given) + mean * missing
    return DomainScore(
        score=imputed_sum / (4 * len(numbers)) * 100, answered=len(given), missing=missing
    )


@dataclass(frozen=True)
class Alsaq40Scores:
    domains: Mapping[AlsaqDomain, DomainScore]
    summary_index: float | None  # mean of the five domain scores
    version: str = ALSAQ40_VERSION


def alsaq40(answers: Answers) -> Alsaq40Scores:
    domains = {domain: domain_score(domain, answers) for domain in AlsaqDomain}
    scores = [d.score for d in domains.values() if d.score is not None]
    summary = sum(scores) / len(scores) if len(scores) == len(domains) else None
    return Alsaq40Scores(domains=domains, summary_index=summary)


@dataclass(frozen=True)
class Alsaq5Scores:
    items: Mapping[AlsaqDomain, float | None]  # each item / 4 x 100
    total: float | None  # sum / 20 x 100
    version: str = ALSAQ5_VERSION


def alsaq5(answers: Answers) -> Alsaq5Scores:
    """ALSAQ-5 from answers keyed by ALSAQ-40 item number (9, 11, 22, 25, 34).

    Works on a full ALSAQ-40 (other items ignored) or a stand-alone ALSAQ-5.
    """
    _check(answers, range(1, 41))
    raw = {domain: answers.get(number) for domain, number in ALSAQ5_ITEMS.items()}
    items = {domain: None if v is None else v / 4 * 100 for domain, v in raw.items()}
    values = [v for v in raw.values() if v is not None]
    total = sum(values) / 20 * 100 if len(values) == len(raw) else None
    return Alsaq5Scores(items=items, total=total)


# --- SEIQoL-DW ---------------------------------------------------------------

SEIQOL_CUES = 5
WEIGHT_TOLERANCE = 0.5


@dataclass(frozen=True)
class Cue:
    name: str  # the life area the participant named
    level: float  # 0-100
    weight: float  # 0-100 (% of the disc)


@dataclass(frozen=True)
class SeiqolScore:
    index: float  # 0-100
    weight_sum: float
    version: str = SEIQOL_VERSION


def seiqol_errors(cues: Sequence[Cue]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(cues) != SEIQOL_CUES:
        errors["cues"] = f"exactly {SEIQOL_CUES} cues are needed, got {len(cues)}"
    names = [cue.name.strip().casefold() for cue in cues]
    if any(not name for name in names):
        errors["name"] = "every cue needs a name"
    elif len(set(names)) != len(names):
        errors["name"] = "cue names must differ"
    for i, cue in enumerate(cues, start=1):
        if not 0 <= cue.level <= 100:
            errors[f"level_{i}"] = f"level {cue.level:g} is outside 0-100"
        if not 0 <= cue.weight <= 100:
            errors[f"weight_{i}"] = f"weight {cue.weight:g} is outside 0-100"
    weight_sum = sum(cue.weight for cue in cues)
    if abs(weight_sum - 100) > WEIGHT_TOLERANCE:
        errors["weights"] = f"weights sum to {weight_sum:g}, not 100 (+/- {WEIGHT_TOLERANCE:g})"
    return errors


def seiqol_dw(cues: Sequence[Cue]) -> SeiqolScore:
    """SEIQoL-DW index = sum(level x weight) / 100."""
    errors = seiqol_errors(cues)
    if errors:
        raise QolError(errors)
    return SeiqolScore(
        index=sum(cue.level * cue.weight for cue in cues) / 100,
        weight_sum=sum(cue.weight for cue in cues),
    )
