"""Issue 17 item 2: questionnaires are self-administered only in valid wording. A wording pack
holds an instrument's published wording; in production the portal offers self-completion only
with a loaded pack, and the demo keeps the paraphrases under a "demo wording" banner."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from openiop.audit.models import AuditEvent
from openiop.core.errors import ActionError
from openiop.measures.actions import schedule_set
from openiop.measures.instruments import get_instrument
from openiop.measures.models import Assessment
from openiop.measures.wording import (
    DEMO_BANNER,
    SelfAdministration,
    WordingPackError,
    parse_pack,
    self_administration_wording,
    wording_pack_load,
)
from openiop.safety.models import SafetyEvent
from openiop.testing import World
from openiop.wording.models import WordingPack

pytestmark = pytest.mark.django_db

PHQ9 = [1, 2, 0, 3, 1, 0, 2, 1, 0]


def pack_data(code: str = "phq9", version: str = "2026-01") -> dict[str, Any]:
    """A structurally valid pack whose text is marked as the test's stand-in for the
    published wording."""
    inst = get_instrument(code)
    return {
        "schema": "openiop.wording-pack/1",
        "instrument": code,
        "instrument_version": inst.version,
        "pack_version": version,
        "language": "en-US",
        "title": f"{inst.name} (test pack)",
        "licence": {
            "acknowledgement": "TEST ACKNOWLEDGEMENT: copyright holder named here",
            "source": "test fixture",
        },
        "instructions": "PUBLISHED INSTRUCTIONS for the test",
        "items": [
            {
                "number": item.number,
                "name": item.name,
                "text": f"PUBLISHED ITEM {item.number}",
                "options": [
                    {"code": o.code, "label": f"PUBLISHED OPTION {o.code}"} for o in item.options
                ],
            }
            for item in inst.items
        ],
    }


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data)


@pytest.fixture
def scheduled(world: World) -> World:
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    return world


@pytest.fixture
def production(settings):
    settings.OPENIOP_DEMO_WORDING = False
    return settings


def _body(answers: list[int]) -> dict[str, str]:
    body = {"idempotency_key": uuid.uuid4().hex}
    body.update({f"item_{n}": str(a) for n, a in enumerate(answers, start=1)})
    return body


# --------------------------------------------------------------------------- format


def test_item2_pack_validates_and_loads_with_audit(world: World) -> None:
    row = wording_pack_load(
        actor=world.director_a, text=_text(pack_data()), file="phq9.json", program=world.program_a
    )
    assert (row.instrument, row.pack_version, row.active) == ("phq9", "2026-01", True)
    assert row.content["items"][8]["text"] == "PUBLISHED ITEM 9"
    assert len(row.sha256) == 64
    event = AuditEvent.objects.get(action="create", detail__wording_pack="phq9")
    assert event.detail["pack_version"] == "2026-01"


def _broken(change) -> dict[str, Any]:
    data = pack_data()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["items"].pop(), "items", "has 8 items; phq9 has 9"),
        (lambda d: d["items"][3]["options"].pop(), "items[3].options", "has 3 response options"),
        (
            lambda d: d["items"][3]["options"][2].update(code=5),
            "items[3].options[2].code",
            "expected 2",
        ),
        (lambda d: d["items"][1].update(name="nonsense"), "items[1].name", "(item 2's name)"),
        (lambda d: d.update(instrument_version="0.9"), "instrument_version", "does not match"),
        (lambda d: d.update(instrument="phq10"), "instrument", "unknown instrument"),
        (lambda d: d["licence"].pop("acknowledgement"), "licence.acknowledgement", "required"),
        (lambda d: d["items"][0].update(txt="x"), "items[0].txt", "unknown field"),
        (lambda d: d["items"][0].update(text=""), "items[0].text", "non-empty"),
    ],
)
def test_item2_pack_errors_name_the_field(change, field: str, words: str) -> None:
    with pytest.raises(WordingPackError) as error:
        parse_pack(_text(_broken(change)), "phq9-en.json")
    message = str(error.value)
    assert message.startswith(f"phq9-en.json: field '{field}':"), message
    assert words in message


def test_item2_invalid_pack_is_refused_and_nothing_stored(world: World) -> None:
    data = _broken(lambda d: d["items"].pop())
    with pytest.raises(ActionError) as error:
        wording_pack_load(actor=world.director_a, text=_text(data), file="x.json")
    assert "items" in error.value.errors
    assert not WordingPack.objects.exists()


def test_item2_new_pack_supersedes_the_active_one(world: World) -> None:
    first = wording_pack_load(actor=world.director_a, text=_text(pack_data()), file="a.json")
    second = wording_pack_load(
        actor=world.director_a, text=_text(pack_data(version="2026-02")), file="b.json"
    )
    first.refresh_from_db()
    assert (first.active, second.active) == (False, True)


def test_item2_command_loads_and_validates(world: World, tmp_path: Path, capsys) -> None:
    good = tmp_path / "phq9-en.json"
    good.write_text(_text(pack_data()))
    call_command("wording_pack", "validate", str(good))
    call_command("wording_pack", "load", str(good), "--program", str(world.program_a.external_id))
    assert WordingPack.objects.get().program == world.program_a
    bad = tmp_path / "bad.json"
    bad.write_text(_text(_broken(lambda d: d["items"].pop())))
    with pytest.raises(CommandError, match=r"bad\.json: field 'items': has 8 items"):
        call_command("wording_pack", "load", str(bad))
    assert WordingPack.objects.count() == 1


# --------------------------------------------------------------------------- the gate


def _pack_version(decision: SelfAdministration) -> str | None:
    return decision.pack.pack_version if decision.pack else None


def test_item2_gate_modes(world: World, settings) -> None:
    phq9 = get_instrument("phq9")
    settings.OPENIOP_DEMO_WORDING = True
    assert self_administration_wording(phq9, world.program_a).mode == "demo"
    assert self_administration_wording(phq9, world.program_a).banner == DEMO_BANNER
    settings.OPENIOP_DEMO_WORDING = False
    decision = self_administration_wording(phq9, world.program_a)
    assert (decision.mode, decision.self_complete) == ("staff", False)
    # A deployment-wide pack serves every program; a program's own pack wins over it.
    wording_pack_load(actor=world.director_a, text=_text(pack_data(version="d")), file="d.json")
    assert _pack_version(self_administration_wording(phq9, world.program_b)) == "d"
    wording_pack_load(
        actor=world.director_a,
        text=_text(pack_data(version="a")),
        file="a.json",
        program=world.program_a,
    )
    assert _pack_version(self_administration_wording(phq9, world.program_a)) == "a"
    assert self_administration_wording(get_instrument("gad7"), world.program_a).mode == "staff"


def test_item2_production_setting_is_never_demo() -> None:
    source = Path(__file__).resolve().parents[2].joinpath("settings.py").read_text()
    assert 'OPENIOP_DEMO_WORDING = env_bool("OPENIOP_DEMO_WORDING", DEBUG) and not PRODUCTION' in (
        source
    )


# --------------------------------------------------------------------------- portal


def test_item2_production_without_pack_offers_staff_only(
    scheduled: World, client_for, production
) -> None:
    me = client_for(scheduled.participant_user)
    listing = me.get("/me/measures/").content.decode()
    assert "will be done with a member of your care team" in listing
    assert 'href="/me/measures/phq9/"' not in listing
    page = me.get("/me/measures/phq9/")
    assert page.status_code == 200
    assert "will be done with a member of your care team" in page.content.decode()
    assert "item_1" not in page.content.decode()
    refused = me.post("/me/measures/phq9/", _body(PHQ9))
    assert refused.status_code == 403
    assert not Assessment.objects.exists()


def test_item2_production_without_pack_still_acts_on_a_critical_answer(
    scheduled: World, client_for, production
) -> None:
    me = client_for(scheduled.participant_user)
    response = me.post("/me/measures/phq9/", _body([0, 0, 0, 0, 0, 0, 0, 0, 3]))
    assert response.status_code == 302 and "help" in response.url
    assert SafetyEvent.objects.filter(participant=scheduled.participant_a).count() == 1


def test_item2_production_with_pack_uses_the_published_wording(
    scheduled: World, client_for, production
) -> None:
    wording_pack_load(
        actor=scheduled.director_a,
        text=_text(pack_data()),
        file="phq9.json",
        program=scheduled.program_a,
    )
    me = client_for(scheduled.participant_user)
    assert 'href="/me/measures/phq9/"' in me.get("/me/measures/").content.decode()
    page = me.get("/me/measures/phq9/").content.decode()
    assert "PUBLISHED ITEM 9" in page and "PUBLISHED OPTION 3" in page
    assert "PUBLISHED INSTRUCTIONS" in page and "TEST ACKNOWLEDGEMENT" in page
    assert DEMO_BANNER not in page
    assert me.post("/me/measures/phq9/", _body(PHQ9)).status_code == 302
    assert Assessment.objects.get().total == 10


def test_item2_demo_shows_paraphrases_under_a_banner(scheduled: World, client_for, settings):
    settings.OPENIOP_DEMO_WORDING = True
    me = client_for(scheduled.participant_user)
    assert DEMO_BANNER in me.get("/me/measures/").content.decode()
    page = me.get("/me/measures/phq9/").content.decode()
    assert DEMO_BANNER in page and "not for clinical use" in page


def test_item2_api_says_staff_and_refuses_without_pack(
    scheduled: World, client_for, production
) -> None:
    client = client_for(scheduled.participant_user)
    rows = client.get("/api/v1/me/measures").json()
    assert [(r["instrument"], r["administration"], r["items"]) for r in rows] == [
        ("phq9", "staff", [])
    ]
    response = client.post(
        "/api/v1/me/measures/phq9",
        data=json.dumps({"answers": PHQ9}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert response.status_code in (403, 409, 422)
    assert "care team" in response.content.decode()
    assert not Assessment.objects.exists()


def test_item2_api_carries_pack_wording(scheduled: World, client_for, production) -> None:
    wording_pack_load(actor=scheduled.director_a, text=_text(pack_data()), file="p.json")
    rows = client_for(scheduled.participant_user).get("/api/v1/me/measures").json()
    assert rows[0]["administration"] == "self" and rows[0]["notice"] is None
    assert rows[0]["items"][8]["label"] == "PUBLISHED ITEM 9"
    assert rows[0]["stem"] == "PUBLISHED INSTRUCTIONS for the test"
