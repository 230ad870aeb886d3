"""Tiny builders for tests: real actions underneath, sensible defaults on top (style rule 18)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from openiop.accounts.actions import membership_grant, system_user, user_create
from openiop.accounts.models import User, UserKind
from openiop.accounts.roles import Role
from openiop.core import clock
from openiop.core.clock import program_today
from openiop.participants import actions as participant_actions
from openiop.participants.models import Enrollment, Participant
from openiop.programs.actions import organisation_create, program_create, track_create
from openiop.programs.models import Organisation, Program, Track

TEST_TIME_ZONE = "America/New_York"  # every test program's zone (make_program)


def today(program: Program | None = None) -> date:
    """Today as the test programs see it: their own date, never the server's or UTC's."""
    return program_today(program) if program is not None else clock.today_in(TEST_TIME_ZONE)


PASSWORD = "correct-horse-battery-staple-42"  # noqa: S105 - test-only credential
_counter = itertools.count(1)


def make_user(*, kind: UserKind = UserKind.STAFF, first: str = "Test", last: str = "") -> User:
    n = next(_counter)
    return user_create(
        actor=None,
        username=f"user{n}",
        password=PASSWORD,
        kind=kind,
        first_name=first,
        last_name=last or f"Person{n}",
    )


def make_program(
    *, org: Organisation | None = None, name: str = "", population: str = "adult"
) -> Program:
    system = system_user()
    org = org or organisation_create(actor=system, name=f"Org {next(_counter)}")
    return program_create(
        actor=system,
        organisation=org,
        name=name or f"Program {next(_counter)}",
        level_of_care="asam-2.1",
        population=population,
        time_zone=TEST_TIME_ZONE,
        rule_pack="asam-2.1-us",
    )


def make_track(program: Program, *, code: str = "AM", name: str = "") -> Track:
    return track_create(
        actor=system_user(),
        program=program,
        name=name or f"{code} track",
        code=code,
        focus="mental_health",
    )


def make_staff(program: Program, role: Role, **kwargs: Any) -> User:
    user = make_user(**kwargs)
    membership_grant(actor=system_user(), user=user, program=program, role=role)
    return user


def admit(
    program: Program,
    track: Track,
    clinician: User,
    *,
    first: str = "Alex",
    last: str = "Sample",
    born: date = date(1990, 5, 17),
    admitted_on: date | None = None,
    actor: User | None = None,
    **demo: Any,
) -> tuple[Participant, Enrollment]:
    return participant_actions.participant_admit(
        actor=actor or clinician,
        program=program,
        demographics=participant_actions.Demographics(
            legal_first_name=first, legal_last_name=last, date_of_birth=born, **demo
        ),
        track=track,
        admitted_on=admitted_on or today(program) - timedelta(days=7),
        primary_clinician=clinician,
    )


@dataclass
class World:
    """The house personas: clinician and supervisor in program A, a clinician in program B
    who must see nothing of A, and a participant who sees only themself."""

    program_a: Program
    program_b: Program
    track_a: Track
    track_b: Track
    clinician_a: User
    supervisor_a: User
    intake_a: User
    billing_a: User
    director_a: User
    clinician_b: User
    participant_user: User
    participant_a: Participant
    enrollment_a: Enrollment
    participant_b: Participant
    enrollment_b: Enrollment
    session_a: Any = None
    note_a: Any = None


def seed_reference_data() -> None:
    """Re-seed what migrations seed (the §2.32 notice). A test with `transaction=True` ends by
    flushing every table, seeded rows included, so a later test in the same process would find
    none; which tests come later depends on the order, and with two test processes
    (pytest-xdist) that order changes. Idempotent: the migration's own get_or_create."""
    from importlib import import_module

    from django.apps import apps

    import_module("openiop.consent.migrations.0002_seed_part2_redisclosure_notice").seed(apps, None)


def build_world() -> World:
    seed_reference_data()
    program_a = make_program(name="Program A")
    program_b = make_program(name="Program B")
    track_a = make_track(program_a, code="AM")
    track_b = make_track(program_b, code="PM")
    clinician_a = make_staff(program_a, Role.CLINICIAN, first="Clara")
    clinician_b = make_staff(program_b, Role.CLINICIAN, first="Bruno")
    participant_a, enrollment_a = admit(
        program_a, track_a, clinician_a, first="Avery", last="Quillby"
    )
    participant_b, enrollment_b = admit(
        program_b, track_b, clinician_b, first="Blair", last="Mossfen"
    )
    participant_user = make_user(kind=UserKind.PARTICIPANT, first="Avery")
    participant_a.user = participant_user
    participant_a.save(update_fields=["user"])
    world = World(
        program_a=program_a,
        program_b=program_b,
        track_a=track_a,
        track_b=track_b,
        clinician_a=clinician_a,
        supervisor_a=make_staff(program_a, Role.SUPERVISOR, first="Sunny"),
        intake_a=make_staff(program_a, Role.INTAKE, first="Ines"),
        billing_a=make_staff(program_a, Role.BILLING, first="Bill"),
        director_a=make_staff(program_a, Role.PROGRAM_DIRECTOR, first="Dee"),
        clinician_b=clinician_b,
        participant_user=participant_user,
        participant_a=participant_a,
        enrollment_a=enrollment_a,
        participant_b=participant_b,
        enrollment_b=enrollment_b,
    )
    _add_past_group(world)
    return world


def _add_past_group(world: World) -> None:
    """Yesterday's group with participant A present and a draft note, so every session,
    attendance and note route has a real row to resolve in the route-walking tests."""
    from openiop.groupwork import actions as gw

    # At 10:00 on the program's calendar: "now minus a day" would cross local midnight when
    # the suite runs just after it.
    start = clock.at_local(today(world.program_a) - timedelta(days=1), time(10, 0), world.program_a)
    session, _, rows = make_group_session(world, members=1, starts_at=start)
    gw.attendance_arrive(actor=world.clinician_a, attendance=rows[0], at=start)
    world.session_a = session
    world.note_a = gw.note_draft(actor=world.clinician_a, session=session, attendance=rows[0])


def verified_client(user: User | None, *, stepped_up: bool = False) -> Any:
    """A test client logged in as `user`; staff have a confirmed authenticator and a verified
    session, as after a real log-in. `stepped_up` adds a fresh re-authentication."""
    import time

    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    if user is None:
        return client
    client.force_login(user)
    session = client.session
    if user.kind == UserKind.STAFF:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if stepped_up:
        session["openiop_reauth_at"] = time.time()
    session.save()
    return client


def make_group_session(
    world: World,
    *,
    members: int = 3,
    plan_code: str = "cbt-02",
    starts_at: Any = None,
    minutes: int = 180,
) -> tuple[Any, list[Participant], list[Any]]:
    """A group session in program A with `members` participants on its roster."""
    from datetime import datetime as _dt

    from django.utils import timezone

    from openiop.groupwork import actions as gw

    start = starts_at or timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    assert isinstance(start, _dt)
    session = gw.session_create(
        actor=world.clinician_a,
        program=world.program_a,
        kind="group",
        title="Skills group",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        facilitator=world.clinician_a,
        track=world.track_a,
        plan_code=plan_code,
    )
    people = [world.participant_a]
    surnames = [
        "Brindlecombe",
        "Cinderholt",
        "Dapplemere",
        "Elderwick",
        "Fernshaw",
        "Galeford",
        "Heatherby",
        "Ivoryridge",
        "Junipermere",
        "Kestrelholt",
        "Larkshaw",
        "Mossby",
    ]
    firsts = [
        "Bailey",
        "Corin",
        "Dorian",
        "Emery",
        "Finley",
        "Gale",
        "Harper",
        "Indigo",
        "Jules",
        "Kit",
        "Lane",
        "Marlo",
    ]
    for i in range(members - 1):
        person, _ = admit(
            world.program_a, world.track_a, world.clinician_a, first=firsts[i], last=surnames[i]
        )
        people.append(person)
    rows = [
        gw.attendance_add(actor=world.clinician_a, session=session, participant=p) for p in people
    ]
    return session, people, rows
