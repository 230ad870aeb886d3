"""Issue 17 item 5: answers signalling withdrawal or overdose risk (ASAM dimension 1) prompt a
medical review and, where the rule says so, a naloxone offer, recorded on the chart."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from openiop.audit.models import AuditEvent
from openiop.core import clock
from openiop.core.errors import ConflictError
from openiop.measures.instruments import InstrumentDataError
from openiop.measures.tests.helpers import record
from openiop.medical import actions
from openiop.medical.models import MedicalRiskPrompt, PromptStatus
from openiop.medical.rules import RULES_FILE, load_rules
from openiop.testing import World


def _answers(count: int, **at: int) -> list[int | None]:
    answers: list[int | None] = [0] * count
    for position, code in at.items():
        answers[int(position.lstrip("i")) - 1] = code
    return answers


def _rules(world: World) -> list[str]:
    return sorted(
        MedicalRiskPrompt.objects.filter(participant=world.participant_a).values_list(
            "rule_id", flat=True
        )
    )


# --------------------------------------------------------------------------- each rule


@pytest.mark.parametrize(
    ("instrument", "answers", "rule", "naloxone"),
    [
        ("audit", _answers(10, i6=3), "audit-morning-drink", False),  # weekly
        ("audit", _answers(10, i6=4), "audit-morning-drink", False),  # daily
        ("dast10", _answers(10, i9=1), "dast10-withdrawal", True),
        ("bam", _answers(17, i5=4), "bam-heavy-drinking-most-days", False),
        ("bam", _answers(17, i6=1), "bam-drug-use", True),
    ],
)
def test_item5_rule_fires(world: World, instrument, answers, rule, naloxone) -> None:
    assessment = record(world, world.participant_a, instrument=instrument, answers=answers)
    prompt = MedicalRiskPrompt.objects.get(participant=world.participant_a)
    assert prompt.rule_id == rule
    assert prompt.assessment_id == assessment.external_id
    assert prompt.status == PromptStatus.OPEN and prompt.naloxone_needed is naloxone
    assert f"{instrument.upper()} item" in prompt.evidence
    assert AuditEvent.objects.filter(action="create", detail__rule=rule).count() == 1


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("audit", _answers(10, i6=2)),  # monthly morning drinking
        ("audit", _answers(10, i1=4, i2=4, i3=4)),  # heavy but no morning drink
        ("dast10", _answers(10, i1=1, i2=1, i9=0)),
        ("bam", _answers(17, i4=4, i5=3)),  # heavy drinking 9-15 days is not "most days"
        ("bam", _answers(17, i6=0)),
        ("phq9", _answers(9, i1=3)),  # no rules for this instrument
    ],
)
def test_item5_rule_does_not_fire_below_threshold(world: World, instrument, answers) -> None:
    record(world, world.participant_a, instrument=instrument, answers=answers)
    assert _rules(world) == []


def test_item5_return_to_use_after_abstinence_fires(world: World) -> None:
    today = clock.program_today(world.program_a)
    record(
        world,
        world.participant_a,
        instrument="bam",
        answers=_answers(17),
        day=today - timedelta(days=5),
    )
    assert _rules(world) == []
    record(world, world.participant_a, instrument="bam", answers=_answers(17, i6=2))
    assert _rules(world) == ["bam-drug-use", "bam-return-to-use"]
    evidence = MedicalRiskPrompt.objects.get(rule_id="bam-return-to-use").evidence
    assert "previous BAM answer 0" in evidence


def test_item5_continued_use_is_not_a_return(world: World) -> None:
    today = clock.program_today(world.program_a)
    record(
        world,
        world.participant_a,
        instrument="bam",
        answers=_answers(17, i6=1),
        day=today - timedelta(days=5),
    )
    prompt = MedicalRiskPrompt.objects.get()
    actions.medical_prompt_record_review(actor=world.clinician_a, prompt=prompt, note="Seen by MD")
    actions.medical_prompt_record_naloxone(
        actor=world.clinician_a, prompt=prompt, outcome="offered"
    )
    record(world, world.participant_a, instrument="bam", answers=_answers(17, i6=2))
    assert _rules(world) == ["bam-drug-use", "bam-drug-use"]


def test_item5_one_open_prompt_per_rule(world: World) -> None:
    record(world, world.participant_a, instrument="dast10", answers=_answers(10, i9=1))
    record(world, world.participant_a, instrument="dast10", answers=_answers(10, i9=1))
    assert _rules(world) == ["dast10-withdrawal"]


# --------------------------------------------------------------------------- recording


def test_item5_review_and_naloxone_recorded_and_audited(world: World) -> None:
    record(world, world.participant_a, instrument="dast10", answers=_answers(10, i9=1))
    prompt = MedicalRiskPrompt.objects.get()
    actions.medical_prompt_record_review(
        actor=world.clinician_a, prompt=prompt, note="Opioid withdrawal history; MD review booked"
    )
    assert prompt.status == PromptStatus.REVIEWED and not prompt.complete
    with pytest.raises(ConflictError):
        actions.medical_prompt_record_review(actor=world.clinician_a, prompt=prompt, note="again")
    actions.medical_prompt_record_naloxone(
        actor=world.supervisor_a, prompt=prompt, outcome="declined"
    )
    prompt.refresh_from_db()
    assert prompt.status == PromptStatus.DECLINED and prompt.complete
    assert (prompt.reviewed_by, prompt.naloxone_by) == (world.clinician_a, world.supervisor_a)
    steps = AuditEvent.objects.filter(action="update", detail__step__isnull=False)
    assert sorted(e.detail["step"] for e in steps) == ["medical_review", "naloxone"]


def test_item5_review_needs_a_note_naming_the_field(world: World) -> None:
    from openiop.core.errors import ActionError

    record(world, world.participant_a, instrument="audit", answers=_answers(10, i6=3))
    prompt = MedicalRiskPrompt.objects.get()
    with pytest.raises(ActionError) as error:
        actions.medical_prompt_record_review(actor=world.clinician_a, prompt=prompt, note="  ")
    assert "note" in error.value.errors
    with pytest.raises(ActionError) as error:
        actions.medical_prompt_record_naloxone(actor=world.clinician_a, prompt=prompt, outcome="x")
    assert "outcome" in error.value.errors


# --------------------------------------------------------------------------- pages


def _chart(world: World) -> str:
    return f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"


def _prompt_url(world: World, prompt: MedicalRiskPrompt) -> str:
    return f"{_chart(world)}medical-risk/{prompt.external_id}/"


def test_item5_prompt_shows_on_the_chart(world: World, client_for) -> None:
    record(world, world.participant_a, instrument="bam", answers=_answers(17, i5=4))
    page = client_for(world.clinician_a).get(_chart(world))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Withdrawal risk" in body and "BAM item 5" in body and "medical review" in body


def test_item5_chart_panel_hidden_without_assessment_view(world: World, client_for) -> None:
    record(world, world.participant_a, instrument="bam", answers=_answers(17, i5=4))
    body = client_for(world.intake_a).get(_chart(world)).content.decode()
    assert "Withdrawal risk" not in body


def test_item5_recording_view(world: World, client_for) -> None:
    record(world, world.participant_a, instrument="dast10", answers=_answers(10, i9=1))
    prompt = MedicalRiskPrompt.objects.get()
    client = client_for(world.clinician_a)
    assert client.get(_prompt_url(world, prompt)).status_code == 200
    response = client.post(_prompt_url(world, prompt) + "review/", {"note": "MD review today"})
    assert response.status_code == 302
    response = client.post(_prompt_url(world, prompt) + "naloxone/", {"outcome": "offered"})
    assert response.status_code == 302
    prompt.refresh_from_db()
    assert prompt.status == PromptStatus.NALOXONE_OFFERED and prompt.complete
    assert client.post(_prompt_url(world, prompt) + "review/", {"note": ""}).status_code == 422


def test_item5_recording_view_refused_for_others(world: World, client_for) -> None:
    record(world, world.participant_a, instrument="dast10", answers=_answers(10, i9=1))
    prompt = MedicalRiskPrompt.objects.get()
    url = _prompt_url(world, prompt)
    for user, status in ((world.intake_a, 403), (world.billing_a, 403), (world.clinician_b, 404)):
        client = client_for(user)
        assert client.post(url + "review/", {"note": "x review"}).status_code == status
        assert client.post(url + "naloxone/", {"outcome": "offered"}).status_code == status
        assert client.get(url).status_code == status
    # Another program's URL prefix cannot reach program A's prompt.
    other = f"/p/{world.program_b.external_id}/participants/{world.participant_a.external_id}/"
    response = client_for(world.clinician_b).post(
        f"{other}medical-risk/{prompt.external_id}/review/", {"note": "x review"}
    )
    assert response.status_code == 404
    prompt.refresh_from_db()
    assert prompt.status == PromptStatus.OPEN and prompt.reviewed_at is None


# --------------------------------------------------------------------------- rules are data


def test_item5_rules_are_versioned_and_cited() -> None:
    rules = load_rules()
    assert rules.version
    for rule in rules.rules:
        assert rule.citations and all(key in rules.citations for key in rule.citations)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("rules", 0, "when", "item"), "morning_drinks", "rules[0].when.item"),
        (("rules", 0, "when", "value"), 9, "rules[0].when.value"),
        (("rules", 0, "instrument"), "auditx", "rules[0].instrument"),
        (("rules", 1, "actions", 0), "pray", "rules[1].actions[0]"),
        (("rules", 1, "citations", 0), "nowhere", "rules[1].citations[0]"),
        (("rules", 2, "risk"), "mild", "rules[2].risk"),
    ],
)
def test_item5_rules_validated_at_load(tmp_path: Path, path, value, field) -> None:
    data = json.loads(RULES_FILE.read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    bad = tmp_path / "medical_risk_rules.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InstrumentDataError, match=re.escape(f"field '{field}'")):
        load_rules(bad)
