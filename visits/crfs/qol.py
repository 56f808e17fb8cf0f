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
    def __init__(self, errors: Mapping[object, str]) -> None:
        self.errors = dict(errors)
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


# --- Storage and entry ---------------------------------------------------------
# Imported here, below the pure scoring, so the functions above stay usable without Django.

import pghistory  # noqa: E402
from django import forms  # noqa: E402
from django.core.validators import MaxValueValidator, MinValueValidator  # noqa: E402
from django.db import models  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from visits.crfs.base import FormRecord, FormRecordForm  # noqa: E402

# Model field name per ALSAQ-40 item number; stable names, also the export's variable names.
ALSAQ40_FIELDS: Mapping[int, str] = {
    item.number: f"item_{item.number:02d}" for item in ALSAQ40_ITEMS
}
ALSAQ40_DOMAIN_FIELDS: Mapping[AlsaqDomain, str] = {domain: domain.value for domain in AlsaqDomain}
ALSAQ5_FIELDS: Mapping[AlsaqDomain, str] = {
    domain: f"alsaq5_{domain.value}" for domain in AlsaqDomain
}
RESPONSE_CHOICES = [(score, f"{score} · {label}") for score, label in RESPONSES.items()]


def _alsaq_item_field(item: AlsaqItem) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        f"{item.number}. {item.label}", null=True, blank=True, choices=RESPONSE_CHOICES
    )


def _score_field(label: str) -> models.FloatField:
    return models.FloatField(label, null=True, blank=True)


def _alsaq40_items_in_range() -> models.Q:
    condition = models.Q()
    for name in ALSAQ40_FIELDS.values():
        condition &= models.Q(**{f"{name}__isnull": True}) | models.Q(**{f"{name}__lte": 4})
    return condition


@pghistory.track()
class Alsaq40(FormRecord):
    """ALSAQ-40: the answers (0-4) to the licensed questionnaire and the scores from them."""

    form_code = "alsaq40"
    required_answers = tuple(ALSAQ40_FIELDS.values())

    item_01 = _alsaq_item_field(ALSAQ40_ITEMS[0])
    item_02 = _alsaq_item_field(ALSAQ40_ITEMS[1])
    item_03 = _alsaq_item_field(ALSAQ40_ITEMS[2])
    item_04 = _alsaq_item_field(ALSAQ40_ITEMS[3])
    item_05 = _alsaq_item_field(ALSAQ40_ITEMS[4])
    item_06 = _alsaq_item_field(ALSAQ40_ITEMS[5])
    item_07 = _alsaq_item_field(ALSAQ40_ITEMS[6])
    item_08 = _alsaq_item_field(ALSAQ40_ITEMS[7])
    item_09 = _alsaq_item_field(ALSAQ40_ITEMS[8])
    item_10 = _alsaq_item_field(ALSAQ40_ITEMS[9])
    item_11 = _alsaq_item_field(ALSAQ40_ITEMS[10])
    item_12 = _alsaq_item_field(ALSAQ40_ITEMS[11])
    item_13 = _alsaq_item_field(ALSAQ40_ITEMS[12])
    item_14 = _alsaq_item_field(ALSAQ40_ITEMS[13])
    item_15 = _alsaq_item_field(ALSAQ40_ITEMS[14])
    item_16 = _alsaq_item_field(ALSAQ40_ITEMS[15])
    item_17 = _alsaq_item_field(ALSAQ40_ITEMS[16])
    item_18 = _alsaq_item_field(ALSAQ40_ITEMS[17])
    item_19 = _alsaq_item_field(ALSAQ40_ITEMS[18])
    item_20 = _alsaq_item_field(ALSAQ40_ITEMS[19])
    item_21 = _alsaq_item_field(ALSAQ40_ITEMS[20])
    item_22 = _alsaq_item_field(ALSAQ40_ITEMS[21])
    item_23 = _alsaq_item_field(ALSAQ40_ITEMS[22])
    item_24 = _alsaq_item_field(ALSAQ40_ITEMS[23])
    item_25 = _alsaq_item_field(ALSAQ40_ITEMS[24])
    item_26 = _alsaq_item_field(ALSAQ40_ITEMS[25])
    item_27 = _alsaq_item_field(ALSAQ40_ITEMS[26])
    item_28 = _alsaq_item_field(ALSAQ40_ITEMS[27])
    item_29 = _alsaq_item_field(ALSAQ40_ITEMS[28])
    item_30 = _alsaq_item_field(ALSAQ40_ITEMS[29])
    item_31 = _alsaq_item_field(ALSAQ40_ITEMS[30])
    item_32 = _alsaq_item_field(ALSAQ40_ITEMS[31])
    item_33 = _alsaq_item_field(ALSAQ40_ITEMS[32])
    item_34 = _alsaq_item_field(ALSAQ40_ITEMS[33])
    item_35 = _alsaq_item_field(ALSAQ40_ITEMS[34])
    item_36 = _alsaq_item_field(ALSAQ40_ITEMS[35])
    item_37 = _alsaq_item_field(ALSAQ40_ITEMS[36])
    item_38 = _alsaq_item_field(ALSAQ40_ITEMS[37])
    item_39 = _alsaq_item_field(ALSAQ40_ITEMS[38])
    item_40 = _alsaq_item_field(ALSAQ40_ITEMS[39])

    physical_mobility = _score_field(_("physical mobility (0-100)"))
    independence = _score_field(_("ADL / independence (0-100)"))
    eating_drinking = _score_field(_("eating and drinking (0-100)"))
    communication = _score_field(_("communication (0-100)"))
    emotional_reactions = _score_field(_("emotional reactions (0-100)"))
    summary_index = _score_field(_("ALSAQ-40 summary index"))
    alsaq5_physical_mobility = _score_field(_("ALSAQ-5 physical mobility"))
    alsaq5_independence = _score_field(_("ALSAQ-5 ADL / independence"))
    alsaq5_eating_drinking = _score_field(_("ALSAQ-5 eating and drinking"))
    alsaq5_communication = _score_field(_("ALSAQ-5 communication"))
    alsaq5_emotional_reactions = _score_field(_("ALSAQ-5 emotional reactions"))
    alsaq5_total = _score_field(_("ALSAQ-5 total"))
    instrument_version = models.CharField(
        _("instrument version"), max_length=60, default=ALSAQ40_VERSION
    )
    scoring_version = models.CharField(_("scoring version"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ALSAQ-40")
        verbose_name_plural = _("ALSAQ-40")
        constraints = [
            models.CheckConstraint(
                condition=_alsaq40_items_in_range(), name="alsaq40_items_0_to_4"
            ),
        ]

    def item_answers(self) -> dict[int, int | None]:
        return {number: getattr(self, name) for number, name in ALSAQ40_FIELDS.items()}

    def compute_derived(self) -> None:
        # A domain is scored with up to half of its items missing (developer's rule).
        scores = alsaq40(self.item_answers())
        short = alsaq5(self.item_answers())
        for domain in AlsaqDomain:
            setattr(self, ALSAQ40_DOMAIN_FIELDS[domain], scores.domains[domain].score)
            setattr(self, ALSAQ5_FIELDS[domain], short.items[domain])
        self.summary_index = scores.summary_index
        self.alsaq5_total = short.total
        self.scoring_version = f"{scores.version}; {short.version}"

    def derived_values(self) -> list[tuple[str, object]]:
        names = (
            *ALSAQ40_DOMAIN_FIELDS.values(),
            "summary_index",
            *ALSAQ5_FIELDS.values(),
            "alsaq5_total",
        )
        return [
            (
                str(self._meta.get_field(name).verbose_name),
                None if getattr(self, name) is None else round(getattr(self, name), 1),
            )
            for name in names
        ]


class MissingReasonsBelow:
    """For grid pages: the missing-data reasons listed after the answers, not between them."""

    def missing_short_label(self, name: str) -> str:
        return str(self[name].label)

    def missing_rows(self) -> list[dict[str, object]]:
        return [
            {"short": self.missing_short_label(name), "missing": self.missing_field(name)}
            for name in self._meta.model.required_answers
        ]

    def missing_open(self) -> bool:
        return any(row["missing"].value() or row["missing"].errors for row in self.missing_rows())


class Alsaq40Form(MissingReasonsBelow, FormRecordForm):
    class Meta:
        model = Alsaq40
        fields = list(ALSAQ40_FIELDS.values())
        widgets = {
            name: forms.RadioSelect(attrs={"class": "form-check-input"})
            for name in ALSAQ40_FIELDS.values()
        }

    responses = tuple(RESPONSES.items())

    def missing_short_label(self, name: str) -> str:
        return str(_("Item %(n)s") % {"n": int(name.removeprefix("item_"))})

    def item_rows(self) -> list[dict[str, object]]:
        """One table row per item: number, domain, the bound field and its missing reason."""
        return [
            {
                "item": item,
                "domain": DOMAIN_LABELS[item.domain],
                "field": self[ALSAQ40_FIELDS[item.number]],
                "missing": self.missing_field(ALSAQ40_FIELDS[item.number]),
            }
            for item in ALSAQ40_ITEMS
        ]


# --- SEIQoL-DW -------------------------------------------------------------------

SEIQOL_CUE_NUMBERS = range(1, SEIQOL_CUES + 1)
PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]


def _cue_fields(number: int) -> tuple[str, str, str]:
    return (f"cue_{number}_name", f"cue_{number}_level", f"cue_{number}_weight")


def _percent_field(label: str) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=4, decimal_places=1, null=True, blank=True, validators=PERCENT_VALIDATORS
    )


def _cue_name_field(label: str) -> models.CharField:
    # NULL, not "", while unanswered: completion and missing reasons look for None.
    return models.CharField(label, max_length=100, null=True, blank=True)


def _seiqol_values_in_range() -> models.Q:
    condition = models.Q()
    for number in SEIQOL_CUE_NUMBERS:
        for name in _cue_fields(number)[1:]:
            condition &= models.Q(**{f"{name}__isnull": True}) | models.Q(
                **{f"{name}__gte": 0, f"{name}__lte": 100}
            )
    return condition


@pghistory.track()
class Seiqol(FormRecord):
    """SEIQoL-DW: five life areas the participant names, each with a level and a weight."""

    form_code = "seiqol"
    required_answers = tuple(name for n in SEIQOL_CUE_NUMBERS for name in _cue_fields(n))
    # Cue names are the participant's own words: free text, reviewed before de-identified export.
    free_text_fields = tuple(_cue_fields(n)[0] for n in SEIQOL_CUE_NUMBERS)

    cue_1_name = _cue_name_field(_("cue 1 · life area"))
    cue_1_level = _percent_field(_("cue 1 · level (0-100)"))
    cue_1_weight = _percent_field(_("cue 1 · weight (0-100)"))
    cue_2_name = _cue_name_field(_("cue 2 · life area"))
    cue_2_level = _percent_field(_("cue 2 · level (0-100)"))
    cue_2_weight = _percent_field(_("cue 2 · weight (0-100)"))
    cue_3_name = _cue_name_field(_("cue 3 · life area"))
    cue_3_level = _percent_field(_("cue 3 · level (0-100)"))
    cue_3_weight = _percent_field(_("cue 3 · weight (0-100)"))
    cue_4_name = _cue_name_field(_("cue 4 · life area"))
    cue_4_level = _percent_field(_("cue 4 · level (0-100)"))
    cue_4_weight = _percent_field(_("cue 4 · weight (0-100)"))
    cue_5_name = _cue_name_field(_("cue 5 · life area"))
    cue_5_level = _percent_field(_("cue 5 · level (0-100)"))
    cue_5_weight = _percent_field(_("cue 5 · weight (0-100)"))

    index = models.FloatField(_("SEIQoL-DW index (0-100)"), null=True, blank=True)
    weight_sum = models.FloatField(_("sum of the weights"), null=True, blank=True)
    scoring_version = models.CharField(_("scoring version"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("SEIQoL-DW")
        verbose_name_plural = _("SEIQoL-DW")
        constraints = [
            models.CheckConstraint(
                condition=_seiqol_values_in_range(), name="seiqol_levels_weights_0_to_100"
            ),
        ]

    def cues(self) -> list[Cue] | None:
        """The five cues, or None while any name, level or weight is missing."""
        cues = []
        for number in SEIQOL_CUE_NUMBERS:
            name, level, weight = (getattr(self, f) for f in _cue_fields(number))
            if name is None or level is None or weight is None:
                return None
            cues.append(Cue(name=name, level=float(level), weight=float(weight)))
        return cues

    def completion_errors(self) -> dict[str, str]:
        cues = self.cues()
        if cues is None:
            return {}  # missing answers (with reasons) or `unanswered` already speaks
        errors = seiqol_errors(cues)
        found: dict[str, str] = {}
        if "weights" in errors:
            message = str(
                _("The weights sum to %(sum)s; they must sum to 100 (± %(tol)s).")
                % {"sum": f"{sum(c.weight for c in cues):g}", "tol": f"{WEIGHT_TOLERANCE:g}"}
            )
            for number in SEIQOL_CUE_NUMBERS:
                found[f"cue_{number}_weight"] = message
        if "name" in errors:
            seen: set[str] = set()
            for number, cue in zip(SEIQOL_CUE_NUMBERS, cues, strict=True):
                key = cue.name.strip().casefold()
                if not key or key in seen:
                    found[f"cue_{number}_name"] = str(_("Each cue needs its own name (life area)."))
                seen.add(key)
        for number in SEIQOL_CUE_NUMBERS:
            for kind in ("level", "weight"):
                if f"{kind}_{number}" in errors:
                    found[f"cue_{number}_{kind}"] = errors[f"{kind}_{number}"]
        return found

    def compute_derived(self) -> None:
        self.index, self.weight_sum, self.scoring_version = None, None, ""
        cues = self.cues()
        if cues is None:
            return
        self.weight_sum = sum(cue.weight for cue in cues)
        if seiqol_errors(cues):
            return  # a partial save may hold weights not yet summing to 100: no index
        result = seiqol_dw(cues)
        self.index, self.weight_sum, self.scoring_version = (
            result.index,
            result.weight_sum,
            result.version,
        )

    def derived_values(self) -> list[tuple[str, object]]:
        return [
            (str(self._meta.get_field("index").verbose_name), self.index),
            (str(self._meta.get_field("weight_sum").verbose_name), self.weight_sum),
        ]


class SeiqolForm(MissingReasonsBelow, FormRecordForm):
    class Meta:
        model = Seiqol
        fields = list(Seiqol.required_answers)

    def cue_rows(self) -> list[dict[str, object]]:
        return [
            {"number": number, "fields": [self[name] for name in _cue_fields(number)]}
            for number in SEIQOL_CUE_NUMBERS
        ]
