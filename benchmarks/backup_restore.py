"""Benchmark: `make backup` and `make restore` of a study of N participants (default 10,000).

The study is the database `ecrf_bench_backup` (on DATABASE_URL's server, else the embedded
one): a copy of `--template DB` when given (CREATE DATABASE … TEMPLATE, seconds), else made
once with `setup_demo` and `seed_demo --participants N` and kept for later runs (`--reseed`
starts over). Then times `python -m config.backup backup` and `restore` into a fresh
database, as the Makefile runs them, and prints the dump size, both times and the rows
checked. The restored database and the backup folder are removed afterwards.

    python benchmarks/backup_restore.py [--participants N] [--template DB] [--reseed]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _database import recreate, urls  # noqa: E402

DATABASE = "ecrf_bench_backup"
RESTORED = "ecrf_bench_backup_restored"


def _participants(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM participants_participant").fetchone()[0]
    except psycopg.Error:
        return -1


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "true"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--template", help="copy this seeded database instead of seeding")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    url, maintenance = urls(DATABASE)
    restored_url, _ = urls(RESTORED)
    if args.template:
        import psycopg

        recreate(maintenance, DATABASE, drop_only=True)
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{args.template}"')
    elif args.reseed or _participants(url) < args.participants:
        print(f"Seeding {args.participants:,} participants (once; kept for later runs)…")
        recreate(maintenance, DATABASE)
        _manage(url, "migrate", "-v0")
        _manage(url, "setup_demo", "--force")
        _manage(url, "seed_demo", "--participants", str(args.participants), "--force")
    participants = _participants(url)

    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "true"}
    folder = Path(tempfile.mkdtemp(prefix="ecrf-backup-bench-"))
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "config.backup", "backup", "--out", str(folder / "b")],
            cwd=ROOT,
            env=env,
            check=True,
        )
        backup_s = time.perf_counter() - started
        recreate(maintenance, RESTORED, drop_only=True)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "config.backup",
                "restore",
                str(folder / "b"),
                "--target",
                restored_url,
                "--create",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        restore_s = time.perf_counter() - started
        manifest = json.loads((folder / "b" / "manifest.json").read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        recreate(maintenance, RESTORED, drop_only=True)

    rows = sum(manifest["row_counts"].values())
    print()
    print(f"Backup and restore of {participants:,} participants ({rows:,} rows):")
    print(f"  backup  (pg_dump -Fc + row counts + file listing): {backup_s:7.1f} s")
    print(f"  dump size: {manifest['dump']['bytes'] / 1e6:7.1f} MB")
    print(f"  restore (pg_restore --jobs=2 + row-count check):   {restore_s:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
