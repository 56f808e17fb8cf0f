"""A var/pgdata made before the app split (one initial migration per app since) is recognised
by `make run`, which says in one line how to start afresh, or does it after asking."""

from __future__ import annotations

import importlib.util
import io
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from config import embedded

ROOT = Path(__file__).resolve().parent.parent
OLD_HISTORY = [
    ("trials", "0001_initial"),
    ("trials", "0003_trial_spirometry_equation"),
    ("visits", "0001_initial"),
    ("visits", "0006_merge_0003_fvc_vitals_0005_merge_20261126_2250"),
    ("visits", "0009_emg_fill_needle_muscles"),
    ("admin", "0001_initial"),  # Django's own apps are not the project's business
]


def _run_stack():
    spec = importlib.util.spec_from_file_location("run_stack", ROOT / "scripts" / "run_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo_database():
    """The embedded server's demo database, as an earlier `make run` left it (a folder outside
    pytest's tmp root, which pytest re-locks to 0700 and the server's own user could not read)."""
    folder = Path(tempfile.mkdtemp(prefix="ecrf-history-"))
    folder.chmod(0o755)
    uri = embedded.postgres_uri(folder / "pgdata", embedded.DATABASE_NAME)
    yield uri
    embedded.stop_postgres(folder / "pgdata")
    shutil.rmtree(folder, ignore_errors=True)


def _migrated_with(uri: str, rows: list[tuple[str, str]]) -> None:
    with psycopg.connect(uri) as conn:
        conn.execute(
            "CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, "
            "applied timestamptz DEFAULT now())"
        )
        for app, name in rows:
            conn.execute("INSERT INTO django_migrations (app, name) VALUES (%s, %s)", [app, name])


def test_an_old_demo_database_is_refused_with_one_line_saying_how_to_start_afresh(
    demo_database, monkeypatch, capsys
):
    run_stack = _run_stack()
    _migrated_with(demo_database, OLD_HISTORY)
    assert run_stack.stale_migrations(demo_database) == [
        "trials.0003_trial_spirometry_equation",
        "visits.0006_merge_0003_fvc_vitals_0005_merge_20261126_2250",
        "visits.0009_emg_fill_needle_muscles",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: nobody to ask
    assert run_stack.check_migration_history(demo_database, embedded_db=True) is False
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1
    assert "older migration history" in said[0] and "rm -rf var/pgdata && make run" in said[0]
    assert run_stack.stale_migrations(demo_database)  # nothing was deleted


def test_asked_at_a_terminal_it_starts_afresh_on_yes(demo_database, monkeypatch):
    run_stack = _run_stack()
    _migrated_with(demo_database, OLD_HISTORY)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert run_stack.check_migration_history(demo_database, embedded_db=True) is True
    with psycopg.connect(demo_database) as conn:
        assert conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None


def test_a_new_or_current_database_goes_straight_to_migrate(demo_database):
    run_stack = _run_stack()
    assert run_stack.check_migration_history(demo_database, embedded_db=True) is True
    current = [("trials", "0001_initial"), ("visits", "0001_initial"), ("crfs", "0001_initial")]
    _migrated_with(demo_database, current)
    assert run_stack.stale_migrations(demo_database) == []
