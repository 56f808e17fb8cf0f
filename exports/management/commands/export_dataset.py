"""Export a dataset bundle from the command line (automation, cron)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from crfs import registry
from exports import selectors, services
from exports.options import DATE_MODES, FORMATS, LAYOUTS, PARTICIPANTS_TABLE, ExportOptions
from exports.safety_tables import SAFETY_TABLES
from exports.tables import visit_codelist
from participants.choices import ParticipantStatus
from trials import permissions
from trials.history import AuditedCommand
from trials.models import Site


class Command(AuditedCommand):
    help = (
        "Write a dataset export bundle (zip) to --output. With --user the export is scoped "
        "to the sites where that user may export, and logged under their name."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, required=True, dest="fmt")
        parser.add_argument("--output", required=True, help="path of the zip to write")
        parser.add_argument("--layout", choices=LAYOUTS, default="long")
        parser.add_argument("--deidentify", action="store_true")
        parser.add_argument(
            "--no-pseudonyms",
            action="store_true",
            help="de-identified exports keep study IDs instead of pseudonyms",
        )
        parser.add_argument("--date-mode", choices=DATE_MODES, default="shift")
        parser.add_argument("--site", action="append", default=[], help="site code (repeatable)")
        parser.add_argument("--form", action="append", default=[], help="form code (repeatable)")
        parser.add_argument("--visit", action="append", default=[], help="visit code (repeatable)")
        parser.add_argument(
            "--status", action="append", default=[], help="participant status (repeatable)"
        )
        parser.add_argument("--no-derived", action="store_true")
        parser.add_argument("--audit", action="store_true")
        parser.add_argument("--proact", action="store_true", help="PRO-ACT alias names")
        parser.add_argument("--identifiers", action="store_true")
        parser.add_argument("--user", help="run as this user (scoping and the export log)")

    def handle(self, *args, **opts):
        user = None
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"no user {opts['user']!r}")
            allowed = selectors.export_sites(user)
        else:
            allowed = Site.objects.filter(is_active=True)
        if opts["site"]:
            sites = list(allowed.filter(code__in=opts["site"]))
            missing = set(opts["site"]) - {s.code for s in sites}
            if missing:
                raise CommandError(f"no site you may export: {', '.join(sorted(missing))}")
        else:
            sites = list(allowed)
        if not sites:
            raise CommandError("no site to export")
        known = [PARTICIPANTS_TABLE, *registry.entry_forms(), *SAFETY_TABLES]
        forms = opts["form"] or known
        unknown = set(forms) - set(known)
        if unknown:
            raise CommandError(f"unknown forms: {', '.join(sorted(unknown))}")
        visits = opts["visit"] or [code for code, _label in visit_codelist().items]
        statuses = opts["status"] or list(ParticipantStatus.values)
        if opts["identifiers"] and (
            opts["deidentify"]
            or (
                user is not None
                and not all(permissions.can(user, permissions.VIEW_IDENTIFIERS, s) for s in sites)
            )
        ):
            raise CommandError("identifiers need an identified export by a user who may see them")
        options = ExportOptions(
            forms=tuple(forms),
            visits=tuple(visits),
            site_ids=tuple(s.pk for s in sites),
            statuses=tuple(statuses),
            fmt=opts["fmt"],
            layout=opts["layout"],
            deidentify=opts["deidentify"],
            pseudonymise=opts["deidentify"] and not opts["no_pseudonyms"],
            date_mode=opts["date_mode"],
            derived=not opts["no_derived"],
            audit=opts["audit"],
            proact=opts["proact"],
            identifiers=opts["identifiers"],
        )
        output = Path(opts["output"]).resolve()
        job = services.run_export_to(options=options, output=output, user=user)
        counts = ", ".join(f"{name}: {rows}" for name, rows in job.row_counts.items())
        self.stdout.write(f"wrote {output} (export {job.pk}; {counts})")
