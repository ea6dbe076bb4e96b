"""The Engine class: one bvt_engine and the calls made on it."""
from __future__ import annotations

import ctypes
import json
import os
from ctypes import byref, c_int32, c_int64, c_size_t, c_uint32, c_uint64
from dataclasses import dataclass, fields
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

from . import _event_types, _lib
from ._args import c_bytes, c_int, c_text, c_text_or_none
from ._lib import lib, new_error
from ._refusals import Refusal, explain
from ._times import time_ms
from .errors import BehavtargetError, error_for

UserId = Union[str, bytes]
# A time: epoch ms (int), datetime.datetime / pandas.Timestamp (naive = UTC),
# datetime.date (midnight UTC), numpy.datetime64, or ISO 8601 text.
Time = Any

EVENT_TYPES = {
    "page_view": 0, "search": 1, "add_to_cart": 2, "remove_from_cart": 3, "purchase": 4,
    "impression": 5, "click": 6, "conversion": 7, "like": 8, "share": 9, "comment": 10,
    "email_open": 11, "dismiss": 12,
}
PURPOSES = {"personalisation": 0, "ads": 1, "analytics": 2}
JOURNAL_MODES = {"off": 0, "none": 1, "group": 2, "always": 3}
OPTIONS_FROM = {"given": 0, "recorded": 1}  # enum bvt_options_from
ACCESS = {"read-write": 0, "read-only": 1, "repair": 2}  # enum bvt_state_access


def _user(value: UserId) -> bytes:
    """A user id: passed with its length, so any bytes (NUL included)."""
    return c_bytes(value, "user")


def _time(value: Time, field: str = "now") -> int:
    return time_ms(value, field)


def _raise(code: int, err: Optional[_lib.Error] = None) -> None:
    if code != 0:
        if err is not None and err.code == code:
            raise error_for(code, err.message.decode(errors="replace"), err.offset)
        raise error_for(code)


_new_error = new_error


@dataclass(frozen=True)
class Event:
    """One event for Engine.track_batch(); mirrors bvt_event (time_ms takes
    any time Engine.track() does)."""
    user: UserId
    type: Union[str, int]
    time_ms: Time
    category: Optional[str] = None
    value: float = 0.0
    item: Optional[str] = None
    offer: Optional[str] = None
    quantity: int = 0
    dwell_ms: int = 0
    search_text: Optional[str] = None


@dataclass(frozen=True)
class BatchFailure:
    """An event of a batch the library refused: its index, the exception
    (its message names the event and field, then gives the library's
    reason) and the field at fault ("user", "type", "time_ms", "value",
    "dwell_ms", "category"; None when the library does not say)."""
    index: int
    error: BehavtargetError
    field: Optional[str] = None


@dataclass(frozen=True)
class Profile:
    """The features of bvt_profile (times in epoch ms, durations in ms)."""
    first_seen_ms: int
    last_seen_ms: int
    recency_ms: int
    last_purchase_ms: int
    purchase_recency_ms: int
    purchases: int
    purchase_days: int
    monetary_total: float
    monetary_mean: float
    r_score: int
    f_score: int
    m_score: int
    type_counts: Tuple[int, ...]
    events: int
    impressions: int
    clicks: int
    conversions: int
    ctr: float
    conversion_rate: float
    interactions: int
    sessions: int
    dwell_ms: int
    mean_dwell_ms: float
    cart_items: int
    cart_value: float
    cart_oldest_ms: int
    interests: int
    attributes: int
    history_events: int
    history_day_slots: int


@dataclass(frozen=True)
class RankedOffer:
    """One slot of a ranking (bvt_ranked_offer)."""
    offer_id: str
    offer: int
    score: float
    estimate: float
    propensity: float


@dataclass(frozen=True)
class RfmSummary:
    """lifetimes' summary of one customer (bvt_rfm_summary)."""
    frequency: float
    recency: float
    T: float
    monetary_value: float


_OPTION_TYPES = {name: ctype for name, ctype in _lib.Options._fields_
                 if name not in ("version", "secret", "secret_len", "type_weights",
                                 "type_weights_len")}


def _options(secret: UserId, options: Mapping[str, Any]) -> Tuple[_lib.Options, list]:
    """A bvt_options from bvt_options_init() plus the caller's fields; also
    the Python objects its pointers borrow, to keep alive during the call."""
    opts = _lib.Options()
    lib.bvt_options_init(byref(opts))
    keep: list = []
    raw = c_bytes(secret, "secret")
    buf = ctypes.create_string_buffer(raw, len(raw))
    keep.append(buf)
    opts.secret = ctypes.cast(buf, ctypes.c_void_p)
    opts.secret_len = len(raw)
    for name, value in options.items():
        if name == "type_weights":
            arr = (ctypes.c_double * len(value))(*[float(w) for w in value])
            keep.append(arr)
            opts.type_weights = arr
            opts.type_weights_len = c_int(len(value), c_uint32, "type_weights (length)")
        elif name in _OPTION_TYPES:
            ctype = _OPTION_TYPES[name]
            setattr(opts, name, float(value) if ctype is ctypes.c_double
                    else c_int(value, ctype, name))
        else:
            raise TypeError(f"unknown engine option {name!r}")
    return opts, keep


class Engine:
    """A libbehavtarget engine (profiles, segments, offers).

    ``Engine(secret, **options)`` makes an in-memory engine; keyword options
    are the bvt_options fields (``shards``, ``max_users``, ``history_events``,
    ...), the rest keep the library's defaults.  Use it as a context manager
    or call close(); every method raises a BehavtargetError subclass when the
    library refuses the call.  Every time (``time_ms``, ``now``, ``end_ms``)
    may be epoch ms (int), a datetime.datetime or pandas.Timestamp (naive
    ones are UTC), a datetime.date (midnight UTC), a numpy.datetime64, or
    ISO 8601 text read by the library's bvt_time_parse() (see parse_time).
    """

    def __init__(self, secret: UserId, **options: Any) -> None:
        self._ptr: Optional[ctypes.c_void_p] = None
        self._types: Dict[str, int] = {}
        opts, keep = _options(secret, options)
        ptr = ctypes.c_void_p()
        err = _new_error()
        _raise(lib.bvt_engine_new(byref(ptr), byref(opts), byref(err)), err)
        del keep
        self._ptr = ptr

    @classmethod
    def open(cls, dir: Union[str, os.PathLike], secret: UserId, journal: str = "group",
             group_commit_ms: int = 0, options_from: str = "given",
             access: str = "read-write", **options: Any) -> "Engine":
        """Open (or create) a state directory: its snapshot plus journal replay.

        ``journal`` is one of "off", "none", "group", "always" (enum
        bvt_journal_mode); the state is written back on checkpoint() and
        close().  ``options_from="recorded"`` opens with the options the
        directory was written with (``secret`` is still yours);
        ``access`` is "read-write", "read-only" (changes no file; needs
        journal="off") or "repair" (drops journal damage on purpose: see
        bvt_engine_open)."""
        if journal not in JOURNAL_MODES:
            raise ValueError(f"journal must be one of {sorted(JOURNAL_MODES)}")
        if options_from not in OPTIONS_FROM:
            raise ValueError(f"options_from must be one of {sorted(OPTIONS_FROM)}")
        if access not in ACCESS:
            raise ValueError(f"access must be one of {sorted(ACCESS)}")
        self = cls.__new__(cls)
        self._ptr = None
        self._types = {}
        opts, keep = _options(secret, options)
        st = _lib.StateOptions()
        lib.bvt_state_options_init(byref(st))
        st.journal = JOURNAL_MODES[journal]
        st.options_from = OPTIONS_FROM[options_from]
        st.access = ACCESS[access]
        st.dir = c_text(os.fsencode(dir), "dir")
        if group_commit_ms:
            st.group_commit_ms = c_int(group_commit_ms, c_uint32, "group_commit_ms")
        ptr = ctypes.c_void_p()
        err = _new_error()
        _raise(lib.bvt_engine_open(byref(ptr), byref(opts), byref(st), byref(err)), err)
        del keep
        self._ptr = ptr
        return self

    # -- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Free the C engine (a state directory is checkpointed); idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            lib.bvt_engine_free(ptr)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            self.close()

    @property
    def _handle(self) -> ctypes.c_void_p:
        if self._ptr is None:
            raise ValueError("the engine is closed")
        return self._ptr

    def checkpoint(self) -> None:
        """Write a snapshot of the state directory and truncate its journal."""
        err = _new_error()
        _raise(lib.bvt_engine_checkpoint(self._handle, byref(err)), err)

    def sync(self) -> None:
        """Make every journaled change so far durable."""
        err = _new_error()
        _raise(lib.bvt_engine_sync(self._handle, byref(err)), err)

    # -- events -----------------------------------------------------------

    def event_type(self, type: Union[str, int], field: str = "type") -> int:
        """The numeric id of an event type name (built-in or registered).
        An unknown name raises UnknownType, with the nearest known name
        when one is close ("did you mean page_view?")."""
        if not isinstance(type, (str, bytes)):
            return c_int(type, c_uint32, field)
        cached = self._types.get(type)
        if cached is None:
            cached = self._types[type] = _event_types.lookup(self._handle, type, field)
        return cached

    def register_event_type(self, name: str, interest_weight: float = 1.0) -> int:
        """Register a custom event type (bvt_event_type_register): 1..31
        bytes of [a-z0-9_]; its events credit interests with
        ``interest_weight``.  Returns its id; registering it again with the
        same weight returns the same id.  Custom names must be registered
        before events use them."""
        return _event_types.register(self._handle, name, interest_weight)

    def event_types(self) -> List[str]:
        """Every event type name the engine knows: built-in, then registered."""
        return _event_types.known_names(self._handle)

    def _fill(self, ev: _lib.Event, keep: list, user: UserId, type: Union[str, int],
              time_ms: int, category: Optional[str], value: float, item: Optional[str],
              offer: Optional[str], quantity: int, dwell_ms: int,
              search_text: Optional[str], at: str = "") -> None:
        """Fill ev (fields named with the prefix `at` in errors, e.g.
        "events[3]."); strings it points to are appended to keep."""
        lib.bvt_event_init(byref(ev))
        uid = c_bytes(user, at + "user")
        keep.append(uid)
        ev.type = self.event_type(type, at + "type")
        ev.user_id = ctypes.cast(ctypes.c_char_p(uid), ctypes.c_void_p)
        ev.user_id_len = len(uid)
        ev.time_ms = _time(time_ms, at + "time_ms")
        ev.value = float(value)
        ev.quantity = c_int(quantity, c_uint32, at + "quantity")
        ev.dwell_ms = c_int(dwell_ms, c_int64, at + "dwell_ms")
        for name, field, text in (("category", "category", category), ("item_id", "item", item),
                                  ("offer_id", "offer", offer),
                                  ("search_text", "search_text", search_text)):
            if text is not None:
                b = ctypes.c_char_p(c_text(text, at + field))
                keep.append(b)
                setattr(ev, name, ctypes.cast(b, ctypes.c_void_p))

    def track(self, user: UserId, type: Union[str, int], time_ms: Time,
              category: Optional[str] = None, value: float = 0.0, item: Optional[str] = None,
              offer: Optional[str] = None, quantity: int = 0, dwell_ms: int = 0,
              search_text: Optional[str] = None) -> None:
        """Track one event (bvt_event_track); ``type`` is a name or id,
        ``time_ms`` epoch ms or a date, datetime or ISO 8601 text."""
        ev = _lib.Event()
        keep: list = []
        self._fill(ev, keep, user, type, time_ms, category, value, item, offer, quantity,
                   dwell_ms, search_text)
        err = _new_error()
        _raise(lib.bvt_event_track(self._handle, byref(ev), byref(err)), err)

    def track_batch(self, events: Iterable[Union[Event, Mapping[str, Any]]]
                    ) -> List[BatchFailure]:
        """Track events (Event or dicts with Event's field names) in one
        bvt_event_track_batch call.  Valid events are applied even when
        others fail; the failures are returned, in index order, each with
        its field and the library's reason."""
        items = list(events)
        arr = (_lib.Event * max(len(items), 1))()
        keep: list = []
        names = [f.name for f in fields(Event)]
        for i, e in enumerate(items):
            d = {n: getattr(e, n) for n in names} if isinstance(e, Event) else dict(e)
            try:
                args = [d.pop("user"), d.pop("type"), d.pop("time_ms")]
            except KeyError as missing:
                raise ValueError(f"event {i} has no {missing}") from None
            extra = Event(*args, **d)  # rejects unknown keys
            self._fill(arr[i], keep, *[getattr(extra, n) for n in names], at=f"events[{i}].")
        out = []
        for r in self._track_array(ctypes.addressof(arr), len(items)):
            where = f"events[{r.index}]" + (f".{r.field}" if r.field else "")
            out.append(BatchFailure(r.index, error_for(r.code, f"{where}: {r.message}", r.index),
                                    r.field))
        return out

    def _track_array(self, address: int, n: int) -> List[Refusal]:
        """Track n bvt_events at address, in calls of at most
        BVT_EVENT_BATCH_MAX; refusals are indexed from the first event."""
        out: List[Refusal] = []
        size = ctypes.sizeof(_lib.Event)
        for start in range(0, n, _lib.EVENT_BATCH_MAX):
            m = min(n - start, _lib.EVENT_BATCH_MAX)
            failures = (_lib.BatchError * m)()
            failed = c_size_t()
            err = _new_error()
            rc = lib.bvt_event_track_batch(self._handle, address + start * size, m, failures, m,
                                           byref(failed), byref(err))
            if rc != 0 and rc not in {failures[j].code for j in range(failed.value)}:
                _raise(rc, err)  # the whole call failed (the journal, memory), no one event
            out += explain(((start + failures[j].index, failures[j].code)
                            for j in range(failed.value)),
                           lambda i: _lib.Event.from_address(address + i * size))
        return out

    def track_frame(self, df: Any, errors: str = "raise",
                    time_format: Optional[str] = None) -> List[Any]:
        """Track a pandas DataFrame of events (see behavtarget.frames.track_frame)."""
        from .frames import track_frame
        return track_frame(self, df, errors=errors, time_format=time_format)

    # -- profiles ---------------------------------------------------------

    def exists(self, user: UserId) -> bool:
        """Whether the engine holds a profile for the user."""
        uid = _user(user)
        return lib.bvt_user_exists(self._handle, uid, len(uid)) == 1

    def profile(self, user: UserId, now: Time) -> Profile:
        """The user's features at ``now`` (bvt_profile_get)."""
        uid = _user(user)
        p = _lib.Profile()
        lib.bvt_profile_init(byref(p))
        _raise(lib.bvt_profile_get(self._handle, uid, len(uid), _time(now), byref(p)))
        values = {}
        for f in fields(Profile):
            v = getattr(p, f.name)
            values[f.name] = tuple(v) if f.name == "type_counts" else v
        return Profile(**values)

    def rfm(self, user: UserId, end_ms: Time, unit_ms: int = 86_400_000) -> RfmSummary:
        """lifetimes' summary of the user's purchases up to ``end_ms``."""
        uid = _user(user)
        s = _lib.RfmSummary()
        _raise(lib.bvt_rfm_summary_get(self._handle, uid, len(uid), _time(end_ms, "end_ms"),
                                       c_int(unit_ms, c_int64, "unit_ms"), byref(s)))
        return RfmSummary(s.frequency, s.recency, s.T, s.monetary_value)

    def rfm_refresh(self, now: Time) -> int:
        """Score every buyer's R, F and M quintiles; returns the buyers scored."""
        out = c_uint64()
        _raise(lib.bvt_rfm_refresh(self._handle, _time(now), byref(out)))
        return out.value

    def user_key(self, user: UserId) -> Tuple[int, int]:
        """The keyed hash (hi, lo) the engine stores instead of the raw id."""
        uid = _user(user)
        k = _lib.UserKey()
        _raise(lib.bvt_user_key_of(self._handle, uid, len(uid), byref(k)))
        return (k.hi, k.lo)

    def consent(self, user: UserId, purpose: Union[str, int], granted: bool,
                time_ms: Time) -> None:
        """Record the user's choice for a purpose ("personalisation", "ads",
        "analytics" or an id).  Ranking uses the profile (offer rules,
        affinity) only for users who granted "ads"."""
        uid = _user(user)
        if isinstance(purpose, str):
            if purpose not in PURPOSES:
                raise ValueError(f"purpose must be one of {sorted(PURPOSES)} or an id")
            pid = PURPOSES[purpose]
        else:
            pid = c_int(purpose, c_uint32, "purpose")
        _raise(lib.bvt_consent_set(self._handle, uid, len(uid), pid, int(bool(granted)),
                                   _time(time_ms, "time_ms")))

    def forget(self, user: UserId) -> None:
        """Erase the user (right to erasure)."""
        uid = _user(user)
        err = _new_error()
        _raise(lib.bvt_user_forget(self._handle, uid, len(uid), byref(err)), err)

    def export(self, user: UserId, now: Time) -> Dict[str, Any]:
        """Everything held about the user, as bvt_user_export's JSON parsed."""
        uid = _user(user)
        now = _time(now)
        need = c_size_t()
        cap = 4096
        while True:
            buf = ctypes.create_string_buffer(cap)
            rc = lib.bvt_user_export(self._handle, uid, len(uid), now, buf, cap, byref(need))
            if rc == -8 and need.value + 1 > cap:  # BVT_ERANGE: grow and retry
                cap = need.value + 1
                continue
            _raise(rc)
            return json.loads(buf.raw[:need.value].decode())

    # -- segments ---------------------------------------------------------

    def segment_define(self, name: str, rule: str) -> int:
        """Define (or redefine) a segment from a rule (docs/rules.md); its id."""
        out = c_uint32()
        err = _new_error()
        _raise(lib.bvt_segment_define(self._handle, c_text(name, "name"), c_text(rule, "rule"),
                                      byref(out), byref(err)), err)
        return out.value

    def _segment_id(self, name: str) -> int:
        out = c_uint32()
        rc = lib.bvt_segment_lookup(self._handle, c_text(name, "name"), byref(out))
        if rc != 0:
            raise error_for(rc, f"no segment {name!r}")
        return out.value

    def segments(self) -> List[str]:
        """Names of every segment, built-in ones included."""
        n = c_size_t()
        ids = (c_uint32 * _lib.SEGMENTS_MAX)()
        _raise(lib.bvt_segment_list(self._handle, ids, _lib.SEGMENTS_MAX, byref(n)))
        return [self._segment_name(ids[i]) for i in range(min(n.value, _lib.SEGMENTS_MAX))]

    def _segment_name(self, sid: int) -> str:
        name = lib.bvt_segment_name(self._handle, sid)
        return name.decode() if name else str(sid)

    def segments_of(self, user: UserId, now: Time) -> List[str]:
        """Names of the segments the user is in at ``now`` (no request context)."""
        uid = _user(user)
        n = c_size_t()
        ids = (c_uint32 * _lib.SEGMENTS_MAX)()
        _raise(lib.bvt_segments_of(self._handle, uid, len(uid), _time(now), None, ids,
                                   _lib.SEGMENTS_MAX, byref(n)))
        return [self._segment_name(ids[i]) for i in range(min(n.value, _lib.SEGMENTS_MAX))]

    def segment_count(self, name: str, now: Time) -> int:
        """Members of a segment at ``now``, counted without listing them."""
        count = c_uint64()
        _raise(lib.bvt_segment_members(self._handle, self._segment_id(name), _time(now), None,
                                       _lib.MEMBER_FN(), None, byref(count)))
        return count.value

    def segment_members(self, name: str, now: Time) -> Iterator[Tuple[int, int]]:
        """The members' keys (hi, lo), as user_key() gives them: raw ids are
        never stored.  The scan runs when iteration starts."""
        sid = self._segment_id(name)
        now = _time(now)
        keys: List[Tuple[int, int]] = []

        def collect(key: Any, _ud: Any) -> int:
            keys.append((key.contents.hi, key.contents.lo))
            return 0

        callback = _lib.MEMBER_FN(collect)
        _raise(lib.bvt_segment_members(self._handle, sid, now, None, callback, None, None))
        yield from keys

    # -- offers -----------------------------------------------------------

    def offer_define(self, id: str, rule: Optional[str] = None, value: float = 0.0,
                     caps: Sequence[Tuple[int, int]] = (), tags: Sequence[str] = (),
                     priority: int = 0) -> int:
        """Define an offer: eligibility rule, value per response, per-user
        caps as (max impressions, window ms) pairs and category tags."""
        o = _lib.Offer()
        lib.bvt_offer_init(byref(o))
        o.id = c_text(id, "id")
        o.rule = c_text_or_none(rule, "rule")
        o.value = float(value)
        o.priority = c_int(priority, c_int32, "priority")
        cap_arr = (_lib.Cap * max(len(caps), 1))()
        for i, (mx, window) in enumerate(caps):
            cap_arr[i].max = c_int(mx, c_uint32, f"caps[{i}].max")
            cap_arr[i].window_ms = c_int(window, c_int64, f"caps[{i}].window_ms")
        if caps:
            o.caps = cap_arr
            o.n_caps = len(caps)
        tag_arr = (ctypes.c_char_p * max(len(tags), 1))(
            *[c_text(t, f"tags[{i}]") for i, t in enumerate(tags)])
        if tags:
            o.tags = tag_arr
            o.n_tags = len(tags)
        out = c_uint32()
        err = _new_error()
        _raise(lib.bvt_offer_define(self._handle, byref(o), byref(out), byref(err)), err)
        return out.value

    def rank(self, user: UserId, now: Time, k: int = 1, seed: int = 0,
             candidates: Optional[Sequence[str]] = None) -> List[RankedOffer]:
        """Rank the eligible offers for the user, best first (bvt_rank)."""
        uid = _user(user)
        req = _lib.RankRequest()
        lib.bvt_rank_request_init(byref(req))
        req.user_id = ctypes.cast(ctypes.c_char_p(uid), ctypes.c_void_p)
        req.user_id_len = len(uid)
        req.now = _time(now)
        req.k = k = c_int(k, c_size_t, "k")  # the library refuses k > BVT_RANK_SLOTS_MAX
        req.seed = c_int(seed, c_uint64, "seed")
        if candidates is not None:
            cand = (ctypes.c_char_p * max(len(candidates), 1))(
                *[c_text(c, f"candidates[{i}]") for i, c in enumerate(candidates)])
            req.candidates = cand
            req.n_candidates = len(candidates)
        cap = max(min(k, _lib.RANK_SLOTS_MAX), 1)
        slots = (_lib.RankedOffer * cap)()
        res = _lib.RankResult()
        lib.bvt_rank_result_init(byref(res))
        res.offers = slots
        res.offers_cap = cap
        err = _new_error()
        _raise(lib.bvt_rank(self._handle, byref(req), byref(res), byref(err)), err)
        return [RankedOffer(slots[i].offer_id.decode(), slots[i].offer, slots[i].score,
                            slots[i].estimate, slots[i].propensity)
                for i in range(min(res.n_offers, cap))]
