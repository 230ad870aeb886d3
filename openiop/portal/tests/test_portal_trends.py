"""The portal's questionnaire history (issue 16 item 4): each instrument's scores from the
current episode, dated on the program's calendar, with the trend in plain words; severity
labels only where the program turns them on (docs/measures.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat

from openiop.accounts.models import UserKind
from openiop.core import clock
from openiop.measures.actions import assessment_mark_entered_in_error, assessment_record
from openiop.measures.instruments import get_instrument
from openiop.measures.models import Assessment
from openiop.participants.actions import enrollment_discharge, enrollment_readmit
from openiop.portal.trends import FIRST_SCORE, NO_SCORE_YET, trend_sentence
from openiop.programs.actions import program_portal_settings_update
from openiop.testing import World, make_user, today

PHQ9_BANDS = ("minimal", "mild", "moderate", "severe")  # "moderately severe" contains these
LOWER = "(lower scores mean fewer difficulties on this questionnaire)"
HIGHER = "(higher scores mean you are doing better on this questionnaire)"


# --- the sentence (pure) -----------------------------------------------------------------


def phq9(*scores: int) -> str:
    inst = get_instrument("phq9")
    assert inst.reliable_change is not None and inst.higher_is_better is False
    return trend_sentence(scores, higher_is_better=False, threshold=inst.reliable_change.threshold)


def test_a_drop_of_at_least_the_threshold_is_a_change_for_the_better():
    assert phq9(19, 15, 12) == f"Your score has gone down by 7 points since your first one {LOWER}."


def test_exactly_the_threshold_is_a_change_one_less_is_about_the_same():
    # PHQ-9's published reliable change is 6 points: "at least the threshold" counts.
    assert phq9(16, 10).startswith("Your score has gone down by 6 points")
    assert phq9(16, 11) == f"Your score is about the same as your first one {LOWER}."
    assert phq9(10, 15) == f"Your score is about the same as your first one {LOWER}."


def test_a_rise_for_a_lower_is_better_instrument_is_said_honestly_with_a_next_step():
    assert phq9(8, 9, 16) == (
        f"Your score has gone up by 8 points since your first one {LOWER}, so it may help to "
        "talk this over with your care team."
    )


def test_higher_is_better_instrument_reads_a_rise_as_better_and_a_fall_as_worse():
    who5 = get_instrument("who5")
    assert who5.higher_is_better is True and who5.reliable_change is not None
    threshold = who5.reliable_change.threshold  # 10 on the 0-100 scale
    up = trend_sentence([Decimal(40), Decimal(52)], higher_is_better=True, threshold=threshold)
    assert up == f"Your score has gone up by 12 points since your first one {HIGHER}."
    down = trend_sentence([Decimal(60), Decimal(48)], higher_is_better=True, threshold=threshold)
    assert down.startswith(f"Your score has gone down by 12 points since your first one {HIGHER}")
    assert down.endswith("so it may help to talk this over with your care team.")
    noise = trend_sentence([Decimal(60), Decimal(52)], higher_is_better=True, threshold=threshold)
    assert noise == f"Your score is about the same as your first one {HIGHER}."


def test_a_single_score_is_the_first_and_none_has_nothing_to_compare():
    assert phq9(14) == FIRST_SCORE
    assert phq9() == NO_SCORE_YET


def test_exact_decimal_arithmetic_at_the_boundary():
    # 17.8 - 11.8 is exactly 6 (prorated CORE-10 totals); floats would make it 5.999...
    sentence = trend_sentence(
        [Decimal("17.8"), Decimal("11.8")], higher_is_better=False, threshold=Fraction(6)
    )
    assert sentence.startswith("Your score has gone down by 6 points")
    half = trend_sentence([Decimal("2.5"), Decimal("3")], higher_is_better=True, threshold=None)
    assert half.startswith("Your score has gone up by 0.5 points")


def test_without_a_threshold_the_difference_is_reported_as_it_is():
    one = trend_sentence([5, 4], higher_is_better=False, threshold=None)
    assert one == f"Your score has gone down by 1 point since your first one {LOWER}."
    same = trend_sentence([5, 7, 5], higher_is_better=False, threshold=None)
    assert same == f"Your latest score is the same as your first one {LOWER}."
    no_direction = trend_sentence([5, 9], higher_is_better=None, threshold=None)
    assert no_direction == "Your score has gone up by 4 points since your first one."


# --- the page ----------------------------------------------------------------------------


def _answers(total: int, items: int = 9) -> list[int]:
    """Item codes summing to `total`, item 9 (the PHQ-9's critical item) left at 0."""
    answers = [0] * items
    for i in range(total):
        answers[i % (items - 1)] += 1
    return answers


def _record(world: World, total: int, days_ago: int, instrument: str = "phq9", **kw) -> Assessment:
    program = world.program_a
    when = clock.at_local(today(program) - timedelta(days=days_ago), time(10, 0), program)
    items = 9 if instrument == "phq9" else 7
    return assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument=instrument,
        answers=kw.get("answers") or _answers(total, items),
        administered_at=when,
    )


def _trend_of(body: str, code: str) -> str:
    match = re.search(rf'id="scores-{code}">.*?<p class="trend">(.*?)</p>', body, re.S)
    assert match, f"no trend for {code}"
    return match.group(1)


@pytest.fixture
def history(world: World) -> World:
    world.enrollment_a.admitted_on = today(world.program_a) - timedelta(days=30)
    world.enrollment_a.save(update_fields=["admitted_on"])
    _record(world, 19, days_ago=21)
    _record(world, 15, days_ago=14)
    _record(world, 12, days_ago=7)
    _record(world, 5, days_ago=20, instrument="gad7")
    return world


@pytest.mark.django_db
def test_each_questionnaire_lists_its_scores_with_the_trend_and_no_severity(
    history: World, client_for
):
    body = client_for(history.participant_user).get("/me/measures/").content.decode()
    assert "Your scores" in body
    assert _trend_of(body, "phq9") == (
        "Your score has gone down by 7 points since your first one (lower scores mean fewer "
        "difficulties on this questionnaire)."
    )
    assert _trend_of(body, "gad7") == FIRST_SCORE
    phq9_table = body.split('id="scores-phq9"')[1].split("</table>")[0]
    assert [int(s) for s in re.findall(r"<td>(\d+)</td>", phq9_table)] == [19, 15, 12]
    lowered = body.lower()
    for label in PHQ9_BANDS:
        assert label not in lowered, label


@pytest.mark.django_db
def test_severity_labels_show_once_the_program_turns_them_on(history: World, client_for):
    program_portal_settings_update(
        actor=history.director_a, program=history.program_a, shows_severity=True
    )
    body = client_for(history.participant_user).get("/me/measures/").content.decode()
    assert "<td>19 (moderately severe)</td>" in body
    assert "<td>12 (moderate)</td>" in body
    assert "<td>5 (mild)</td>" in body  # GAD-7 5 is mild
    # The trend sentence is the same either way: it never names a band.
    assert "gone down by 7 points" in body


@pytest.mark.django_db
def test_dates_are_the_programs_not_utc(world: World, client_for):
    # 03:30 UTC is the evening before in New York: the row shows New York's date.
    day = today(world.program_a) - timedelta(days=3)
    moment = datetime(day.year, day.month, day.day, 3, 30, tzinfo=UTC)
    assessment_record(
        actor=world.clinician_a,
        participant=world.participant_a,
        instrument="gad7",
        answers=[1] * 7,
        administered_at=moment,
    )
    body = client_for(world.participant_user).get("/me/measures/").content.decode()
    local = dateformat.format(day - timedelta(days=1), "j M Y")
    utc = dateformat.format(day, "j M Y")
    assert f'<th scope="row">{local}</th>' in body
    assert f'<th scope="row">{utc}</th>' not in body


@pytest.mark.django_db
def test_entered_in_error_is_left_out_and_a_partial_is_listed_but_not_compared(
    history: World, client_for
):
    latest = Assessment.objects.filter(instrument="phq9").order_by("-administered_at").first()
    assert latest is not None
    assessment_mark_entered_in_error(
        actor=history.clinician_a, assessment=latest, reason="Typed into the wrong chart."
    )
    _record(history, 0, days_ago=1, answers=[3, 3, 3, None, 3, 3, 3, 3, 0])
    body = client_for(history.participant_user).get("/me/measures/").content.decode()
    # 19 -> 15: 4 points is under the threshold of 6; the struck 12 and the partial are not used.
    assert _trend_of(body, "phq9").startswith("Your score is about the same as your first one")
    assert "Saved (some questions left blank, so no score)" in body
    assert "<td>12</td>" not in body


@pytest.mark.django_db
def test_only_the_latest_episode_counts(world: World, client_for):
    program = world.program_a
    world.enrollment_a.admitted_on = today(program) - timedelta(days=60)
    world.enrollment_a.save(update_fields=["admitted_on"])
    _record(world, 22, days_ago=55)
    enrollment_discharge(
        actor=world.clinician_a,
        enrollment=world.enrollment_a,
        discharged_on=today(program) - timedelta(days=40),
        reason="completed",
        step_down_destination="outpatient",
    )
    # Discharge ended portal access; readmission and a new invitation restore it.
    world.participant_user.is_active = True
    world.participant_user.save(update_fields=["is_active"])
    enrollment_readmit(
        actor=world.clinician_a,
        participant=world.participant_a,
        track=world.track_a,
        admitted_on=today(program) - timedelta(days=20),
        primary_clinician=world.clinician_a,
    )
    _record(world, 10, days_ago=10)
    _record(world, 12, days_ago=3)
    body = client_for(world.participant_user).get("/me/measures/").content.decode()
    # Against the earlier stay's 22 this would be "down by 10"; this stay began at 10.
    assert _trend_of(body, "phq9").startswith("Your score is about the same as your first one")
    assert "<td>22</td>" not in body
    since = dateformat.format(today(program) - timedelta(days=20), "j F Y")
    assert f"since you started in the program on {since}" in body


@pytest.mark.django_db
def test_another_participants_scores_never_show(world: World, client_for):
    # Participant B (another program) and a second participant in A both have scores.
    other_user = make_user(kind=UserKind.PARTICIPANT, first="Blair")
    world.participant_b.user = other_user
    world.participant_b.save(update_fields=["user"])
    assessment_record(
        actor=world.clinician_b,
        participant=world.participant_b,
        instrument="gad7",
        answers=[3] * 7,
    )
    body = client_for(world.participant_user).get("/me/measures/").content.decode()
    assert "<td>21</td>" not in body
    assert "None yet." in body
    theirs = client_for(other_user).get("/me/measures/").content.decode()
    assert "<td>21</td>" in theirs


@pytest.mark.django_db
def test_staff_cannot_open_the_participant_history(history: World, client_for):
    for user in (history.clinician_a, history.director_a, history.clinician_b):
        assert client_for(user).get("/me/measures/").status_code == 404


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_history(history: World, client_for):
    me = client_for(history.participant_user)
    me.get("/me/measures/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        me.get("/me/measures/")
    for days_ago in (6, 5, 4, 3, 2):
        _record(history, 10, days_ago=days_ago)
        _record(history, 4, days_ago=days_ago, instrument="gad7")
    with CaptureQueriesContext(connection) as many:
        me.get("/me/measures/")
    assert len(many) == len(few)
