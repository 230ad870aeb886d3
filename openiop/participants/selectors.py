"""Reads scoped to what the acting user may see. Every list goes through here."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from openiop.participants.models import Enrollment, Participant, Phase, PhaseChange
from openiop.programs.models import Program, Track


class Status:
    ACTIVE = "active"
    DISCHARGED = "discharged"
    ALL = "all"
    CHOICES = [(ACTIVE, "Active"), (DISCHARGED, "Discharged"), (ALL, "All")]


@dataclass(frozen=True)
class ParticipantFilters:
    q: str = ""
    track: UUID | None = None
    phase: str = ""
    clinician: UUID | None = None
    status: str = Status.ACTIVE


# An episode's track, clinician and alumni account (shown on the chart's episode list).
EPISODE_RELATED = ("track", "primary_clinician", "alumni_membership")


def _episodes_prefetch() -> Prefetch[str, QuerySet[Enrollment], str]:
    return Prefetch(
        "enrollments",
        queryset=Enrollment.objects.select_related(
            "track", "primary_clinician", "alumni_membership"
        ).order_by("-admitted_on", "-id"),
        to_attr="episodes",
    )


def participant_list(*, program: Program, filters: ParticipantFilters) -> QuerySet[Participant]:
    """Participants of one program matching the filters; a constant number of queries."""
    qs = Participant.objects.filter(program=program)
    open_episode = Q(enrollments__discharged_on__isnull=True)
    if filters.status == Status.ACTIVE:
        qs = qs.filter(open_episode)
    elif filters.status == Status.DISCHARGED:
        qs = qs.exclude(
            id__in=Enrollment.objects.filter(program=program, discharged_on__isnull=True).values(
                "participant_id"
            )
        )
    episode_filter = Q()
    if filters.track:
        episode_filter &= Q(enrollments__track__external_id=filters.track)
    if filters.phase:
        episode_filter &= Q(enrollments__phase=filters.phase)
    if filters.clinician:
        episode_filter &= Q(enrollments__primary_clinician__external_id=filters.clinician)
    if episode_filter:
        # Track, phase and clinician describe the current (open) episode.
        qs = qs.filter(episode_filter & open_episode)
    if filters.q.strip():
        qs = qs.filter(_search(filters.q.strip()))
    return (
        qs.distinct()
        .order_by("legal_last_name", "legal_first_name", "id")
        .prefetch_related(_episodes_prefetch())
    )


def participant_search(term: str) -> Q:
    """Name or record-number words, all of which must match."""
    return _search(term)


def _search(term: str) -> Q:
    query = Q()
    for word in term.split()[:4]:
        query &= (
            Q(legal_first_name__icontains=word)
            | Q(legal_last_name__icontains=word)
            | Q(preferred_name__icontains=word)
            | Q(record_number__icontains=word)
        )
    return query


def participant_get(*, program: Program, participant_id: UUID | str) -> Participant:
    """One participant of this program, or 404: never fetch a PHI row by id alone."""
    try:
        return (
            Participant.objects.select_related("program")
            .prefetch_related(_episodes_prefetch())
            .get(program=program, external_id=participant_id)
        )
    except (Participant.DoesNotExist, ValueError):
        raise Http404("participant not found") from None


def enrollment_get(
    *, program: Program, participant: Participant, enrollment_id: UUID | str
) -> Enrollment:
    try:
        return Enrollment.objects.select_related(
            "track", "primary_clinician", "participant", "program"
        ).get(program=program, participant=participant, external_id=enrollment_id)
    except (Enrollment.DoesNotExist, ValueError):
        raise Http404("episode not found") from None


def current_episode(participant: Participant) -> Enrollment | None:
    episodes = episodes_of(participant)
    open_episodes = [e for e in episodes if e.is_open]
    return open_episodes[0] if open_episodes else None


def latest_episode(participant: Participant) -> Enrollment | None:
    episodes = episodes_of(participant)
    return episodes[0] if episodes else None


def episodes_of(participant: Participant) -> list[Enrollment]:
    if hasattr(participant, "episodes"):  # prefetched by the selectors above
        return list(participant.episodes)
    return list(
        participant.enrollments.select_related(
            "track", "primary_clinician", "alumni_membership"
        ).order_by("-admitted_on", "-id")
    )


def phase_history(*, participant: Participant) -> QuerySet[PhaseChange]:
    return PhaseChange.objects.filter(
        program=participant.program, enrollment__participant=participant
    ).select_related("enrollment", "created_by")


def tracks_for_program(*, program: Program) -> QuerySet[Track]:
    return Track.objects.filter(program=program, is_active=True).order_by("name")


@dataclass(frozen=True)
class CensusRow:
    track: str
    counts: dict[str, int]
    total: int

    @property
    def cells(self) -> list[int]:
        """Counts in phase order, zero where nobody is in that phase."""
        return [self.counts.get(phase.value, 0) for phase in Phase]


def program_census(*, program: Program) -> list[CensusRow]:
    """Active participants by track and phase, in one grouped query."""
    rows = (
        Enrollment.objects.filter(program=program, discharged_on__isnull=True)
        .values("track__name", "phase")
        .annotate(n=Count("id"))
    )
    by_track: dict[str, dict[str, int]] = {}
    for row in rows:
        by_track.setdefault(row["track__name"], {})[row["phase"]] = row["n"]
    return [
        CensusRow(track=name, counts=counts, total=sum(counts.values()))
        for name, counts in sorted(by_track.items())
    ]


PHASES = list(Phase)


def census_chart(census: list[CensusRow]) -> dict[str, object]:
    """The census as a stacked bar chart spec for charts.js (same numbers as the table)."""
    return {
        "type": "bar",
        "stacked": True,
        "labels": [row.track for row in census],
        "yTitle": "Participants",
        "datasets": [
            {"label": phase.label, "data": [row.counts.get(phase.value, 0) for row in census]}
            for phase in PHASES
        ],
    }
