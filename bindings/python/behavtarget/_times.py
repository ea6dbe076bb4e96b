"""Times: every value the binding takes as a time, read one way.

Text goes to the library's own reader, bvt_time_parse(), which `bvt` and
the decision server use too, so a string means the same thing in a file,
a request and a Python call; it refuses what could mean two things
(``"20240301"``: a date or epoch milliseconds?) instead of guessing.
Date and time objects need no reading: they are converted exactly, naive
ones as UTC.  A lone integer is epoch milliseconds, as the ``time_ms``
and ``now`` parameters say.  Columns of a DataFrame are read in
frame_times.py from the same pieces.
"""
from __future__ import annotations

import datetime
from ctypes import byref, c_int64
from typing import Any, Optional, Tuple

from ._args import c_int
from ._lib import lib, new_error

try:  # numpy is optional: without it there are no datetime64 values to read
    import numpy as np
except ImportError:  # pragma: no cover - numpy is there in the tests
    np = None

# enum bvt_time_format, by the names `bvt` and the library's messages use.
TIME_FORMATS = {"auto": 0, "epoch-ms": 1, "epoch-s": 2, "yyyymmdd": 3, "iso": 4}
AUTO, EPOCH_MS, EPOCH_S, YYYYMMDD, ISO = range(5)

DAY_MS = 86_400_000
INT64_MAX = 2**63 - 1
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def format_id(name: Optional[str]) -> int:
    """The enum value of a time_format name; None is "auto"."""
    if name is None:
        return AUTO
    if isinstance(name, str) and name in TIME_FORMATS:
        return TIME_FORMATS[name]
    raise ValueError(f"time_format must be one of {', '.join(map(repr, TIME_FORMATS))}, "
                     f"not {name!r}")


def parse_text(text: bytes, fmt: int) -> Tuple[int, Optional[str]]:
    """bvt_time_parse: (epoch ms, None), or (0, the library's reason)."""
    out = c_int64()
    err = new_error()
    if lib.bvt_time_parse(text, len(text), fmt, byref(out), byref(err)) == 0:
        return out.value, None
    return 0, err.message.decode(errors="replace") or lib.bvt_strerror(err.code).decode()


def ambiguous(text: bytes) -> bool:
    """Whether "auto" refused text only because it could mean two things:
    it is a whole number the library reads as milliseconds when told to."""
    return parse_text(text, AUTO)[1] is not None and parse_text(text, EPOCH_MS)[1] is None


def parse_time(text: Any, format: str = "auto") -> int:
    """Epoch milliseconds of a time written as text, read by the library's
    bvt_time_parse() as `bvt` reads it.  ``format`` is "auto" (ISO 8601,
    or an integer that can only be milliseconds), "epoch-ms", "epoch-s",
    "yyyymmdd" or "iso".  Raises ValueError with the library's reason."""
    return _text_ms(text, "time", format_id(format))


def _text_ms(text: Any, field: str, fmt: int) -> int:
    raw = text.encode() if isinstance(text, str) else text
    if not isinstance(raw, bytes):
        raise TypeError(f"{field}: text is required, not {type(text).__name__}")
    ms, why = parse_text(raw, fmt)
    if why is not None:
        if fmt == AUTO and ambiguous(raw):
            why += "; behavtarget.parse_time(text, format) reads it in the format you name"
        raise ValueError(f"{field}: {why}")
    return ms


def _fit(ms: int, field: str, value: Any) -> int:
    if not -INT64_MAX - 1 <= ms <= INT64_MAX:
        raise OverflowError(f"{field}: {value!r} is outside epoch milliseconds (int64_t)")
    return ms


def datetime_ms(dt: datetime.datetime, field: str) -> int:
    """Epoch ms of a datetime (or pandas.Timestamp): naive means UTC, an
    aware one is converted; below a millisecond is dropped (floor)."""
    if dt != dt:  # pandas.NaT
        raise ValueError(f"{field}: missing time (NaT)")
    us = ((dt.toordinal() - _EPOCH_ORDINAL) * 86400 + dt.hour * 3600 + dt.minute * 60
          + dt.second) * 1_000_000 + dt.microsecond
    off = dt.utcoffset()
    if off is not None:
        us -= (off.days * 86400 + off.seconds) * 1_000_000 + off.microseconds
    return _fit(us // 1000, field, dt)


_COARSE_MS = {"W": 7 * DAY_MS, "D": DAY_MS, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_FINE_PER_MS = {"us": 10**3, "ns": 10**6, "ps": 10**9, "fs": 10**12, "as": 10**15}


def datetime64_ms(a: Any) -> Tuple[Any, Any, Any]:
    """Epoch ms of a numpy datetime64 array of any unit, exactly (floor
    below a millisecond): (ms as int64, NaT mask, mask of values beyond
    int64 milliseconds).  Masked entries of ms are 0."""
    a = np.asarray(a)
    unit, count = np.datetime_data(a.dtype)
    nat = np.isnat(a)
    if unit in ("Y", "M"):  # calendar units: numpy knows their days exactly
        a, unit, count = a.astype("datetime64[D]"), "D", 1
    v = np.where(nat, 0, a.view(np.int64))
    over = np.zeros(len(v), dtype=bool)
    if unit == "generic":
        return np.zeros(len(v), np.int64), nat | (v != 0), over
    if unit in _COARSE_MS:
        mult = _COARSE_MS[unit] * count
        over = (v > INT64_MAX // mult) | (v < -(2**63 // mult))
        return np.where(over, 0, v) * mult, nat, over
    div = _FINE_PER_MS[unit]
    if div % count == 0:
        return v // (div // count), nat, over
    # A unit such as 3ns that does not divide a millisecond: exact integers.
    return np.array([int(x) * count // div for x in v], dtype=np.int64), nat, over


def time_ms(value: Any, field: str = "now") -> int:
    """Epoch milliseconds of one time the caller gave: an int (epoch ms), a
    datetime.datetime or pandas.Timestamp (naive = UTC), a datetime.date
    (midnight UTC), a numpy.datetime64 of any unit, or ISO 8601 text (read
    by bvt_time_parse, which refuses ambiguous text).  The binding's one
    conversion of a single time; the error names ``field``."""
    if isinstance(value, bool):
        raise TypeError(f"{field}: a time is required, not bool")
    if isinstance(value, (str, bytes)):
        return _text_ms(value, field, AUTO)
    if isinstance(value, datetime.datetime):  # pandas.Timestamp and NaT too
        return datetime_ms(value, field)
    if isinstance(value, datetime.date):
        return (value.toordinal() - _EPOCH_ORDINAL) * DAY_MS
    if np is not None and isinstance(value, np.datetime64):
        ms, nat, over = datetime64_ms(np.array([value]))
        if nat[0]:
            raise ValueError(f"{field}: missing time (NaT)")
        if over[0]:
            raise OverflowError(f"{field}: {value!r} is outside epoch milliseconds (int64_t)")
        return int(ms[0])
    if not isinstance(value, float) and not hasattr(value, "__index__"):
        raise TypeError(f"{field}: a time is required (epoch ms, datetime, date, "
                        f"numpy.datetime64 or ISO 8601 text), not {type(value).__name__}")
    return c_int(value, c_int64, field)
