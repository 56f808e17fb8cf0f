"""Existing EMG records: the number of muscles examined by needle EMG is their rows' count.

Records without rows keep NULL: a complete one needs a reason for the missing needle
examination at its next save (the data cannot say which reason it was).
"""

import pghistory
from django.db import migrations
from django.db.models import Count, Exists, OuterRef, Subquery


def fill_needle_muscles(apps, schema_editor):
    Emg = apps.get_model("visits", "Emg")
    EmgMuscleFinding = apps.get_model("visits", "EmgMuscleFinding")
    rows = EmgMuscleFinding.objects.filter(emg=OuterRef("pk"))
    count = rows.order_by().values("emg").annotate(n=Count("pk")).values("n")
    with pghistory.context(reason="migration: needle_muscles filled from the EMG muscle rows"):
        Emg.objects.filter(Exists(rows)).update(needle_muscles=Subquery(count))


class Migration(migrations.Migration):

    dependencies = [
        ("visits", "0008_emg_needle_muscles"),
    ]

    operations = [
        migrations.RunPython(fill_needle_muscles, migrations.RunPython.noop),
    ]
