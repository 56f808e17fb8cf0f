"""Print the code the demo authenticator shows now (demo users' second factor)."""

from __future__ import annotations

import base64
import time
from typing import Any

from django.core.management.base import BaseCommand
from django_otp.oath import TOTP

from demo.team import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo users (demo authenticator key)."

    def handle(self, *args: Any, **options: Any) -> None:
        totp = TOTP(base64.b32decode(DEMO_TOTP_SECRET))
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"{totp.token():06d}  (valid for {left} more seconds, once per user)")
