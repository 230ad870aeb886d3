"""Seed the §2.32(a)(1) notice from the versioned data file.

Reads the JSON with plain json/open (never app code), so the migration means the same
thing for as long as the file keeps this version. Re-running is a no-op; reversing removes
only the versions seeded here and only while no disclosure refers to them (PROTECT).
"""

import hashlib
import json
import uuid
from datetime import date
from pathlib import Path

from django.db import migrations

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "part2_notices.json"


def _notices():
    with DATA_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)["notices"]


def seed(apps, schema_editor):
    Part2Notice = apps.get_model("consent", "Part2Notice")
    for notice in _notices():
        Part2Notice.objects.get_or_create(
            kind=notice["kind"],
            version=notice["version"],
            defaults={
                "external_id": uuid.uuid4(),
                "text": notice["text"],
                "effective_from": date.fromisoformat(notice["effective_from"]),
                "citation": notice["citation"],
                "sha256": hashlib.sha256(notice["text"].encode("utf-8")).hexdigest(),
            },
        )


def unseed(apps, schema_editor):
    Part2Notice = apps.get_model("consent", "Part2Notice")
    for notice in _notices():
        # Queryset delete: the model's delete() guard is not present on historical models.
        Part2Notice.objects.filter(kind=notice["kind"], version=notice["version"]).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_part2_notices_consents_disclosures")]

    operations = [migrations.RunPython(seed, unseed)]
