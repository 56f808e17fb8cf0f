"""An operator deploys with docker-compose and environment variables only."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = {"web", "worker", "beat"}
# Interpolated by compose: into DATABASE_URL and the db service; into the S3 keys and MinIO's.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"}


def settings_variables() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))


def env_example_variables() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_compose_has_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {
        "db", "redis", "s3", "s3-bucket", "migrate", "web", "worker", "beat", "proxy"
    }  # fmt: skip
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in APP_SERVICES:
        assert services[name]["env_file"] == ".env"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_runs_two_webs_two_workers_and_exactly_one_beat_behind_a_tls_proxy():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    # Only the proxy is reachable from outside; the replicas trust its headers, and only then.
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert sorted(services["proxy"]["ports"]) == ["443:443", "80:80"]
    assert services["web"]["environment"]["DJANGO_TRUSTED_PROXY"] == "true"
    # Every long-running service says whether it is healthy; migrations run once, first.
    for name in ("db", "redis", "s3", "web", "worker", "beat", "proxy"):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    assert "migrate" in services["migrate"]["command"]
    assert "migrate" not in " ".join(services["web"]["command"].split()[:1])
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    mounted = dict(v.split(":")[:2][::-1] for v in services["proxy"]["volumes"])
    assert mounted["/etc/nginx/nginx.conf"] == "./deploy/nginx.conf"


def test_the_proxy_ends_tls_and_overwrites_the_headers_the_app_believes():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"listen 443 ssl;", conf)
    assert "ssl_certificate     /etc/nginx/certs/fullchain.pem;" in conf
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", conf)
    assert "return 301 https://$host$request_uri;" in conf
    # Set, not passed through: a client's own X-Forwarded-Proto / X-Request-ID are replaced.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "server web:8000;" in conf


def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or a folder above it decides, and
    `!` takes a path back in; `*` stops at `/`, `**` crosses folders."""
    excluded = False
    ignore = ROOT / ".dockerignore"
    for line in ignore.read_text().splitlines() if ignore.exists() else []:
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not keep
    return excluded


def dockerfile_runs() -> tuple[str, str, list[list[str]]]:
    """The image's WORKDIR, runtime USER and the shell commands of its RUN lines."""
    source = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    workdir = user = ""
    commands = []
    for line in source.splitlines():
        instruction, _, argument = line.strip().partition(" ")
        if instruction == "WORKDIR":
            workdir = argument.strip()
        elif instruction == "USER":
            user = argument.strip().split(":")[0]
        elif instruction == "RUN":
            commands += [shlex.split(part) for part in re.split(r"&&|;", argument)]
    return workdir, user, commands


def test_dockerignore_keeps_local_data_secrets_and_exports_out_of_the_image():
    for path in (
        "var/pgdata/PG_VERSION",
        "var/exports/export-12.zip",
        ".env",
        "study.zip",
        "exports/downloads/isf-identified.zip",
        ".git/HEAD",
        ".venv/bin/python",
        "deploy/certs/privkey.pem",
    ):
        assert dockerignore_excludes(path), f"{path} would be copied into the image"
    for path in (
        "manage.py",
        "pyproject.toml",
        "uv.lock",
        "config/settings.py",
        "exports/bundle.py",
    ):
        assert not dockerignore_excludes(path), f"the image needs {path}"


def test_web_and_worker_share_the_bucket_and_no_folder():
    """Workers write export bundles and casebooks, web serves them: both through the one
    S3-compatible bucket (the compose service, private), not a folder shared between them."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in APP_SERVICES | {"migrate"}:
        environment = services[name]["environment"]
        assert environment["ECRF_S3_BUCKET"] == "${S3_BUCKET:-ecrf}"
        assert environment["ECRF_S3_ENDPOINT_URL"] == "${S3_ENDPOINT_URL:-http://s3:9000}"
        assert environment["AWS_ACCESS_KEY_ID"] == "${S3_ACCESS_KEY_ID}"
        assert "ECRF_EXPORT_DIR" not in environment and "ECRF_CASEBOOK_DIR" not in environment
        assert services[name]["depends_on"]["s3-bucket"]["condition"] == (
            "service_completed_successfully"
        )
    for name in ("web", "worker"):
        assert not services[name].get("volumes"), f"{name} mounts a folder"
    assert services["s3"]["image"].startswith("minio/minio:")
    assert services["s3"]["environment"]["MINIO_ROOT_USER"] == "${S3_ACCESS_KEY_ID}"
    assert not services["s3"].get("ports"), "the store is reached only by the app"
    bucket = " ".join(services["s3-bucket"]["entrypoint"])
    assert "mc mb" in bucket and "mc anonymous set none" in bucket
    assert services["s3-bucket"]["depends_on"]["s3"]["condition"] == "service_healthy"
    assert "s3data" in compose["volumes"]


def test_the_image_user_owns_what_the_app_writes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["services"]["worker"]["environment"]
    workdir, user, commands = dockerfile_runs()
    assert user and user != "root"
    owned: list[tuple[PurePosixPath, bool]] = []
    made: list[PurePosixPath] = []
    for command in commands:
        if command[:1] == ["chown"]:
            arguments = [word for word in command[1:] if not word.startswith("-")]
            if arguments[0].split(":")[0] == user:
                owned += [(PurePosixPath(path), "-R" in command) for path in arguments[1:]]
        elif command[:1] == ["mkdir"]:
            made += [PurePosixPath(word) for word in command[1:] if not word.startswith("-")]
    written = {
        PurePosixPath(workdir) / "var",  # ECRF_VAR_DIR's default: file cache, beat state
        PurePosixPath(environment["CELERY_BEAT_SCHEDULE_FILENAME"]).parent,
    }
    for folder in written:
        assert any(
            folder == path or (recursive and folder.is_relative_to(path))
            for path, recursive in owned
        ), f"{folder} is not {user}'s"
        assert any(path.is_relative_to(folder) for path in made), f"{folder} is not made"


def test_every_variable_compose_passes_is_read_by_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    read = settings_variables()
    for name in APP_SERVICES:
        passed = set(compose["services"][name]["environment"])
        assert passed <= read, f"{name} passes variables settings never read: {passed - read}"
    assert env_example_variables() - COMPOSE_ONLY <= read
    assert "${POSTGRES_PASSWORD}" in (ROOT / "docker-compose.yml").read_text()


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in settings_variables() if f"`{name}`" not in readme}
    assert not missing, f"README's configuration table lacks {sorted(missing)}"


def test_production_settings_pass_check_deploy():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "k7#pV9!xQ2@mZ4$wR8%tY6^uI1&oP3*aS5(dF0)gH2-jK4_lL6+zX8=cV0",
        "DJANGO_ALLOWED_HOSTS": "ecrf.example.org",
        "DATABASE_URL": "postgres://ecrf@127.0.0.1:5432/ecrf",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {"DJANGO_DEBUG": "false", "DATABASE_URL": "postgres://ecrf@127.0.0.1:5432/ecrf"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
