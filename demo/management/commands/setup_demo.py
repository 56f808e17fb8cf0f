from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from demo.team import DEMO_TOTP_SECRET, load_demo_team
from trials.history import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Load the protocol, create the demo site, one demo user per role, demo participants and "
        "20 synthetic participants with scores (development only), and print the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo users with DEBUG off (use --force on a test system)."
            )
        call_command("load_protocol", stdout=self.stdout)
        site, logins = load_demo_team()
        # By name, not import: the participants and visits apps sit above trials.
        call_command("load_demo_participants", force=force, stdout=self.stdout)
        # A small synthetic study with scores (skipped when already seeded).
        call_command(
            "seed_demo", participants=20, seed=1, if_absent=True, force=force, stdout=self.stdout
        )
        self.stdout.write(f"Demo site: {site}")
        self.stdout.write("Demo logins (username / password / role):")
        for username, password, role in logins:
            self.stdout.write(f"  {username:<14} {password:<26} {role}")
        self.stdout.write(
            f"All but the monitor also need a code: authenticator key {DEMO_TOTP_SECRET} "
            "(any TOTP app), or `manage.py demo_code` prints the current one."
        )
