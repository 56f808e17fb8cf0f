"""A user lost their phone: delete their authenticator and backup codes, end their sessions;
their next login asks them to enrol again. Recorded in the access log of their sites."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services


class Command(BaseCommand):
    help = "Reset a user's second factor (lost device): they enrol again at their next login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the account whose device was lost")
        parser.add_argument(
            "--by", required=True, help="your own superuser account (recorded as who reset it)"
        )
        parser.add_argument("--reason", required=True, help="why (recorded)")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = get_user_model().objects.filter(username=options["by"]).first()
        if actor is None:
            raise CommandError(f"There is no account {options['by']}.")
        try:
            deleted = services.reset_second_factor(
                username=options["username"], actor=actor, reason=options["reason"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            f"Second factor of {options['username']} reset ({deleted} device(s) removed); "
            "they enrol again at their next login."
        )
