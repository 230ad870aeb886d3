"""Issue 17 item 3: licences and instrument data (CORE-10 CC BY-NC-ND, C-SSRS and DERS-16
commercial use off until verified, BAM item 14, cutoff sources, WHO-5 and PCL-5 change)."""

from __future__ import annotations

import json

import pytest

from openiop.measures.cli import rci_main
from openiop.measures.instruments import InstrumentDisabledError, get_instrument
from openiop.measures.scoring import AnswerError, score
from openiop.testing import World


def test_item3_core10_is_cc_by_nc_nd_with_its_copyright_line() -> None:
    licence = get_instrument("core10").licence
    assert licence.id == "CC-BY-NC-ND-4.0"
    assert licence.commercial_use_allowed is False
    assert licence.modification_allowed is False
    assert licence.copyright and "CORE System Trust" in licence.copyright
    assert "CC BY-NC-ND 4.0" in licence.copyright


@pytest.mark.parametrize("code", ["core10", "cssrs", "ders16"])
def test_item3_switched_off_like_dast10(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_instrument(code).licence.commercial_use_allowed is False
    monkeypatch.setenv("OPENIOP_DISABLE_NONCOMMERCIAL", "1")
    with pytest.raises(InstrumentDisabledError, match="non-commercial"):
        get_instrument(code)


def test_item3_core10_copyright_shown_on_entry_page(world: World, client_for) -> None:
    base = (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/measures/"
    )
    page = client_for(world.clinician_a).get(base + "new/core10/").content.decode()
    assert "CORE System Trust" in page and "CC BY-NC-ND 4.0" in page


def test_item3_bam_item14_is_yes_no_scored_0_or_4() -> None:
    item = get_instrument("bam").items[13]
    assert item.codes == (0, 4)
    answers: list[int | None] = [1, 2, 3, 0, 1, 2, 4, 3, 4, 2, 1, 3, 4, 4, 0, 4, 3]
    assert score("bam", answers).subscales["protective"] == 21
    answers[13] = 0
    assert score("bam", answers).subscales["protective"] == 17
    answers[13] = 2
    with pytest.raises(AnswerError, match="item 14"):
        score("bam", answers)


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("k10", "Victorian Population Health Survey"),
        ("ucla3", "no cut-off"),
        ("brs", "The foundations of resilience"),
    ],
)
def test_item3_cutoff_sources_are_cited(code: str, needle: str) -> None:
    assert needle in get_instrument(code).citation


@pytest.mark.parametrize(
    ("argv", "reliable", "category"),
    [
        (["--instrument", "who5", "--pre", "40", "--post", "50"], "improved", "improved"),
        (["--instrument", "who5", "--pre", "40", "--post", "64"], "improved", "recovered"),
        (["--instrument", "who5", "--pre", "60", "--post", "52"], "none", "unchanged"),
        (["--instrument", "pcl5", "--pre", "50", "--post", "30"], "improved", "recovered"),
        (["--instrument", "pcl5", "--pre", "50", "--post", "45"], "none", "unchanged"),
        (["--instrument", "pcl5", "--pre", "30", "--post", "42"], "deteriorated", "deteriorated"),
    ],
)
def test_item3_who5_and_pcl5_change_thresholds(
    argv: list[str], reliable: str, category: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rci_main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["reliable"], payload["category"]) == (reliable, category)


def test_item3_who5_and_pcl5_thresholds_cite_their_sources() -> None:
    who5, pcl5 = get_instrument("who5").reliable_change, get_instrument("pcl5").reliable_change
    assert who5 is not None and (who5.threshold, who5.cutoff) == (10, 50)
    assert "Topp" in who5.source
    assert pcl5 is not None and (pcl5.threshold, pcl5.cutoff) == (10, 33)
    assert "National Center for PTSD" in pcl5.source


def test_item3_core10_copyright_shown_with_its_trajectory(world: World, client_for) -> None:
    from openiop.measures.tests.helpers import record

    record(world, world.participant_a, instrument="core10", answers=[1] * 10)
    base = (
        f"/p/{world.program_a.external_id}/participants/{world.participant_a.external_id}/measures/"
    )
    page = client_for(world.clinician_a).get(base).content.decode()
    assert "CORE System Trust" in page and "CC BY-NC-ND 4.0" in page
