"""The ALSFRS-R form record; the scoring lives in scoring.py, the entry form in forms.py."""

from __future__ import annotations

from collections.abc import Mapping

import pghistory
from django.db import models
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crfs.alsfrs_r.scoring import (
    DELTA_FS_VERSION,
    DOMAIN_ITEMS,
    INSTRUMENT_VERSION,
    ITEM_CODES,
    ITEMS_BY_CODE,
    KINGS_ALGORITHM_VERSION,
    KINGS_ITEMS,
    MAX_TOTAL,
    MITOS_ALGORITHM_VERSION,
    MITOS_ITEMS,
    PARTIAL_RULE_VERSION,
    TOTAL_ITEMS,
    DeltaFS,
    Domain,
    PartialDate,
    ScoreError,
    delta_fs,
    score_available,
    unanswered_items,
    validation_errors,
)
from crfs.base import FormRecord, MissingReason, in_progress_index

# Model field name per item code; stable names, also the export's variable names.
FIELD_BY_CODE: Mapping[str, str] = {
    "1": "q1_speech",
    "2": "q2_salivation",
    "3": "q3_swallowing",
    "4": "q4_handwriting",
    "5a": "q5a_cutting_no_gastrostomy",
    "5b": "q5b_cutting_gastrostomy",
    "6": "q6_dressing_hygiene",
    "7": "q7_turning_in_bed",
    "8": "q8_walking",
    "9": "q9_climbing_stairs",
    "10": "q10_dyspnoea",
    "11": "q11_orthopnoea",
    "12": "q12_respiratory_insufficiency",
}


def _item_field(code: str) -> models.PositiveSmallIntegerField:
    item = ITEMS_BY_CODE[code]
    return models.PositiveSmallIntegerField(
        f"{code}. {item.name}",
        null=True,
        blank=True,
        choices=[(level.score, f"{level.score} · {level.text}") for level in item.levels],
    )


@pghistory.track()
class AlsfrsR(FormRecord):
    form_code = "alsfrs_r"
    derived_from_context = True
    required_answers = tuple(FIELD_BY_CODE[c] for c in ITEM_CODES if c not in ("5a", "5b"))
    optional_answers = (FIELD_BY_CODE["5a"], FIELD_BY_CODE["5b"])

    q1_speech = _item_field("1")
    q2_salivation = _item_field("2")
    q3_swallowing = _item_field("3")
    q4_handwriting = _item_field("4")
    q5a_cutting_no_gastrostomy = _item_field("5a")
    q5b_cutting_gastrostomy = _item_field("5b")
    q6_dressing_hygiene = _item_field("6")
    q7_turning_in_bed = _item_field("7")
    q8_walking = _item_field("8")
    q9_climbing_stairs = _item_field("9")
    q10_dyspnoea = _item_field("10")
    q11_orthopnoea = _item_field("11")
    q12_respiratory_insufficiency = _item_field("12")

    total = models.PositiveSmallIntegerField(_("ALSFRS-R total"), null=True, blank=True)
    bulbar = models.PositiveSmallIntegerField(_("bulbar subscore"), null=True, blank=True)
    fine_motor = models.PositiveSmallIntegerField(_("fine motor subscore"), null=True, blank=True)
    gross_motor = models.PositiveSmallIntegerField(_("gross motor subscore"), null=True, blank=True)
    respiratory = models.PositiveSmallIntegerField(_("respiratory subscore"), null=True, blank=True)
    kings_stage = models.CharField(_("King's stage"), max_length=2, blank=True)
    mitos_stage = models.PositiveSmallIntegerField(_("MiToS stage"), null=True, blank=True)
    delta_fs = models.FloatField(_("ΔFS (points per month)"), null=True, blank=True)
    delta_fs_onset_imputed = models.BooleanField(_("ΔFS onset date imputed"), null=True, blank=True)
    instrument_version = models.CharField(
        _("instrument version"), max_length=60, default=INSTRUMENT_VERSION
    )
    scoring_version = models.CharField(_("scoring version"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ALSFRS-R")
        verbose_name_plural = _("ALSFRS-R")
        indexes = [in_progress_index("alsfrsr")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(
                    q5a_cutting_no_gastrostomy__isnull=False, q5b_cutting_gastrostomy__isnull=False
                ),
                name="alsfrs_r_one_of_5a_5b",
            ),
            models.CheckConstraint(
                condition=models.Q(total__isnull=True) | models.Q(total__lte=MAX_TOTAL),
                name="alsfrs_r_total_range",
            ),
        ]

    def derived_values(self) -> list[tuple[str, object]]:
        names = (
            "total",
            "bulbar",
            "fine_motor",
            "gross_motor",
            "respiratory",
            "kings_stage",
            "mitos_stage",
            "delta_fs",
        )
        return [
            (
                self.field_label(n),
                getattr(self, n) if getattr(self, n) != "" else None,
            )
            for n in names
        ]

    def blank_reasons(self) -> list[tuple[str, str]]:
        """(label, why) of each blank derived value, for the page. Worked out from the
        answers and their missing-data reasons rather than stored, so records saved
        before it are explained too."""
        items = self.item_answers()
        blanks: list[tuple[str, str]] = []
        for name, read in ITEMS_READ.items():
            if getattr(self, name) not in (None, ""):
                continue
            unanswered = unanswered_items(read, items)
            why = (
                self._why_unanswered(unanswered)
                if unanswered
                # Every item it reads is answered: stored under the rule that needed all twelve.
                else str(_("saved under an earlier rule that needed all 12 items; save again"))
            )
            blanks.append((self.field_label(name), why))
        if self.delta_fs is None:
            blanks.append((self.field_label("delta_fs"), self._why_no_delta_fs()))
        return blanks

    def _why_unanswered(self, codes: tuple[str, ...]) -> str:
        by_reason: dict[str, list[str]] = {}
        for code in codes:
            # Item 5's reason, when there is one, is kept under 5a (see completion_errors).
            field = FIELD_BY_CODE["5a" if code == "5" else code]
            by_reason.setdefault(self.missing_reasons.get(field) or "", []).append(code)
        parts = []
        for reason, group in by_reason.items():
            item = ngettext("item %(items)s", "items %(items)s", len(group)) % {
                "items": get_text_list(group, str(_("and")))
            }
            if reason:
                label = MissingReason(reason).label if reason in MissingReason.values else reason
                parts.append(
                    str(_("%(item)s missing (%(reason)s)"))
                    % {"item": item, "reason": str(label).lower()}
                )
            else:
                parts.append(str(_("%(item)s not answered")) % {"item": item})
        return "; ".join(parts)

    def _why_no_delta_fs(self) -> str:
        if self.total is None:
            return str(_("needs the total"))
        if self.visit.code not in PRE_TREATMENT_VISITS:
            return str(_("computed at screening and baseline only (progression before treatment)"))
        if self.visit.actual_date is None:
            return str(_("the visit has no date"))
        if _onset_of(self.visit.participant) is None:
            return str(_("no symptom-onset date in the ALS history"))
        return str(_("symptom onset is not before the assessment"))

    def item_answers(self) -> dict[str, int | None]:
        return {code: getattr(self, name) for code, name in FIELD_BY_CODE.items()}

    def completion_errors(self) -> dict[str, str]:
        answered = self.item_answers()
        errors = validation_errors(
            {c: v for c, v in answered.items() if v is not None or c in ("5a", "5b")}
        )
        if "5" in errors and not self.missing_reasons.get(FIELD_BY_CODE["5a"]):
            return {
                FIELD_BY_CODE["5a"]: str(
                    _("Answer 5a (no gastrostomy) or 5b (with gastrostomy), not both.")
                )
            }
        return {}

    def compute_derived(self) -> None:
        for name in (
            "total",
            "bulbar",
            "fine_motor",
            "gross_motor",
            "respiratory",
            "mitos_stage",
            "delta_fs",
        ):
            setattr(self, name, None)
        self.kings_stage, self.delta_fs_onset_imputed, self.scoring_version = "", None, ""
        items = self.item_answers()
        if self.q5a_cutting_no_gastrostomy is not None and self.q5b_cutting_gastrostomy is not None:
            raise ValueError(_("Answer 5a (no gastrostomy) or 5b (with gastrostomy), not both."))
        try:
            scores = score_available(items)
        except ScoreError:
            return  # an answer out of range: no scores rather than wrong ones
        self.bulbar = scores.domains[Domain.BULBAR]
        self.fine_motor = scores.domains[Domain.FINE_MOTOR]
        self.gross_motor = scores.domains[Domain.GROSS_MOTOR]
        self.respiratory = scores.domains[Domain.RESPIRATORY]
        versions: list[str] = []
        if scores.kings is not None:
            self.kings_stage = scores.kings.label
            versions.append(KINGS_ALGORITHM_VERSION)
        if scores.mitos is not None:
            self.mitos_stage = scores.mitos.stage
            versions.append(MITOS_ALGORITHM_VERSION)
        stored = versions or any(v is not None for v in scores.domains.values())
        # A complete form stores what it always stored, under the same version string.
        if stored and not scores.complete:
            versions.insert(0, PARTIAL_RULE_VERSION)
        self.scoring_version = "; ".join(versions)
        if scores.total is None:
            return  # ΔFS reads the total
        self.total = scores.total
        dfs = self._delta_fs(scores.total)
        if dfs is not None:
            self.delta_fs = round(dfs.value, 4)
            self.delta_fs_onset_imputed = dfs.onset_imputed
            self.scoring_version += f"; {DELTA_FS_VERSION}"

    def _delta_fs(self, total: int) -> DeltaFS | None:
        onset = _onset_of(self.visit.participant)
        assessed_on = self.visit.actual_date
        # ΔFS describes progression before treatment: computed at screening and baseline only.
        if onset is None or assessed_on is None or self.visit.code not in PRE_TREATMENT_VISITS:
            return None
        try:
            return delta_fs(total, onset, assessed_on)
        except ValueError:
            return None  # onset not before the assessment: no ΔFS rather than a wrong one


PRE_TREATMENT_VISITS = ("SCR", "BL")

# Derived column -> the items it reads (ΔFS reads the total).
ITEMS_READ: Mapping[str, tuple[str, ...]] = {
    "total": TOTAL_ITEMS,
    **{str(domain): codes for domain, codes in DOMAIN_ITEMS.items()},
    "kings_stage": KINGS_ITEMS,
    "mitos_stage": MITOS_ITEMS,
}


def _onset_of(participant) -> PartialDate | None:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        history = participant.als_history
    except ObjectDoesNotExist:
        return None
    if history.onset_date is None:
        return None
    return PartialDate(history.onset_date, history.onset_precision or "day")
