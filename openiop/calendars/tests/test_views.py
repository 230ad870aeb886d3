"""Feed management pages: the chart partial, "My calendar feed", and their access twins."""

from __future__ import annotations

import pytest

from openiop.audit.models import AuditEvent
from openiop.calendars.actions import feed_create_for_clinician, feed_create_for_participant
from openiop.calendars.models import FeedToken
from openiop.calendars.tests.helpers import events, fetch, secret_in
from openiop.core.errors import ActionError
from openiop.testing import World

pytestmark = pytest.mark.django_db


def _paths(world: World) -> dict[str, str]:
    p = f"/p/{world.program_a.external_id}"
    person = f"{p}/participants/{world.participant_a.external_id}"
    return {
        "chart": f"{person}/",
        "create": f"{person}/calendar/create/",
        "revoke": f"{person}/calendar/revoke/",
        "mine": f"{p}/calendar/mine/",
        "mine_create": f"{p}/calendar/mine/create/",
        "mine_revoke": f"{p}/calendar/mine/revoke/",
    }


def test_chart_offers_the_feed_to_staff_who_manage_feeds(world: World, client_for):
    paths = _paths(world)
    page = client_for(world.intake_a).get(paths["chart"])
    assert page.status_code == 200
    assert b"Calendar feed" in page.content and paths["create"].encode() in page.content
    billing = client_for(world.billing_a).get(paths["chart"])
    assert billing.status_code == 200
    assert paths["create"].encode() not in billing.content


def test_create_shows_the_address_once_and_it_works(world: World, client_for):
    paths = _paths(world)
    client = client_for(world.clinician_a)
    response = client.post(paths["create"])
    assert response.status_code == 200
    assert b"subscribe" in response.content and b"stops it at once" in response.content
    secret = secret_in(response.content)
    assert len(events(fetch(secret).content)) == 1
    # Shown once: the chart afterwards says a feed is active but not its address.
    chart = client.get(paths["chart"])
    assert b"Active since" in chart.content and secret.encode() not in chart.content


def test_htmx_create_and_revoke_swap_the_partial(world: World, client_for):
    paths = _paths(world)
    client = client_for(world.supervisor_a)
    created = client.post(paths["create"], HTTP_HX_REQUEST="true")
    assert created.status_code == 200
    assert created.content.lstrip().startswith(b'<section class="panel" id="calendar-feed"')
    secret = secret_in(created.content)
    revoked = client.post(paths["revoke"], HTTP_HX_REQUEST="true")
    assert revoked.status_code == 200 and b"No active feed" in revoked.content
    assert fetch(secret).status_code == 404


def test_revoke_redirects_to_the_chart_and_stops_the_feed(world: World, client_for):
    paths = _paths(world)
    _, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    response = client_for(world.director_a).post(paths["revoke"])
    assert response.status_code == 302 and response["Location"] == paths["chart"]
    assert fetch(secret).status_code == 404
    revoke = AuditEvent.objects.filter(action="update", object_type="calendars.feedtoken").get()
    assert revoke.actor_id == world.director_a.pk and revoke.detail["revoked"] is True


def test_billing_may_not_create_or_revoke_participant_feeds(world: World, client_for):
    paths = _paths(world)
    client = client_for(world.billing_a)
    assert client.post(paths["create"]).status_code == 403
    _, secret = feed_create_for_participant(
        actor=world.clinician_a, participant=world.participant_a
    )
    assert client.post(paths["revoke"]).status_code == 403
    assert fetch(secret).status_code == 200
    with pytest.raises(ActionError):
        feed_create_for_participant(actor=world.billing_a, participant=world.participant_a)


def test_program_b_clinician_gets_404(world: World, client_for):
    client = client_for(world.clinician_b)
    for name, path in _paths(world).items():
        method = client.get if name in ("chart", "mine") else client.post
        assert method(path).status_code == 404, name
    assert not FeedToken.objects.exists()
    with pytest.raises(ActionError):
        feed_create_for_participant(actor=world.clinician_b, participant=world.participant_a)


def test_participant_account_gets_404(world: World, client_for):
    client = client_for(world.participant_user)
    assert client.post(_paths(world)["create"]).status_code == 404
    assert client.get(_paths(world)["mine"]).status_code == 404


def test_my_feed_page_for_any_staff_role(world: World, client_for):
    paths = _paths(world)
    client = client_for(world.billing_a)
    page = client.get(paths["mine"])
    assert page.status_code == 200 and b"My calendar feed" in page.content
    response = client.post(paths["mine_create"])
    assert response.status_code == 200
    secret = secret_in(response.content)
    assert fetch(secret).status_code == 200
    token = FeedToken.objects.get(user=world.billing_a)
    assert token.program == world.program_a and token.participant is None
    assert client.post(paths["mine_revoke"]).status_code == 302
    assert fetch(secret).status_code == 404


def test_my_feed_for_clinician_lists_their_sessions(world: World, client_for):
    client = client_for(world.clinician_a)
    secret = secret_in(client.post(_paths(world)["mine_create"]).content)
    (event,) = events(fetch(secret).content)
    assert str(event["UID"]) == f"{world.session_a.external_id}@openiop"


def test_staff_create_only_their_own_clinician_feed(world: World):
    with pytest.raises(ActionError) as caught:
        feed_create_for_clinician(
            actor=world.director_a, user=world.clinician_a, program=world.program_a
        )
    assert "user" in caught.value.errors
    with pytest.raises(ActionError):
        feed_create_for_clinician(
            actor=world.clinician_b, user=world.clinician_b, program=world.program_a
        )
    assert not FeedToken.objects.exists()


def test_only_the_owner_or_a_director_revokes_a_staff_feed(world: World):
    from openiop.calendars.actions import feed_revoke

    token, secret = feed_create_for_clinician(
        actor=world.clinician_a, user=world.clinician_a, program=world.program_a
    )
    for outsider in (world.supervisor_a, world.clinician_b):
        with pytest.raises(ActionError):
            feed_revoke(actor=outsider, token=token)
    assert fetch(secret).status_code == 200
    feed_revoke(actor=world.director_a, token=token)
    assert fetch(secret).status_code == 404
    with pytest.raises(ActionError) as caught:
        feed_revoke(actor=world.clinician_a, token=token)
    assert "token" in caught.value.errors
