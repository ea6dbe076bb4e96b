"""Why the library refused each event of a batch, and in which field.

bvt_event_track_batch() reports every refused event's status, but its
message only for the first.  A status names the field by itself for most
codes (BVT_ETYPE: the type; BVT_EFULL and BVT_ECONSENT: the user;
BVT_ELIMIT: the category registry).  BVT_EINVAL is the library's
validation of one of several fields, which depends on the event alone:
the binding finds which by tracking, into a private scratch engine, a
plain event carrying one field of the refused one at a time (in the order
the library checks them).  The first that fails is the field, and the
library's message says why.  The caller's engine sees nothing of this.
"""
from __future__ import annotations

import ctypes
import os
from ctypes import byref
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Tuple

from . import _lib
from ._lib import lib, new_error

EINVAL, EFULL, ELIMIT, ETYPE, ECONSENT = -1, -4, -5, -7, -14

# The field a status points at, whatever the event.
_FIELD_OF_CODE = {ETYPE: "type", EFULL: "user", ECONSENT: "user", ELIMIT: "category"}

# Fields the library validates, in its order: (name, bvt_event members).
_PROBES = (("user", ("user_id", "user_id_len")), ("time_ms", ("time_ms",)),
           ("value", ("value",)), ("dwell_ms", ("dwell_ms",)), ("category", ("category",)))

_PLAIN_USER = ctypes.create_string_buffer(b"x", 1)


@dataclass(frozen=True)
class Refusal:
    """One refused event: its index in the batch, status, field (a bvt_event
    field name: "user", "type", "time_ms", "value", "dwell_ms",
    "category"; None when unknown) and the library's reason."""
    index: int
    code: int
    field: Optional[str]
    message: str


class _Scratch:
    """A small engine of its own, under a random secret, for probes."""

    def __enter__(self) -> "_Scratch":
        opts = _lib.Options()
        lib.bvt_options_init(byref(opts))
        secret = ctypes.create_string_buffer(os.urandom(32), 32)
        opts.secret = ctypes.cast(secret, ctypes.c_void_p)
        opts.secret_len = 32
        opts.shards = 1
        self.ptr = ctypes.c_void_p()
        rc = lib.bvt_engine_new(byref(self.ptr), byref(opts), None)
        if rc != 0:
            self.ptr = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ptr:
            lib.bvt_engine_free(self.ptr)

    def probe(self, ev: _lib.Event) -> Tuple[Optional[str], Optional[str]]:
        """(field, message) of the first field the library refuses alone."""
        if not self.ptr:
            return None, None
        plain = _lib.Event()
        for field, members in _PROBES:
            lib.bvt_event_init(byref(plain))
            plain.user_id = ctypes.cast(_PLAIN_USER, ctypes.c_void_p)
            plain.user_id_len = 1
            plain.time_ms = 1
            for m in members:
                setattr(plain, m, getattr(ev, m))
            err = new_error()
            if lib.bvt_event_track(self.ptr, byref(plain), byref(err)) == EINVAL:
                return field, err.message.decode(errors="replace")
        return None, None


def explain(failed: Iterable[Tuple[int, int]],
            event_at: Callable[[int], _lib.Event]) -> List[Refusal]:
    """Refusals for the (index, code) pairs of a batch; event_at(index)
    gives the event (still alive: its pointers are read)."""
    out: List[Refusal] = []
    scratch: Optional[_Scratch] = None
    try:
        for index, code in failed:
            field, message = _FIELD_OF_CODE.get(code), None
            if code == EINVAL:
                if scratch is None:
                    scratch = _Scratch().__enter__()
                field, message = scratch.probe(event_at(index))
            if message is None:
                message = lib.bvt_strerror(code).decode()
                if code == ETYPE:
                    message += (f" {event_at(index).type}; custom types must be registered "
                                f"first")
            out.append(Refusal(index, code, field, message))
    finally:
        if scratch is not None:
            scratch.__exit__()
    return out
