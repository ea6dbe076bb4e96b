"""Checking arguments before they reach C.

ctypes converts silently: an int that does not fit a C field keeps its low
bits (``2**64 + 5`` becomes 5, ``-1`` in a uint32_t becomes 4294967295) and
a string passed as ``char *`` ends at its first NUL.  Every value the
binding hands to the library goes through one of these first, so a value C
cannot hold is refused with an exception naming the field:
OverflowError for an integer out of the C type's range (as Python's own
conversions do), ValueError for a non-integral number or a NUL inside a
string, TypeError for a value of the wrong kind.
"""
from __future__ import annotations

import ctypes
import operator
from typing import Any, Optional, Tuple, Union

# (lowest, highest) of the C integer types the API uses.
_RANGES = {}
for _t in (ctypes.c_int, ctypes.c_int32, ctypes.c_int64, ctypes.c_uint32, ctypes.c_uint64,
           ctypes.c_size_t):
    _bits = 8 * ctypes.sizeof(_t)
    _signed = _t(-1).value < 0
    _RANGES[_t] = ((-(1 << (_bits - 1)), (1 << (_bits - 1)) - 1) if _signed
                   else (0, (1 << _bits) - 1))
_C_NAMES = {ctypes.c_int: "int", ctypes.c_int32: "int32_t", ctypes.c_int64: "int64_t",
            ctypes.c_uint32: "uint32_t", ctypes.c_uint64: "uint64_t", ctypes.c_size_t: "size_t"}


def c_range(ctype: Any) -> Tuple[int, int]:
    """The (lowest, highest) value of a ctypes integer type."""
    return _RANGES[ctype]


def c_int(value: Any, ctype: Any, field: str) -> int:
    """value as a Python int that fits ctype.  Integers and objects with
    __index__ (numpy integers) are taken as they are; floats only when
    whole (1.7e12 is a time, 1.5 is a mistake)."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{field}: {value!r} is not a whole number")
        value = int(value)
    else:
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{field}: an integer is required, not "
                            f"{type(value).__name__}") from None
    lo, hi = _RANGES[ctype]
    if not lo <= value <= hi:
        raise OverflowError(f"{field}: {value} does not fit {_C_NAMES[ctype]} ({lo}..{hi})")
    return value


def c_bytes(value: Union[str, bytes], field: str) -> bytes:
    """Bytes passed with their length (user ids, the secret): any byte,
    NUL included."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"{field} must be str or bytes, not {type(value).__name__}")


def c_text(value: Union[str, bytes], field: str) -> bytes:
    """A NUL-terminated C string: C would read only up to an embedded NUL,
    so one is refused."""
    b = c_bytes(value, field)
    at = b.find(b"\0")
    if at >= 0:
        raise ValueError(f"{field}: embedded NUL byte at offset {at}")
    return b


def c_text_or_none(value: Optional[Union[str, bytes]], field: str) -> Optional[bytes]:
    return None if value is None else c_text(value, field)
