"""The reminder scan at scale: 100,000 scheduled visits, ~1,000,000 reminder rows, 1,000 due.

Builds a throwaway database (`ecrf_bench_reminders`, on the embedded PostgreSQL, or on the
server of DATABASE_URL), migrates it, fills it with set-based SQL, then times one scan
(claim of the 1,000 due rows in batches) and prints the EXPLAIN plan of the scan query,
which must use the partial index `reminder_due_scan`. The database is dropped at the end
(`--keep` keeps it). Not part of `make test`; run by `make bench`.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate, setup_django, urls  # noqa: E402

BENCH_DB = "ecrf_bench_reminders"
PARTICIPANTS = 25_000  # x 4 follow-ups = 100,000 scheduled visits
DUE = 1_000
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


FILL = [
    # Participants transplanted over ~2.5 years up to the bench's "now".
    """
    INSERT INTO participants_participant (site_id, trial_id, screening_number, study_id, status,
        status_date, screened_on, enrolled_on, created_at)
    SELECT %(site)s, %(trial)s, 'BEN-S' || g, 'BEN-' || lpad(g::text, 6, '0'), 'transplanted',
        DATE '2024-01-01' + (g %% 880), DATE '2023-12-01' + (g %% 880),
        DATE '2023-12-10' + (g %% 880), now()
    FROM generate_series(1, %(participants)s) AS g
    """,
    """
    INSERT INTO visits_visit (participant_id, code, sequence, position, unscheduled_reason,
        target_date, window_start, window_end, status, missed_reason, updated_at)
    SELECT p.id, f.code, 0, f.position, '',
        (p.status_date + make_interval(months => f.months))::date,
        (p.status_date + make_interval(months => f.months))::date - 28,
        (p.status_date + make_interval(months => f.months))::date + 28,
        'upcoming', '', now()
    FROM participants_participant p
    CROSS JOIN (VALUES ('M06', 3, 6), ('M12', 4, 12), ('M18', 5, 18), ('M24', 6, 24))
        AS f(code, position, months)
    """,
    # Four kinds x two channels to the coordinator, plus the overdue escalation to the
    # investigator: 10 rows per visit, due at 08:00 Tehran. The past ones were sent.
    """
    INSERT INTO reminders_reminder (visit_id, kind, recipient_id, channel, due_at, sent_at,
        attempts, last_error, created_at, topic, payload, recipient_email)
    SELECT r.visit_id, r.kind, r.recipient_id, r.channel, r.due_at,
        CASE WHEN r.due_at < %(now)s THEN r.due_at END, 0, '', now(), '', '{}'::jsonb, ''
    FROM (
        SELECT v.id AS visit_id, k.kind, u.recipient_id, c.channel,
            ((CASE k.kind WHEN 'before_window' THEN v.window_start - 14
                          WHEN 'window_opens' THEN v.window_start
                          WHEN 'target_date' THEN v.target_date
                          ELSE v.window_end + 1 END) + TIME '08:00')
                AT TIME ZONE 'Asia/Tehran' AS due_at
        FROM visits_visit v
        CROSS JOIN (VALUES ('before_window'), ('window_opens'), ('target_date'), ('overdue'))
            AS k(kind)
        CROSS JOIN (VALUES ('email'), ('in_app')) AS c(channel)
        JOIN (VALUES (%(coordinator)s, FALSE), (%(investigator)s, TRUE))
            AS u(recipient_id, escalation) ON (NOT u.escalation OR k.kind = 'overdue')
    ) AS r
    """,
    # 1,000 of the past rows were never sent (e.g. the worker was down): they are due now.
    """
    UPDATE reminders_reminder SET sent_at = NULL WHERE id IN (
        SELECT id FROM reminders_reminder WHERE sent_at IS NOT NULL
        ORDER BY due_at DESC LIMIT %(due)s)
    """,
]


def main() -> int:
    keep = "--keep" in sys.argv
    url, maintenance = urls(BENCH_DB)
    recreate(maintenance, BENCH_DB)
    setup_django(url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from reminders import services
    from reminders.models import Reminder
    from trials import services as trial_services
    from trials.models import Membership, Role, Site
    from trials.protocols import PROTOCOLS
    from visits.models import Visit

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
        site = Site.objects.create(code="BEN", name="Bench site", country="Iran")
        users = {}
        for role in (Role.COORDINATOR, Role.INVESTIGATOR):
            users[role] = get_user_model().objects.create(
                username=f"bench-{role}", email=f"{role}@example.org"
            )
            Membership.objects.create(user=users[role], site=site, role=role)
        params = {
            "site": site.pk,
            "trial": trial.pk,
            "participants": PARTICIPANTS,
            "coordinator": users[Role.COORDINATOR].pk,
            "investigator": users[Role.INVESTIGATOR].pk,
            "now": NOW,
            "due": DUE,
        }
        with connection.cursor() as cursor:
            try:  # audit triggers off for the bulk fill (superuser only); faster, same rows
                cursor.execute("SET session_replication_role = replica")
            except Exception:
                connection.rollback()
            for statement in FILL:
                cursor.execute(statement, params)
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute(f"VACUUM ANALYZE {Reminder._meta.db_table}")
            cursor.execute("ANALYZE visits_visit")
        fill = time.perf_counter() - started
        visits = Visit.objects.count()
        reminders = Reminder.objects.count()
        pending = Reminder.objects.filter(sent_at=None, cancelled_at=None).count()
        due = services.due_reminders(NOW).count()
        print(f"filled in {fill:.1f} s: {visits:,} visits, {reminders:,} reminders, ")
        print(f"  {pending:,} pending, {due:,} due at {NOW.isoformat()}")
        assert visits == 4 * PARTICIPANTS and due == DUE, (visits, due)

        query = (
            services.due_reminders(NOW)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: services.CLAIM_BATCH]
        )
        with transaction.atomic():
            plan = query.explain(analyze=True, buffers=True)
            transaction.set_rollback(True)
        print("\nEXPLAIN (ANALYZE, BUFFERS) of one scan batch:")
        print(plan)
        assert "reminder_due_scan" in plan, "the scan does not use the partial index"

        dispatched: list[int] = []
        started = time.perf_counter()
        claimed = services.claim_due(dispatch=dispatched.append, now=NOW)
        elapsed = time.perf_counter() - started
        print(
            f"\nscan: claimed {len(claimed):,} due reminders in {elapsed * 1000:.1f} ms "
            f"({len(dispatched):,} dispatched after commit, batches of {services.CLAIM_BATCH})"
        )
        assert len(claimed) == DUE and sorted(dispatched) == sorted(claimed)
        started = time.perf_counter()
        again = services.claim_due(dispatch=dispatched.append, now=NOW)
        print(
            f"next scan (nothing due): {len(again)} in {(time.perf_counter() - started) * 1000:.1f} ms"
        )
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            recreate(maintenance, BENCH_DB, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
