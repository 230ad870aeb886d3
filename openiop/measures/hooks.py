"""Extension points other apps register with; measures only calls them.

`ON_CRITICAL` hooks run inside `assessment_record`'s transaction whenever a scored
administration endorses a critical item (PHQ-9 item 9, CORE-10 item 6, any C-SSRS yes). A hook
that raises rolls the whole assessment back, so a critical answer is never stored without the
safety workflow having started (clinical.md section 6). The safety app appends itself here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openiop.measures.models import Assessment

ON_CRITICAL: list[Callable[[Assessment], None]] = []
