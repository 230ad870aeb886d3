"""Loaded wording packs: the published wording of an instrument that a program (or the whole
deployment) holds the rights to, with its licence acknowledgement. Format, validation, loading
and the self-administration gate live in `openiop.measures.wording` (docs/wording-packs.md).

A pack is never edited: loading a new version supersedes the active one (kept, inactive), so
the wording every portal administration used can be traced.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from openiop.core.models import BaseModel


class WordingPack(BaseModel):
    # Null: the deployment holds the rights for every program.
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    instrument = models.CharField(max_length=16)
    instrument_version = models.CharField(max_length=32)
    pack_version = models.CharField(max_length=32)
    language = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    licence_acknowledgement = models.TextField()
    source = models.TextField()
    # The validated pack as loaded (instructions, items with their text and option labels).
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            # One active pack per instrument and language: a program may hold the English
            # and the Spanish wording of one instrument at once (docs/portal.md, "Languages").
            models.UniqueConstraint(
                fields=["program", "instrument", "language"],
                condition=Q(active=True, program__isnull=False),
                name="wording_one_active_pack_per_program_language",
            ),
            models.UniqueConstraint(
                fields=["instrument", "language"],
                condition=Q(active=True, program__isnull=True),
                name="wording_one_active_deployment_pack_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} wording {self.pack_version} ({self.language})"
