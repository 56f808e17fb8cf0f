"""`make run`: the whole system on one machine, with nothing installed but Python.

Starts (or reuses) the embedded PostgreSQL when DATABASE_URL is unset, migrates,
loads the demo study, then runs gunicorn, a Celery worker and Celery beat as
children. Ctrl-C (or SIGTERM) stops the children, then the embedded database,
cleanly, so the next `make run` finds its data intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import embedded  # noqa: E402  (needs the project root on sys.path)

STOP_GRACE_SECONDS = 20
MIGRATION_APPS = ("trials", "participants", "visits", "crfs", "reminders", "exports")


def stale_migrations(database_url: str) -> list[str]:
    """Migrations this database has applied that the code no longer has (the history was
    reset to one initial migration per app in the app split): "app.name" for each."""
    import psycopg

    known = {
        (app, path.stem)
        for app in MIGRATION_APPS
        for path in (ROOT / app / "migrations").glob("[0-9]*.py")
    }
    with psycopg.connect(database_url) as conn:
        if conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
            return []
        rows = conn.execute(
            "SELECT app, name FROM django_migrations WHERE app = ANY(%s) ORDER BY id",
            [list(MIGRATION_APPS)],
        ).fetchall()
    return [f"{app}.{name}" for app, name in rows if (app, name) not in known]


def start_afresh(database_url: str) -> None:
    """Drop and recreate the embedded demo database (it holds only demo data)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = embedded.DATABASE_NAME
    with psycopg.connect(make_conninfo(database_url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def check_migration_history(database_url: str, *, embedded_db: bool) -> bool:
    """True when migrate can run; otherwise one line says how to start afresh."""
    stale = stale_migrations(database_url)
    if not stale:
        return True
    where = "var/pgdata" if embedded_db else "the database at DATABASE_URL"
    line = (
        f"{where} holds data from an older migration history ({len(stale)} applied migration(s) the "
        f"code no longer has, e.g. {stale[0]}); "
    )
    if embedded_db and sys.stdin.isatty() and os.environ.get("CI", "") != "true":
        answer = input(line + "delete the demo data and start afresh? [y/N] ")
        if answer.strip().lower() in ("y", "yes"):
            start_afresh(database_url)
            return True
    fix = "rm -rf var/pgdata && make run" if embedded_db else "migrate an empty database"
    print(line + f"start afresh with: {fix}", file=sys.stderr)
    return False


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    env = os.environ.copy()
    env.setdefault("DJANGO_DEBUG", "true")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    uses_embedded_db = not env.get("DATABASE_URL")
    if uses_embedded_db:
        env["DATABASE_URL"] = embedded.postgres_uri()
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    python = sys.executable

    def manage(*args: str) -> None:
        subprocess.run([python, "manage.py", *args], cwd=ROOT, env=env, check=True)

    children: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    exit_code = 0
    try:
        if not check_migration_history(env["DATABASE_URL"], embedded_db=uses_embedded_db):
            return 1
        manage("migrate", "--noinput", "-v", "0")
        manage("setup_demo")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                env.get("WEB_CONCURRENCY", "2"),
                "--access-logfile",
                "-",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "worker@%h",
            ],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
        }
        for argv in commands.values():
            # Own session: the terminal's Ctrl-C reaches only us, and we stop children in order.
            children.append(subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True))
        print(f"\nALS eCRF is running at http://{host}:{port}/  (Ctrl-C stops everything)")
        print("Log in with one of the demo logins listed above.", flush=True)
        while not stopping:
            dead = [
                (name, c)
                for name, c in zip(commands, children, strict=True)
                if c.poll() is not None
            ]
            if dead:
                name, child = dead[0]
                print(f"{name} exited with code {child.returncode}; stopping.", file=sys.stderr)
                exit_code = 1
                break
            time.sleep(0.5)
    except subprocess.CalledProcessError as error:
        print(f"setup failed: {error}", file=sys.stderr)
        exit_code = 1
    finally:
        print("Stopping web, worker and beat…", flush=True)
        _stop(children)
        if uses_embedded_db:
            print("Stopping the embedded PostgreSQL…", flush=True)
            embedded.stop_postgres()
        print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
