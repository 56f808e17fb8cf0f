"""ALSFRS-R: items, validation, total, domain subscores, ΔFS, King's and MiToS stages.

Sources
-------
- Cedarbaum JM, Stambler N, Malta E, et al. The ALSFRS-R: a revised ALS functional
  rating scale that incorporates assessments of respiratory function. J Neurol Sci.
  1999;169(1-2):13-21. Item wording below follows the published form.
- Kimura F, Fujimura C, Ishida S, et al. Progression rate of ALSFRS-R at time of
  diagnosis predicts survival time in ALS. Neurology. 2006;66(2):265-267 (ΔFS).
- Roche JC, Rojas-Garcia R, Scott KM, et al. A proposed staging system for
  amyotrophic lateral sclerosis. Brain. 2012;135(Pt 3):847-852 (King's staging).
- Balendra R, Jones A, Jivraj N, et al. Estimating clinical stage of amyotrophic
  lateral sclerosis from the ALS Functional Rating Scale. Amyotroph Lateral Scler
  Frontotemporal Degener. 2014;15(3-4):279-284 (King's stage from ALSFRS-R items).
- Chiò A, Hammond ER, Mora G, Bonito V, Filippini G. Development and evaluation of a
  clinical staging system for amyotrophic lateral sclerosis. J Neurol Neurosurg
  Psychiatry. 2015;86(1):38-44 (MiToS).

Rules as implemented
--------------------
- Items 1-12 are integers 0 (worst) to 4 (normal); item 5 is answered as exactly one
  of 5a (no gastrostomy) or 5b (with gastrostomy). Total 0-48.
- Domains (0-12 each): bulbar 1-3, fine motor 4-6, gross motor 7-9, respiratory 10-12.
- ΔFS = (48 - total) / months from symptom onset to the assessment, months =
  days / 30.4375 (mean Gregorian month). A partial onset date is imputed: month
  precision -> the 15th of that month, year precision -> 1 July of that year (the
  middle of the period); the result says whether it was imputed. An interval of
  0 months or less is refused.
- King's stage (Balendra 2014): bulbar region involved if any of items 1-3 < 4;
  upper limb if item 4 < 4 or the item-5 answer (5a, or 5b when that is the one
  answered) < 4; lower limb if item 8 < 4. Stage = number of involved regions,
  floored at 1 (a patient with diagnosed ALS has at least one involved region; an
  all-normal form is reported as stage 1 with ``regions`` empty). Stage 4A
  (nutritional failure, gastrostomy) when item 5b is the item-5 answer; stage 4B
  (respiratory failure, NIV) when item 10 == 0 or item 12 < 4. When both apply
  the label is "4B" (both flags stay visible on the result); numerically both are 4.
  Death is stage 5 (Roche 2012).
- MiToS (Chiò 2015): one point per functional domain lost - movement (walking,
  item 8 <= 1, or dressing and hygiene, item 6 <= 1), swallowing (item 3 <= 1),
  communication (speech, item 1 <= 1, AND handwriting, item 4 <= 1), breathing
  (dyspnoea, item 10 <= 1, OR respiratory insufficiency, item 12 <= 2). Stage 0-4;
  death = 5.
- Unanswered items (``score_available``): each value is computed when every item it
  reads is answered, else it is None - a domain subscore from its three items, the
  total from all twelve, King's stage from items 1-5, 8, 10 and 12 (regions,
  gastrostomy from which of 5a/5b is answered, NIV), MiToS from items 1, 3, 4, 6, 8,
  10 and 12; ΔFS needs the total. Nothing is imputed: an unanswered item could move a
  value that reads it. A form with unanswered items names ``PARTIAL_RULE_VERSION`` in
  its stored scoring version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from participants.partial_dates import PartialDate, months_between

INSTRUMENT_VERSION = "ALSFRS-R (Cedarbaum 1999)"
DELTA_FS_VERSION = "ΔFS (Kimura 2006)"
KINGS_ALGORITHM_VERSION = "King's staging from ALSFRS-R (Roche 2012; Balendra 2014)"
MITOS_ALGORITHM_VERSION = "MiToS (Chiò 2015)"
# Named in a record's scoring version when an item is unanswered: before this rule such
# a form stored no subscore or stage at all.
PARTIAL_RULE_VERSION = "unanswered items: each value computed from all the items it reads"

MAX_TOTAL = 48


@dataclass(frozen=True)
class Level:
    score: int
    short: str  # label beside the radio button
    text: str  # the published anchor wording


@dataclass(frozen=True)
class Item:
    code: str  # "1" .. "12", "5a", "5b"
    name: str
    levels: tuple[Level, ...]  # ordered 4 (normal) .. 0

    def level(self, score: int) -> Level:
        return next(level for level in self.levels if level.score == score)


def _levels(*anchors: tuple[str, str]) -> tuple[Level, ...]:
    assert len(anchors) == 5
    return tuple(
        Level(score=4 - i, short=short, text=text) for i, (short, text) in enumerate(anchors)
    )


ITEMS: tuple[Item, ...] = (
    Item(
        "1",
        "Speech",
        _levels(
            ("Normal", "Normal speech processes"),
            ("Detectable disturbance", "Detectable speech disturbance"),
            ("Intelligible with repeating", "Intelligible with repeating"),
            ("Speech + nonvocal", "Speech combined with nonvocal communication"),
            ("Loss of useful speech", "Loss of useful speech"),
        ),
    ),
    Item(
        "2",
        "Salivation",
        _levels(
            ("Normal", "Normal"),
            (
                "Slight excess",
                "Slight but definite excess of saliva in mouth; may have nighttime drooling",
            ),
            ("Moderate excess", "Moderately excessive saliva; may have minimal drooling"),
            ("Marked excess, some drooling", "Marked excess of saliva with some drooling"),
            ("Marked drooling", "Marked drooling; requires constant tissue or handkerchief"),
        ),
    ),
    Item(
        "3",
        "Swallowing",
        _levels(
            ("Normal", "Normal eating habits"),
            ("Occasional choking", "Early eating problems - occasional choking"),
            ("Consistency changes", "Dietary consistency changes"),
            ("Supplemental tube feeding", "Needs supplemental tube feeding"),
            ("NPO", "NPO (exclusively parenteral or enteral feeding)"),
        ),
    ),
    Item(
        "4",
        "Handwriting",
        _levels(
            ("Normal", "Normal"),
            ("Slow or sloppy, legible", "Slow or sloppy; all words are legible"),
            ("Not all words legible", "Not all words are legible"),
            ("Grips pen, cannot write", "Able to grip pen but unable to write"),
            ("Unable to grip pen", "Unable to grip pen"),
        ),
    ),
    Item(
        "5a",
        "Cutting food and handling utensils (without gastrostomy)",
        _levels(
            ("Normal", "Normal"),
            ("Slow and clumsy, no help", "Somewhat slow and clumsy, but no help needed"),
            (
                "Some help needed",
                "Can cut most foods, although clumsy and slow; some help needed",
            ),
            ("Food cut by someone", "Food must be cut by someone, but can still feed slowly"),
            ("Needs to be fed", "Needs to be fed"),
        ),
    ),
    Item(
        "5b",
        "Cutting food and handling utensils (with gastrostomy)",
        _levels(
            ("Normal", "Normal"),
            (
                "Clumsy, independent",
                "Clumsy but able to perform all manipulations independently",
            ),
            ("Help with closures", "Some help needed with closures and fasteners"),
            ("Minimal assistance", "Provides minimal assistance to caregiver"),
            ("Unable", "Unable to perform any aspect of task"),
        ),
    ),
    Item(
        "6",
        "Dressing and hygiene",
        _levels(
            ("Normal", "Normal function"),
            (
                "Independent with effort",
                "Independent and complete self-care with effort or decreased efficiency",
            ),
            ("Intermittent assistance", "Intermittent assistance or substitute methods"),
            ("Needs attendant", "Needs attendant for self-care"),
            ("Total dependence", "Total dependence"),
        ),
    ),
    Item(
        "7",
        "Turning in bed and adjusting bed clothes",
        _levels(
            ("Normal", "Normal"),
            ("Slow and clumsy, no help", "Somewhat slow and clumsy, but no help needed"),
            (
                "Alone with great difficulty",
                "Can turn alone or adjust sheets, but with great difficulty",
            ),
            ("Can initiate only", "Can initiate, but not turn or adjust sheets alone"),
            ("Helpless", "Helpless"),
        ),
    ),
    Item(
        "8",
        "Walking",
        _levels(
            ("Normal", "Normal"),
            ("Early difficulties", "Early ambulation difficulties"),
            ("Walks with assistance", "Walks with assistance"),
            ("Nonambulatory movement only", "Nonambulatory functional movement only"),
            ("No purposeful leg movement", "No purposeful leg movement"),
        ),
    ),
    Item(
        "9",
        "Climbing stairs",
        _levels(
            ("Normal", "Normal"),
            ("Slow", "Slow"),
            ("Mild unsteadiness or fatigue", "Mild unsteadiness or fatigue"),
            ("Needs assistance", "Needs assistance"),
            ("Cannot do", "Cannot do"),
        ),
    ),
    Item(
        "10",
        "Dyspnoea",
        _levels(
            ("None", "None"),
            ("When walking", "Occurs when walking"),
            (
                "With eating, bathing or dressing",
                "Occurs with one or more of the following: eating, bathing, dressing (ADL)",
            ),
            (
                "At rest",
                "Occurs at rest, difficulty breathing when either sitting or lying",
            ),
            (
                "Considering ventilation",
                "Significant difficulty, considering using mechanical respiratory support",
            ),
        ),
    ),
    Item(
        "11",
        "Orthopnoea",
        _levels(
            ("None", "None"),
            (
                "Some difficulty, <= 2 pillows",
                "Some difficulty sleeping at night due to shortness of breath; "
                "does not routinely use more than two pillows",
            ),
            ("Extra pillows (> 2)", "Needs extra pillows in order to sleep (more than two)"),
            ("Sleeps sitting up", "Can only sleep sitting up"),
            ("Unable to sleep", "Unable to sleep"),
        ),
    ),
    Item(
        "12",
        "Respiratory insufficiency",
        _levels(
            ("None", "None"),
            ("Intermittent BiPAP", "Intermittent use of BiPAP"),
            ("Continuous BiPAP at night", "Continuous use of BiPAP during the night"),
            ("Continuous BiPAP night and day", "Continuous use of BiPAP during the night and day"),
            (
                "Invasive ventilation",
                "Invasive mechanical ventilation by intubation or tracheostomy",
            ),
        ),
    ),
)

ITEMS_BY_CODE: Mapping[str, Item] = {item.code: item for item in ITEMS}
ITEM_CODES: tuple[str, ...] = tuple(item.code for item in ITEMS)


class Domain(StrEnum):
    BULBAR = "bulbar"
    FINE_MOTOR = "fine_motor"
    GROSS_MOTOR = "gross_motor"
    RESPIRATORY = "respiratory"


# "5" stands for whichever of 5a/5b was answered.
DOMAIN_ITEMS: Mapping[Domain, tuple[str, ...]] = {
    Domain.BULBAR: ("1", "2", "3"),
    Domain.FINE_MOTOR: ("4", "5", "6"),
    Domain.GROSS_MOTOR: ("7", "8", "9"),
    Domain.RESPIRATORY: ("10", "11", "12"),
}


class ScoreError(ValueError):
    """Invalid answers; ``errors`` maps an item code (or ``"5"``) to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"item {code}: {msg}" for code, msg in self.errors.items()))


def _is_score(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4


def validation_errors(answers: Mapping[str, object]) -> dict[str, str]:
    """Check answers keyed by item code ("1".."12", "5a", "5b"); None = not answered.

    Every item other than 5a/5b must be an int 0-4; exactly one of 5a/5b must be.
    """
    errors: dict[str, str] = {}
    unknown = sorted(set(answers) - set(ITEM_CODES))
    for code in unknown:
        errors[code] = "unknown item"
    for code in ITEM_CODES:
        value = answers.get(code)
        if code in ("5a", "5b"):
            if value is not None and not _is_score(value):
                errors[code] = "must be an integer from 0 to 4"
        elif value is None:
            errors[code] = "required"
        elif not _is_score(value):
            errors[code] = "must be an integer from 0 to 4"
    answered_5 = [code for code in ("5a", "5b") if answers.get(code) is not None]
    if len(answered_5) != 1:
        errors["5"] = (
            "answer exactly one of 5a (no gastrostomy) or 5b (with gastrostomy)"
            if answered_5
            else "answer 5a (no gastrostomy) or 5b (with gastrostomy)"
        )
    return errors


@dataclass(frozen=True)
class Answers:
    """One complete, valid ALSFRS-R. Construct with ``Answers.from_mapping``."""

    q1: int
    q2: int
    q3: int
    q4: int
    q5a: int | None
    q5b: int | None
    q6: int
    q7: int
    q8: int
    q9: int
    q10: int
    q11: int
    q12: int

    def __post_init__(self) -> None:
        errors = validation_errors(self.as_mapping())
        if errors:
            raise ScoreError(errors)

    @classmethod
    def from_mapping(cls, answers: Mapping[str, object]) -> Answers:
        errors = validation_errors(answers)
        if errors:
            raise ScoreError(errors)
        # validation_errors has just checked that every item is an int in range.
        return cls(**{f"q{code}": answers.get(code) for code in ITEM_CODES})  # type: ignore[arg-type]

    def as_mapping(self) -> dict[str, int | None]:
        return {code: getattr(self, f"q{code}") for code in ITEM_CODES}

    @property
    def gastrostomy(self) -> bool:
        """Item 5b (with gastrostomy) is the item-5 answer."""
        return self.q5b is not None

    @property
    def q5(self) -> int:
        """The item-5 answer, whichever of 5a/5b it is."""
        value = self.q5b if self.q5b is not None else self.q5a
        assert value is not None
        return value

    def item(self, code: str) -> int:
        """Score of item ``code``; ``"5"`` is the item-5 answer."""
        if code == "5":
            return self.q5
        value = getattr(self, f"q{code}")
        if value is None:
            raise KeyError(code)
        return int(value)


def total(answers: Answers) -> int:
    """ALSFRS-R total, 0-48 (item 5 counted once, from 5a or 5b)."""
    return sum(answers.item(code) for codes in DOMAIN_ITEMS.values() for code in codes)


def domain_scores(answers: Answers) -> dict[Domain, int]:
    """Subscores 0-12: bulbar 1-3, fine motor 4-6, gross motor 7-9, respiratory 10-12."""
    return {
        domain: sum(answers.item(code) for code in codes) for domain, codes in DOMAIN_ITEMS.items()
    }


# --- ΔFS ---------------------------------------------------------------------


@dataclass(frozen=True)
class DeltaFS:
    value: float  # points lost per month
    months: float  # onset to assessment
    onset_used: date
    onset_imputed: bool
    version: str = DELTA_FS_VERSION


def delta_fs(total_score: int, onset: PartialDate | date, assessed_on: date) -> DeltaFS:
    """ΔFS = (48 - total) / months from symptom onset to the assessment (Kimura 2006).

    Raises ValueError when the total is out of range or the interval is <= 0 months
    (for example a month-precision onset in the same month, imputed to the 15th,
    after an assessment on the 10th).
    """
    if isinstance(total_score, bool) or not isinstance(total_score, int):
        raise ValueError("total must be an integer")
    if not 0 <= total_score <= MAX_TOTAL:
        raise ValueError(f"total must be 0-{MAX_TOTAL}, got {total_score}")
    partial = onset if isinstance(onset, PartialDate) else PartialDate(onset, "day")
    onset_used = partial.imputed()
    months = months_between(onset_used, assessed_on)
    if months <= 0:
        raise ValueError(
            f"symptom onset ({onset_used.isoformat()}"
            f"{', imputed' if partial.precision != 'day' else ''}) is not before the "
            f"assessment ({assessed_on.isoformat()}); ΔFS needs a positive interval"
        )
    return DeltaFS(
        value=(MAX_TOTAL - total_score) / months,
        months=months,
        onset_used=onset_used,
        onset_imputed=partial.precision != "day",
    )


# --- King's stage ------------------------------------------------------------


class Region(StrEnum):
    BULBAR = "bulbar"
    UPPER_LIMB = "upper_limb"
    LOWER_LIMB = "lower_limb"


@dataclass(frozen=True)
class KingsStage:
    label: str  # "1", "2", "3", "4A", "4B", "5"
    stage: int  # 1-5 (4A and 4B are both 4)
    regions: frozenset[Region]
    gastrostomy: bool
    niv: bool
    version: str = KINGS_ALGORITHM_VERSION


def kings_regions(answers: Answers) -> frozenset[Region]:
    regions: set[Region] = set()
    if any(answers.item(code) < 4 for code in ("1", "2", "3")):
        regions.add(Region.BULBAR)
    if answers.q4 < 4 or answers.q5 < 4:
        regions.add(Region.UPPER_LIMB)
    if answers.q8 < 4:
        regions.add(Region.LOWER_LIMB)
    return frozenset(regions)


def kings_stage(answers: Answers, *, deceased: bool = False) -> KingsStage:
    """King's clinical stage estimated from the ALSFRS-R (Balendra 2014)."""
    regions = kings_regions(answers)
    gastrostomy = answers.gastrostomy
    niv = answers.q10 == 0 or answers.q12 < 4
    if deceased:
        label, stage = "5", 5
    elif niv:
        label, stage = "4B", 4
    elif gastrostomy:
        label, stage = "4A", 4
    else:
        stage = max(1, len(regions))
        label = str(stage)
    return KingsStage(label=label, stage=stage, regions=regions, gastrostomy=gastrostomy, niv=niv)


# --- MiToS -------------------------------------------------------------------


class MitosDomain(StrEnum):
    MOVEMENT = "movement"
    SWALLOWING = "swallowing"
    COMMUNICATION = "communication"
    BREATHING = "breathing"


@dataclass(frozen=True)
class MitosStage:
    stage: int  # 0-4, 5 = death
    domains_lost: frozenset[MitosDomain]
    version: str = MITOS_ALGORITHM_VERSION


def mitos_domains_lost(answers: Answers) -> frozenset[MitosDomain]:
    lost: set[MitosDomain] = set()
    if answers.q8 <= 1 or answers.q6 <= 1:
        lost.add(MitosDomain.MOVEMENT)
    if answers.q3 <= 1:
        lost.add(MitosDomain.SWALLOWING)
    if answers.q1 <= 1 and answers.q4 <= 1:
        lost.add(MitosDomain.COMMUNICATION)
    if answers.q10 <= 1 or answers.q12 <= 2:
        lost.add(MitosDomain.BREATHING)
    return frozenset(lost)


def mitos_stage(answers: Answers, *, deceased: bool = False) -> MitosStage:
    """MiToS stage (Chiò 2015): number of domains lost, 0-4; 5 = death."""
    lost = mitos_domains_lost(answers)
    return MitosStage(stage=5 if deceased else len(lost), domains_lost=lost)


# --- everything at once --------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """The derived values stored beside the raw items."""

    total: int
    domains: Mapping[Domain, int]
    kings: KingsStage
    mitos: MitosStage
    instrument_version: str = INSTRUMENT_VERSION


def score(answers: Answers, *, deceased: bool = False) -> Scores:
    return Scores(
        total=total(answers),
        domains=domain_scores(answers),
        kings=kings_stage(answers, deceased=deceased),
        mitos=mitos_stage(answers, deceased=deceased),
    )


# --- a form with unanswered items --------------------------------------------------

# Items that one derived value reads ("5" = whichever of 5a/5b is answered). A value is
# computed only when every item it reads is answered: an unanswered item could move it,
# while an item it does not read cannot.
TOTAL_ITEMS: tuple[str, ...] = tuple(code for codes in DOMAIN_ITEMS.values() for code in codes)
KINGS_ITEMS: tuple[str, ...] = ("1", "2", "3", "4", "5", "8", "10", "12")
MITOS_ITEMS: tuple[str, ...] = ("1", "3", "4", "6", "8", "10", "12")


def answered_item_codes(answers: Mapping[str, object]) -> frozenset[str]:
    """The answered items among ``TOTAL_ITEMS`` ("5" when exactly one of 5a/5b is)."""
    answered = {code for code in TOTAL_ITEMS if code != "5" and answers.get(code) is not None}
    if sum(answers.get(code) is not None for code in ("5a", "5b")) == 1:
        answered.add("5")
    return frozenset(answered)


def unanswered_items(read: tuple[str, ...], answers: Mapping[str, object]) -> tuple[str, ...]:
    """Which of the items ``read`` are unanswered, in form order."""
    answered = answered_item_codes(answers)
    return tuple(code for code in read if code not in answered)


@dataclass(frozen=True)
class AvailableScores:
    """What the answered items allow; None where an item the value reads is unanswered."""

    total: int | None
    domains: Mapping[Domain, int | None]
    kings: KingsStage | None
    mitos: MitosStage | None
    complete: bool  # every item answered: the same values as ``score``


def score_available(answers: Mapping[str, object], *, deceased: bool = False) -> AvailableScores:
    """Every derived value whose items are answered; None = unanswered.

    Raises ScoreError for an answer that is not a score, an unknown item, or both 5a
    and 5b answered: those are wrong answers, not missing ones.
    """
    errors = {
        code: message
        for code, message in validation_errors(answers).items()
        if message != "required" and not (code == "5" and not _both_5(answers))
    }
    if errors:
        raise ScoreError(errors)
    answered = answered_item_codes(answers)
    if answered == set(TOTAL_ITEMS):
        full = score(Answers.from_mapping(answers), deceased=deceased)
        return AvailableScores(full.total, full.domains, full.kings, full.mitos, complete=True)

    def item(code: str) -> int:
        if code == "5":
            code = "5a" if answers.get("5a") is not None else "5b"
        value = answers.get(code)
        assert isinstance(value, int)  # answered, and validated above
        return value

    domains = {
        domain: sum(item(code) for code in codes) if answered >= set(codes) else None
        for domain, codes in DOMAIN_ITEMS.items()
    }
    return AvailableScores(
        total=None,
        domains=domains,
        kings=(
            kings_stage(_filled(answers), deceased=deceased)
            if answered >= set(KINGS_ITEMS)
            else None
        ),
        mitos=(
            mitos_stage(_filled(answers), deceased=deceased)
            if answered >= set(MITOS_ITEMS)
            else None
        ),
        complete=False,
    )


def _both_5(answers: Mapping[str, object]) -> bool:
    return answers.get("5a") is not None and answers.get("5b") is not None


def _filled(answers: Mapping[str, object]) -> Answers:
    """Complete answers for a stage whose items are all answered: the unanswered items,
    which that stage does not read (``KINGS_ITEMS``, ``MITOS_ITEMS``; a test holds the
    stages to those lists), are filled with 4 so the complete-form rules apply as they are."""
    filled = {code: answers.get(code) for code in ITEM_CODES}
    for code in ITEM_CODES:
        if code not in ("5a", "5b") and filled[code] is None:
            filled[code] = 4
    if filled["5a"] is None and filled["5b"] is None:
        filled["5a"] = 4
    return Answers.from_mapping(filled)
