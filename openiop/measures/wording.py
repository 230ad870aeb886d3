"""Wording packs: the published wording of an instrument, loaded by a program that holds the
rights to it, and the gate that decides whether the portal may let a participant complete an
instrument on their own (issue 17 item 2; docs/wording-packs.md).

The instrument files hold short paraphrases written for clinician displays; every file says they
must not be used to administer the instrument, since scores from changed wording cannot be
compared with the published cutoffs and several licences forbid changes. So:

* with a loaded pack for the instrument (the program's own, or a deployment-wide one), the
  portal shows the pack's wording ("pack");
* without one, where `settings.OPENIOP_DEMO_WORDING` is on (the demo, development and tests),
  the paraphrases are shown under a visible "demo wording, not for clinical use" banner
  ("demo");
* otherwise (production) the participant is told the questionnaire will be done with staff,
  and the portal and its API store nothing ("staff").

A pack file is JSON (schema `openiop.wording-pack/1`), validated strictly on load: the instrument
and its version must match a loaded instrument file, the items must be the instrument's items
in order (number and name), and each item's response options must have exactly the
instrument's codes in order. Every error names the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django import forms
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from openiop.accounts.models import User
from openiop.audit.actions import audit_record
from openiop.core.errors import ActionError
from openiop.measures.forms import item_field_name
from openiop.measures.instruments import (
    Instrument,
    InstrumentDataError,
    Item,
    UnknownInstrumentError,
    _Reader,
    all_instruments,
)
from openiop.programs.models import Program
from openiop.wording.models import WordingPack

SCHEMA = "openiop.wording-pack/1"
DEMO_BANNER = gettext_noop("Demo wording, not for clinical use")
STAFF_MESSAGE = gettext_noop(
    "This questionnaire will be done with a member of your care team, who will go through "
    "it with you at your next session. You do not need to fill it in here."
)
# The paraphrases (and so the demo mode) exist in English only; a participant who chose
# another language completes a questionnaire on their own only from a pack in that language.
PARAPHRASE_LANGUAGE = "en"
MAX_FILE_BYTES = 1_000_000

Mode = Literal["pack", "demo", "staff"]


class WordingPackError(InstrumentDataError):
    """A malformed wording pack; the message names the file and the field."""


# --------------------------------------------------------------------------- format


@dataclass(frozen=True)
class PackItem:
    number: int
    name: str
    text: str
    options: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Pack:
    instrument: str
    instrument_version: str
    pack_version: str
    language: str
    title: str
    source: str
    licence_acknowledgement: str
    instructions: str
    items: tuple[PackItem, ...]

    def as_content(self) -> dict[str, Any]:
        return {
            "instructions": self.instructions,
            "items": [
                {
                    "number": item.number,
                    "name": item.name,
                    "text": item.text,
                    "options": [{"code": c, "label": label} for c, label in item.options],
                }
                for item in self.items
            ],
        }


def parse_pack(text: str, file: str) -> Pack:
    """Parse and validate a pack's JSON text; raises WordingPackError naming the field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WordingPackError(file, "", f"cannot read JSON: {exc}") from exc
    try:
        return _parse(_Reader(data, "", file))
    except WordingPackError:
        raise
    except InstrumentDataError as exc:  # raised by the shared reader: same file and field
        raise WordingPackError(file, exc.field_path, str(exc).split(": ", 2)[-1]) from None


def read_pack_file(path: Path) -> Pack:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise WordingPackError(path.name, "", f"larger than {MAX_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WordingPackError(path.name, "", f"cannot read the file: {exc}") from exc
    return parse_pack(text, path.name)


def _instrument(code: str, r: _Reader) -> Instrument:
    found = {inst.code: inst for inst in all_instruments()}.get(code)
    if found is None:
        r.fail(f"{UnknownInstrumentError(code)}", "instrument")
    return found


def _parse(r: _Reader) -> Pack:
    if r.text("schema") != SCHEMA:
        r.fail(f"expected '{SCHEMA}'", "schema")
    instrument = _instrument(r.text("instrument"), r)
    version = r.text("instrument_version")
    if version != instrument.version:
        r.fail(
            f"'{version}' does not match {instrument.code}'s loaded version "
            f"'{instrument.version}': the wording must belong to the scoring it is used with",
            "instrument_version",
        )
    licence = r.child("licence")
    acknowledgement = licence.text("acknowledgement")
    source = licence.text("source")
    licence.finish()
    children = list(r.children("items"))
    if len(children) != len(instrument.items):
        r.fail(
            f"has {len(children)} items; {instrument.code} has {len(instrument.items)}",
            "items",
        )
    items = tuple(
        _item(c, expected) for c, expected in zip(children, instrument.items, strict=True)
    )
    pack = Pack(
        instrument=instrument.code,
        instrument_version=version,
        pack_version=r.text("pack_version"),
        language=r.text("language"),
        title=r.text("title"),
        source=source,
        licence_acknowledgement=acknowledgement,
        instructions=r.text("instructions"),
        items=items,
    )
    r.finish()
    return pack


def _item(r: _Reader, expected: Item) -> PackItem:
    number, name = r.integer("number"), r.text("name")
    if number != expected.number:
        r.fail(f"expected item {expected.number} here (items in the instrument's order)", "number")
    if name != expected.name:
        r.fail(f"expected '{expected.name}' (item {expected.number}'s name)", "name")
    options = []
    children = list(r.children("options"))
    codes = expected.codes
    if len(children) != len(codes):
        wanted = ", ".join(str(c) for c in codes)
        r.fail(
            f"has {len(children)} response options; the item has {len(codes)} ({wanted})", "options"
        )
    for child, code in zip(children, codes, strict=True):
        got = child.integer("code")
        if got != code:
            child.fail(f"expected {code} (the item's codes in order: {codes}), got {got}", "code")
        options.append((got, child.text("label")))
        child.finish()
    item = PackItem(number=number, name=name, text=r.text("text"), options=tuple(options))
    r.finish()
    return item


# --------------------------------------------------------------------------- loading


@transaction.atomic
def wording_pack_load(
    *, actor: User, text: str, file: str, program: Program | None = None
) -> WordingPack:
    """Validate a pack and make it the active wording of its instrument for `program` (or the
    whole deployment). The previous active pack stays, inactive. Validation errors become an
    ActionError keyed by the pack's field."""
    try:
        pack = parse_pack(text, file)
    except WordingPackError as exc:
        raise ActionError({exc.field_path or "file": str(exc)}) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    # A new load supersedes the active pack of the same instrument, scope and language
    # (`es-US` supersedes `es-MX`: both serve a participant who chose `es`).
    current = [
        p
        for p in WordingPack.objects.select_for_update().filter(
            program=program, instrument=pack.instrument, active=True
        )
        if pack_language_matches(p.language, pack.language.split("-", 1)[0])
    ]
    superseded = [str(p.external_id) for p in current]
    WordingPack.objects.filter(pk__in=[p.pk for p in current]).update(active=False)
    row = WordingPack.objects.create(
        program=program,
        instrument=pack.instrument,
        instrument_version=pack.instrument_version,
        pack_version=pack.pack_version,
        language=pack.language,
        title=pack.title,
        licence_acknowledgement=pack.licence_acknowledgement,
        source=pack.source,
        content=pack.as_content(),
        sha256=digest,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=row,
        program=program,
        detail={
            "wording_pack": pack.instrument,
            "pack_version": pack.pack_version,
            "sha256": digest,
            "superseded": superseded,
        },
    )
    return row


# --------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class SelfAdministration:
    """How the portal may administer one instrument to a participant of one program."""

    mode: Mode
    pack: WordingPack | None = None

    @property
    def self_complete(self) -> bool:
        return self.mode != "staff"

    @property
    def banner(self) -> str | None:
        return gettext(DEMO_BANNER) if self.mode == "demo" else None

    @property
    def staff_message(self) -> str | None:
        return gettext(STAFF_MESSAGE) if self.mode == "staff" else None

    def item_text(self, number: int) -> str | None:
        item = self._item(number)
        return None if item is None else str(item["text"])

    def option_label(self, number: int, code: int) -> str | None:
        item = self._item(number)
        if item is None:
            return None
        return next((str(o["label"]) for o in item["options"] if o["code"] == code), None)

    @property
    def instructions(self) -> str | None:
        return None if self.pack is None else str(self.pack.content["instructions"])

    def _item(self, number: int) -> dict[str, Any] | None:
        if self.pack is None:
            return None
        items: list[dict[str, Any]] = self.pack.content["items"]
        return next((i for i in items if i["number"] == number), None)


def pack_language_matches(pack_language: str, language: str | None) -> bool:
    """A pack tagged `es-US` or `es` serves a participant who chose `es` (BCP 47 primary
    subtag, case-insensitive). `language=None` means any language (staff-side callers)."""
    if language is None:
        return True
    return pack_language.split("-", 1)[0].lower() == language.lower()


def active_packs(
    instruments: Sequence[Instrument], program: Program, language: str | None = None
) -> dict[str, WordingPack]:
    """One query: each instrument's active pack, the program's own before the deployment's,
    and only one matching the loaded instrument version (an older pack no longer fits) and,
    when given, the participant's language."""
    versions = {inst.code: inst.version for inst in instruments}
    rows = WordingPack.objects.filter(instrument__in=list(versions), active=True).filter(
        Q(program=program) | Q(program__isnull=True)
    )
    found: dict[str, WordingPack] = {}
    for row in sorted(rows, key=lambda p: p.program_id is None):
        if row.instrument_version == versions[row.instrument] and pack_language_matches(
            row.language, language
        ):
            found.setdefault(row.instrument, row)
    return found


def active_pack(
    instrument: Instrument, program: Program, language: str | None = None
) -> WordingPack | None:
    return active_packs([instrument], program, language).get(instrument.code)


def demo_wording_allowed() -> bool:
    return bool(getattr(settings, "OPENIOP_DEMO_WORDING", False))


def _decide(pack: WordingPack | None, language: str | None) -> SelfAdministration:
    if pack is not None:
        return SelfAdministration(mode="pack", pack=pack)
    # Never English paraphrases to someone who chose another language, as if translated;
    # and never a machine translation of an instrument's items (clinical.md, licences).
    if demo_wording_allowed() and language in (None, PARAPHRASE_LANGUAGE):
        return SelfAdministration(mode="demo")
    return SelfAdministration(mode="staff")


def self_administration_wording(
    instrument: Instrument, program: Program, language: str | None = None
) -> SelfAdministration:
    """The gate: a loaded pack in the participant's language, else demo paraphrases where
    allowed (English only), else staff only."""
    return _decide(active_pack(instrument, program, language), language)


def self_administration_map(
    instruments: Sequence[Instrument], program: Program, language: str | None = None
) -> dict[str, SelfAdministration]:
    """The gate for a list (the portal's due list) in one query."""
    packs = active_packs(instruments, program, language)
    return {inst.code: _decide(packs.get(inst.code), language) for inst in instruments}


def apply_wording(form: forms.Form, instrument: Instrument, wording: SelfAdministration) -> None:
    """Give an items form the pack's published item text and option labels (pack mode)."""
    if wording.pack is None:
        return
    for item in instrument.items:
        field = form.fields.get(item_field_name(item))
        if not isinstance(field, forms.ChoiceField):
            continue
        text = wording.item_text(item.number)
        if text:
            field.label = f"{item.number}. {text}"
        field.choices = [
            (option.code, wording.option_label(item.number, option.code) or option.label)
            for option in item.options
        ]


def require_self_administration(
    instrument: Instrument, program: Program, language: str | None = None
) -> SelfAdministration:
    """The gate for a write: ActionError (code `wording`) when only staff may administer."""
    decision = self_administration_wording(instrument, program, language)
    if not decision.self_complete:
        raise ActionError({"instrument": STAFF_MESSAGE}, code="wording")
    return decision
