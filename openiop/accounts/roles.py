"""The role matrix: which role may do what, loaded from data/roles.json (AC-03).

Code checks permissions through the typed `Perm` enum and `has_perm`; the JSON decides which
roles hold them. Loading fails loudly on an unknown role or permission name.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROLES_FILE = Path(__file__).parent / "data" / "roles.json"


class Perm(enum.StrEnum):
    PROGRAM_VIEW = "program.view"
    PARTICIPANT_LIST = "participant.list"
    PARTICIPANT_VIEW_CHART = "participant.view_chart"
    PARTICIPANT_ADMIT = "participant.admit"
    PARTICIPANT_EDIT = "participant.edit"
    ENROLLMENT_CHANGE_PHASE = "enrollment.change_phase"
    ENROLLMENT_DISCHARGE = "enrollment.discharge"
    NOTE_READ_BODY = "note.read_body"
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    CONSENT_VIEW = "consent.view"
    CONSENT_MANAGE = "consent.manage"
    RECORD_DISCLOSE = "record.disclose"
    # GRP-02: who was in a group is itself confidential; facilitators and supervisors only.
    ROSTER_VIEW = "roster.view"
    SESSION_RUN = "session.run"
    NOTE_WRITE = "note.write"
    NOTE_COSIGN = "note.cosign"
    SCHEDULE_MANAGE = "schedule.manage"
    # Treatment plans are clinical content: intake and billing never read them.
    PLAN_VIEW = "plan.view"
    PLAN_EDIT = "plan.edit"
    # Calendar feeds: create and revoke a participant's subscription link.
    FEED_MANAGE = "feed.manage"
    # Outcome measures are clinical content: intake and billing neither read nor enter them.
    ASSESSMENT_VIEW = "assessment.view"
    ASSESSMENT_ENTER = "assessment.enter"
    # Safety events (clinical.md section 6): clinical staff see, acknowledge and act on them.
    SAFETY_VIEW = "safety.view"
    SAFETY_ACK = "safety.acknowledge"
    # What participants record in the portal (check-ins, diary cards, goals, homework,
    # safety plan) is clinical content: intake and billing never read it.
    SELFREPORT_VIEW = "selfreport.view"
    # Program-wide clinical settings (not-on-track standard, portal severity labels, safety
    # escalation): the program director's decisions.
    PROGRAM_SETTINGS = "program.settings"
    # Invite a participant to the portal (a one-time link or a printed front-desk code):
    # clinicians, the director and the front desk; never billing.
    PORTAL_INVITE = "portal.invite"


class Role(enum.StrEnum):
    PROGRAM_DIRECTOR = "program_director"
    CLINICIAN = "clinician"
    SUPERVISOR = "supervisor"
    INTAKE = "intake"
    BILLING = "billing"
    ADMIN = "admin"
    # Not assignable: the temporary, read-only access a break-glass grant gives (AC-04).
    BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class RoleMatrix:
    version: str
    labels: dict[Role, str]
    grants: dict[Role, frozenset[Perm]]

    def allows(self, role: str, perm: Perm) -> bool:
        return perm in self.grants.get(Role(role), frozenset())


class RoleMatrixError(ValueError):
    pass


def parse_role_matrix(raw: dict[str, object]) -> RoleMatrix:
    if raw.get("schema") != "openiop.roles/1":
        raise RoleMatrixError("roles.json: schema must be 'openiop.roles/1'")
    roles = raw.get("roles")
    if not isinstance(roles, dict):
        raise RoleMatrixError("roles.json: 'roles' must be an object")
    missing = {r.value for r in Role} - set(roles)
    if missing:
        raise RoleMatrixError(f"roles.json: roles missing: {sorted(missing)}")
    labels: dict[Role, str] = {}
    grants: dict[Role, frozenset[Perm]] = {}
    for name, spec in roles.items():
        try:
            role = Role(name)
        except ValueError:
            raise RoleMatrixError(f"roles.json: roles.{name}: unknown role") from None
        labels[role] = str(spec["label"])
        perms = set()
        for perm in spec["permissions"]:
            try:
                perms.add(Perm(perm))
            except ValueError:
                raise RoleMatrixError(
                    f"roles.json: roles.{name}: unknown permission {perm!r}"
                ) from None
        grants[role] = frozenset(perms)
    return RoleMatrix(version=str(raw.get("version", "")), labels=labels, grants=grants)


@cache
def role_matrix() -> RoleMatrix:
    return parse_role_matrix(json.loads(ROLES_FILE.read_text()))


ASSIGNABLE_ROLES = [r for r in Role if r is not Role.BREAK_GLASS]
ROLE_CHOICES = [(r.value, r.value.replace("_", " ").capitalize()) for r in ASSIGNABLE_ROLES]
