from __future__ import annotations

import json
from datetime import timedelta

import pytest

from openiop.consent.models import Consent
from openiop.consent.tests.helpers import disclose, make_consent
from openiop.testing import World, today

pytestmark = pytest.mark.django_db


def base(world: World) -> str:
    return (
        f"/api/v1/programs/{world.program_a.external_id}"
        f"/participants/{world.participant_a.external_id}"
    )


def send(client, method: str, path: str, body: dict):
    return client.generic(method, path, data=json.dumps(body), content_type="application/json")


def consent_body(**overrides) -> dict:
    body = {
        "discloser_name": "Program A",
        "information": ["attendance"],
        "recipient_name": "Dr Robin Lee",
        "recipient_type": "individual",
        "purposes": ["treatment"],
        "revocation_acknowledged": True,
        "expiry_event": "On discharge",
        "signed_by": "Avery Quillby",
        "signer_relation": "patient",
        "signed_on": (today() - timedelta(days=1)).isoformat(),
    }
    body.update(overrides)
    return body


def test_create_list_and_revoke(world: World, client_for):
    client = client_for(world.clinician_a)
    created = send(client, "POST", f"{base(world)}/consents", consent_body())
    assert created.status_code == 201, created.content
    consent = created.json()
    assert consent["status"] == "active" and consent["revocation_statement_version"]
    listed = client.get(f"{base(world)}/consents").json()
    assert [c["id"] for c in listed] == [consent["id"]]
    revoked = send(
        client,
        "POST",
        f"{base(world)}/consents/{consent['id']}/revoke",
        {"revoked_on": today().isoformat(), "reason": "asked"},
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def test_P2_01_api_names_each_missing_element(world: World, client_for):
    response = send(client_for(world.clinician_a), "POST", f"{base(world)}/consents", {})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {"discloser_name", "information", "recipient_name", "purposes", "signed_on"} <= set(
        fields
    )
    assert not Consent.objects.exists()


def test_api_refuses_read_only_fields(world: World, client_for):
    body = consent_body(status="active", revoked_at="2026-01-01T00:00:00Z")
    response = send(client_for(world.clinician_a), "POST", f"{base(world)}/consents", body)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"status", "revoked_at"}


def test_api_lists_disclosures(world: World, client_for):
    consent = make_consent(world)
    disclosure = disclose(world, consent=consent)
    rows = client_for(world.billing_a).get(f"{base(world)}/disclosures").json()
    assert rows[0]["id"] == str(disclosure.external_id)
    assert rows[0]["consent"] == str(consent.external_id)
    assert rows[0]["notice_version"] == disclosure.notice.version


def test_api_write_twins_for_billing(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.billing_a)
    assert send(client, "POST", f"{base(world)}/consents", consent_body()).status_code == 403
    revoke = send(
        client,
        "POST",
        f"{base(world)}/consents/{consent.external_id}/revoke",
        {"revoked_on": today().isoformat()},
    )
    assert revoke.status_code == 403
    assert Consent.objects.count() == 1


def test_api_outsider_gets_404(world: World, client_for):
    consent = make_consent(world)
    client = client_for(world.clinician_b)
    for path in (f"{base(world)}/consents", f"{base(world)}/disclosures"):
        assert client.get(path).status_code == 404
    revoke = send(
        client,
        "POST",
        f"{base(world)}/consents/{consent.external_id}/revoke",
        {"revoked_on": today().isoformat()},
    )
    assert revoke.status_code == 404
