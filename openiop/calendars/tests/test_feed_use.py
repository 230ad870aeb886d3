"""`feed_use_record`: a fetch of the public .ics feed, as an action (last use and the
"export" audit event together), called by the feed view."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from openiop.audit.models import AuditEvent
from openiop.calendars.actions import feed_create_for_participant, feed_revoke, feed_use_record
from openiop.calendars.models import FeedToken
from openiop.calendars.tests.helpers import fetch
from openiop.core import clock
from openiop.core.errors import ActionError
from openiop.testing import World

pytestmark = pytest.mark.django_db


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _token(world: World) -> tuple[FeedToken, str]:
    return feed_create_for_participant(actor=world.clinician_a, participant=world.participant_a)


def test_feed_use_records_last_use_and_an_export_event(world: World):
    token, _ = _token(world)
    updated_at = FeedToken.objects.get(pk=token.pk).updated_at
    at = clock.now() - timedelta(minutes=5)
    feed_use_record(token=token, at=at)
    stored = FeedToken.objects.get(pk=token.pk)
    assert stored.last_used_at == at and token.last_used_at == at
    assert stored.updated_at == updated_at  # a fetch is not an edit of the feed
    event = AuditEvent.objects.get(action="export", object_id=str(token.external_id))
    assert event.actor_id is None and event.detail == {"feed": "participant"}
    assert event.participant_external_id == world.participant_a.external_id


def test_feed_use_of_a_revoked_feed_is_refused_and_records_nothing(world: World):
    token, _ = _token(world)
    stale = FeedToken.objects.get(pk=token.pk)  # looked up before the revocation
    feed_revoke(actor=world.clinician_a, token=token)
    since = _last_seq()
    with pytest.raises(ActionError) as refused:
        feed_use_record(token=stale, at=clock.now())
    assert "token" in refused.value.errors
    assert FeedToken.objects.get(pk=token.pk).last_used_at is None
    assert _last_seq() == since


def test_feed_use_refuses_a_naive_time(world: World):
    token, _ = _token(world)
    with pytest.raises(ActionError):
        feed_use_record(token=token, at=datetime(2026, 1, 1, 9, 0))  # noqa: DTZ001
    assert FeedToken.objects.get(pk=token.pk).last_used_at is None


def test_feed_use_keeps_no_last_use_when_its_audit_fails(world: World, monkeypatch):
    token, _ = _token(world)
    since = _last_seq()

    def fail(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("openiop.calendars.actions.audit_record", fail)
    with pytest.raises(RuntimeError):
        feed_use_record(token=token, at=clock.now())
    assert FeedToken.objects.get(pk=token.pk).last_used_at is None
    assert _last_seq() == since


def test_the_feed_view_records_its_use_through_the_action(world: World, monkeypatch):
    _, secret = _token(world)
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return feed_use_record(**kwargs)

    monkeypatch.setattr("openiop.calendars.actions.feed_use_record", spy)
    assert fetch(secret).status_code == 200
    assert len(calls) == 1


def test_a_feed_revoked_while_it_is_built_answers_404(world: World, monkeypatch):
    token, secret = _token(world)
    from openiop.calendars import views

    real = views._feed_body

    def revoke_meanwhile(request, feed, now):
        body = real(request, feed, now)
        feed_revoke(actor=world.clinician_a, token=FeedToken.objects.get(pk=token.pk))
        return body

    monkeypatch.setattr(views, "_feed_body", revoke_meanwhile)
    since = _last_seq()
    response = fetch(secret)
    assert response.status_code == 404 and response.content == b"Not found\n"
    assert not AuditEvent.objects.filter(seq__gt=since, action="export").exists()
