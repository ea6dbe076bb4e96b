"""A DataFrame's time column as epoch milliseconds, read as `bvt` reads a file.

- datetime64 columns, of any unit and naive (UTC) or tz-aware, are
  converted exactly (_times.datetime64_ms);
- text is read by bvt_time_parse(), each distinct value once;
- whole numbers are read under ``time_format``.  With "auto" a column
  whose values have 8 digits (a YYYYMMDD date or milliseconds?) or 9-10
  (epoch seconds or milliseconds?) is ambiguous and refused as a whole,
  naming a row, its value and the ``time_format=`` keyword; other whole
  numbers are epoch milliseconds.  The library decides by the number of
  digits, so it is asked about one value of each length and the others of
  that length are read the same way; negative numbers, numbers too large
  to scale, and every number under "yyyymmdd" or "iso" are asked about
  one distinct value at a time;
- date and time objects in an object column go through _times.time_ms,
  as single times do.

A value that cannot be read refuses its row (missing, not a time, out of
range): it is added to a RowProblems.  Only an ambiguous column raises.
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, Tuple

import numpy as np
import pandas as pd

from ._rows import RowProblems
from ._times import (AUTO, EPOCH_S, INT64_MAX, ISO, TIME_FORMATS, YYYYMMDD, ambiguous,
                     datetime64_ms, parse_text, time_ms)

_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)

Refused = Dict[int, Tuple[str, type]]  # position -> (reason, exception class)


def _text_ms(text: bytes, fmt: int, column: str, row: int, value: Any) -> Tuple[int, Any]:
    """(ms, None) or (0, refusal) for one text; raises if it is ambiguous:
    a column's format is for its writer to say, not one row's problem."""
    got, why = parse_text(text, fmt)
    if why is None:
        return got, None
    if fmt == AUTO and ambiguous(text):
        choices = ", ".join(repr(f) for f in TIME_FORMATS if f != "auto")
        raise ValueError(f"{column}[{row}] = {value!r}: {why}; say how column {column!r} is "
                         f"written with time_format= (one of {choices})")
    return 0, (why, ValueError)


def _whole_numbers(values: np.ndarray) -> Tuple[np.ndarray, Refused]:
    """Numbers as int64; what is not a whole number within int64 is refused."""
    refused: Refused = {}
    if values.dtype.kind == "i":
        return values.astype(np.int64), refused
    if values.dtype.kind == "u":
        over = values > np.uint64(INT64_MAX)
        for i in np.flatnonzero(over).tolist():
            refused[i] = (f"{int(values[i])} does not fit int64_t", OverflowError)
        return np.where(over, 0, values).astype(np.int64), refused
    if values.dtype.kind == "f":
        na = np.isnan(values)
        frac = ~na & (~np.isfinite(values) | (values != np.floor(values)))
        over = ~na & ~frac & ((values < -2.0**63) | (values >= 2.0**63))
        for mask, why, exc in ((na, "missing time", ValueError),
                               (frac, "{!r} is not a whole number of milliseconds", ValueError),
                               (over, "{!r} does not fit int64_t", OverflowError)):
            for i in np.flatnonzero(mask).tolist():
                refused[i] = (why.format(float(values[i])), exc)
        return np.where(na | frac | over, 0, values).astype(np.int64), refused
    out = np.zeros(len(values), dtype=np.int64)
    for i, v in enumerate(values.tolist()):  # Python objects: ints of any size, floats
        if v != v:
            refused[i] = ("missing time", ValueError)
        elif isinstance(v, float) and not v.is_integer():
            refused[i] = (f"{v!r} is not a whole number of milliseconds", ValueError)
        elif not -2.0**63 <= v < 2.0**63 or not -INT64_MAX - 1 <= int(v) <= INT64_MAX:
            refused[i] = (f"{v!r} does not fit int64_t", OverflowError)
        else:
            out[i] = int(v)
    return out, refused


def _numbers(values: np.ndarray, fmt: int, column: str,
             rows: np.ndarray) -> Tuple[np.ndarray, Refused]:
    """Epoch ms of numbers (rows: each value's row, for messages)."""
    v, refused = _whole_numbers(values)
    ok = np.ones(len(v), dtype=bool)
    ok[list(refused)] = False
    ms = np.zeros(len(v), dtype=np.int64)
    if fmt in (YYYYMMDD, ISO):
        ask_each = ok
    else:
        factor = 1000 if fmt == EPOCH_S else 1
        ask_each = ok & ((v < 0) | (v > INT64_MAX // factor))
        lengths = np.maximum(np.searchsorted(_POW10, v, side="right"), 1)
        fast = ok & ~ask_each
        for n in np.unique(lengths[fast]).tolist():
            same = fast & (lengths == n)
            i = int(np.argmax(same))
            got, why = _text_ms(str(int(v[i])).encode(), fmt, column, int(rows[i]),
                                int(v[i]))
            if why is None and got == int(v[i]) * factor:
                ms[same] = v[same] * factor
            else:  # the library reads this length otherwise: ask about each value
                ask_each = ask_each | same
    at = np.flatnonzero(ask_each)
    uniq, first, inverse = np.unique(v[at], return_index=True, return_inverse=True)
    answers = [_text_ms(str(u).encode(), fmt, column, int(rows[at[k]]), u)
               for u, k in zip(uniq.tolist(), first.tolist())]
    for i, j in zip(at.tolist(), inverse.tolist()):
        ms[i], why = answers[j]
        if why is not None:
            refused[i] = why
    return ms, refused


def _other(u: Any) -> Tuple[int, Any]:
    """(ms, None) or (0, refusal) for a value that is neither text nor a number."""
    if isinstance(u, (datetime.date, np.datetime64)):
        try:
            return time_ms(u, "time"), None
        except (ValueError, OverflowError) as e:
            return 0, (str(e).split(": ", 1)[-1], type(e))
    return 0, (f"{type(u).__name__} {u!r} is not a time", TypeError)


def _objects(s: pd.Series, fmt: int, column: str) -> Tuple[np.ndarray, Refused]:
    """A column of Python objects, read one distinct value at a time."""
    codes, uniques = pd.factorize(s)
    uniques = list(uniques)
    present = codes >= 0
    first_row = np.zeros(len(uniques), dtype=np.int64)
    first_row[codes[present][::-1]] = np.flatnonzero(present)[::-1]
    ms_u = np.zeros(len(uniques), dtype=np.int64)
    why_u: Dict[int, Any] = {}
    numbers = [j for j, u in enumerate(uniques) if not isinstance(u, bool)
               and isinstance(u, (int, float, np.integer, np.floating))]
    if numbers:
        got, refused = _numbers(np.array([uniques[j] for j in numbers], dtype=object), fmt,
                                column, first_row[numbers])
        ms_u[numbers] = got
        why_u.update({numbers[k]: why for k, why in refused.items()})
    number_set = set(numbers)
    for j, u in enumerate(uniques):
        if isinstance(u, (str, bytes)):
            ms_u[j], why_u[j] = _text_ms(u.encode() if isinstance(u, str) else u, fmt, column,
                                         int(first_row[j]), u)
        elif j not in number_set:
            ms_u[j], why_u[j] = _other(u)
    refused: Refused = {i: ("missing time", ValueError)
                        for i in np.flatnonzero(~present).tolist()}
    for j, why in why_u.items():
        if why is not None:
            refused.update({i: why for i in np.flatnonzero(codes == j).tolist()})
    return np.where(present, ms_u[np.where(present, codes, 0)], 0), refused


def column_ms(col: Any, column: str, fmt: int, problems: RowProblems) -> np.ndarray:
    """Epoch ms of every row of a time column; rows that cannot be read are
    added to problems (and hold 0).  Raises for an ambiguous column."""
    s = pd.Series(col).reset_index(drop=True)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(s):
        ms, nat, over = datetime64_ms(s.to_numpy())
        refused: Refused = {i: ("missing time (NaT)", ValueError)
                            for i in np.flatnonzero(nat).tolist()}
        refused.update({i: (f"{s.iloc[i]} is outside epoch milliseconds", OverflowError)
                        for i in np.flatnonzero(over).tolist()})
    elif pd.api.types.is_bool_dtype(s):
        raise TypeError(f"{column}: a time column cannot be bool")
    elif pd.api.types.is_numeric_dtype(s):
        if isinstance(s.dtype, pd.api.extensions.ExtensionDtype):  # nullable Int64, ...
            s = s.astype(object).where(s.notna(), np.nan)
            values = s.to_numpy(dtype=object)
        else:
            values = s.to_numpy()
        ms, refused = _numbers(values, fmt, column, np.arange(len(s)))
    else:
        ms, refused = _objects(s.astype(object), fmt, column)
    for i, (reason, exc) in sorted(refused.items()):
        problems.add(i, column, reason, exc)
        ms[i] = 0
    return ms
