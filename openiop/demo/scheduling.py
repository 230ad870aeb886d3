"""Synthetic weekly availability: most participants can come to their track's hours; some
have a work shift, class or child-care day that the planner has to work around."""

from __future__ import annotations

import random
from datetime import time

from django.db import transaction

from openiop.accounts.models import User
from openiop.participants.models import Enrollment
from openiop.programs.models import Program
from openiop.scheduling import actions

TRACK_HOURS = {
    "AM": (time(8, 30), time(13, 0)),
    "PM": (time(17, 30), time(21, 30)),
    "AS": (time(15, 0), time(19, 0)),
}
COMMITMENTS = ["Works a late shift", "Evening class", "School pick-up", "Caring for a parent"]


def seed_availability(*, program: Program, system: User, rng: random.Random) -> int:
    episodes = Enrollment.objects.filter(
        program=program, discharged_on__isnull=True
    ).select_related("participant", "track")
    made = 0
    for episode in episodes:
        start, end = TRACK_HOURS.get(episode.track.code, (time(9, 0), time(17, 0)))
        busy_day = rng.randrange(5) if rng.random() < 0.25 else None
        windows = [
            (day, start, end, COMMITMENTS[made % len(COMMITMENTS)] if day == busy_day else "")
            for day in range(5)
            if day != busy_day
        ]
        with transaction.atomic():
            actions.profile_set(
                actor=system,
                participant=episode.participant,
                tracks=[episode.track],
                individual_minutes=rng.choice([0, 60, 60]),
                family_minutes=rng.choice([0, 0, 60]),
                commitments=COMMITMENTS[made % len(COMMITMENTS)] if busy_day is not None else "",
            )
            actions.availability_set(actor=system, participant=episode.participant, windows=windows)
        made += 1
    return made
