"""Seeds the multi-host test's fresh database (run as a script with its environment): the
protocol, the demo team and a few synthetic participants at ISF, and an investigator signed
in with the second factor passed. Prints one JSON line: the session cookie and the site id."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from importlib import import_module  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.core.management import call_command  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from demo.team import load_demo_team  # noqa: E402
from trials.models import Membership, Role  # noqa: E402


def main() -> None:
    call_command("load_protocol", verbosity=0)
    site, _logins = load_demo_team()
    call_command("seed_demo", participants=4, seed=1, site=site.code, verbosity=0)
    user, _created = get_user_model().objects.get_or_create(username="multihost")
    user.set_unusable_password()
    user.save()
    Membership.objects.get_or_create(user=user, site=site, role=Role.INVESTIGATOR)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="multihost", defaults={"confirmed": True}
    )
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    print(
        json.dumps(
            {
                "cookie": settings.SESSION_COOKIE_NAME,
                "session": store.session_key,
                "site_id": site.pk,
            }
        )
    )


if __name__ == "__main__":
    main()
