# ruff: noqa: S608 - table names come from pg_class
"""Backup and restore drill: a seeded study is dumped with `python -m config.backup backup`
(what `make backup` runs), restored into a fresh database, and the restored study is the
same one: every table's row count, the audit trail row for row, and a re-run export's data
files byte for byte. A damaged dump and a non-empty target are refused."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from config.backup import row_counts

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def _audit_digest(url: str) -> dict[str, str]:
    """md5 of each pghistory event table, rows in event order."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                " WHERE a.attname = 'pgh_id' AND c.relkind = 'r' ORDER BY 1"
            )
        ]
        return {
            t: conn.execute(
                f"SELECT md5(coalesce(string_agg(e::text, chr(10) ORDER BY pgh_id), ''))"
                f' FROM "{t}" e'
            ).fetchone()[0]
            for t in tables
        }


def _export_data(env: dict[str, str], out: Path) -> dict[str, str]:
    result = _run(["manage.py", "export_dataset", "--format", "csv", "--output", str(out)], env)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as bundle:
        # The bundle's manifest and README carry the time of export; the data must not differ.
        return {
            name: hashlib.sha256(bundle.read(name)).hexdigest()
            for name in bundle.namelist()
            if name.endswith(".csv")
        }


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_nightly_backup_restores_the_same_study_into_a_fresh_database(tmp_path, restored_name):
    call_command("setup_demo", force=True)
    call_command("seed_demo", participants=6, force=True)
    casebooks = tmp_path / "casebooks"
    (casebooks / "ISF").mkdir(parents=True)
    (casebooks / "ISF" / "casebook-1.pdf").write_bytes(b"%PDF-1.7 a casebook")
    live = _url(connection.settings_dict["NAME"])
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": live,
        "ECRF_CASEBOOK_DIR": str(casebooks),
        "ECRF_EXPORT_DIR": str(tmp_path / "exports"),
    }

    made = _run(["-m", "config.backup", "backup", "--out", str(tmp_path / "bk")], env)
    assert made.returncode == 0, made.stderr
    assert "Backup of" in made.stdout
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    dump = tmp_path / "bk" / "database.dump"
    assert manifest["dump"]["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert manifest["files"]["casebooks"] == [
        {
            "name": "ISF/casebook-1.pdf",
            "bytes": 19,
            "sha256": hashlib.sha256(b"%PDF-1.7 a casebook").hexdigest(),
        }
    ]
    with psycopg.connect(live) as conn:
        live_counts = row_counts(conn)
    assert manifest["row_counts"] == live_counts
    assert live_counts["public.participants_participant"] >= 6

    target = _url(restored_name)
    back = _run(
        ["-m", "config.backup", "restore", str(tmp_path / "bk"), "--target", target, "--create"],
        env,
    )
    assert back.returncode == 0, back.stderr
    assert "every table's row count matches" in back.stdout

    with psycopg.connect(target) as conn:
        assert row_counts(conn) == live_counts
    assert _audit_digest(target) == _audit_digest(live)
    assert len(_audit_digest(live)) > 5  # the event tables were found

    exported = _export_data(env, tmp_path / "live.zip")
    again = _export_data({**env, "DATABASE_URL": target}, tmp_path / "restored.zip")
    assert exported and again == exported

    # A second restore over the now-populated database is refused and changes nothing.
    twice = _run(["-m", "config.backup", "restore", str(tmp_path / "bk"), "--target", target], env)
    assert twice.returncode != 0
    assert "fresh" in twice.stderr


def test_a_damaged_dump_is_not_restored(tmp_path, restored_name):
    call_command("setup_demo", force=True)
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
        "ECRF_CASEBOOK_DIR": str(tmp_path / "casebooks"),
        "ECRF_EXPORT_DIR": str(tmp_path / "exports"),
    }
    made = _run(["-m", "config.backup", "backup", "--out", str(tmp_path / "bk")], env)
    assert made.returncode == 0, made.stderr
    dump = tmp_path / "bk" / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    back = _run(
        [
            "-m",
            "config.backup",
            "restore",
            str(tmp_path / "bk"),
            "--target",
            _url(restored_name),
            "--create",
        ],
        env,
    )
    assert back.returncode != 0
    assert "sha256" in back.stderr
    with psycopg.connect(_url("postgres")) as conn:
        made_db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [restored_name])
        assert made_db.fetchone() is None
