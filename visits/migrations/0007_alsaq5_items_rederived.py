"""Re-derive the stored ALSAQ-5 scores after the item mapping was corrected (items 9, 11,
22, 25, 34 of the ALSAQ-40, as Jenkinson & Fitzpatrick 2001 Table 6 marks them; the
earlier mapping used 8, 17, 22, 29, 35). Only the ALSAQ-5 columns and the scoring version
change; the answers and the ALSAQ-40 domain scores do not. Audited like any change, with
the reason below. The mapping and formula are frozen here as they were on that day."""

import pghistory
from django.db import migrations

ITEMS = {
    "physical_mobility": 9,
    "independence": 11,
    "eating_drinking": 22,
    "communication": 25,
    "emotional_reactions": 34,
}
VERSION = "ALSAQ-5 (Jenkinson 2001; items 9, 11, 22, 25, 34)"
FIELDS = [f"alsaq5_{domain}" for domain in ITEMS] + ["alsaq5_total", "scoring_version"]


def rederive(apps, schema_editor):
    Alsaq40 = apps.get_model("visits", "Alsaq40")
    changed = []
    for record in Alsaq40.objects.order_by("pk").iterator():
        raw = {domain: getattr(record, f"item_{number:02d}") for domain, number in ITEMS.items()}
        for domain, value in raw.items():
            setattr(record, f"alsaq5_{domain}", None if value is None else value / 4 * 100)
        given = [value for value in raw.values() if value is not None]
        record.alsaq5_total = sum(given) / 20 * 100 if len(given) == len(raw) else None
        forty = record.scoring_version.split(";")[0].strip() or "ALSAQ-40 (Jenkinson 1999)"
        record.scoring_version = f"{forty}; {VERSION}"
        changed.append(record)
    if changed:
        with pghistory.context(reason="ALSAQ-5 item mapping corrected (migration 0007)"):
            Alsaq40.objects.bulk_update(changed, FIELDS, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("visits", "0006_merge_0003_fvc_vitals_0005_merge_20261126_2250")]

    operations = [migrations.RunPython(rederive, migrations.RunPython.noop)]
