"""The shipped library loads, covers every module and keeps its structural promises."""

from __future__ import annotations

from collections import Counter

import pytest

from openiop.curriculum.library import library
from openiop.curriculum.schema import CANONICAL_HOMEWORK_FIELDS

EXPECTED_MODULES = {
    "psychoeducation",
    "cbt",
    "dbt_mindfulness",
    "dbt_distress_tolerance",
    "dbt_emotion_regulation",
    "dbt_interpersonal_effectiveness",
    "mbrp",
    "relapse_prevention",
    "communication",
    "family_education",
    "early_recovery",
    "social_support",
}

# One distinctive word or phrase per MBRP session title, in the required order.
MBRP_ORDER = [
    "automatic pilot",
    "craving",
    "daily life",
    "high-risk",
    "acceptance",
    "thoughts as thoughts",
    "self-care",
    "social support",
]

STRUCTURE = "relapse_prevention_16_week"


def test_library_loads_at_least_sixty_plans():
    assert len(library().plans) >= 60


def test_every_module_present_with_plans():
    modules = {module.code: module for module in library().modules}
    assert set(modules) == EXPECTED_MODULES
    assert all(module.plans for module in modules.values())


def test_dbt_has_about_twenty_plans_over_four_modules():
    dbt = [p for p in library().plans if p.module.startswith("dbt_")]
    assert len({p.module for p in dbt}) == 4
    assert len(dbt) >= 18


def test_mbrp_is_exactly_eight_sessions_in_order():
    plans = library().plans_for_module("mbrp")
    assert [p.sequence for p in plans] == list(range(1, 9))
    for plan, phrase in zip(plans, MBRP_ORDER, strict=True):
        assert phrase in plan.title.lower(), (plan.code, phrase)
    assert "urge surfing" in plans[1].skills
    assert "SOBER breathing space" in plans[2].skills


def test_every_plan_minutes_sum_to_duration():
    for plan in library().plans:
        assert sum(b.minutes for b in plan.agenda) == plan.duration_minutes, plan.code
        assert plan.agenda[0].kind == "check_in", plan.code
        assert plan.agenda[-1].kind == "check_out", plan.code


def test_homework_fields_match_what_the_portal_stores():
    for plan in library().plans:
        fields = [(f.name, f.type, f.choices) for f in plan.homework.fields]
        assert fields == list(CANONICAL_HOMEWORK_FIELDS[plan.homework.kind]), plan.code


def test_thought_record_has_the_seven_columns():
    names = [name for name, _, _ in CANONICAL_HOMEWORK_FIELDS["thought_record"]]
    for column in (
        "situation",
        "moods",
        "hot_thought",
        "evidence_for",
        "evidence_against",
        "balanced_thought_belief",
        "mood_intensity_rerated",
    ):
        assert column in names


def test_communication_plans_practise_by_role_play_with_peer_feedback():
    for plan in library().plans_for_module("communication"):
        kinds = [block.kind for block in plan.agenda]
        assert "role_play" in kinds and "peer_feedback" in kinds, plan.code
        assert 1 <= len(plan.role_play_scenarios) <= 3, plan.code


def test_every_cbt_distortion_is_taught():
    skills = {s for p in library().plans_for_module("cbt") for s in p.skills}
    for distortion in (
        "all-or-nothing thinking",
        "overgeneralization",
        "mental filter",
        "disqualifying the positive",
        "mind reading",
        "fortune telling",
        "magnification and minimization",
        "emotional reasoning",
        "should statements",
        "labeling",
        "personalization",
    ):
        assert distortion in skills


def test_dbt_skills_are_all_covered():
    skills = {s for p in library().plans if p.module.startswith("dbt_") for s in p.skills}
    for skill in (
        "wise mind",
        "STOP",
        "pros and cons",
        "TIPP",
        "ACCEPTS",
        "self-soothe",
        "IMPROVE",
        "radical acceptance",
        "turning the mind",
        "willingness",
        "check the facts",
        "opposite action",
        "problem solving",
        "ABC PLEASE",
        "DEAR MAN",
        "GIVE",
        "FAST",
    ):
        assert skill in skills


def test_lookup_functions():
    lib = library()
    assert lib.plan("dbt-dt-02").title.startswith("TIPP")
    assert lib.plans_for_module("mbrp")[0].code == "mbrp-01"
    with pytest.raises(KeyError, match="no curriculum plan"):
        lib.plan("nope-01")
    with pytest.raises(KeyError, match="no curriculum module"):
        lib.plans_for_module("nope")
    assert library() is lib  # cached


def _weeks_by_module(week: int) -> Counter[str]:
    lib = library()
    codes = lib.structure(STRUCTURE).plans_in_week(week)
    return Counter(lib.plan(code).module for code in codes)


def test_sixteen_week_structure_shape():
    structure = library().structure(STRUCTURE)
    assert structure.admission == "rolling"
    assert "any week" in structure.note
    assert [w.week for w in structure.weeks] == list(range(1, 17))
    for week in range(1, 17):
        modules = _weeks_by_module(week)
        assert modules["relapse_prevention"] == 2, week  # twice-weekly group
        assert modules["early_recovery"] == (1 if week <= 4 else 0), week
        assert modules["family_education"] == (1 if week <= 12 else 0), week
        assert modules["social_support"] == (1 if week >= 13 else 0), week


def test_rolling_group_covers_every_relapse_topic_in_any_four_weeks():
    # With open admission a participant may start in any week; any four consecutive weeks must
    # therefore include all eight relapse-prevention topics.
    lib = library()
    structure = lib.structure(STRUCTURE)
    all_rp = {p.code for p in lib.plans_for_module("relapse_prevention")}
    for start in range(1, 14):
        seen = {
            code
            for week in range(start, start + 4)
            for code in structure.plans_in_week(week)
            if code in all_rp
        }
        assert seen == all_rp, start
