"""`{{ moment|program_time }}`: a time on a page, on the program's clock, with its zone.

Every staff program page and every portal page runs in the program's zone (activated where
the request's program is resolved, `clock.use_program_zone`), so a check-in made on Thursday
at 23:09 in New York reads "Thu 3 Dec 23:09 EST", never "Fri 4 Dec 04:09". A time of day is
labelled with the zone's abbreviation (EST, EDT; UTC where no program is known), because a
bare "04:09" next to a signature or an autosave could be read in any zone. Dates alone need no
label, but are still the program's dates.

Styles: "datetime" (default, "Thu 3 Dec 23:09 EST"), "full" ("Thu 2026-12-03 23:09 EST"),
"iso" ("2026-12-03 23:09 EST"), "time" ("23:09 EST"), "seconds" ("23:09:41 EST"),
"day_time" ("Thu 23:09 EST"), "date" ("2026-12-03"), or any Django date format.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat

from openiop.core import clock

register = template.Library()

STYLES = {
    "datetime": "D j M H:i T",
    "full": "D Y-m-d H:i T",
    "iso": "Y-m-d H:i T",
    "time": "H:i T",
    "seconds": "H:i:s T",
    "day_time": "D H:i T",
    "date": "Y-m-d",
}


def _with_zone_label(fmt: str, label: str) -> str:
    """The format with each unescaped `T` replaced by the zone label as literal text. Django's
    own `T` is empty for a time in the repeated hour of a fall-back night (01:31 happens
    twice), exactly when the label is needed to tell EDT from EST."""
    out = []
    escaped = False
    for char in fmt:
        if escaped:
            out.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "T":
            out.append("".join("\\" + c for c in label))
        else:
            out.append(char)
    return "".join(out)


@register.filter
def program_time(value: object, style: str = "datetime") -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        return ""
    local = clock.in_active_zone(value)
    fmt = _with_zone_label(STYLES.get(style, style), local.tzname() or "")
    return dateformat.format(local, fmt)
