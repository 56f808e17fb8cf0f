"""`make run`: the whole system on one machine, with nothing installed but Python.

Starts (or reuses) the embedded PostgreSQL when DATABASE_URL is unset, migrates,
loads the demo study, then runs gunicorn, a Celery worker and Celery beat as
children. Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stops the children, then the
embedded database, cleanly, so the next `make run` finds its data intact.

Killed hard, the supervisor cannot clean up: its children die with it (Linux: parent-death
signal), and pid files under var/run let the next `make run` find and stop whatever a
previous run left alive, or refuse while that run's supervisor is still alive.
"""

from __future__ import annotations

import contextlib
import ctypes
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
RUN_DIR = embedded.VAR_DIR / "run"
SUPERVISOR = "supervisor"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _say(*args, **kwargs) -> None:
    """print that survives a closed terminal: after SIGHUP writes fail with EIO, and an error
    raised while stopping would leave the children and the database running."""
    with contextlib.suppress(OSError):
        print(*args, **kwargs, flush=True)


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a live process (None if gone or a zombie): with the pid it
    names one process, so a pid reused since a pid file was written is not taken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]


def _write_pid_file(run_dir: Path, name: str, pid: int) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"{name}.pid").write_text(f"{pid} {_start_time(pid) or ''}\n")


def _live_pids(run_dir: Path) -> dict[str, int]:
    """name → pid for each pid file whose process is still alive and still the one written."""
    live = {}
    for path in sorted(run_dir.glob("*.pid")):
        pid_text, _, started = path.read_text().strip().partition(" ")
        if not pid_text.isdigit():  # cut short by a crash while writing: names nobody
            continue
        pid = int(pid_text)
        if Path("/proc").is_dir():
            if started and _start_time(pid) == started:
                live[path.stem] = pid
        else:  # no /proc (macOS): alive is all that can be told
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            live[path.stem] = pid
    return live


def clear_previous_run(run_dir: Path = RUN_DIR) -> str | None:
    """Stop what a previous `make run` with this var/ left running (its supervisor was killed
    hard, so nobody stopped its children), then forget its pid files. Returns a refusal
    instead, touching nothing, while that run's supervisor is alive: it still owns them."""
    live = _live_pids(run_dir)
    if SUPERVISOR in live:
        pid = live[SUPERVISOR]
        return (
            f"make run is already running with {run_dir.parent} (pid {pid}); "
            f"stop it first (Ctrl-C in its terminal, or kill {pid})"
        )
    if live:
        names = ", ".join(f"{name} (pid {pid})" for name, pid in live.items())
        _say(f"Stopping what a previous make run left running: {names}")
        for pid in live.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and _live_pids(run_dir):
            time.sleep(0.2)
        for pid in _live_pids(run_dir).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for path in run_dir.glob("*.pid"):
        path.unlink(missing_ok=True)
    return None


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the supervisor dies, however it dies (the
    children run in their own sessions, so no terminal signal reaches them)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the supervisor died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


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
    refusal = clear_previous_run()
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    env = os.environ.copy()
    env.setdefault("DJANGO_DEBUG", "true")
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    uses_embedded_db = not env.get("DATABASE_URL")
    if uses_embedded_db:
        env["DATABASE_URL"] = embedded.postgres_uri()
    host = env.get("HOST", "127.0.0.1")
    port = env.get("PORT", "8000")
    python = sys.executable
    die_with_parent = _die_with_parent()

    def manage(*args: str) -> None:
        subprocess.run(
            [python, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            preexec_fn=die_with_parent,
        )

    children: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    exit_code = 0
    names = [SUPERVISOR]
    _write_pid_file(RUN_DIR, SUPERVISOR, os.getpid())
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
        for name, argv in commands.items():
            if stopping:
                break
            # Own session: the terminal's Ctrl-C reaches only us, and we stop children in order.
            child = subprocess.Popen(
                argv, cwd=ROOT, env=env, start_new_session=True, preexec_fn=die_with_parent
            )
            children.append(child)
            names.append(name)
            _write_pid_file(RUN_DIR, name, child.pid)
        _say(f"\nALS eCRF is running at http://{host}:{port}/  (Ctrl-C stops everything)")
        _say("Log in with one of the demo logins listed above.")
        while not stopping:
            dead = [
                (name, c)
                for name, c in zip(commands, children, strict=True)
                if c.poll() is not None
            ]
            if dead:
                name, child = dead[0]
                _say(f"{name} exited with code {child.returncode}; stopping.", file=sys.stderr)
                exit_code = 1
                break
            time.sleep(0.5)
    except subprocess.CalledProcessError as error:
        _say(f"setup failed: {error}", file=sys.stderr)
        exit_code = 1
    finally:
        _say("Stopping web, worker and beat…")
        _stop(children)
        if uses_embedded_db:
            _say("Stopping the embedded PostgreSQL…")
            embedded.stop_postgres()
        for name in names:
            (RUN_DIR / f"{name}.pid").unlink(missing_ok=True)
        _say("Stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
