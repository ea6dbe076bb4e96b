"""Event type names: one vocabulary, the engine's.

A name is a built-in type ("page_view", "purchase", ...) or a custom type
registered on the engine first (Engine.register_event_type), as `bvt`
wants custom types declared.  Any other name is refused with UnknownType,
suggesting the nearest known name when one is close: equal once case and
separators are ignored ("PageView", "pageview"), or within one edit of a
name of up to 5 letters, two of a longer one ("purchse").  The Go binding
suggests by the same rule.
"""
from __future__ import annotations

from ctypes import byref, c_uint32
from typing import Any, List, Optional

from . import _lib
from ._args import c_text
from ._lib import lib, new_error
from .errors import error_for

ETYPE = -7  # BVT_ETYPE


def known_names(handle: Any) -> List[str]:
    """Every type name the engine knows, built-in first, by id."""
    names = []
    for type_id in range(_lib.EVENT_TYPE_MAX):
        name = lib.bvt_event_type_name(handle, type_id)
        if name:
            names.append(name.decode())
    return names


def _fold(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggest(name: str, names: List[str]) -> Optional[str]:
    """The known name nearest to name, if it is near enough (see above)."""
    best, best_d = None, None
    key = _fold(name)
    for known in names:
        k = _fold(known)
        d = _edits(key, k)
        if d <= (1 if len(k) <= 5 else 2) and (best_d is None or d < best_d):
            best, best_d = known, d
    return best


def unknown_message(name: str, names: List[str]) -> str:
    near = suggest(name, names)
    if near is not None:
        return f"unknown event type {name!r}; did you mean {near}?"
    return (f"unknown event type {name!r}; custom types must be registered first "
            f"(Engine.register_event_type)")


def lookup(handle: Any, name: Any, field: str = "type") -> int:
    """The id of a type name, or UnknownType naming field, with a suggestion."""
    out = c_uint32()
    rc = lib.bvt_event_type_lookup(handle, c_text(name, field), byref(out))
    if rc == 0:
        return out.value
    text = name.decode(errors="replace") if isinstance(name, bytes) else name
    message = unknown_message(text, known_names(handle)) if rc == ETYPE else None
    raise error_for(rc, f"{field}: {message}" if message else None)


def register(handle: Any, name: Any, interest_weight: float) -> int:
    """bvt_event_type_register: the new (or existing, same weight) id."""
    out = c_uint32()
    err = new_error()
    rc = lib.bvt_event_type_register(handle, c_text(name, "name"), float(interest_weight),
                                     byref(out), byref(err))
    if rc != 0:
        raise error_for(rc, err.message.decode(errors="replace") if err.code == rc else None,
                        err.offset)
    return out.value
