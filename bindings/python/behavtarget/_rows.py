"""Bad rows of a frame: found column by column, then raised or returned.

Every check of track_frame records the rows it refuses here instead of
raising at once, so that errors="collect" can track every other row and
errors="raise" can raise for the first bad row of the frame (the lowest
position, whichever column found it) with the exception the check chose.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Type

import numpy as np

from .errors import BehavtargetError


@dataclass(frozen=True, order=True)
class RowError:
    """A row of a frame that was not tracked: its position in the frame
    (0-based, whatever the index), the column at fault (None when the
    library did not say) and the reason."""
    row: int
    column: Optional[str]
    reason: str


class RowProblems:
    """The rows refused so far, each with the exception class (and, for the
    library's refusals, its status code) that raising it would use."""

    def __init__(self) -> None:
        self._items: List[tuple] = []  # (row, seq, column, reason, exc, code)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, row: int, column: Optional[str], reason: str,
            exc: Type[Exception] = ValueError, code: int = -1) -> None:
        self._items.append((int(row), len(self._items), column, reason, exc, code))

    def add_rows(self, rows: Any, column: Optional[str], reason: str,
                 exc: Type[Exception] = ValueError, code: int = -1) -> None:
        for r in np.asarray(rows).tolist():
            self.add(r, column, reason, exc, code)

    def mask(self, n: int) -> np.ndarray:
        """True for every refused row."""
        m = np.zeros(n, dtype=bool)
        if self._items:
            m[[it[0] for it in self._items]] = True
        return m

    def errors(self) -> List[RowError]:
        """One RowError per refusal, by row (a row may have several)."""
        return [RowError(row, column, reason)
                for row, _, column, reason, _, _ in sorted(self._items, key=lambda it: it[:2])]

    def first_exception(self, note: str = "") -> Optional[Exception]:
        """The exception for the lowest refused row, named column[row]."""
        if not self._items:
            return None
        row, _, column, reason, exc, code = min(self._items, key=lambda it: it[:2])
        message = f"{column}[{row}]: {reason}" if column else f"row {row}: {reason}"
        message += note
        if issubclass(exc, BehavtargetError):
            return exc(code, message, row)
        return exc(message)
