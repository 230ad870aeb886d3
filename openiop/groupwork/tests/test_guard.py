"""GRP-01: an individual note never names another member of the group."""

from __future__ import annotations

import pytest

from openiop.groupwork.guard import Peer, find_peer_mentions, replace_peer_mentions

AVERY = Peer("Avery", "Quillby", "Ave", "RA-000011")
WILL = Peer("Will", "Thistlewick", "", "RA-000042")
PEERS = [AVERY, WILL]


@pytest.mark.parametrize(
    "text",
    [
        "Practised refusal skills with Avery.",
        "practised with avery in the role-play",
        "AVERY gave feedback",
        "Role-played with Avery Quillby.",
        "Avery's feedback was kind.",
        "Avery’s feedback was kind.",
        "Received feedback from Ave.",
        "Paired with Quillby.",
        "Paired with member RA-000011.",
        "Paired with member ra 000011.",
        "Paired with member RA000011.",
        "Will said the scenario felt real.",
        "Thistlewick's turn came next.",
    ],
)
def test_GRP_01_guard_finds_peer_identifiers(text: str):
    assert find_peer_mentions(text, PEERS), text


@pytest.mark.parametrize(
    "text",
    [
        "Participant will practise DEAR MAN at home.",  # 'will' is a word, not Will
        "Visited Averyville last weekend.",  # a name inside a word
        "Discussed Quillbyesque humour.",
        "Record RA-0000112 is not a peer's number.",
        "Rated the role-play 4 of 5; gave average feedback.",
        "Reported mood 6/10; craving 2/10.",
    ],
)
def test_GRP_01_guard_does_not_false_trigger(text: str):
    assert find_peer_mentions(text, PEERS) == [], text


def test_GRP_01_full_name_is_one_mention_and_replaced_as_one():
    text = "Role-played with Avery Quillby, then Will's scenario; RA-000011 agreed."
    assert (
        replace_peer_mentions(text, PEERS)
        == "Role-played with a peer, then a peer's scenario; a peer agreed."
    )


def test_GRP_01_kinds_are_reported():
    kinds = {m.kind for m in find_peer_mentions("Ave and RA-000011 and Quillby", PEERS)}
    assert kinds == {"preferred_name", "record_number", "name"}


def test_GRP_01_replacement_leaves_clean_text_alone():
    text = "Practised opposite action; rated 4 of 5."
    assert replace_peer_mentions(text, PEERS) == text


# Issue 18 item 2: "Practised with Avery Elderhurst and Blake." became
# "Practised with a peer a peer and a peer." when another member was also called Avery.
ELDERHURST = Peer("Avery", "Elderhurst", "Blake", "RA-000077")
OTHER_AVERY = Peer("Avery", "Quill", "", "RA-000078")


@pytest.mark.parametrize(
    "peers",
    [[ELDERHURST], [OTHER_AVERY, ELDERHURST], [ELDERHURST, OTHER_AVERY]],
    ids=["alone", "other-avery-first", "other-avery-last"],
)
def test_GRP_01_one_replacement_per_person_whatever_the_roster_order(peers: list[Peer]):
    assert (
        replace_peer_mentions("Practised with Avery Elderhurst and Blake.", peers)
        == "Practised with a peer and a peer."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Avery (Blake) Elderhurst led.", "a peer led."),
        ("Blake (Avery Elderhurst) led.", "a peer led."),
        ("Avery Elderhurst's scenario.", "a peer's scenario."),
        ("Avery, Blake and Quill.", "a peer, a peer and a peer."),
    ],
)
def test_GRP_01_longest_match_wins_and_one_reference_is_one_peer(text: str, expected: str):
    assert replace_peer_mentions(text, [OTHER_AVERY, ELDERHURST]) == expected


def test_GRP_01_mentions_never_overlap():
    mentions = find_peer_mentions("Avery Elderhurst and Avery Quill", [OTHER_AVERY, ELDERHURST])
    assert [m.text for m in mentions] == ["Avery Elderhurst", "Avery Quill"]
