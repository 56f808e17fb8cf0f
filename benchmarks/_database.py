"""A throwaway benchmark database: on the server of DATABASE_URL if given, else on the
embedded PostgreSQL of `make run` (started if needed). Not a benchmark itself (run_all skips
files starting with an underscore)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def urls(name: str) -> tuple[str, str]:
    """(URL of database `name`, URL of the server's maintenance database)."""
    given = os.environ.get("DATABASE_URL", "")
    if given:
        parts = urlsplit(given)
        return (
            urlunsplit(parts._replace(path=f"/{name}")),
            urlunsplit(parts._replace(path="/postgres")),
        )
    from config import embedded

    return embedded.postgres_uri(database=name), embedded.postgres_uri(database="postgres")


def recreate(maintenance: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
