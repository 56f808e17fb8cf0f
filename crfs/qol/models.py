"""The quality-of-life form records (ALSAQ-40, SEIQoL-DW); the scoring lives in scoring.py,
the entry forms in forms.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecord, in_progress_index
from crfs.qol.scoring import (
    ALSAQ40_ITEMS,
    ALSAQ40_VERSION,
    RESPONSES,
    SEIQOL_CUES,
    WEIGHT_TOLERANCE,
    AlsaqDomain,
    AlsaqItem,
    Cue,
    alsaq5,
    alsaq40,
    seiqol_dw,
    seiqol_errors,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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


def _score_field(label: StrOrPromise) -> models.FloatField:
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
        indexes = [in_progress_index("alsaq40")]
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
                self.field_label(name),
                None if getattr(self, name) is None else round(getattr(self, name), 1),
            )
            for name in names
        ]


# --- SEIQoL-DW -------------------------------------------------------------------

SEIQOL_CUE_NUMBERS = range(1, SEIQOL_CUES + 1)
PERCENT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(100)]


def cue_fields(number: int) -> tuple[str, str, str]:
    return (f"cue_{number}_name", f"cue_{number}_level", f"cue_{number}_weight")


def _percent_field(label: StrOrPromise) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=4, decimal_places=1, null=True, blank=True, validators=PERCENT_VALIDATORS
    )


def _cue_name_field(label: StrOrPromise) -> models.CharField:
    # NULL, not "", while unanswered: completion and missing reasons look for None.
    return models.CharField(label, max_length=100, null=True, blank=True)


def _seiqol_values_in_range() -> models.Q:
    condition = models.Q()
    for number in SEIQOL_CUE_NUMBERS:
        for name in cue_fields(number)[1:]:
            condition &= models.Q(**{f"{name}__isnull": True}) | models.Q(
                **{f"{name}__gte": 0, f"{name}__lte": 100}
            )
    return condition


@pghistory.track()
class Seiqol(FormRecord):
    """SEIQoL-DW: five life areas the participant names, each with a level and a weight."""

    form_code = "seiqol"
    required_answers = tuple(name for n in SEIQOL_CUE_NUMBERS for name in cue_fields(n))
    # Cue names are the participant's own words: free text, reviewed before de-identified export.
    free_text_fields = tuple(cue_fields(n)[0] for n in SEIQOL_CUE_NUMBERS)

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
        indexes = [in_progress_index("seiqol")]
        constraints = [
            models.CheckConstraint(
                condition=_seiqol_values_in_range(), name="seiqol_levels_weights_0_to_100"
            ),
        ]

    def cues(self) -> list[Cue] | None:
        """The five cues, or None while any name, level or weight is missing."""
        cues = []
        for number in SEIQOL_CUE_NUMBERS:
            name, level, weight = (getattr(self, f) for f in cue_fields(number))
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
            # One message for the five weights, said once: on the first, where fixing starts.
            found["cue_1_weight"] = message
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
            (self.field_label("index"), self.index),
            (self.field_label("weight_sum"), self.weight_sum),
        ]
