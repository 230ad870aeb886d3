"""On a 360x740 phone the answer to a form the participant sent is at the top, in view and
focused (issue 18 item 8): after a check-in or a goal update the confirmation was below the
fold (the page kept the scroll position of the send button), and the "help sent" heading was
cut off at the top.

With OPENIOP_SCREENSHOTS=<dir> set, the test also saves portal-phone.png there (the portal
after a check-in); normal runs write nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from openiop.testing import PASSWORD, build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Fully inside the viewport and not under the sticky safety bar at the bottom.
IN_VIEW = """(el) => {
  const box = el.getBoundingClientRect();
  const bar = document.querySelector('.safety-bar');
  const height = window.innerHeight;
  const floor = bar ? Math.min(height, bar.getBoundingClientRect().top) : height;
  const inside = box.top >= 0 && box.bottom <= floor;
  return {top: box.top, bottom: box.bottom, left: box.left, right: box.right, floor: floor,
          ok: inside && box.left >= 0 && box.right <= window.innerWidth};
}"""


def _fully_visible(page: Page, locator) -> None:
    expect(locator).to_be_visible()
    box = locator.evaluate(IN_VIEW)
    assert box["ok"], box


def _focused_within(page: Page, locator) -> bool:
    return bool(locator.evaluate("(el) => el.contains(document.activeElement)"))


def _pick(page: Page, group: str, choice: str) -> None:
    page.get_by_role("group", name=re.compile(group)).get_by_text(choice, exact=True).click()


def test_confirmations_are_at_the_top_and_in_view_on_a_phone(phone_page, live_server):
    world = build_world()
    page, base = phone_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(world.participant_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/me/")

    # A check-in, sent from the bottom of a long form.
    page.goto(f"{base}/me/check-in/")
    _pick(page, "Mood right now", "6")
    _pick(page, "Craving right now", "2")
    _pick(page, "Have you used", "No")
    page.get_by_label("Hours slept last night").fill("7")
    _pick(page, "Did you take your medication", "Yes, as prescribed")
    _pick(page, "Are you having thoughts", "No")
    page.get_by_role("button", name="Send check-in").click()
    saved = page.get_by_role("status").filter(has_text="Check-in saved")
    _fully_visible(page, saved)
    assert _focused_within(page, page.locator("#messages"))
    if os.environ.get("OPENIOP_SCREENSHOTS"):
        folder = Path(os.environ["OPENIOP_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "portal-phone.png"))

    # A goal, then an update sent from further down the page.
    page.goto(f"{base}/me/goals/")
    page.get_by_label("My goal this week").fill("Go to two meetings")
    page.get_by_role("button", name="Add goal").click()
    _fully_visible(page, page.get_by_role("status").filter(has_text="Goal added"))
    page.get_by_role("link", name=re.compile("Update")).first.click()
    _pick(page, "How did it go", "Done")
    page.get_by_role("button", name="Save update").click()
    updated = page.get_by_role("status").filter(has_text="Update saved")
    _fully_visible(page, updated)
    assert _focused_within(page, page.locator("#messages"))

    # "I need help now": the answer's heading is whole and in view, and has the focus.
    page.goto(f"{base}/me/help/")
    page.get_by_role("button", name="I need help now").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("care team"))
    _fully_visible(page, heading)
    assert heading.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    assert _focused_within(page, page.locator("main"))
