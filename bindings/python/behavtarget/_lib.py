"""ctypes mirror of include/behavtarget.h: the library, its structs, its prototypes.

Field order and types follow the header exactly; versioned structs are
always filled by the library's own *_init functions so their version and
defaults come from C, never from this file.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)
from pathlib import Path

SONAME = "libbehavtarget.so.1"
EVENT_BUILTIN_COUNT = 12
SEGMENTS_MAX = 4096
EVENT_BATCH_MAX = 65536  # BVT_EVENT_BATCH_MAX: larger batches are sent in several calls
RANK_SLOTS_MAX = 256     # BVT_RANK_SLOTS_MAX
EVENT_TYPE_MAX = 64      # BVT_EVENT_TYPE_MAX: type ids are below it


def _find_library() -> str:
    """BVT_LIBRARY, else a build tree above the package, else the system path."""
    env = os.environ.get("BVT_LIBRARY")
    if env:
        return env
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "build" / "src" / SONAME
        if candidate.is_file():
            return str(candidate)
    return ctypes.util.find_library("behavtarget") or SONAME


class Error(Structure):
    _fields_ = [("version", c_uint32), ("code", c_int), ("offset", c_int64),
                ("message", c_char * 240)]


class Options(Structure):
    _fields_ = [("version", c_uint32), ("shards", c_uint32), ("max_users", c_uint64),
                ("memory_budget", c_uint64), ("full_policy", c_uint32),
                ("top_interests", c_uint32), ("interest_half_life_ms", c_int64),
                ("ancestor_credit", c_double), ("history_events", c_uint32),
                ("history_day_slots", c_uint32), ("history_horizon_ms", c_int64),
                ("session_gap_ms", c_int64), ("cart_items", c_uint32),
                ("max_attributes", c_uint32), ("secret", c_void_p), ("secret_len", c_size_t),
                ("type_weights", POINTER(c_double)), ("type_weights_len", c_uint32),
                ("retention_ms", c_int64), ("analytics_policy", c_uint32),
                ("segments_need_consent", c_uint32)]


class Event(Structure):
    _fields_ = [("version", c_uint32), ("type", c_uint32), ("user_id", c_void_p),
                ("user_id_len", c_size_t), ("time_ms", c_int64), ("category", c_void_p),
                ("category_id", c_uint32), ("item_id", c_void_p), ("value", c_double),
                ("quantity", c_uint32), ("offer_id", c_void_p), ("dwell_ms", c_int64),
                ("search_text", c_void_p)]


class BatchError(Structure):
    _fields_ = [("index", c_size_t), ("code", c_int)]


class Profile(Structure):
    _fields_ = [("version", c_uint32), ("first_seen_ms", c_int64), ("last_seen_ms", c_int64),
                ("recency_ms", c_int64), ("last_purchase_ms", c_int64),
                ("purchase_recency_ms", c_int64), ("purchases", c_uint32),
                ("purchase_days", c_uint32), ("monetary_total", c_double),
                ("monetary_mean", c_double), ("r_score", c_uint32), ("f_score", c_uint32),
                ("m_score", c_uint32), ("type_counts", c_uint32 * EVENT_BUILTIN_COUNT),
                ("events", c_uint64), ("impressions", c_uint32), ("clicks", c_uint32),
                ("conversions", c_uint32), ("ctr", c_double), ("conversion_rate", c_double),
                ("interactions", c_uint32), ("sessions", c_uint32), ("dwell_ms", c_int64),
                ("mean_dwell_ms", c_double), ("cart_items", c_uint32), ("cart_value", c_double),
                ("cart_oldest_ms", c_int64), ("interests", c_uint32), ("attributes", c_uint32),
                ("history_events", c_uint32), ("history_day_slots", c_uint32)]


class RfmSummary(Structure):
    _fields_ = [("frequency", c_double), ("recency", c_double), ("T", c_double),
                ("monetary_value", c_double)]


class UserKey(Structure):
    _fields_ = [("hi", c_uint64), ("lo", c_uint64)]


class Context(Structure):
    _fields_ = [("version", c_uint32), ("page_category", c_char_p), ("device", c_char_p),
                ("geo", c_char_p), ("hour", c_int32), ("keys", POINTER(c_char_p)),
                ("values", POINTER(c_char_p)), ("n", c_size_t)]


class Cap(Structure):
    _fields_ = [("max", c_uint32), ("window_ms", c_int64)]


class Offer(Structure):
    _fields_ = [("version", c_uint32), ("id", c_char_p), ("tags", POINTER(c_char_p)),
                ("n_tags", c_size_t), ("rule", c_char_p), ("value", c_double),
                ("response", c_uint32), ("cost", c_double), ("cost_per", c_uint32),
                ("caps", POINTER(Cap)), ("n_caps", c_size_t), ("group", c_char_p),
                ("cooloff_ms", c_int64), ("start_ms", c_int64), ("end_ms", c_int64),
                ("priority", c_int32), ("budget_impressions", c_uint64),
                ("personalised", c_int)]


class RankRequest(Structure):
    _fields_ = [("version", c_uint32), ("user_id", c_void_p), ("user_id_len", c_size_t),
                ("now", c_int64), ("ctx", POINTER(Context)), ("candidates", POINTER(c_char_p)),
                ("candidate_ids", POINTER(c_uint32)), ("n_candidates", c_size_t),
                ("k", c_size_t), ("policy", c_void_p), ("seed", c_uint64),
                ("experiment", c_char_p)]


class RankedOffer(Structure):
    _fields_ = [("offer", c_uint32), ("offer_id", c_char_p), ("score", c_double),
                ("estimate", c_double), ("propensity", c_double)]


class Exclusion(Structure):
    _fields_ = [("offer", c_uint32), ("offer_id", c_char_p), ("reason", c_uint32)]


class OfferChoice(Structure):
    _fields_ = [("offer", c_uint32), ("probability", c_double)]


class RankResult(Structure):
    _fields_ = [("version", c_uint32), ("offers", POINTER(RankedOffer)),
                ("offers_cap", c_size_t), ("n_offers", c_size_t),
                ("excluded", POINTER(Exclusion)), ("excluded_cap", c_size_t),
                ("n_excluded", c_size_t), ("choices", POINTER(OfferChoice)),
                ("choices_cap", c_size_t), ("n_choices", c_size_t), ("personalised", c_int),
                ("variant", c_int32), ("bucket", c_uint32)]


class StateOptions(Structure):
    _fields_ = [("version", c_uint32), ("journal", c_uint32), ("dir", c_char_p),
                ("group_commit_ms", c_uint32), ("options_from", c_uint32),
                ("access", c_uint32)]


MEMBER_FN = ctypes.CFUNCTYPE(c_int, POINTER(UserKey), c_void_p)

_E = c_void_p  # bvt_engine *
_ERR = POINTER(Error)
_PROTOTYPES = {
    "bvt_version": (c_char_p, []),
    "bvt_strerror": (c_char_p, [c_int]),
    "bvt_error_init": (None, [_ERR]),
    "bvt_options_init": (None, [POINTER(Options)]),
    "bvt_event_init": (None, [POINTER(Event)]),
    "bvt_profile_init": (None, [POINTER(Profile)]),
    "bvt_context_init": (None, [POINTER(Context)]),
    "bvt_offer_init": (None, [POINTER(Offer)]),
    "bvt_rank_request_init": (None, [POINTER(RankRequest)]),
    "bvt_rank_result_init": (None, [POINTER(RankResult)]),
    "bvt_state_options_init": (None, [POINTER(StateOptions)]),
    "bvt_engine_new": (c_int, [POINTER(_E), POINTER(Options), _ERR]),
    "bvt_engine_open": (c_int, [POINTER(_E), POINTER(Options), POINTER(StateOptions), _ERR]),
    "bvt_engine_free": (None, [_E]),
    "bvt_engine_checkpoint": (c_int, [_E, _ERR]),
    "bvt_engine_sync": (c_int, [_E, _ERR]),
    "bvt_event_type_lookup": (c_int, [_E, c_char_p, POINTER(c_uint32)]),
    "bvt_event_type_name": (c_char_p, [_E, c_uint32]),
    "bvt_event_type_register": (c_int, [_E, c_char_p, c_double, POINTER(c_uint32), _ERR]),
    "bvt_time_parse": (c_int, [c_char_p, c_size_t, c_uint32, POINTER(c_int64), _ERR]),
    "bvt_event_track": (c_int, [_E, POINTER(Event), _ERR]),
    "bvt_event_track_batch": (c_int, [_E, c_void_p, c_size_t, POINTER(BatchError), c_size_t,
                                      POINTER(c_size_t), _ERR]),
    "bvt_profile_get": (c_int, [_E, c_char_p, c_size_t, c_int64, POINTER(Profile)]),
    "bvt_rfm_summary_get": (c_int, [_E, c_char_p, c_size_t, c_int64, c_int64,
                                    POINTER(RfmSummary)]),
    "bvt_rfm_refresh": (c_int, [_E, c_int64, POINTER(c_uint64)]),
    "bvt_segment_define": (c_int, [_E, c_char_p, c_char_p, POINTER(c_uint32), _ERR]),
    "bvt_segment_lookup": (c_int, [_E, c_char_p, POINTER(c_uint32)]),
    "bvt_segment_name": (c_char_p, [_E, c_uint32]),
    "bvt_segment_list": (c_int, [_E, POINTER(c_uint32), c_size_t, POINTER(c_size_t)]),
    "bvt_segments_of": (c_int, [_E, c_char_p, c_size_t, c_int64, POINTER(Context),
                                POINTER(c_uint32), c_size_t, POINTER(c_size_t)]),
    "bvt_segment_members": (c_int, [_E, c_uint32, c_int64, POINTER(Context), MEMBER_FN,
                                    c_void_p, POINTER(c_uint64)]),
    "bvt_user_key_of": (c_int, [_E, c_char_p, c_size_t, POINTER(UserKey)]),
    "bvt_offer_define": (c_int, [_E, POINTER(Offer), POINTER(c_uint32), _ERR]),
    "bvt_rank": (c_int, [_E, POINTER(RankRequest), POINTER(RankResult), _ERR]),
    "bvt_user_export": (c_int, [_E, c_char_p, c_size_t, c_int64, c_void_p, c_size_t,
                                POINTER(c_size_t)]),
    "bvt_user_forget": (c_int, [_E, c_char_p, c_size_t, _ERR]),
    "bvt_user_exists": (c_int, [_E, c_char_p, c_size_t]),
    "bvt_consent_set": (c_int, [_E, c_char_p, c_size_t, c_uint32, c_int, c_int64]),
    "bvt_consent_get": (c_int, [_E, c_char_p, c_size_t, c_uint32, POINTER(c_int)]),
}


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL(_find_library())
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


lib = _load()


def new_error() -> Error:
    """A bvt_error as bvt_error_init() leaves it."""
    err = Error()
    lib.bvt_error_init(ctypes.byref(err))
    return err
