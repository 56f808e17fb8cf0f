"""Every instrument's scoring.py is pure: it imports and computes without Django settings and
without the ORM, so the clinical arithmetic can be checked (and reused) on its own.

Each module runs in a fresh interpreter: this test process has Django set up, so what it
has imported proves nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Per instrument: a worked example run after `import crfs.<instrument>.scoring as scoring`,
# printing its result, and the line it must print.
EXAMPLES: dict[str, tuple[str, str]] = {
    "alsfrs_r": (
        # Every item normal (4), item 5 answered without gastrostomy: the maximum, 48.
        "answers = dict.fromkeys(scoring.ITEM_CODES, 4) | {'5b': None}\n"
        "print(scoring.score(scoring.Answers.from_mapping(answers)).total)",
        "48",
    ),
    "fvc": (
        # Best of the acceptable blows, and the two largest within 0.150 L.
        "blows = [scoring.Manoeuvre(v) for v in ('2.58', '2.65', '2.61')]\n"
        "s = scoring.summarize(blows)\n"
        "print(s.best_l, s.second_l, s.repeatable)",
        "2.65 2.61 True",
    ),
    "vitals": (
        # 64 kg at 160 cm is exactly 25: overweight by the WHO's "25 or more".
        "b = scoring.bmi(64, 160)\nprint(b.value, b.category.value)",
        "25.0 overweight",
    ),
    "emg": (
        # Active and chronic denervation in two cervical muscles of different nerves and
        # roots: the region meets the Awaji LMN criteria.
        "affected = {'fibrillations': 2, 'mup': 'neurogenic'}\n"
        "findings = [scoring.MuscleFinding.of(m, **affected) for m in ('fdi', 'biceps')]\n"
        "print(sorted(str(r) for r in scoring.summarize(findings).regions_with_lmn))",
        "['cervical']",
    ),
    "qol": (
        # SEIQoL-DW: sum(level x weight) / 100 = (50 + 60 + 70 + 80 + 90) x 20 / 100.
        "cues = [scoring.Cue(f'area {n}', level, 20) for n, level in enumerate((50, 60, 70, 80, 90))]\n"
        "alsaq5 = scoring.alsaq5({9: 2, 11: 2, 22: 2, 25: 2, 34: 2})\n"
        "print(scoring.seiqol_dw(cues).index, alsaq5.total)",
        "70.0 50.0",
    ),
    "eligibility": (
        # Every criterion at its limit passes: eligible.
        "from datetime import date\n"
        "inputs = scoring.Inputs(\n"
        "    el_escorial='probable', family_history='no', onset_region='lower_limb',\n"
        "    onset_date=date(2024, 3, 1), onset_precision='month', screened_on=date(2026, 3, 10),\n"
        "    progression_6_months=True, swallowing=3, cutting=2, walking=2, fvc_percent=50.0,\n"
        "    polysomnography_result='normal', consent_signed=True,\n"
        "    exclusions=dict.fromkeys(scoring.EXCLUSION_CODES, False),\n"
        ")\n"
        "print(scoring.decide(scoring.evaluate(inputs)).decision.value)",
        "eligible",
    ),
}

PURITY = """
import sys
from django.conf import settings
assert not settings.configured, "scoring configured the Django settings"
assert "django.db.models" not in sys.modules, "scoring imported the ORM (django.db.models)"
"""


def run_pure(code: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", code + PURITY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


SCORING_MODULES = sorted(path.parent.name for path in (ROOT / "crfs").glob("*/scoring.py"))


def test_scoring_modules_are_found():
    assert {"alsfrs_r", "fvc", "vitals", "emg", "qol", "eligibility"} <= set(SCORING_MODULES)


@pytest.mark.parametrize("instrument", SCORING_MODULES)
def test_scoring_runs_without_django_settings_or_orm(instrument):
    assert instrument in EXAMPLES, f"add a worked example for crfs/{instrument}/scoring.py"
    example, expected = EXAMPLES[instrument]
    result = run_pure(f"import crfs.{instrument}.scoring as scoring\n{example}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_the_check_catches_an_orm_import():
    result = run_pure("import crfs.vitals.scoring\nimport django.db.models")
    assert result.returncode != 0
    assert "scoring imported the ORM" in result.stderr
