"""Issue 18 item 11: long free text has a limit with a clear error (every free-text field of
every staff and portal form has a max_length), and an over-long answer is refused by name
with nothing saved."""

from __future__ import annotations

import importlib

import pytest
from django import forms
from django.urls import reverse

from openiop.participants.models import PhaseChange
from openiop.testing import World, today

APPS = [
    "accounts",
    "audit",
    "calendars",
    "consent",
    "groupwork",
    "measures",
    "medical",
    "participants",
    "portal",
    "safety",
    "scheduling",
    "treatment",
]
# Secrets and sign-in names are checked by the sign-in code, not stored as free text.
NOT_FREE_TEXT = {"username", "password", "old_password", "new_password", "idempotency_key"}


def _unlimited() -> list[str]:
    found = []
    for app in APPS:
        try:
            module = importlib.import_module(f"openiop.{app}.forms")
        except ImportError:
            continue
        for name, obj in vars(module).items():
            if not (
                isinstance(obj, type)
                and issubclass(obj, forms.BaseForm)
                and obj.__module__ == module.__name__
            ):
                continue
            for field_name, field in obj.base_fields.items():
                if (
                    type(field) is forms.CharField
                    and field.max_length is None
                    and field_name not in NOT_FREE_TEXT
                ):
                    found.append(f"{app}.{name}.{field_name}")
    return found


def test_every_free_text_field_has_a_limit():
    assert _unlimited() == []


@pytest.mark.django_db
def test_an_over_long_reason_is_refused_by_name(world: World, client_for):
    path = reverse(
        "participants:change_phase",
        kwargs={
            "program_id": world.program_a.external_id,
            "participant_id": world.participant_a.external_id,
            "enrollment_id": world.enrollment_a.external_id,
        },
    )
    response = client_for(world.director_a).post(
        path,
        {
            "to_phase": "early_recovery",
            "effective_on": today(world.program_a).isoformat(),
            "reason": "x" * 2500,
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Reason: Ensure this value has at most 2000 characters (it has 2500)." in body
    assert not PhaseChange.objects.exists()
