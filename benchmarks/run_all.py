"""`make bench`: run every benchmarks/*.py (each prints its own figures); fail if one fails."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for bench in sorted(HERE.glob("*.py")):
        if bench.name == "run_all.py" or bench.name.startswith("_"):
            continue
        print(f"\n=== {bench.name} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(bench)], cwd=HERE.parent, check=False)
        print(
            f"=== {bench.name}: exit {result.returncode} in {time.perf_counter() - started:.1f} s"
        )
        if result.returncode:
            failed.append(bench.name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
