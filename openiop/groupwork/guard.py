"""Group-note confidentiality guard (security.md GRP-01, clinical.md section 7).

A participant's individual note must never name another member of the group: not their
legal or preferred name, nor their record number. Naming a co-member would disclose that
person's treatment when the participant reads or releases their own record (for substance
use, a 42 CFR Part 2 matter). The guard finds such mentions so signing can be blocked, and
offers a one-click replacement with "a peer".

Matching rules (each is tested):
- case-insensitive, on whole words: "avery" and "AVERY" match, "Averyville" does not;
- possessives match with the possessive: "Avery's", "Avery’s", "Jones'";
- full names match as a unit ("Avery Quillby" becomes one "a peer", not two): across all
  members the longest match wins and matches never overlap, whatever the roster order;
- one replacement per reference: "Avery (Blake) Elderhurst" becomes one "a peer";
- record numbers match with or without their separator ("RA-000011", "ra 000011", "RA000011");
- a name that is also a common English word ("Will", "Hope", "Grace") matches only when
  capitalised, so "she will practise" does not block signing while "Will said" does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PEER_PLACEHOLDER = "a peer"
# Names that are everyday words; matched only when written with a capital letter.
COMMON_WORD_NAMES = frozenset(
    {
        "will",
        "hope",
        "joy",
        "grace",
        "faith",
        "may",
        "june",
        "april",
        "august",
        "rose",
        "mark",
        "bill",
        "art",
        "pat",
        "sue",
        "chase",
        "dawn",
        "summer",
        "autumn",
        "sky",
        "river",
        "brook",
        "amber",
        "ruby",
        "pearl",
        "ivy",
        "lily",
        "daisy",
        "holly",
        "ray",
        "rich",
        "frank",
        "gene",
        "guy",
        "jack",
        "max",
        "miles",
        "rob",
        "sage",
        "wren",
        "drew",
        "hunter",
        "page",
        "reed",
        "rowan",
        "fern",
        "heather",
        "robin",
        "jay",
        "bo",
        "cal",
    }
)
_POSSESSIVE = r"(?:['’]s|['’])?"


@dataclass(frozen=True)
class Peer:
    """What identifies one co-member: names and record number (never stored by the guard)."""

    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    record_number: str


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    kind: str  # "name", "preferred_name" or "record_number"


def _name_pattern(name: str) -> tuple[re.Pattern[str], bool] | None:
    tokens = name.split()
    if not tokens or len(name.strip()) < 2:
        return None
    body = r"\s+".join(re.escape(t) for t in tokens)
    pattern = rf"(?<![\w]){body}{_POSSESSIVE}(?![\w])"
    capital_only = len(tokens) == 1 and name.lower() in COMMON_WORD_NAMES
    flags = 0 if capital_only else re.IGNORECASE
    return re.compile(pattern, flags), capital_only


def _record_pattern(record_number: str) -> re.Pattern[str] | None:
    parts = [p for p in re.split(r"[\s\-_/]+", record_number.strip()) if p]
    if not parts:
        return None
    body = r"[\s\-_/]?".join(re.escape(p) for p in parts)
    return re.compile(rf"(?<![\w]){body}(?![\w])", re.IGNORECASE)


def _patterns_for(peer: Peer) -> list[tuple[re.Pattern[str], str]]:
    """Longest first, so a full name is replaced as one unit before its parts."""
    names: list[tuple[str, str]] = [
        (f"{peer.legal_first_name} {peer.legal_last_name}", "name"),
        (f"{peer.preferred_name} {peer.legal_last_name}", "preferred_name"),
        (peer.legal_first_name, "name"),
        (peer.legal_last_name, "name"),
        (peer.preferred_name, "preferred_name"),
    ]
    patterns: list[tuple[re.Pattern[str], str]] = []
    for name, kind in sorted({n for n in names if n[0].strip()}, key=lambda n: -len(n[0])):
        compiled = _name_pattern(name.strip())
        if compiled is not None:
            patterns.append((compiled[0], kind))
    record = _record_pattern(peer.record_number)
    if record is not None:
        patterns.insert(0, (record, "record_number"))
    return patterns


def find_peer_mentions(text: str, peers: Iterable[Peer]) -> list[Mention]:
    """Every mention of a co-member in `text`, in order, without overlaps.

    Candidates from all peers are collected first and the longest wins wherever two overlap,
    so "Avery Elderhurst" is one mention even when another member is also called Avery (the
    order of the roster used to decide, and split the full name into two mentions)."""
    # (start, end) -> the mention and everyone it could name ("Avery" may be two members).
    spans: dict[tuple[int, int], tuple[Mention, frozenset[int]]] = {}
    for person, peer in enumerate(peers):
        for pattern, kind in _patterns_for(peer):
            for match in pattern.finditer(text):
                if _capital_required(pattern) and not match.group(0)[0].isupper():
                    continue
                key = (match.start(), match.end())
                mention, who = spans.get(key, (Mention(*key, match.group(0), kind), frozenset()))
                spans[key] = (mention, who | {person})
    candidates = sorted(spans.values(), key=lambda c: (-(c[0].end - c[0].start), c[0].start))
    taken: list[tuple[Mention, frozenset[int]]] = []
    for mention, who in candidates:
        if any(m.start < mention.end and mention.start < m.end for m, _ in taken):
            continue
        taken.append((mention, who))
    return [m for m, _ in _merge_same_person(sorted(taken, key=lambda c: c[0].start), text)]


# Between two mentions of one person that stand for a single reference: "Avery (Blake)",
# "Blake Avery Elderhurst", "Avery “Blake” Elderhurst".
_JOINER = re.compile(r"[\s()\[\]\"“”]*")


def _merge_same_person(
    mentions: list[tuple[Mention, frozenset[int]]], text: str
) -> list[tuple[Mention, frozenset[int]]]:
    """One replacement per reference: adjacent mentions of the same person separated only by
    spaces, brackets or quotes ("Avery (Blake) Elderhurst") become one mention."""
    merged: list[tuple[Mention, frozenset[int]]] = []
    for mention, who in mentions:
        if merged:
            last, last_who = merged[-1]
            gap = text[last.end : mention.start]
            if last_who & who and _JOINER.fullmatch(gap):
                end = mention.end
                if gap.strip() in ("(", "[") and text[end : end + 1] in (")", "]"):
                    end += 1  # "Blake (Avery Elderhurst)": the bracket goes with the name
                span = Mention(last.start, end, text[last.start : end], last.kind)
                merged[-1] = (span, last_who & who)
                continue
        merged.append((mention, who))
    return merged


def _capital_required(pattern: re.Pattern[str]) -> bool:
    return not pattern.flags & re.IGNORECASE


def replace_peer_mentions(text: str, peers: Iterable[Peer]) -> str:
    """The one-click fix: every co-member mention becomes "a peer"."""
    result = text
    for mention in reversed(find_peer_mentions(text, peers)):
        possessive = mention.text.endswith(("'s", "’s", "'", "’"))
        replacement = PEER_PLACEHOLDER + ("'s" if possessive else "")
        result = result[: mention.start] + replacement + result[mention.end :]
    return result
