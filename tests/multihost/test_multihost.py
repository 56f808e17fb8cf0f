"""Several hosts simulated on one machine (issue 17): two gunicorn web servers on different
ports with separate ECRF_VAR_DIRs, two Celery workers and one beat, all on the machine's
PostgreSQL (a fresh database: a copy of pytest-django's migrated test database) and Redis
(one database number of its own, ECRF_MULTIHOST_REDIS_DB, 13 by default, emptied before
and after), and a real S3-compatible
server (moto's standalone server, from PyPI) started here on a free port. Files go only
through the bucket: no process shares a folder with another.

- An export asked for through web A is run by some worker and downloaded through web B,
  byte for byte what the worker stored (same sha256).
- A worker killed with SIGKILL (its whole process group, as a host that dies) in the middle
  of an export: the job goes to the other worker once the broker's visibility timeout
  (ECRF_TASK_VISIBILITY_SECONDS, short here) has passed, which finishes it once.
- Reminders stay exactly-once with two workers and beat restarted in the middle.

Exports are slowed by the test-only hook ECRF_TEST_EXPORT_PAUSE_SECONDS (exports/services.py:
a run sleeps PAUSE seconds after writing its first chunk, and says so in its log) so that a
worker can be killed mid-way. Every wait is bounded
(WAIT seconds); the processes are stopped and the database dropped whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT = 300  # seconds, for any one thing to happen (a loaded 2-core machine is slow)
BUCKET = "ecrf-multihost"
VISIBILITY = 45  # longer than an export takes here, so only a dead worker's task moves
PAUSE = 8  # seconds each export run sleeps after its first chunk (the test-only hook)

pytestmark = [pytest.mark.multihost, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, check: Callable[[], object], seconds: float = WAIT, every=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _server_url() -> str:
    """The machine's PostgreSQL, from DATABASE_URL's server (any database name)."""
    parts = urllib.parse.urlsplit(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    return urllib.parse.urlunsplit(parts._replace(path="/postgres"))


def _redis_url(db: int) -> str:
    parts = urllib.parse.urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig=signal.SIGTERM, wait: float = 30) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)


@dataclass
class Cluster:
    folder: Path
    env: dict[str, str]
    database_url: str
    s3: object
    session: tuple[str, str]
    site_id: int
    processes: dict[str, Process] = field(default_factory=dict)
    web: dict[str, str] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], **extra: str) -> Process:
        var = self.folder / "var" / name  # each "host" its own var folder
        var.mkdir(parents=True, exist_ok=True)
        log = self.folder / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env | {"ECRF_VAR_DIR": str(var)} | extra,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole, like a host
        )
        handle.close()
        process = Process(name, popen, log)
        self.processes[name] = process
        return process

    def start_web(self, name: str) -> None:
        port = free_port()
        self.start(
            name,
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--timeout", "300"],
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if self.processes[name].popen.poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.processes[name].text()[-3000:]}")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                return True
            except OSError:
                return False

        wait_for(f"{name} to answer", answers)
        self.web[name] = base

    def start_worker(self, name: str) -> Process:
        process = self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info",
             "-c", "1", "-n", f"{name}@%h", "--without-mingle", "--without-gossip"],
        )  # fmt: skip
        wait_for(f"{name} to be ready", lambda: "ready." in process.text())
        return process

    def start_beat(self, name: str = "beat") -> Process:
        return self.start(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
             "-s", str(self.folder / "celerybeat-schedule")],
        )  # fmt: skip

    # --- the database, read directly
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def job(self, pk: int) -> dict:
        rows = self.query(
            "SELECT status, progress, attempts, claimed_by, sha256, file_path"
            " FROM exports_exportjob WHERE id = %s",
            (pk,),
        )
        keys = ("status", "progress", "attempts", "claimed_by", "sha256", "file_path")
        return dict(zip(keys, rows[0], strict=True))

    # --- HTTP as the signed-in investigator
    def _request(self, web: str, path: str, data: bytes | None = None, csrf: str = ""):
        cookie = f"{self.session[0]}={self.session[1]}"
        headers = {"Cookie": cookie + (f"; csrftoken={csrf}" if csrf else "")}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = csrf
        request = urllib.request.Request(self.web[web] + path, data=data, headers=headers)
        return urllib.request.urlopen(request, timeout=120)

    def start_export(self, web: str) -> int:
        page = self._request(web, "/exports/")
        cookies = page.headers.get_all("Set-Cookie") or []
        csrf = next(c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("csrftoken="))
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "forms": ["participants", "alsfrs_r"],
                "visits": ["SCR", "BL", "M06", "M12", "UNS"],
                "sites": [str(self.site_id)],
                "statuses": [
                    "screening",
                    "screen_failed",
                    "enrolled",
                    "transplanted",
                    "completed",
                    "withdrawn",
                    "lost_to_follow_up",
                    "died",
                ],
                "fmt": "csv",
                "layout": "long",
                "date_mode": "shift",
                "derived": "on",
            },
            doseq=True,
        ).encode()
        answer = self._request(web, "/exports/", data=form, csrf=csrf)
        found = re.search(r"/exports/(\d+)/$", answer.geturl())
        assert found, f"the export form was refused: {answer.read().decode()[:3000]}"
        return int(found.group(1))

    def download(self, web: str, pk: int) -> bytes:
        return self._request(web, f"/exports/{pk}/download/").read()

    def stored(self, file_path: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=f"exports/{file_path}")["Body"].read()

    def logs(self, prefix: str) -> str:
        return "".join(p.text() for n, p in self.processes.items() if n.startswith(prefix))


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT * 2)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _clone(server: str, template: str, name: str) -> None:
    """A copy of the test database pytest-django made (migrated once for the whole run; its
    tables emptied by any test that truncates, which the seed below does not mind). An open
    connection to the template makes PostgreSQL refuse for a moment: tried again."""
    import psycopg

    deadline = time.monotonic() + 120
    while True:
        try:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, django_db_setup) -> Iterator[Cluster]:
    import boto3
    import psycopg
    import redis
    from django.db import connections

    folder = tmp_path_factory.mktemp("multihost")
    name = f"ecrf_multihost_{uuid.uuid4().hex[:8]}"
    server = _server_url()
    database_url = urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}"))
    redis_url = _redis_url(int(os.environ.get("ECRF_MULTIHOST_REDIS_DB", "13")))
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    s3_port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DATABASE_TEST", "ECRF_", "AWS_"))
    } | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "ECRF_S3_BUCKET": BUCKET,
        "ECRF_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "ECRF_S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "multihost",
        "AWS_SECRET_ACCESS_KEY": "multihost-secret",
        "ECRF_TASK_VISIBILITY_SECONDS": str(VISIBILITY),
        "ECRF_TASK_RESTORE_SECONDS": "2",
        "ECRF_REMINDER_SCAN_SECONDS": "2",
        "ECRF_HEARTBEAT_SECONDS": "5",
        "ECRF_TEST_EXPORT_PAUSE_SECONDS": str(PAUSE),
        "ECRF_LOG_FORMAT": "text",
        "DJANGO_LOG_LEVEL": "INFO",
        # django-environ drops the path's first slash: two make it absolute.
        "EMAIL_URL": f"filemail:///{folder / 'mail'}",
        "PYTHONUNBUFFERED": "1",
    }
    # pytest-django's test database (its connection may already have been pointed back at
    # the configured name when this runs).
    connection = connections["default"]
    current = connection.settings_dict["NAME"]
    test_name = (connection.settings_dict.get("TEST") or {}).get("NAME")
    template = (
        current
        if current == test_name or current.startswith("test_")
        else connection.creation._get_test_db_name()
    )
    connections.close_all()
    _clone(server, template, name)
    cluster = Cluster(folder, env, database_url, None, ("", ""), 0)
    try:
        cluster.start(
            "s3",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
        )
        s3 = boto3.client(
            "s3",
            endpoint_url=env["ECRF_S3_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

        def bucket_made() -> bool:
            try:
                s3.create_bucket(Bucket=BUCKET)
                return True
            except Exception:  # the server is still starting
                return False

        wait_for("the S3 server", bucket_made)
        cluster.s3 = s3
        seeded = json.loads(
            _run([sys.executable, "tests/multihost/seed.py"], env, "seed").strip().splitlines()[-1]
        )
        cluster.session = (seeded["cookie"], seeded["session"])
        cluster.site_id = seeded["site_id"]
        cluster.start_web("web_a")
        cluster.start_web("web_b")
        cluster.start_worker("worker_1")
        cluster.start_worker("worker_2")
        cluster.start_beat()
        yield cluster
    finally:
        for process in reversed(list(cluster.processes.values())):
            process.stop()
        broker.flushdb()
        broker.close()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _done(cluster: Cluster, pk: int) -> Callable[[], dict | None]:
    def check() -> dict | None:
        job = cluster.job(pk)
        assert job["status"] != "failed", job
        return job if job["status"] == "done" else None

    return check


def test_an_export_asked_for_through_web_a_is_downloaded_through_web_b(cluster):
    pk = cluster.start_export("web_a")
    job = wait_for(f"export {pk} to finish", _done(cluster, pk))
    assert job["attempts"] == 1 and job["sha256"]
    stored = cluster.stored(job["file_path"])
    through_b = cluster.download("web_b", pk)
    through_a = cluster.download("web_a", pk)
    assert hashlib.sha256(through_b).hexdigest() == job["sha256"]
    assert hashlib.sha256(stored).hexdigest() == job["sha256"] and through_a == through_b
    # Neither web server wrote a bundle to its own disk: the bucket holds the only copy.
    for web in ("web_a", "web_b"):
        assert not list((cluster.folder / "var" / web).rglob("*.zip"))


def test_a_worker_killed_mid_export_leaves_the_job_to_the_other(cluster):
    pk = cluster.start_export("web_b")
    wait_for(
        f"export {pk} to be under way",
        lambda: f"export {pk}: pausing" in cluster.logs("worker"),
        every=0.2,
    )  # its first chunk written: the worker sleeps PAUSE seconds there
    running = cluster.job(pk)
    assert (running["status"], running["attempts"]) == ("running", 1)
    first_pid = int(running["claimed_by"].rsplit(":", 1)[1])
    group = os.getpgid(first_pid)
    victim = next(p for p in cluster.processes.values() if p.popen.pid == group)
    survivor = next(
        p for n, p in cluster.processes.items() if n.startswith("worker") and p is not victim
    )
    os.killpg(group, signal.SIGKILL)  # the host is gone: main process and pool child at once
    victim.popen.wait(timeout=30)
    assert cluster.job(pk)["status"] == "running"  # left behind, mid-way, in the database
    job = wait_for(f"export {pk} to be finished by the other worker", _done(cluster, pk))
    second_pid = int(job["claimed_by"].rsplit(":", 1)[1])
    assert job["attempts"] == 2 and os.getpgid(second_pid) == survivor.popen.pid
    # Finished once: one "finished" line in every worker log together, one object.
    assert len(re.findall(rf"export {pk} finished in", cluster.logs("worker"))) == 1
    listing = cluster.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"exports/{job['file_path']}")
    assert listing["KeyCount"] == 1
    assert hashlib.sha256(cluster.download("web_a", pk)).hexdigest() == job["sha256"]
    time.sleep(VISIBILITY / 5)  # a later delivery of the same task would change nothing
    assert cluster.job(pk)["attempts"] == 2
    cluster.processes.pop(victim.name)
    cluster.start_worker("worker_3")  # two workers again for the next test


def test_reminders_stay_exactly_once_with_two_workers_and_beat_restarted(cluster):
    pending_ids = [
        row[0]
        for row in cluster.query(
            "SELECT id FROM reminders_reminder WHERE sent_at IS NULL AND cancelled_at IS NULL"
            " ORDER BY id"
        )
    ]
    assert len(pending_ids) >= 2, "the seeded study has too few pending reminders"
    half = len(pending_ids) // 2
    make_due = (
        "UPDATE reminders_reminder SET due_at = now() - interval '1 minute', claimed_at = NULL"
        " WHERE id = ANY(%s)"
    )
    handled = (
        "SELECT count(*) = 0 FROM reminders_reminder"
        " WHERE id = ANY(%s) AND sent_at IS NULL AND cancelled_at IS NULL"
    )
    # Half falls due under the first beat, the other half after beat was restarted.
    cluster.query(make_due, (pending_ids[:half],))
    wait_for("the first half", lambda: cluster.query(handled, (pending_ids[:half],))[0][0])
    cluster.processes["beat"].stop()
    cluster.start_beat("beat_2")  # restarted: same schedule file, as after a redeploy
    cluster.query(make_due, (pending_ids[half:],))
    wait_for("the second half", lambda: cluster.query(handled, (pending_ids,))[0][0])
    time.sleep(8)  # a few more scans by the new beat: nothing is sent twice
    sent_email, sent_in_app = cluster.query(
        "SELECT count(*) FILTER (WHERE channel = 'email'), count(*) FILTER (WHERE channel ="
        " 'in_app') FROM reminders_reminder WHERE sent_at IS NOT NULL"
    )[0]
    notifications = cluster.query("SELECT count(*) FROM reminders_notification")[0][0]
    mail = cluster.folder / "mail"
    messages = sum(
        f.read_text(errors="replace").count("\nMessage-ID: ")
        for f in (mail.iterdir() if mail.exists() else [])
    )
    assert sent_email + sent_in_app > 0
    assert (messages, notifications) == (sent_email, sent_in_app)
    assert cluster.processes["beat_2"].popen.poll() is None
