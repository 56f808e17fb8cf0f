from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from demo.participants import load_demo_participants
from trials.history import AuditedCommand
from trials.models import Site, Trial
from trials.protocols import DEFAULT_NCT_ID
from trials.protocols.nct02116634 import ISFAHAN


class Command(AuditedCommand):
    help = "Create demo participants at the Isfahan site in different states (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo participants with DEBUG off.")
        site = Site.objects.filter(code=ISFAHAN["code"]).first()
        trial = Trial.objects.filter(nct_id=DEFAULT_NCT_ID).first()
        actor = get_user_model().objects.filter(username="coordinator").first()
        if site is None or trial is None or actor is None:
            raise CommandError("Run load_protocol and setup_demo first.")
        made = load_demo_participants(actor=actor, site=site, trial=trial)
        self.stdout.write(f"Demo participants created: {len(made)}")
