"""The portal in Spanish (issue 15 section 5; docs/portal.md, "Languages"): the participant's
saved language chooses the portal's language, staff pages stay English, the switch is the
participant's own audited action, crisis resources are in Spanish, and a questionnaire is
self-completed in Spanish only from a loaded Spanish wording pack."""

from __future__ import annotations

import json
from pathlib import Path

import polib  # type: ignore[import-untyped,unused-ignore]  # no type hints published
import pytest
from django.conf import settings
from django.test import Client

from openiop.audit.models import AuditEvent
from openiop.measures.actions import schedule_set
from openiop.measures.wording import wording_pack_load
from openiop.participants.models import Participant
from openiop.testing import World, make_user
from openiop.wording.tests.test_issue17_item2_wording_packs import pack_data

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"
STAFF_MESSAGE_ES = "Este cuestionario lo completará con un miembro de su equipo de atención"


def _spanish(world: World) -> Participant:
    Participant.objects.filter(pk=world.participant_a.pk).update(language="es")
    world.participant_a.refresh_from_db()
    return world.participant_a


@pytest.fixture
def me(world: World, client_for) -> Client:
    return client_for(world.participant_user)


def test_a_participant_who_chose_spanish_gets_the_portal_in_spanish(world, me):
    _spanish(world)
    body = me.get("/me/").content.decode()
    assert '<html lang="es">' in body
    assert "Mi semana" in body and "Registrarme" in body
    assert "My week" not in body


def test_english_stays_the_default(world, me):
    body = me.get("/me/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert world.participant_a.language == "en"
    assert '<html lang="en' in body and "My week" in body


def test_staff_pages_stay_english_whatever_the_browser_or_a_participant_chose(world, client_for):
    _spanish(world)
    staff = client_for(world.clinician_a)
    url = f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/"
    body = staff.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en' in body and "Log out" in body and "Cerrar sesión" not in body


def test_crisis_resources_in_spanish_name_988_and_911(world, me):
    _spanish(world)
    body = me.get("/me/help/").content.decode()
    assert 'href="tel:988"' in body and 'href="tel:911"' in body
    assert "Llame al 911" in body and "Llame al 988" in body
    assert "oprima 2" in body and "AYUDA" in body  # the Lifeline's Spanish line and texting
    assert "Línea 988 de Prevención del Suicidio y Crisis" in body
    bar = me.get("/me/diary/").content.decode()
    assert "Llame o envíe un texto al 988" in bar  # the sticky safety bar on every page


def test_dates_are_in_spanish(world, me):
    _spanish(world)
    body = me.get("/me/diary/").content.decode()
    days = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    assert any(day in body.lower() for day in days)
    assert "Monday" not in body


# --- the language switch ---------------------------------------------------------------


def test_the_switch_saves_the_participants_own_choice_with_an_audit_event(world, me):
    response = me.post("/me/language/", {"language": "es", "next": "/me/goals/"})
    assert response.status_code == 302 and response["Location"] == "/me/goals/"
    world.participant_a.refresh_from_db()
    assert world.participant_a.language == "es"
    event = AuditEvent.objects.filter(action="update").latest("seq")
    assert event.actor_id == world.participant_user.pk
    assert event.participant_external_id == world.participant_a.external_id
    assert event.detail["fields"] == ["language"]
    assert "Mis metas" in me.get("/me/goals/").content.decode()
    me.post("/me/language/", {"language": "en"})
    world.participant_a.refresh_from_db()
    assert world.participant_a.language == "en"


def test_the_switch_is_on_every_portal_page_labelled_in_both_languages(world, me):
    body = me.get("/me/homework/").content.decode()
    assert 'action="/me/language/"' in body and ">Español</button>" in body
    assert '<span lang="en">Language</span>' in body and '<span lang="es">Idioma</span>' in body
    _spanish(world)
    assert ">English</button>" in me.get("/me/homework/").content.decode()


def test_the_switch_refuses_an_unknown_language_naming_the_field(world, me):
    response = me.post("/me/language/", {"language": "fr"})
    assert response.status_code == 400 and "language" in response.content.decode()
    world.participant_a.refresh_from_db()
    assert world.participant_a.language == "en"


def test_the_switch_never_redirects_off_the_portal(world, me):
    response = me.post("/me/language/", {"language": "es", "next": "https://evil.example/me/"})
    assert response["Location"] == "/me/"


def test_staff_cannot_use_the_switch(world, client_for):
    response = client_for(world.clinician_a).post("/me/language/", {"language": "es"})
    assert response.status_code == 404
    assert not Participant.objects.filter(language="es").exists()


def test_anonymous_cannot_use_the_switch(world):
    response = Client().post("/me/language/", {"language": "es"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Participant.objects.filter(language="es").exists()


def test_another_participant_changes_only_their_own_language(world, client_for):
    from openiop.accounts.models import UserKind

    other = make_user(kind=UserKind.PARTICIPANT, first="Blake")
    Participant.objects.filter(pk=world.participant_b.pk).update(user=other)
    client_for(other).post("/me/language/", {"language": "es"})
    assert Participant.objects.get(pk=world.participant_b.pk).language == "es"
    assert Participant.objects.get(pk=world.participant_a.pk).language == "en"


def test_staff_set_the_preferred_language_on_the_edit_page(world, client_for):
    staff = client_for(world.director_a)
    url = f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/edit/"
    page = staff.get(url).content.decode()
    assert "Preferred language" in page and "Español" in page


# --- questionnaires --------------------------------------------------------------------


@pytest.fixture
def phq9_due(world: World) -> World:
    schedule_set(
        actor=world.director_a, program=world.program_a, instrument="phq9", cadences=["weekly"]
    )
    return world


def test_without_a_spanish_pack_the_questionnaire_is_done_with_staff(phq9_due, me):
    world = phq9_due
    _spanish(world)
    listing = me.get("/me/measures/").content.decode()
    assert STAFF_MESSAGE_ES in listing
    assert 'href="/me/measures/phq9/"' not in listing  # no "Empezar"
    page = me.get("/me/measures/phq9/").content.decode()
    assert STAFF_MESSAGE_ES in page
    assert 'type="radio"' not in page  # never the English paraphrases as if translated


def test_an_english_pack_is_not_offered_in_spanish(phq9_due, me):
    world = phq9_due
    wording_pack_load(actor=world.director_a, text=json.dumps(pack_data()), file="phq9-en.json")
    _spanish(world)
    page = me.get("/me/measures/phq9/").content.decode()
    assert STAFF_MESSAGE_ES in page and "PUBLISHED ITEM 1" not in page


def test_a_loaded_spanish_pack_is_offered_in_spanish_and_only_there(phq9_due, me):
    world = phq9_due
    data = pack_data() | {"language": "es-US", "instructions": "INSTRUCCIONES PUBLICADAS"}
    for item in data["items"]:
        item["text"] = f"PREGUNTA PUBLICADA {item['number']}"
    wording_pack_load(actor=world.director_a, text=json.dumps(data), file="phq9-es.json")
    english = me.get("/me/measures/phq9/").content.decode()
    assert "PREGUNTA PUBLICADA" not in english  # English speakers get their own wording
    _spanish(world)
    listing = me.get("/me/measures/").content.decode()
    assert 'href="/me/measures/phq9/"' in listing
    page = me.get("/me/measures/phq9/").content.decode()
    assert "INSTRUCCIONES PUBLICADAS" in page and "PREGUNTA PUBLICADA 9" in page


# --- the catalogue ---------------------------------------------------------------------


def _entries(catalogue: polib._BaseFile) -> dict[tuple[str | None, str], object]:
    return {
        (e.msgctxt, e.msgid): (e.msgstr_plural and dict(e.msgstr_plural)) or e.msgstr
        for e in catalogue
        if not e.obsolete
    }


def test_every_message_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert len(po) > 100
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    empty_plurals = [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())]
    assert (untranslated, fuzzy, empty_plurals) == ([], [], [])


def test_the_committed_mo_matches_the_po():
    """CI does not compile messages: a .po edited without `compilemessages` fails here."""
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    assert _entries(mo) == _entries(po)


def test_every_template_string_of_the_portal_is_in_the_catalogue():
    """A string marked in a portal template but missing from the .po (makemessages not run)
    would show in English on a Spanish page."""
    import re

    po = polib.pofile(str(CATALOGUE / "django.po"))
    known = {e.msgid for e in po}
    templates = Path(settings.BASE_DIR) / "openiop" / "portal" / "templates" / "portal"
    marked = set()
    for path in templates.glob("*.html"):
        marked |= set(re.findall(r'{% translate "([^"]+)"', path.read_text()))
    assert marked and sorted(marked - known) == []


def test_the_log_in_page_gives_the_crisis_lines_in_spanish_too():
    body = Client().get("/accounts/login/").content.decode()
    assert '<p class="crisis-line" lang="es">' in body
    assert "oprima 2" in body and 'href="tel:988"' in body and 'href="tel:911"' in body


def test_english_and_spanish_packs_of_one_instrument_are_active_side_by_side(phq9_due, me):
    world = phq9_due
    english = pack_data()
    spanish = pack_data() | {"language": "es-US", "instructions": "INSTRUCCIONES PUBLICADAS"}
    for data, file in ((english, "phq9-en.json"), (spanish, "phq9-es.json")):
        wording_pack_load(
            actor=world.director_a, text=json.dumps(data), file=file, program=world.program_a
        )
    from openiop.wording.models import WordingPack

    assert WordingPack.objects.filter(active=True).count() == 2
    assert "PUBLISHED INSTRUCTIONS" in me.get("/me/measures/phq9/").content.decode()
    _spanish(world)
    assert "INSTRUCCIONES PUBLICADAS" in me.get("/me/measures/phq9/").content.decode()
    # A newer Spanish pack supersedes the Spanish one only.
    newer = spanish | {"language": "es-MX", "pack_version": "2026-02"}
    wording_pack_load(
        actor=world.director_a, text=json.dumps(newer), file="phq9-mx.json", program=world.program_a
    )
    active = WordingPack.objects.filter(active=True).values_list("language", flat=True)
    assert sorted(active) == ["en-US", "es-MX"]
