"""Synthetic weekly availability: most participants can come to their track's hours on most
weekdays, with an hour either side for an individual or family session; some have a work
shift, class or child-care day that the planner has to work around, and a few can come only
two days a week (the planner then says why they stay under the minimum)."""

from __future__ import annotations

import random
from datetime import time

from django.db import transaction

from openiop.accounts.models import User
from openiop.participants.models import Enrollment
from openiop.programs.models import Program
from openiop.scheduling import actions

TRACK_HOURS = {
    "AM": (time(8, 30), time(13, 30)),
    "PM": (time(16, 30), time(21, 30)),
    "AS": (time(15, 0), time(20, 0)),
}
COMMITMENTS = ["Works a late shift", "Evening class", "School pick-up", "Caring for a parent"]
TWO_DAYS = "Works a rotating shift; free two weekdays"
BUSY_DAY_SHARE = 0.25
TWO_DAY_SHARE = 0.07
FAMILY_SHARE = {"adult": 0.4, "adolescent": 0.6}


def seed_availability(*, program: Program, system: User, rng: random.Random) -> int:
    episodes = (
        Enrollment.objects.filter(program=program, discharged_on__isnull=True)
        .select_related("participant", "track")
        .order_by("pk")
    )
    made = 0
    for episode in episodes:
        start, end = TRACK_HOURS.get(episode.track.code, (time(9, 0), time(17, 0)))
        roll = rng.random()
        days = list(range(5))
        commitment = ""
        if roll < TWO_DAY_SHARE:
            days = sorted(rng.sample(days, 2))
            commitment = TWO_DAYS
        elif roll < TWO_DAY_SHARE + BUSY_DAY_SHARE:
            days.remove(rng.randrange(5))
            commitment = COMMITMENTS[made % len(COMMITMENTS)]
        windows = [(day, start, end, "") for day in days]
        with transaction.atomic():
            actions.profile_set(
                actor=system,
                participant=episode.participant,
                tracks=[episode.track],
                individual_minutes=60,
                family_minutes=60
                if rng.random() < FAMILY_SHARE.get(program.population, 0.4)
                else 0,
                commitments=commitment,
            )
            actions.availability_set(actor=system, participant=episode.participant, windows=windows)
        made += 1
    return made
