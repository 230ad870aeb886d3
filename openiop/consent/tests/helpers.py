"""Tiny builders for Part 2 tests: the real actions underneath (style rule 18)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from openiop.accounts.models import User
from openiop.consent.actions import ConsentTerms, consent_create, disclosure_authorize_and_record
from openiop.consent.models import Consent, Disclosure
from openiop.consent.selectors import current_notice
from openiop.consent.summary import notice_header
from openiop.participants.models import Participant
from openiop.testing import World, today

RECIPIENT = "Dr Robin Lee"


def terms(**overrides: Any) -> ConsentTerms:
    on = today()
    base: dict[str, Any] = {
        "discloser_name": "Program A",
        "information": ["demographics", "episode_of_care", "attendance"],
        "recipient_name": RECIPIENT,
        "recipient_type": "individual",
        "purposes": ["treatment"],
        "revocation_acknowledged": True,
        "expires_on": on + timedelta(days=90),
        "signed_by": "Avery Quillby",
        "signer_relation": "patient",
        # A day back, so the program's own time zone never sees it as signed in the future.
        "signed_on": on - timedelta(days=1),
    }
    base.update(overrides)
    return ConsentTerms(**base)


def make_consent(
    world: World, *, participant: Participant | None = None, actor: User | None = None, **kw: Any
) -> Consent:
    return consent_create(
        actor=actor or world.clinician_a,
        participant=participant or world.participant_a,
        terms=terms(**kw),
    )


def released(body: bytes = b"summary body\n") -> bytes:
    """Content that carries the current §2.32 notice, as every text release must."""
    notice = current_notice(on=today())
    assert notice is not None
    return notice_header(notice).encode() + body


def disclose(world: World, **overrides: Any) -> Disclosure:
    call: dict[str, Any] = {
        "actor": world.clinician_a,
        "participant": world.participant_a,
        "recipient": RECIPIENT,
        "information": ["attendance"],
        "purpose": "treatment",
        "basis": "consent",
        "consent": None,
        "content": released(),
        "content_format": "text/plain",
    }
    call.update(overrides)
    return disclosure_authorize_and_record(**call)
