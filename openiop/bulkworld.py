"""Many participants at once, for query-count tests and benchmarks (never for real data).

The rows are what `participant_admit` and `assessment_record` make, written with bulk_create
so that thousands cost seconds: no audit events, no safety reactions. Record numbers and
names are synthetic ("Bulk Person00042").
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from openiop.accounts.models import User
from openiop.measures.instruments import get_instrument
from openiop.measures.models import Assessment, AssessmentStatus
from openiop.participants.models import Enrollment, Participant
from openiop.programs.models import Program, Track


def phq9_answers(total: int) -> list[int]:
    """Nine codes (0-3) summing to `total` (0-24: item 9, self-harm, stays 0)."""
    answers = [0] * 9
    remaining = max(0, min(24, total))
    for i in range(8):
        answers[i] = min(3, remaining)
        remaining -= answers[i]
    return answers


def bulk_admit(
    *,
    program: Program,
    track: Track,
    clinician: User,
    count: int,
    start: int = 0,
    admitted_on: date,
    phq9_weekly: int = 0,
    first_at: datetime | None = None,
    entered_by: User | None = None,
    seed: int = 5,
    batch: int = 2000,
) -> list[Participant]:
    """`count` open episodes in `program`, each with `phq9_weekly` weekly PHQ-9 scores from
    `first_at` (intake) on: a mix of responders, slow responders and non-responders."""
    rng = random.Random(seed + start)
    people = Participant.objects.bulk_create(
        (
            Participant(
                program=program,
                record_number=f"BK-{start + i:06d}",
                legal_first_name="Bulk",
                legal_last_name=f"Person{start + i:05d}",
                date_of_birth=date(1990, 1, 1) + timedelta(days=(start + i) % 9000),
            )
            for i in range(count)
        ),
        batch_size=batch,
    )
    episodes = Enrollment.objects.bulk_create(
        (
            Enrollment(
                program=program,
                participant=p,
                track=track,
                admitted_on=admitted_on,
                primary_clinician=clinician,
            )
            for p in people
        ),
        batch_size=batch,
    )
    if phq9_weekly and first_at is not None:
        version = get_instrument("phq9").version
        rows = []
        for person, episode in zip(people, episodes, strict=True):
            intake = rng.randint(10, 24)
            drop = rng.choice([0.5, 0.25, 0.0])  # responder, slow responder, non-responder
            for week in range(phq9_weekly):
                total = round(intake * (1 - drop * min(week, 6) / 6) + rng.gauss(0, 2))
                total = max(0, min(24, total))
                rows.append(
                    Assessment(
                        program=program,
                        participant=person,
                        enrollment=episode,
                        instrument="phq9",
                        instrument_version=version,
                        answers=phq9_answers(total),
                        administered_at=first_at + timedelta(weeks=week),
                        entered_by=entered_by or clinician,
                        status=AssessmentStatus.SCORED,
                        total=Decimal(total),
                    )
                )
        Assessment.objects.bulk_create(rows, batch_size=batch)
    return people
