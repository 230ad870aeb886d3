from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from openiop.accounts.access import program_access
from openiop.accounts.requests import request_user
from openiop.accounts.roles import Perm
from openiop.accounts.selectors import programs_for_user
from openiop.participants.selectors import tracks_for_program

router = Router(tags=["programs"])


class ProgramOut(Schema):
    id: UUID
    name: str
    organisation: str
    level_of_care: str
    population: str
    time_zone: str
    rule_pack: str
    roles: list[str]


class TrackOut(Schema):
    id: UUID
    name: str
    code: str
    focus: str


@router.get("", response=list[ProgramOut], summary="Programs I work in")
def list_programs(request: HttpRequest) -> list[ProgramOut]:
    user = request_user(request)
    result = []
    for program in programs_for_user(user=user).prefetch_related("memberships"):
        roles = sorted(
            {m.role for m in program.memberships.all() if m.user_id == user.pk and m.is_active}
        )
        result.append(
            ProgramOut(
                id=program.external_id,
                name=program.name,
                organisation=program.organisation.name,
                level_of_care=program.level_of_care,
                population=program.population,
                time_zone=program.time_zone,
                rule_pack=program.rule_pack,
                roles=roles,
            )
        )
    return result


@router.get("/{program_id}/tracks", response=list[TrackOut], summary="Active tracks of a program")
def list_tracks(request: HttpRequest, program_id: UUID) -> list[TrackOut]:
    access = program_access(request_user(request), program_id)
    access.require(Perm.PROGRAM_VIEW)
    return [
        TrackOut(id=t.external_id, name=t.name, code=t.code, focus=t.focus)
        for t in tracks_for_program(program=access.program)
    ]
