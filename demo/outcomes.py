"""Synthetic EMG, ALSAQ-40 and SEIQoL-DW answers, tied to the person's ALSFRS-R.

The seeder draws a person's ALSFRS-R items at a visit first and hands them here, so the
other outcomes move with the same decline rather than on their own clock: weak legs
(items 7-9) mean more ALSAQ-40 mobility trouble, more denervated leg muscles on the
needle EMG and smaller peroneal and tibial CMAPs; a weak voice (item 1) means more
communication trouble. Like the rest of the seeder this is plausible, not a model of ALS:

- Needle EMG: each person has a fixed muscle list (what their neurophysiologist examines
  every time: one bulbar, three arm, one thoracic and three leg muscles on the side of
  onset, some a second arm and leg muscle on the other side). A muscle is denervated with
  a probability that grows with its region's ALSFRS-R loss, on top of the subclinical
  involvement EMG finds before weakness shows (more in the region of onset).
- CMAP amplitudes fall with the limb's ALSFRS-R loss from the person's own normal values;
  some people's lab also records MUNIX (less affected side), falling the same way.
- ALSAQ-40 items (0 never .. 4 always) follow the impairment of the matching ALSFRS-R items
  per domain, scaled by how much difficulty the person tends to report; emotional
  reactions follow a personal level of distress plus the overall loss.
- SEIQoL-DW: five life areas named once (now and then one is swapped for another), levels
  of the health-bound ones fall with the overall loss, and their weight shrinks as the
  disease goes on (people give health less room as they adapt).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crfs.emg.models import CMAP_FIELDS, MUNIX_FIELDS, finding_label
from crfs.emg.scoring import MUNIX_MUSCLES, MUSCLES, Region
from crfs.qol.models import ALSAQ40_FIELDS
from crfs.qol.scoring import DOMAIN_ITEMS, AlsaqDomain

Items = Mapping[str, int | None]  # ALSFRS-R item scores by code, "5a"/"5b" for item 5

# ALSFRS-R items per body region (item 5 is whichever of 5a/5b was answered).
ALSFRS_REGIONS: Mapping[str, tuple[str, ...]] = {
    "bulbar": ("1", "2", "3"),
    "arms": ("4", "5", "6"),
    "legs": ("7", "8", "9"),
    "breathing": ("10", "11", "12"),
}
# A limb's needle examination: one muscle of each group, so that two of them differ in
# nerve and roots as the Awaji criteria ask (e.g. biceps C5-C6 and FDI C8-T1).
ARM_MUSCLES: tuple[tuple[str, ...], ...] = (
    ("biceps", "deltoid"),
    ("fdi", "apb"),
    ("triceps", "edc"),
)
LEG_MUSCLES: tuple[tuple[str, ...], ...] = (
    ("vastus_lateralis", "iliopsoas"),
    ("ta",),
    ("gastrocnemius", "ah"),
)
ONSET_EMG_REGION = {"upper_limb": Region.CERVICAL, "lower_limb": Region.LUMBOSACRAL}
# Normal-for-them CMAP amplitude (mean, SD, low, high in mV) and the limb it follows.
CMAP_NORMAL = {
    "median": (9.0, 2.0, 5.0, 14.0, "arms"),
    "ulnar": (10.0, 2.0, 6.0, 15.0, "arms"),
    "peroneal": (5.0, 1.5, 2.0, 9.0, "legs"),
    "tibial": (11.0, 3.0, 5.0, 18.0, "legs"),
}
# Normal-for-them MUNIX (mean, SD) and the limb it follows.
MUNIX_NORMAL = {
    "apb": (150.0, 30.0, "arms"),
    "adm": (200.0, 40.0, "arms"),
    "biceps": (220.0, 50.0, "arms"),
    "ta": (160.0, 35.0, "legs"),
    "edb": (80.0, 20.0, "legs"),
    "ah": (180.0, 40.0, "legs"),
}
MUNIX_SHARE = 0.4  # people whose EMG lab also records MUNIX
# Life areas people name on SEIQoL-DW, how often they come up, and whether ALS weighs on
# them directly. Stored data, not page text: the participant's own words.
LIFE_AREAS: Mapping[str, tuple[float, bool]] = {
    "Family": (9.0, False),
    "Health": (8.0, True),
    "Faith": (5.0, False),
    "Work": (4.0, True),
    "Finances": (4.0, False),
    "Friends": (3.0, False),
    "Independence": (3.0, True),
    "Partner": (3.0, False),
    "Children": (3.0, False),
    "Leisure": (2.0, True),
    "Home": (2.0, False),
    "Mobility": (1.5, True),
    "Travel": (1.0, True),
    "Community": (1.0, False),
}


@dataclass(frozen=True)
class EmgProfile:
    """What stays the same at each of a person's EMG studies."""

    muscles: tuple[tuple[str, str], ...]  # (muscle, side) examined every time
    onset_side: str
    subclinical: Mapping[Region, float]  # denervation before weakness shows, 0-1
    cmap: Mapping[str, float]  # by nerve, before any loss (mV)
    munix: Mapping[str, float] | None  # by muscle, before any loss; None: not recorded


@dataclass(frozen=True)
class QolProfile:
    """How a person answers the quality-of-life questionnaires."""

    reporting: float  # difficulty reported per unit of ALSFRS-R loss
    distress: float  # ALSAQ-40 emotional reactions before the overall loss adds to them
    cues: tuple[str, ...]  # SEIQoL-DW life areas, as first named
    levels: Mapping[str, float]  # SEIQoL-DW level of each area before any loss
    shares: Mapping[str, float]  # SEIQoL-DW relative weight of each area


def _other(side: str) -> str:
    return "left" if side == "right" else "right"


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def draw_emg_profile(rng: random.Random, onset_region: str) -> EmgProfile:
    side = rng.choice(("right", "left"))
    bulbar = rng.choices(("tongue", "scm", "masseter", None), weights=(5, 3, 1, 1))[0]
    thoracic = rng.choices(("t_paraspinal", "rectus_abdominis", None), weights=(7, 2, 1))[0]
    muscles: list[tuple[str, str]] = []
    if bulbar:
        muscles.append((bulbar, rng.choice(("right", "left"))))
    muscles += [(rng.choice(choices), side) for choices in ARM_MUSCLES]
    if thoracic:
        muscles.append((thoracic, side))
    muscles += [(rng.choice(choices), side) for choices in LEG_MUSCLES]
    if rng.random() < 0.3:  # the other side too, where the onset side looks ambiguous
        muscles += [("fdi", _other(side)), ("ta", _other(side))]
    onset = ONSET_EMG_REGION[onset_region]
    subclinical = {
        region: rng.uniform(0.35, 0.7) if region is onset else rng.uniform(0.05, 0.35)
        for region in Region
    }
    cmap = {
        nerve: _clamp(rng.gauss(mean, sd), low, high)
        for nerve, (mean, sd, low, high, _limb) in CMAP_NORMAL.items()
    }
    munix = None
    if rng.random() < MUNIX_SHARE:
        munix = {
            m: _clamp(rng.gauss(mean, sd), 20, 600) for m, (mean, sd, _l) in MUNIX_NORMAL.items()
        }
    return EmgProfile(tuple(muscles), side, subclinical, cmap, munix)


def draw_qol_profile(rng: random.Random) -> QolProfile:
    areas = dict(LIFE_AREAS)
    cues: list[str] = []
    while len(cues) < 5:
        names = [name for name in areas if name not in cues]
        cues.append(rng.choices(names, weights=[areas[n][0] for n in names])[0])
    return QolProfile(
        reporting=rng.uniform(0.7, 1.3),
        distress=_clamp(rng.gauss(0.9, 0.5), 0.0, 2.5),
        cues=tuple(cues),
        levels={name: _clamp(rng.gauss(68, 15), 15, 100) for name in LIFE_AREAS},
        shares={name: rng.gammavariate(2.5, 1.0) for name in LIFE_AREAS},
    )


def impairment(items: Items, region: str) -> float:
    """ALSFRS-R points lost in a region's items, as a share of their 12 (0 none .. 1 all)."""
    scores = [_item(items, code) for code in ALSFRS_REGIONS[region]]
    return 1 - sum(scores) / (4 * len(scores))


def _item(items: Items, code: str) -> int:
    if code == "5":
        value = items["5a"] if items["5a"] is not None else items["5b"]
    else:
        value = items[code]
    assert value is not None
    return value


def overall_impairment(items: Items) -> float:
    return sum(impairment(items, region) for region in ALSFRS_REGIONS) / len(ALSFRS_REGIONS)


# --- EMG -----------------------------------------------------------------------------


def _denervation(profile: EmgProfile, items: Items, region: Region) -> float:
    loss = {
        Region.BULBAR: impairment(items, "bulbar"),
        Region.CERVICAL: impairment(items, "arms"),
        Region.THORACIC: (impairment(items, "breathing") + overall_impairment(items)) / 2,
        Region.LUMBOSACRAL: impairment(items, "legs"),
    }[region]
    return min(1.0, profile.subclinical[region] + 1.2 * loss)


def _muscle_row(rng: random.Random, muscle: str, side: str, denervated: float) -> dict[str, Any]:
    row: dict[str, Any] = {"muscle": muscle, "side": side}
    if rng.random() >= denervated:
        benign = rng.random() < 0.1  # fasciculations in a healthy muscle happen
        return row | {
            "fibrillations": 0,
            "fasciculations": "present" if benign else "absent",
            "mup": "normal",
            "recruitment": "normal",
        }
    fibrillations = round(_clamp(denervated * 3 + rng.gauss(0, 0.8), 1, 4))
    if denervated > 0.7 and rng.random() < 0.6:
        recruitment = "discrete"
    else:
        recruitment = "reduced" if rng.random() < 0.8 else "normal"
    return row | {
        "fibrillations": fibrillations if rng.random() < 0.8 else 0,
        "fasciculations": "present" if rng.random() < 0.7 else "absent",
        "mup": "neurogenic" if rng.random() < 0.85 else "normal",
        "recruitment": recruitment,
    }


def emg_rows(profile: EmgProfile, items: Items, rng: random.Random) -> dict[str, dict[str, Any]]:
    """The needle EMG's muscle rows, keyed as the EMG page keys them."""
    rows = {}
    for muscle, side in profile.muscles:
        region = MUSCLES[muscle].region
        denervated = _denervation(profile, items, region)
        if side != profile.onset_side and region in (Region.CERVICAL, Region.LUMBOSACRAL):
            denervated *= 0.8
        rows[finding_label(muscle, side)] = _muscle_row(rng, muscle, side, denervated)
    return rows


def emg_answers(profile: EmgProfile, items: Items, rng: random.Random) -> dict[str, Any]:
    """CMAP amplitudes and, for people whose lab records it, MUNIX."""
    answers: dict[str, Any] = {}
    for nerve, name in CMAP_FIELDS.items():
        limb = CMAP_NORMAL[nerve][4]
        amplitude = profile.cmap[nerve] * (1 - 0.75 * impairment(items, limb))
        answers[name] = Decimal(f"{_clamp(amplitude * rng.gauss(1, 0.07), 0.1, 29.9):.2f}")
    if profile.munix is not None:
        answers["munix_side"] = _other(profile.onset_side)  # the less affected side
        for muscle in MUNIX_MUSCLES:
            limb = MUNIX_NORMAL[muscle][2]
            value = profile.munix[muscle] * (1 - 0.85 * impairment(items, limb))
            value = _clamp(value * rng.gauss(1, 0.1), 1, 999)
            # Now and then one muscle cannot be measured (no sum that visit).
            answers[MUNIX_FIELDS[muscle]] = None if rng.random() < 0.03 else Decimal(f"{value:.1f}")
    return answers


# --- ALSAQ-40 --------------------------------------------------------------------------


def _domain_load(domain: AlsaqDomain, profile: QolProfile, items: Items) -> float:
    """Expected answer (0-4) of the domain's items."""
    if domain is AlsaqDomain.EMOTIONAL_REACTIONS:
        return profile.distress + 2.0 * overall_impairment(items)
    loss = {
        AlsaqDomain.PHYSICAL_MOBILITY: 0.8 * impairment(items, "legs")
        + 0.2 * impairment(items, "breathing"),
        AlsaqDomain.INDEPENDENCE: impairment(items, "arms"),
        AlsaqDomain.EATING_DRINKING: 1 - (0.7 * _item(items, "3") + 0.3 * _item(items, "2")) / 4,
        AlsaqDomain.COMMUNICATION: 1 - _item(items, "1") / 4,
    }[domain]
    return 0.4 + 4 * loss * profile.reporting  # some trouble (fatigue) before any loss


def alsaq40_answers(profile: QolProfile, items: Items, rng: random.Random) -> dict[str, int | None]:
    answers: dict[str, int | None] = {}
    for domain, numbers in DOMAIN_ITEMS.items():
        load = _domain_load(domain, profile, items)
        for number in numbers:
            answers[ALSAQ40_FIELDS[number]] = round(_clamp(load + rng.gauss(0, 0.7), 0, 4))
    return answers


# --- SEIQoL-DW ----------------------------------------------------------------------------


def _percentages(shares: list[float]) -> list[int]:
    """Whole percentages summing to exactly 100, each at least 1 (as read off the disc)."""
    total = sum(shares)
    spread = 100 - len(shares)
    exact = [share / total * spread for share in shares]
    whole = [int(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: whole[i] - exact[i])
    for i in by_remainder[: spread - sum(whole)]:
        whole[i] += 1
    return [1 + value for value in whole]


def seiqol_answers(profile: QolProfile, items: Items, rng: random.Random) -> dict[str, Any]:
    loss = overall_impairment(items)
    cues = list(profile.cues)
    if rng.random() < 0.1:  # this time one area gives way to another
        cues[rng.randrange(1, 5)] = rng.choice([a for a in LIFE_AREAS if a not in cues])
    shares = []
    answers: dict[str, Any] = {}
    for number, name in enumerate(cues, start=1):
        bound = LIFE_AREAS[name][1]
        level = (
            profile.levels[name] * (1 - 0.7 * loss) if bound else profile.levels[name] - 15 * loss
        )
        answers[f"cue_{number}_name"] = name
        answers[f"cue_{number}_level"] = Decimal(round(_clamp(level + rng.gauss(0, 7), 0, 100)))
        share = profile.shares[name] * (1 - 0.5 * loss if bound else 1.0)
        shares.append(share * rng.lognormvariate(0, 0.2))
    for number, weight in enumerate(_percentages(shares), start=1):
        answers[f"cue_{number}_weight"] = Decimal(weight)
    return answers
