"""Vocabulary and typed records for curriculum session plans.

The enums and canonical homework fields live here, apart from the loader, because the portal and a
later Django app will import them without wanting to trigger a load of the whole library.
"""

from __future__ import annotations

from dataclasses import dataclass

MODULE_SCHEMA = "openiop.curriculum/1"
STRUCTURE_SCHEMA = "openiop.curriculum.structure/1"
LICENCE_MARKER = "CC BY 4.0"

# SAMHSA TIP 41 group types, plus the two specialised groups an IOP schedules on their own.
GROUP_MODELS = frozenset(
    {
        "psychoeducational",
        "skills_development",
        "cognitive_behavioral",
        "support",
        "interpersonal_process",
        "relapse_prevention",
        "family_education",
    }
)

BLOCK_KINDS = frozenset(
    {
        "check_in",
        "teaching",
        "practice",
        "role_play",
        "peer_feedback",
        "check_out",
        "break",
        "mindfulness",
    }
)

FIELD_TYPES = frozenset({"text", "number_0_10", "number_0_100", "datetime", "choice"})

MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 4
MIN_NOTE_SENTENCES, MAX_NOTE_SENTENCES = 2, 4
MIN_SCENARIOS, MAX_SCENARIOS = 1, 3
MIN_DURATION, MAX_DURATION = 15, 180
OBJECTIVE_PREFIX = "Participants will be able to "

# (name, type, choices). The participant portal renders and stores homework by these names, so a
# plan may reword titles, labels and instructions but never rename, retype or drop a field.
CanonicalField = tuple[str, str, tuple[str, ...]]

THOUGHT_RECORD_FIELDS: tuple[CanonicalField, ...] = (
    ("situation", "text", ()),  # column 1
    ("moods", "text", ()),  # column 2: each mood named...
    ("mood_intensity", "number_0_100", ()),  # ...and rated 0-100
    ("automatic_thoughts", "text", ()),  # column 3
    ("hot_thought", "text", ()),  # column 3: the thought marked as "hot"
    ("evidence_for", "text", ()),  # column 4
    ("evidence_against", "text", ()),  # column 5
    ("balanced_thought", "text", ()),  # column 6
    ("balanced_thought_belief", "number_0_100", ()),  # column 6: belief 0-100
    ("moods_rerated", "text", ()),  # column 7: moods re-rated...
    ("mood_intensity_rerated", "number_0_100", ()),  # ...0-100
)

BEHAVIOURAL_ACTIVATION_FIELDS: tuple[CanonicalField, ...] = (
    ("when", "datetime", ()),
    ("activity", "text", ()),
    ("mood", "number_0_10", ()),
    ("mastery", "number_0_10", ()),
    ("pleasure", "number_0_10", ()),
)

SKILL_PRACTICE_LOG_FIELDS: tuple[CanonicalField, ...] = (
    ("when", "datetime", ()),
    ("situation", "text", ()),
    ("skill_used", "text", ()),
    ("distress_before", "number_0_10", ()),
    ("distress_after", "number_0_10", ()),
    ("what_happened", "text", ()),
    ("use_again", "choice", ("yes", "maybe", "no")),
)

ROLE_PLAY_REFLECTION_FIELDS: tuple[CanonicalField, ...] = (
    ("when", "datetime", ()),
    ("scenario", "text", ()),
    ("skill", "text", ()),
    ("what_went_well", "text", ()),
    ("what_to_change", "text", ()),
    ("confidence", "number_0_10", ()),
    ("real_life_plan", "text", ()),
)

CANONICAL_HOMEWORK_FIELDS: dict[str, tuple[CanonicalField, ...]] = {
    "thought_record": THOUGHT_RECORD_FIELDS,
    "behavioural_activation": BEHAVIOURAL_ACTIVATION_FIELDS,
    "skill_practice_log": SKILL_PRACTICE_LOG_FIELDS,
    "role_play_reflection": ROLE_PLAY_REFLECTION_FIELDS,
    "none": (),
}
HOMEWORK_KINDS = frozenset(CANONICAL_HOMEWORK_FIELDS)


@dataclass(frozen=True)
class HomeworkField:
    name: str
    label: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class HomeworkTemplate:
    kind: str
    title: str
    instructions: str
    fields: tuple[HomeworkField, ...]


@dataclass(frozen=True)
class AgendaBlock:
    kind: str
    title: str
    minutes: int
    facilitator_notes: str


@dataclass(frozen=True)
class RolePlayScenario:
    title: str
    setup: str
    roles: tuple[str, ...]
    skill: str
    debrief_questions: tuple[str, ...]


@dataclass(frozen=True)
class SessionPlan:
    code: str
    title: str
    module: str
    sequence: int
    group_model: str
    duration_minutes: int
    skills: tuple[str, ...]
    objectives: tuple[str, ...]
    agenda: tuple[AgendaBlock, ...]
    role_play_scenarios: tuple[RolePlayScenario, ...]
    homework: HomeworkTemplate


@dataclass(frozen=True)
class Module:
    code: str
    title: str
    version: str
    description: str
    plan_prefix: str
    sources: tuple[str, ...]
    licence: str
    plans: tuple[SessionPlan, ...]


@dataclass(frozen=True)
class StructureWeek:
    week: int
    plans: tuple[str, ...]


@dataclass(frozen=True)
class Structure:
    code: str
    title: str
    version: str
    description: str
    admission: str
    note: str
    sources: tuple[str, ...]
    licence: str
    weeks: tuple[StructureWeek, ...]

    def plans_in_week(self, week: int) -> tuple[str, ...]:
        for entry in self.weeks:
            if entry.week == week:
                return entry.plans
        raise KeyError(f"{self.code} has no week {week}")
