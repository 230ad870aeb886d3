"""Extension points other apps register with; measures only calls them.

`ON_CRITICAL` hooks run inside `assessment_record`'s transaction whenever a scored
administration endorses a critical item (PHQ-9 item 9, CORE-10 item 6, any C-SSRS yes). A hook
that raises rolls the whole assessment back, so a critical answer is never stored without the
safety workflow having started (clinical.md section 6). The safety app appends itself here.

`ON_RECORDED` hooks run in the same transaction for every scored administration, critical or
not, after the ON_CRITICAL hooks: the safety app uses it to mark a prompted C-SSRS as done
(a C-SSRS with every answer "no" is not critical, but it still answers the prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openiop.measures.models import Assessment

ON_CRITICAL: list[Callable[[Assessment], None]] = []
ON_RECORDED: list[Callable[[Assessment], None]] = []
