"""What the page benchmarks share: a copy of a seeded database, a signed-in session made as
the login makes it, a free port and a gunicorn that answers. Not a benchmark itself (run_all
skips files starting with an underscore)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _database import recreate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def participants_at(url: str, site: str) -> int:
    """Participants at `site` (-1: no database or no schema yet)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM participants_participant p"
                " JOIN trials_site s ON s.id = p.site_id WHERE s.code = %s",
                [site],
            ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return -1


def clone(maintenance: str, template: str, name: str, wait: float = 60) -> None:
    """A fresh copy of `template` (an open connection to the template makes PostgreSQL
    refuse: tried again for `wait` seconds)."""
    import psycopg

    recreate(maintenance, name, drop_only=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            with psycopg.connect(maintenance, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def signed_in_session(username: str, roles: list[tuple[str, str]]) -> tuple[str, str]:
    """A user holding each (site code, role), signed in with the second factor passed, as
    the login leaves a session: (cookie name, session key). Django must be set up."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    from trials.models import Membership, Site

    user, _created = get_user_model().objects.get_or_create(username=username)
    user.set_unusable_password()
    user.save()
    for code, role in roles:
        Membership.objects.get_or_create(user=user, site=Site.objects.get(code=code), role=role)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if "django_otp" in settings.INSTALLED_APPS:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return settings.SESSION_COOKIE_NAME, str(store.session_key)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 600) -> None:
    """Until gunicorn at `base` answers /healthz (a liveness wait; the first start on a
    busy machine can take minutes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).read()  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer")


@contextmanager
def gunicorn_serving(url: str, secret_key: str, workers: int) -> Iterator[int]:
    """Gunicorn with production settings (DEBUG off, hashed static files collected first, as
    a deployment does) on `url`'s database, up and answering on the port yielded; stopped
    and its static files removed on exit. Django's connections must be closed before."""
    static_root = tempfile.mkdtemp(prefix="ecrf_bench_static_")
    port = free_port()
    environment = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "ECRF_DEMO": "false",
        "DJANGO_SECRET_KEY": secret_key,
        "ECRF_BENCH_STATIC_ROOT": static_root,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SETTINGS_MODULE": "_bench_settings",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT, env=environment, check=True,
        )  # fmt: skip
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
             # A worker's first import on a machine loaded by others can take minutes.
             "--timeout", "300"],
            cwd=ROOT, env=environment,
        )  # fmt: skip
        try:
            wait_until_up(f"http://127.0.0.1:{port}", server, seconds=300)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
