"""Deterministic synthetic data for demos, tests and benchmarks.

Everything is created through the real actions, so seeded data obeys the same rules and
leaves the same audit trail as data entered by hand. Names are invented from nature words so
that nobody could mistake a demo record for a real person.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.actions import (
    membership_grant,
    system_user,
    user_create,
    user_set_break_glass,
)
from openiop.accounts.models import Membership, User
from openiop.accounts.roles import Role
from openiop.core import clock
from openiop.demo.constants import DEMO_PARTICIPANT, DEMO_PASSWORD
from openiop.demo.groupwork import ensure_session_today, seed_group_work
from openiop.demo.measures import seed_assessments
from openiop.demo.portal import seed_portal
from openiop.demo.scheduling import seed_availability
from openiop.demo.treatment import seed_treatment_plans
from openiop.demo.week import seed_week
from openiop.participants import actions as participant_actions
from openiop.participants.models import DischargeReason, Participant, Phase, StepDownDestination
from openiop.programs.actions import organisation_create, program_create, track_create
from openiop.programs.models import Program, Track

FIRST_NAMES = [
    "Avery",
    "Blake",
    "Carmen",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Imani",
    "Jonah",
    "Keiko",
    "Luis",
    "Maya",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tess",
    "Uma",
    "Victor",
    "Wren",
    "Xavier",
    "Yara",
    "Zane",
    "Ada",
    "Bea",
    "Cal",
    "Dara",
]
SURNAME_STARTS = [
    "Ash",
    "Bramble",
    "Cinder",
    "Dapple",
    "Elder",
    "Fern",
    "Gale",
    "Heather",
    "Ivory",
    "Juniper",
    "Kestrel",
    "Lark",
    "Moss",
    "Nettle",
    "Pebble",
    "Quill",
    "Rowan",
    "Sorrel",
    "Thistle",
    "Umber",
    "Willow",
    "Yarrow",
]
SURNAME_ENDS = [
    "by",
    "combe",
    "dale",
    "fen",
    "ford",
    "holt",
    "hurst",
    "mere",
    "ridge",
    "shaw",
    "wick",
]
PRONOUNS = ["she/her", "he/him", "they/them", "", "she/they", "he/they"]
# Discharge mix loosely follows published IOP completion rates (roughly half complete).
DISCHARGE_MIX = [
    (DischargeReason.COMPLETED, StepDownDestination.OUTPATIENT, 50),
    (DischargeReason.STEPPED_DOWN, StepDownDestination.OUTPATIENT, 12),
    (DischargeReason.STEPPED_DOWN, StepDownDestination.PEER_SUPPORT, 6),
    (DischargeReason.STEPPED_UP, StepDownDestination.PARTIAL_HOSPITALISATION, 5),
    (DischargeReason.LEFT_AGAINST_ADVICE, StepDownDestination.NONE, 10),
    (DischargeReason.LOST_CONTACT, StepDownDestination.UNKNOWN, 12),
    (DischargeReason.TRANSFERRED, StepDownDestination.OUTPATIENT, 5),
]
# Weeks since admission at which a typical participant moves on (TIP 47 phases).
PHASE_WEEKS = [(2, Phase.EARLY_RECOVERY), (6, Phase.MAINTENANCE), (10, Phase.COMMUNITY_INTEGRATION)]


@dataclass
class DemoLogin:
    username: str
    role: str
    program: str


@dataclass
class SeedResult:
    programs: list[Program] = field(default_factory=list)
    logins: list[DemoLogin] = field(default_factory=list)
    participants: int = 0
    episodes: int = 0
    sessions: int = 0


@dataclass
class _ProgramSpec:
    name: str
    population: str
    time_zone: str
    prefix: str
    tracks: list[tuple[str, str, str]]
    staff: list[tuple[str, str, str, Role]]
    share: float


PROGRAM_SPECS = [
    _ProgramSpec(
        name="Riverside Adult IOP",
        population="adult",
        time_zone="America/New_York",
        prefix="RA",
        tracks=[
            ("Morning mental-health track", "AM", "mental_health"),
            ("Evening substance-use track", "PM", "substance_use"),
        ],
        staff=[
            ("dana.director", "Dana", "Oakhollow", Role.PROGRAM_DIRECTOR),
            ("casey.clinician", "Casey", "Brookmere", Role.CLINICIAN),
            ("morgan.clinician", "Morgan", "Fernleigh", Role.CLINICIAN),
            ("riley.clinician", "Riley", "Stonebeck", Role.CLINICIAN),
            ("sam.supervisor", "Sam", "Heathcote", Role.SUPERVISOR),
            ("ivy.intake", "Ivy", "Larkspur", Role.INTAKE),
            ("ben.billing", "Ben", "Mossgrove", Role.BILLING),
        ],
        share=0.8,
    ),
    _ProgramSpec(
        name="Northside Adolescent IOP",
        population="adolescent",
        time_zone="America/Chicago",
        prefix="NA",
        tracks=[("After-school co-occurring track", "AS", "co_occurring")],
        staff=[
            ("noor.director", "Noor", "Willowby", Role.PROGRAM_DIRECTOR),
            ("bo.clinician", "Bo", "Cindergate", Role.CLINICIAN),
        ],
        share=0.2,
    ),
]


def _surname(rng: random.Random) -> str:
    return rng.choice(SURNAME_STARTS) + rng.choice(SURNAME_ENDS)


def _birth_date(rng: random.Random, population: str, on: date) -> date:
    low, high = (19, 64) if population == "adult" else (13, 17)
    return on - timedelta(days=rng.randint(low * 365 + 5, high * 365 + 300))


def _phase_on(weeks_in: int) -> list[tuple[int, Phase]]:
    return [(week, phase) for week, phase in PHASE_WEEKS if weeks_in >= week]


def _weighted_discharge(rng: random.Random) -> tuple[str, str]:
    total = sum(weight for _, _, weight in DISCHARGE_MIX)
    pick = rng.uniform(0, total)
    for reason, destination, weight in DISCHARGE_MIX:
        pick -= weight
        if pick <= 0:
            return reason, destination
    return DISCHARGE_MIX[0][0], DISCHARGE_MIX[0][1]


def demo_authenticator(user: User, seed_value: int) -> TOTPDevice:
    """A confirmed TOTP device with a key derived from the seed, so demo logins are stable and
    `openiop demo` can print each secret (demo data only; real staff enrol their own)."""
    existing = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if existing is not None:
        return existing
    key = random.Random(f"totp-{seed_value}-{user.username}").randbytes(20).hex()
    return TOTPDevice.objects.create(user=user, name="demo authenticator", key=key, confirmed=True)


def _create_staff(
    spec: _ProgramSpec, program: Program, system: User, result: SeedResult, seed_value: int
) -> list[User]:
    clinicians: list[User] = []
    for username, first, last, role in spec.staff:
        user = User.objects.filter(username=username).first() or user_create(
            actor=system,
            username=username,
            password=DEMO_PASSWORD,
            first_name=first,
            last_name=last,
        )
        demo_authenticator(user, seed_value)
        membership_grant(actor=system, user=user, program=program, role=role)
        result.logins.append(DemoLogin(username, role.value, program.name))
        if role in (Role.CLINICIAN, Role.SUPERVISOR):
            clinicians.append(user)
    return clinicians


def _seed_episode_history(
    *,
    rng: random.Random,
    system: User,
    participant_id: int,
    enrollment_id: int,
    admitted_on: date,
    today: date,
    stay_weeks: int,
) -> date | None:
    """Walk one episode forward through phases and, if it has ended, discharge it."""
    from openiop.participants.models import Enrollment

    enrollment = Enrollment.objects.select_related("program", "participant").get(pk=enrollment_id)
    end = admitted_on + timedelta(weeks=stay_weeks)
    last_day = min(end, today)
    weeks_in = (last_day - admitted_on).days // 7
    for week, phase in _phase_on(weeks_in):
        participant_actions.enrollment_change_phase(
            actor=system,
            enrollment=enrollment,
            to_phase=phase,
            effective_on=admitted_on + timedelta(weeks=week),
            reason="Met the treatment-plan milestones for this phase (synthetic record).",
        )
    if end >= today:
        return None
    reason, destination = _weighted_discharge(rng)
    participant_actions.enrollment_discharge(
        actor=system,
        enrollment=enrollment,
        discharged_on=end,
        reason=reason,
        step_down_destination=destination,
        note="Synthetic discharge summary.",
    )
    return end


def _seed_participant(
    *,
    rng: random.Random,
    system: User,
    program: Program,
    tracks: list[Track],
    clinicians: list[User],
    today: date,
    weeks: int,
    result: SeedResult,
) -> None:
    admitted_on = today - timedelta(days=rng.randint(0, max(weeks * 7 - 1, 0)))
    first = rng.choice(FIRST_NAMES)
    demographics = participant_actions.Demographics(
        legal_first_name=first,
        legal_last_name=_surname(rng),
        preferred_name=rng.choice(["", "", "", first[:3]]),
        pronouns=rng.choice(PRONOUNS),
        date_of_birth=_birth_date(rng, program.population, admitted_on),
        sex_for_scoring=rng.choice(["female", "male"]),
        phone=f"555-01{rng.randint(0, 99):02d}",
        emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {_surname(rng)}",
        emergency_contact_relationship=rng.choice(["partner", "parent", "sibling", "friend"]),
        emergency_contact_phone=f"555-01{rng.randint(0, 99):02d}",
    )
    participant, enrollment = participant_actions.participant_admit(
        actor=system,
        program=program,
        demographics=demographics,
        track=rng.choice(tracks),
        admitted_on=admitted_on,
        primary_clinician=rng.choice(clinicians),
    )
    result.participants += 1
    result.episodes += 1
    discharged = _seed_episode_history(
        rng=rng,
        system=system,
        participant_id=participant.pk,
        enrollment_id=enrollment.pk,
        admitted_on=admitted_on,
        today=today,
        stay_weeks=rng.randint(6, 14),
    )
    # About one in ten who leave come back for a second episode (rolling readmission).
    if discharged is not None and rng.random() < 0.1 and (today - discharged).days > 14:
        participant_actions.enrollment_readmit(
            actor=system,
            participant=participant,
            track=rng.choice(tracks),
            admitted_on=discharged + timedelta(days=rng.randint(7, (today - discharged).days)),
            primary_clinician=rng.choice(clinicians),
        )
        result.episodes += 1


def _director(program: Program, system: User) -> User:
    """Who plans the week: the program's director (the system account if there is none)."""
    membership = (
        Membership.objects.filter(program=program, role=Role.PROGRAM_DIRECTOR, is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else system


def _designate_break_glass(system: User) -> None:
    # The Riverside supervisor covers nights for the whole organisation: in an emergency they
    # may open time-boxed read access to the adolescent program (AC-04 demo).
    supervisor = User.objects.filter(
        username="sam.supervisor", break_glass_designated=False
    ).first()
    if supervisor is not None:
        user_set_break_glass(actor=system, user=supervisor, designated=True)


def seed(
    *,
    participants: int,
    weeks: int,
    seed_value: int,
    today: date | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
    history_weeks: int = 2,
) -> SeedResult:
    """Seed every demo program around its own "today": by default the date in that program's
    time zone (run at 02:00 UTC, New York's demo is still on the previous day, and its group,
    bookings and portal login are built for that day). `today` pins one date for all programs,
    for reproducible tests and benchmarks."""
    rng = random.Random(seed_value)
    result = SeedResult()
    with transaction.atomic():
        system = system_user()
        org = organisation_create(actor=system, name="Harbourview Behavioral Health (demo)")
    for spec in PROGRAM_SPECS:
        with transaction.atomic():
            program = program_create(
                actor=system,
                organisation=org,
                name=spec.name,
                level_of_care="asam-2.1",
                population=spec.population,
                time_zone=spec.time_zone,
                rule_pack="asam-2.1-us",
                record_prefix=spec.prefix,
            )
            tracks = [
                track_create(actor=system, program=program, name=n, code=c, focus=f)
                for n, c, f in spec.tracks
            ]
            clinicians = _create_staff(spec, program, system, result, seed_value)
        result.programs.append(program)
        program_day = today or clock.program_today(program)
        _designate_break_glass(system)
        count = max(1, round(participants * spec.share))
        for index in range(count):
            with transaction.atomic():
                _seed_participant(
                    rng=rng,
                    system=system,
                    program=program,
                    tracks=tracks,
                    clinicians=clinicians,
                    today=program_day,
                    weeks=weeks,
                    result=result,
                )
            if (index + 1) % 25 == 0 or index + 1 == count:
                progress(f"{program.name}: {index + 1}/{count} participants")
        seed_treatment_plans(rng=rng, system=system, today=program_day)
        seed_availability(program=program, system=system, rng=rng)
        seed_assessments(program=program, system=system, rng=rng, today=program_day)
        result.sessions += seed_group_work(
            program=program,
            system=system,
            facilitators=clinicians,
            today=program_day,
            rng=rng,
            history_weeks=history_weeks,
            progress=progress,
        )
        week = seed_week(
            program=program,
            director=_director(program, system),
            system=system,
            today=program_day,
            rng=rng,
        )
        result.sessions += week.sessions_booked
        progress(
            f"{program.name}: this week planned ({week.group_places} group places, "
            f"{week.sessions_booked} individual and family sessions), {week.held} sessions held"
        )
        result.sessions += ensure_session_today(program=program, system=system, today=program_day)
        with transaction.atomic():
            seed_portal(program=program, rng=rng, today=program_day)
    return result


def print_demo_logins(write: Callable[[str], None]) -> None:
    """Demo accounts with their authenticator keys, so a new user can log in at once."""
    from openiop.accounts.mfa import confirmed_device, secret_base32
    from openiop.accounts.models import Membership

    write(f"Demo logins (password for all: {DEMO_PASSWORD}).")
    write("Staff also enter a 6-digit code: add the key to an authenticator app, or run")
    write("  .venv/bin/openiop totp USERNAME   to print the current code.")
    memberships = Membership.objects.filter(is_active=True).select_related("user", "program")
    for m in memberships.order_by("program__name", "role", "user__username"):
        device = confirmed_device(m.user)
        key = secret_base32(device) if device else "(set up at first log-in)"
        write(f"  {m.user.username:<18} {m.role:<17} {m.program.name:<26} key {key}")
    demo = Participant.objects.filter(user__username=DEMO_PARTICIPANT).select_related("program")
    for participant in demo:
        write(
            f"  {DEMO_PARTICIPANT:<18} {'participant':<17} {participant.program.name:<26} "
            "portal at /me/ (phone-sized; second factor offered, not required)"
        )
