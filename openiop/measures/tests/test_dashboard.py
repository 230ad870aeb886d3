"""The program outcome dashboard: metrics, intervals, clustering, small-n rule, queries, access."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEvent
from openiop.core.clock import program_today
from openiop.groupwork import actions as gw
from openiop.measures import dashboard
from openiop.measures.change import instrument_change
from openiop.measures.dashboard import Cell, Episode, Rate
from openiop.measures.instruments import get_instrument
from openiop.measures.tests.helpers import phq9, record
from openiop.participants import actions as participants
from openiop.testing import World, admit

ADMITTED = date(2025, 1, 6)


def episode(
    i: int, pre: float, post: float | None, reason: str = "completed", track: str = "AM"
) -> Episode:
    """A discharged episode (reason given) or, with reason "", an active one."""
    ep = Episode(
        enrollment_id=i,
        participant_id=i,
        track=track,
        admitted_on=ADMITTED,
        discharge_reason=reason,
        pre=pre,
        discharged_on=ADMITTED + timedelta(weeks=6) if reason else None,
    )
    if post is not None:
        ep.post, ep.post_on = post, ADMITTED + timedelta(weeks=6)
        ep.category = instrument_change("phq9", pre, post).category
    return ep


# --------------------------------------------------------------------------- pure statistics


def test_wilson_interval_matches_published_values():
    low, high = dashboard.wilson(7, 10)
    assert (round(low, 6), round(high, 6)) == (0.396778, 0.892209)
    low, high = dashboard.wilson(0, 5)
    assert (low, round(high, 6)) == (0.0, 0.434482)
    low, high = dashboard.wilson(5, 5)
    assert (round(low, 6), high) == (0.565518, 1.0)


def test_program_rates_on_constructed_episodes():
    # PHQ-9: threshold 6, cutoff 10.
    episodes = [
        episode(1, 20, 4),  # response, remission, recovered
        episode(2, 20, 9),  # response, recovered
        episode(3, 16, 12),  # unchanged
        episode(4, 12, 20),  # deteriorated
        episode(5, 8, 1),  # improved; below caseness: no response or remission pool
        episode(6, 0, 0),  # below caseness
        episode(7, 14, None, reason="lost_contact"),  # intake only: retention pool only
        episode(8, 18, 10, reason="left_against_advice"),  # improved, not recovered
    ]
    rates = {r.key: r for r in dashboard.program_rates(get_instrument("phq9"), episodes, 5)}
    assert (rates["response"].x, rates["response"].n) == (2, 5)
    assert (rates["remission"].x, rates["remission"].n) == (1, 5)
    assert (rates["improvement"].x, rates["improvement"].n) == (4, 7)
    assert (rates["recovery"].x, rates["recovery"].n) == (2, 5)
    assert (rates["deterioration"].x, rates["deterioration"].n) == (1, 7)
    assert (rates["retention"].x, rates["retention"].n) == (6, 8)
    low, high = rates["retention"].interval
    assert (round(low, 4), round(high, 4)) == (0.4093, 0.9285)
    assert rates["retention"].percent == 75.0


def test_response_and_remission_count_only_intakes_at_caseness():
    # PHQ-9 caseness (positive screen) is >= 10. Intakes of 4 to 9 that end at 0 to 3 would
    # "remit" and "respond" without ever having been cases; they are not in the pool.
    below = [episode(i, 4 + i, i % 4) for i in range(6)]
    cases = [episode(10 + i, 10 + i, 12) for i in range(6)]  # no response, no remission
    rates = {r.key: r for r in dashboard.program_rates(get_instrument("phq9"), below + cases, 5)}
    assert (rates["response"].x, rates["response"].n) == (0, 6)
    assert (rates["remission"].x, rates["remission"].n) == (0, 6)
    assert "intake >= 10 (caseness)" in rates["remission"].denominator
    # GAD-7's caseness is its positive screen (>= 10), not its recovery cutoff (8).
    gad = [episode(i, 8 + (i % 2), 2) for i in range(6)]
    rates = {r.key: r for r in dashboard.program_rates(get_instrument("gad7"), gad, 5)}
    assert rates["remission"].n == 0 and rates["recovery"].n == 6


def test_retention_counts_discharged_episodes_only():
    active = [episode(i, 15, None, reason="") for i in range(10)]  # still in treatment
    completed = [episode(10 + i, 15, 8) for i in range(6)]
    lost = [episode(20 + i, 15, None, reason="lost_contact") for i in range(6)]
    rates = {
        r.key: r
        for r in dashboard.program_rates(get_instrument("phq9"), active + completed + lost, 5)
    }
    assert (rates["retention"].x, rates["retention"].n) == (6, 12)
    assert "active episodes are not counted" in rates["retention"].denominator


def test_small_numerators_are_suppressed_too():
    assert not Rate("x", "x", "x", 2, 40).shown  # two people: identifiable
    assert not Rate("x", "x", "x", 38, 40).shown  # two left out: identifiable the same way
    assert not Rate("x", "x", "x", 0, 40).shown
    assert Rate("x", "x", "x", 5, 40).shown and Rate("x", "x", "x", 35, 40).shown


def test_comparisons_are_adjusted_for_intake_severity():
    # Both tracks follow the same course (change = -0.5 x intake); the morning track simply
    # admits more severe participants. Unadjusted, AM looks about 5 points better.
    rng = np.random.default_rng(17)
    episodes = []
    for i in range(24):
        track, pre = ("AM", 20 + i % 6) if i < 12 else ("PM", 10 + i % 6)
        post = pre - 0.5 * pre + float(rng.normal(0, 0.5))
        episodes.append(episode(i, pre, post, track=track))
    cells = {c.label: c for c in dashboard.mean_change_by(episodes, lambda e: e.track, str)}
    raw = {t: np.mean([e.change for e in episodes if e.track == t]) for t in ("AM", "PM")}
    assert raw["AM"] - raw["PM"] < -4
    am, pm = cells["AM"].estimate, cells["PM"].estimate
    assert am is not None and pm is not None
    assert abs(am - pm) < 1
    mean_intake = np.mean([e.pre for e in episodes])
    assert am == pytest.approx(-0.5 * mean_intake, abs=0.5)
    assert cells["AM"].n == 12 and cells["AM"].clusters == 12 and cells["AM"].has_interval


def test_small_n_cells_are_hidden():
    assert not Rate("x", "x", "x", 1, 4).shown
    assert Rate("x", "x", "x", 5, 10).shown
    assert not Cell("few", dashboard.clustered_mean([1, 2, 3, 4], [1, 2, 3, 4])).shown
    assert not Cell("none", None).shown
    spec = dashboard.Dashboard.charts  # the chart leaves hidden cells out too
    assert spec is not None
    chart = dashboard._change_chart(
        [Cell("few", dashboard.clustered_mean([1, 2], [1, 2])), Cell("none", None)], "y"
    )
    assert chart["datasets"][0]["data"] == [None, None]


def test_clustering_gives_wider_intervals_than_naive_ols():
    rng = np.random.default_rng(20250106)
    clusters = np.repeat(np.arange(12), 8)
    group_effect = rng.normal(0, 4, 12)[clusters]
    y = -5 + group_effect + rng.normal(0, 1, clusters.size)
    robust = dashboard.clustered_mean(y.tolist(), clusters.tolist())
    naive = dashboard.naive_mean(y.tolist())
    assert robust.estimate == pytest.approx(naive.estimate)
    assert robust.clusters == 12
    assert robust.low is not None and naive.low is not None
    assert robust.high is not None and naive.high is not None
    assert robust.high - robust.low > 2 * (naive.high - naive.low)
    # Dose-response slope: the clustered interval is wider as well.
    x = rng.uniform(3, 15, 12)[clusters] + rng.normal(0, 0.5, clusters.size)
    slope = dashboard.clustered_slope(x.tolist(), (y - 0.3 * x).tolist(), clusters.tolist())
    naive_slope = dashboard.clustered_slope(
        x.tolist(), (y - 0.3 * x).tolist(), list(range(clusters.size))
    )
    assert slope.low is not None and naive_slope.low is not None
    assert slope.high is not None and naive_slope.high is not None
    assert slope.high - slope.low > naive_slope.high - naive_slope.low


def test_one_cluster_gives_no_interval():
    fit = dashboard.clustered_mean([1.0, 2.0, 3.0, 4.0, 5.0], ["g"] * 5)
    assert fit.estimate == pytest.approx(3.0)
    assert (fit.low, fit.high) == (None, None)


# --------------------------------------------------------------------------- the page


def _url(world: World, **query: str) -> str:
    url = reverse("measures:outcomes", kwargs={"program_id": world.program_a.external_id})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _discharge(world: World, person, on: date, reason: str = "completed") -> None:
    participants.enrollment_discharge(
        actor=world.clinician_a,
        enrollment=person.enrollments.get(),
        discharged_on=on,
        reason=reason,
        step_down_destination="outpatient",
    )


def _add_people(world: World, count: int, start: int) -> None:
    """`count` participants admitted three weeks ago, each with an intake and an end-of-episode
    PHQ-9 yesterday, present (for varying minutes) at one of yesterday's groups of up to ten,
    and discharged today."""
    today = program_today(world.program_a)
    admitted = today - timedelta(weeks=3)
    starts_at = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1, hours=4)
    session = None
    for i in range(start, start + count):
        if session is None or i % 10 == 0:
            session = gw.session_create(
                actor=world.clinician_a,
                program=world.program_a,
                kind="group",
                title=f"Dashboard group {i}",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=180),
                facilitator=world.clinician_a if i % 20 < 10 else world.supervisor_a,
                track=world.track_a,
                plan_code="cbt-02",
            )
        person, _ = admit(
            world.program_a, world.track_a, world.clinician_a, last=f"Dash{i}", admitted_on=admitted
        )
        record(world, person, answers=phq9(10 + i % 10), day=admitted)
        record(world, person, answers=phq9(i % 12), day=today - timedelta(days=1))
        row = gw.attendance_add(actor=world.clinician_a, session=session, participant=person)
        row = gw.attendance_arrive(actor=world.clinician_a, attendance=row, at=starts_at)
        gw.attendance_depart(
            actor=world.clinician_a, attendance=row, at=starts_at + timedelta(minutes=60 + i * 3)
        )
        _discharge(world, person, today)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_shows_metrics_and_query_count_does_not_grow(world: World, client_for):
    client = client_for(world.clinician_a)
    _add_people(world, 10, 0)
    small = _queries(client, _url(world))
    _add_people(world, 30, 10)
    large = _queries(client, _url(world))
    assert small == large
    response = client.get(_url(world))
    body = response.content.decode()
    assert response.context["d"].paired == 40
    rates = {r.key: r for r in response.context["d"].rates}
    assert rates["remission"].n == 40
    assert "intervals on this page account for that clustering" in body
    assert "overstate certainty" in body
    assert 'id="dose-data"' in body and 'id="rates-data"' in body


def test_outcomes_use_the_end_of_episode_score_of_discharged_episodes(world: World):
    today = program_today(world.program_a)

    def person(last: str, weeks: int, totals: list[tuple[int, int]]):
        admitted = today - timedelta(weeks=weeks)
        who, _ = admit(
            world.program_a, world.track_a, world.clinician_a, last=last, admitted_on=admitted
        )
        for day, total in totals:
            record(world, who, answers=phq9(total), day=admitted + timedelta(days=day))
        return who

    # Discharged yesterday, end score 3 days before discharge: that score, not the week-1 one.
    done = person("Done", 6, [(0, 18), (7, 16), (39, 6)])
    _discharge(world, done, today - timedelta(days=1))
    # Still in treatment after a week: no end yet, so not a "non-responder".
    person("Active", 1, [(0, 18), (6, 17)])
    # Discharged, but the last score was five weeks before discharge: not an end score.
    stale = person("Stale", 6, [(0, 18), (7, 17)])
    _discharge(world, stale, today, reason="lost_contact")

    episodes, _ = dashboard.load_episodes(
        program=world.program_a, instrument=get_instrument("phq9")
    )
    by_name = {e.enrollment_id: e for e in episodes}
    ends = {who.legal_last_name: by_name[who.enrollments.get().pk] for who in (done, stale)}
    assert (ends["Done"].pre, ends["Done"].post) == (18, 6)
    assert not ends["Stale"].paired
    assert [e.paired for e in episodes].count(True) == 1
    d = dashboard.outcome_dashboard(program=world.program_a, instrument="phq9")
    assert (d.paired, d.active) == (1, 1)
    retention = next(r for r in d.rates if r.key == "retention")
    assert (retention.x, retention.n) == (1, 2)


def test_small_program_shows_too_few(world: World, client_for):
    _add_people(world, 3, 0)
    response = client_for(world.clinician_a).get(_url(world, instrument="gad7"))
    assert response.status_code == 200
    response = client_for(world.clinician_a).get(_url(world))
    body = response.content.decode()
    assert "too few to show" in body
    assert response.context["d"].paired == 3
    assert all(not r.shown for r in response.context["d"].rates)


def test_unknown_instrument_is_404(world: World, client_for):
    assert client_for(world.clinician_a).get(_url(world, instrument="core10")).status_code == 404


def test_page_writes_one_aggregate_read_event(world: World, client_for):
    before = AuditEvent.objects.count()
    client_for(world.supervisor_a).get(_url(world))
    events = list(AuditEvent.objects.order_by("-id")[: AuditEvent.objects.count() - before])
    reads = [e for e in events if e.detail == {"view": "outcomes_dashboard"}]
    assert len(reads) == 1
    assert reads[0].action == "read"
    assert reads[0].participant_external_id is None
    assert reads[0].program_external_id == world.program_a.external_id


def test_billing_gets_403(world: World, client_for):
    assert client_for(world.billing_a).get(_url(world)).status_code == 403


def test_program_b_clinician_gets_404(world: World, client_for):
    assert client_for(world.clinician_b).get(_url(world)).status_code == 404


def test_program_home_links_to_outcomes(world: World, client_for):
    home = reverse("participants:program_home", kwargs={"program_id": world.program_a.external_id})
    assert _url(world) in client_for(world.clinician_a).get(home).content.decode()
    assert _url(world) not in client_for(world.billing_a).get(home).content.decode()
