"""load_instrument_wording FILE [--user NAME]: store a validated translation of an instrument.

The file's format: docs/instrument-wording.md. Loading the same file again changes nothing;
a file whose version was loaded before with other wording is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from crfs.wording.services import load_wording
from crfs.wording.spec import WordingFileError
from trials.history import AuditedCommand


class Command(AuditedCommand):
    help = "Load the validated wording of ALSFRS-R, ALSAQ-40 or SEIQoL-DW in a language."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="user name recorded as the one who loaded it")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']}")
        try:
            loaded = load_wording(path, user=user)
        except WordingFileError as error:
            raise CommandError(
                "not loaded:\n" + "\n".join(f"- {p}" for p in error.problems)
            ) from None
        wording = loaded.wording
        state = "loaded" if loaded.created else "already loaded, unchanged"
        self.stdout.write(
            f"{wording.get_instrument_display()} ({wording.language}) version "
            f"{wording.version}: {state}; source: {wording.source}"
        )
