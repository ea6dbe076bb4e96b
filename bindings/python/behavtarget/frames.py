"""numpy/pandas helpers: whole DataFrames tracked in one batch call.

Events are built as a numpy structured array laid out as bvt_event (the
offsets are read from the ctypes mirror), so a frame reaches the library
without a Python loop per event apart from encoding the strings.  Bad rows
are gathered column by column (_rows.RowProblems) and then raised or
returned; the time column is read in frame_times.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any, List, Optional, Sequence

import numpy as np
import pandas as pd

from . import _lib
from ._args import c_range
from ._lib import lib
from ._rows import RowError, RowProblems
from ._times import format_id, time_ms
from .engine import Engine
from .errors import BehavtargetError, error_class
from .frame_times import column_ms

DAY_MS = 86_400_000
BVT_NONE = 0xFFFFFFFF


def _event_dtype() -> np.dtype:
    names, formats, offsets = [], [], []
    for name, ctype in _lib.Event._fields_:
        names.append(name)
        if ctype is ctypes.c_void_p:
            formats.append(np.uintp)
        else:
            formats.append(np.dtype(ctype))
        offsets.append(getattr(_lib.Event, name).offset)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets,
                     "itemsize": ctypes.sizeof(_lib.Event)})


EVENT_DTYPE = _event_dtype()


def _prototype(n: int) -> np.ndarray:
    """n events as bvt_event_init() leaves them (version and defaults from C)."""
    proto = _lib.Event()
    lib.bvt_event_init(ctypes.byref(proto))
    one = np.frombuffer(ctypes.string_at(ctypes.addressof(proto), ctypes.sizeof(proto)),
                        dtype=EVENT_DTYPE)
    return np.repeat(one, n)


def _encode(values: Sequence[Any]) -> List[Optional[bytes]]:
    out: List[Optional[bytes]] = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, bytes):
            out.append(v)
        else:
            out.append(str(v).encode())
    return out


def _no_nul(encoded: List[Optional[bytes]], column: str, problems: RowProblems) -> None:
    """C strings end at a NUL: one inside a value would cut it short."""
    for row, e in enumerate(encoded):
        at = -1 if e is None else e.find(b"\0")
        if at >= 0:
            problems.add(row, column, f"embedded NUL byte at offset {at}")


def _ints(col: Any, ctype: Any, column: str, problems: RowProblems,
          missing: Optional[int] = None) -> np.ndarray:
    """A column as int64 or uint64 values that fit ctype: numpy would wrap
    what does not (-1 into uint32_t is 4294967295), so such rows are
    refused, as are non-whole numbers.  Missing values become `missing`,
    or are refused when it is None.  Refused rows hold 0."""
    lo, hi = c_range(ctype)
    s = pd.Series(col).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s):
        s = s.astype(np.int64)
    na = s.isna().to_numpy()
    if na.any():
        if missing is None:
            problems.add_rows(np.flatnonzero(na), column, "missing value")
        s = s.where(~na, 0 if missing is None else missing)
    if pd.api.types.is_integer_dtype(s) and not isinstance(s.dtype,
                                                           pd.api.extensions.ExtensionDtype):
        a = s.to_numpy()
        # compare in the column's own type: no float rounding near 2**63
        bad = (a > hi) if a.dtype.kind == "u" else (a < lo) | (a > min(hi, 2 ** 63 - 1))
    elif pd.api.types.is_float_dtype(s) and not isinstance(s.dtype,
                                                           pd.api.extensions.ExtensionDtype):
        a = s.to_numpy(dtype=np.float64)
        # float(hi) rounds up to a power of two for 64-bit types: >= excludes it
        bad = ~np.isfinite(a) | (a != np.floor(a)) | (a < lo) | (a >= float(hi) + 1)
    else:  # Python objects: exact ints
        vals = s.tolist()
        bad = np.zeros(len(vals), dtype=bool)
        for i, v in enumerate(vals):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            bad[i] = not (isinstance(v, (int, np.integer)) and lo <= v <= hi)
        a = None
    for row in np.flatnonzero(bad).tolist():
        v = s.iloc[row]
        if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
            problems.add(row, column, f"{v} does not fit the C field ({lo}..{hi})",
                         OverflowError)
        else:
            problems.add(row, column, f"{v!r} is not a whole number")
    dtype = np.uint64 if lo == 0 else np.int64
    if a is None:
        return np.array([0 if b else int(v) for v, b in zip(s.tolist(), bad)], dtype=dtype)
    return np.where(bad, 0, a).astype(dtype)


def _pack(encoded: List[Optional[bytes]], keep: list, terminate: bool):
    """One buffer holding every string; (pointers, lengths), NULL for None."""
    parts = [b"" if e is None else e for e in encoded]
    lens = np.fromiter((len(p) for p in parts), dtype=np.uintp, count=len(parts))
    sep = b"\0" if terminate else b""
    buf = sep.join(parts) + sep
    # The buffer's own memory: a numpy view of it stays valid while buf lives.
    view = np.frombuffer(buf, dtype=np.uint8) if buf else np.zeros(1, np.uint8)
    keep.append(buf)
    keep.append(view)
    step = lens + (1 if terminate else 0)
    starts = np.cumsum(step) - step
    ptrs = (view.ctypes.data + starts).astype(np.uintp)
    missing = np.fromiter((e is None for e in encoded), dtype=bool, count=len(encoded))
    ptrs[missing] = 0
    return ptrs, lens


def to_ms(col: Any, column: str = "time", time_format: Optional[str] = None) -> np.ndarray:
    """Epoch milliseconds of a column of times, read as track_frame reads
    its time column (see frame_times); the first value that cannot be read
    raises."""
    problems = RowProblems()
    ms = column_ms(col, column, format_id(time_format), problems)
    if len(problems):
        raise problems.first_exception()
    return ms


def _column(df: Any, *names: str) -> Optional[str]:
    for n in names:
        if n in df.columns:
            return n
    return None


_STRING_COLUMNS = (("category", ("category",)), ("item_id", ("item", "item_id")),
                   ("offer_id", ("offer", "offer_id")), ("search_text", ("search_text",)))


ERRORS = ("raise", "collect")


def track_frame(engine: Engine, df: Any, errors: str = "raise",
                time_format: Optional[str] = None) -> List[RowError]:
    """Track every row of ``df`` as one event, in bvt_event_track_batch calls.

    Columns: ``user_id``, ``timestamp`` or ``time_ms`` (see below), ``type``
    (names or ids); optional ``category``, ``value``, ``item``, ``offer``,
    ``quantity``, ``dwell_ms``, ``search_text`` (missing values are left
    unset).

    The time column may hold datetime64 values (any unit, naive = UTC, or
    tz-aware), text (read by bvt_time_parse(), as `bvt` reads it), whole
    numbers, or date/datetime/Timestamp objects.  Numbers are epoch ms,
    but a column of 8-digit (YYYYMMDD?) or 9-10-digit (epoch seconds?)
    numbers is refused as ambiguous unless ``time_format`` says how it is
    written: "epoch-ms", "epoch-s", "yyyymmdd" or "iso" ("auto", the
    default, guesses nothing).

    ``errors="raise"`` (the default): the first bad row raises, naming the
    column, the row (its position) and the reason.  Rows the binding can
    judge (types, times, numbers C cannot hold, NUL bytes) are checked
    before anything is tracked, so then nothing is.  Rows only the library
    refuses (a negative value, a bad category path, a full user table...)
    are known after the batch: the other rows are tracked, and the
    exception's ``row_errors`` lists every refused row.
    ``errors="collect"``: every good row is tracked, and the bad ones are
    returned as RowError(row, column, reason), by row (pandas.DataFrame()
    of the list makes a table).  With no bad row, both return [].
    An ambiguous time column raises in either mode: it is not one bad row.
    """
    if errors not in ERRORS:
        raise ValueError(f"errors must be one of {ERRORS}, not {errors!r}")
    events, keep, problems, columns = build_events(engine, df, time_format)
    if errors == "raise" and len(problems):
        raise problems.first_exception()
    rows = np.flatnonzero(~problems.mask(len(events)))
    todo = events if len(rows) == len(events) else events[rows]
    refused = RowProblems()
    for r in engine._track_array(todo.ctypes.data, len(todo)):
        refused.add(int(rows[r.index]), columns.get(r.field), r.message, error_class(r.code),
                    r.code)
    del keep  # the strings the events point into lived through the calls
    if errors == "raise" and len(refused):
        e = refused.first_exception(
            f" ({len(refused)} row(s) refused by the library; the others were tracked: "
            f"errors='collect' lists every refused row)")
        e.row_errors = refused.errors()
        raise e
    return sorted(problems.errors() + refused.errors())


def _types(engine: Engine, col: Any, problems: RowProblems) -> np.ndarray:
    """Type ids of a column of names or ids; unknown names refuse their rows."""
    types = pd.Series(col).reset_index(drop=True)
    if pd.api.types.is_integer_dtype(types) or pd.api.types.is_float_dtype(types):
        return _ints(types, ctypes.c_uint32, "type", problems)
    codes, uniques = pd.factorize(types)
    ids = np.zeros(len(uniques), dtype=np.uint32)
    for j, u in enumerate(uniques):
        try:
            ids[j] = engine.event_type(u if isinstance(u, (str, bytes, int, np.integer))
                                       else str(u), "type")
        except (BehavtargetError, ValueError, OverflowError, TypeError) as e:
            reason = str(e)[len("type: "):] if str(e).startswith("type: ") else str(e)
            problems.add_rows(np.flatnonzero(codes == j), "type", reason, type(e),
                              getattr(e, "code", -1))
    problems.add_rows(np.flatnonzero(codes < 0), "type", "missing value")
    return np.where(codes >= 0, ids[np.maximum(codes, 0)] if len(ids) else 0, 0)


def build_events(engine: Engine, df: Any, time_format: Optional[str] = None):
    """The bvt_event array for ``df`` (see track_frame), the buffers its
    pointers borrow (keep both alive while the library reads them), the
    rows refused so far, and the frame column of each bvt_event field."""
    user_col = _column(df, "user_id")
    time_col = _column(df, "time_ms", "timestamp")
    if user_col is None or time_col is None or "type" not in df.columns:
        raise ValueError("track_frame needs columns user_id, timestamp or time_ms, and type")
    fmt = format_id(time_format)
    problems = RowProblems()
    columns = {"user": user_col, "time_ms": time_col, "type": "type"}
    n = len(df)
    events = _prototype(n)
    keep: list = [events]
    ptrs, lens = _pack(_encode(df[user_col].tolist()), keep, terminate=False)
    events["user_id"] = ptrs
    events["user_id_len"] = lens
    events["time_ms"] = column_ms(df[time_col], time_col, fmt, problems)
    events["type"] = _types(engine, df["type"], problems)
    for field, names in _STRING_COLUMNS:
        col = _column(df, *names)
        if col is not None:
            columns[field] = col
            encoded = _encode(df[col].tolist())
            _no_nul(encoded, col, problems)
            events[field] = _pack(encoded, keep, terminate=True)[0]
    if "value" in df.columns:
        columns["value"] = "value"
        events["value"] = df["value"].fillna(0).to_numpy(dtype=np.float64)
    for field, ctype in (("quantity", ctypes.c_uint32), ("dwell_ms", ctypes.c_int64)):
        if field in df.columns:
            columns[field] = field
            events[field] = _ints(df[field], ctype, field, problems, missing=0)
    return events, keep, problems, columns


def rfm_summary(df: Any, end: Any = None, unit_days: int = 1,
                customer: Optional[str] = None, time: Optional[str] = None,
                value: str = "value", time_format: Optional[str] = None) -> Any:
    """lifetimes' summary_data_from_transaction_data, computed by the library.

    Each row of ``df`` is a purchase of ``customer`` (default column
    ``customer_id`` or ``user_id``) at ``time`` (``date``, ``timestamp`` or
    ``time_ms``) worth ``value``; purchases are summed per UTC day.  Rows
    after the UTC day of ``end`` (default: the latest row) are ignored, as in
    `bvt rfm`.  Returns a DataFrame indexed by customer, sorted, with columns
    frequency, recency, T and monetary_value (``unit_days`` days per unit).
    The time column is read as track_frame reads one (``time_format`` as
    there); ``end`` is any single time Engine methods take.
    """
    customer = customer or _column(df, "customer_id", "user_id")
    time = time or _column(df, "date", "timestamp", "time_ms")
    if customer is None or time is None or value not in df.columns:
        raise ValueError("rfm_summary needs customer, time and value columns")
    if unit_days < 1:
        raise ValueError("unit_days must be >= 1")
    ms = to_ms(df[time], time, time_format)
    if end is None:
        end_ms = int(ms.max()) if len(ms) else 1
    else:
        end_ms = (time_ms(end, "end") // DAY_MS + 1) * DAY_MS - 1
    kept = ms // DAY_MS <= end_ms // DAY_MS
    codes, uniques = pd.factorize(df[customer])
    codes, ms = codes[kept], ms[kept]
    values = df[value].to_numpy(dtype=np.float64)[kept]
    # Each customer's purchases in time order: the library counts a late
    # purchase older than its (here absent) history as a new purchase day.
    order = np.lexsort((ms, codes))
    frame = pd.DataFrame({"user_id": [uniques[c] for c in codes[order]],
                          "time_ms": ms[order], "type": 4, "value": values[order]})
    present = np.unique(codes)
    # The summary is asked at or after every last purchase, so the library
    # answers from its counters: no history, cart or attributes are needed.
    with Engine(os.urandom(32), history_events=BVT_NONE, history_day_slots=BVT_NONE,
                cart_items=BVT_NONE, max_attributes=BVT_NONE,
                max_users=max(len(present), 1)) as engine:
        track_frame(engine, frame, time_format="epoch-ms")
        rows = []
        for c in present:
            s = engine.rfm(_key(uniques[c]), end_ms, unit_days * DAY_MS)
            rows.append((uniques[c], s.frequency, s.recency, s.T, s.monetary_value))
    out = pd.DataFrame(rows, columns=[customer, "frequency", "recency", "T",
                                      "monetary_value"]).set_index(customer)
    return out.sort_index()


def _key(user: Any) -> Any:
    return user if isinstance(user, (str, bytes)) else str(user)
