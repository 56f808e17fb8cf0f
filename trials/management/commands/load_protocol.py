from trials import services
from trials.history import AuditedCommand
from trials.protocols import DEFAULT_NCT_ID, PROTOCOLS
from trials.protocols.nct02116634 import ISFAHAN


class Command(AuditedCommand):
    help = "Load a trial from its protocol definition, and its Isfahan site (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("nct_id", nargs="?", default=DEFAULT_NCT_ID, choices=sorted(PROTOCOLS))

    def handle(self, *args, nct_id: str, **options):
        trial = services.load_trial(protocol=PROTOCOLS[nct_id])
        site = services.create_site(**ISFAHAN)
        self.stdout.write(f"Trial: {trial} (protocol v{trial.protocol_version})")
        self.stdout.write(f"Site: {site} ({site.time_zone})")
