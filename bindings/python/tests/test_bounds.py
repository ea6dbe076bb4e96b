"""Values C cannot hold are refused before they reach it (issue 11).

ctypes would keep the low bits of an out-of-range int (time_ms = 2**64 + 5
stored as 5, quantity = -1 as 4294967295) and end a string at its first
NUL; the binding raises instead, naming the field, and nothing is tracked.
"""
import numpy as np
import pandas as pd
import pytest

import behavtarget as bvt
from conftest import DAY, SECRET, T0


def nothing_tracked(engine, user="u"):
    return not engine.exists(user)


@pytest.mark.parametrize("field, kwargs, exc", [
    ("time_ms", {"time_ms": 2**64 + 5}, OverflowError),
    ("time_ms", {"time_ms": -2**63 - 1}, OverflowError),
    ("time_ms", {"time_ms": T0 + 0.5}, ValueError),
    ("quantity", {"quantity": -1}, OverflowError),
    ("quantity", {"quantity": 2**32}, OverflowError),
    ("dwell_ms", {"dwell_ms": 2**63}, OverflowError),
    ("type", {"type": 2**32 + 5}, OverflowError),
    ("type", {"type": -1}, OverflowError),
])
def test_track_refuses_out_of_range_ints(engine, field, kwargs, exc):
    args = {"user": "u", "type": "page_view", "time_ms": T0}
    args.update(kwargs)
    with pytest.raises(exc, match=field):
        engine.track(**args)
    assert nothing_tracked(engine)


@pytest.mark.parametrize("field", ["category", "item", "offer", "search_text", "type"])
def test_track_refuses_strings_with_nul(engine, field):
    args = {"user": "u", "type": "page_view", "time_ms": T0, field: "a\0b"}
    with pytest.raises(ValueError, match=f"{field}: embedded NUL"):
        engine.track(**args)
    assert nothing_tracked(engine)


def test_user_ids_may_hold_nul(engine):
    # ids are passed with their length: every byte counts, so these differ
    engine.track("a\0b", "page_view", T0)
    assert engine.exists("a\0b") and not engine.exists("a")


def test_batch_names_the_event_and_tracks_nothing(engine):
    events = [bvt.Event("u", "page_view", T0), bvt.Event("v", "page_view", 2**64 + 5)]
    with pytest.raises(OverflowError, match=r"events\[1\]\.time_ms"):
        engine.track_batch(events)
    with pytest.raises(OverflowError, match=r"events\[0\]\.quantity"):
        engine.track_batch([{"user": "u", "type": "purchase", "time_ms": T0, "quantity": -1}])
    with pytest.raises(ValueError, match=r"events\[0\]\.category: embedded NUL"):
        engine.track_batch([{"user": "u", "type": "page_view", "time_ms": T0,
                             "category": "x\0y"}])
    assert nothing_tracked(engine) and nothing_tracked(engine, "v")


def frame(**columns):
    base = {"user_id": ["a", "b"], "time_ms": [T0, T0 + 1], "type": ["purchase", "purchase"]}
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize("columns, exc, match", [
    ({"time_ms": [T0, 2**64 + 5]}, OverflowError, r"time_ms\[1\]"),
    ({"time_ms": np.array([T0, 2**63 + 5], dtype=np.uint64)}, OverflowError, r"time_ms\[1\]"),
    ({"time_ms": [float(T0), 1e30]}, OverflowError, r"time_ms\[1\]"),
    ({"time_ms": [T0, T0 + 0.5]}, ValueError, r"time_ms\[1\]"),
    ({"time_ms": [T0, None]}, ValueError, r"time_ms\[1\]: missing"),
    ({"quantity": [1, -1]}, OverflowError, r"quantity\[1\]"),
    ({"quantity": np.array([2**32, 1], dtype=np.int64)}, OverflowError, r"quantity\[0\]"),
    ({"quantity": [1.5, 1.0]}, ValueError, r"quantity\[0\]"),
    ({"dwell_ms": [0, 2**63]}, OverflowError, r"dwell_ms\[1\]"),
    ({"type": np.array([4, -1])}, OverflowError, r"type\[1\]"),
    ({"category": ["ok", "bad\0cat"]}, ValueError, r"category\[1\]: embedded NUL"),
    ({"item": ["i\0"], "user_id": ["a"], "time_ms": [T0], "type": ["purchase"]}, ValueError,
     r"item\[0\]"),
    ({"search_text": [None, "red\0kite"]}, ValueError, r"search_text\[1\]"),
])
def test_track_frame_refuses_what_c_cannot_hold(engine, columns, exc, match):
    with pytest.raises(exc, match=match):
        engine.track_frame(frame(**columns))
    assert nothing_tracked(engine, "a") and nothing_tracked(engine, "b")


def test_track_frame_keeps_good_whole_numbers(engine):
    df = frame(quantity=[2.0, np.nan], dwell_ms=np.array([5, 0], dtype=np.uint8),
               time_ms=np.array([T0, T0 + 1], dtype=np.uint64))
    assert engine.track_frame(df) == []
    assert engine.profile("a", T0 + DAY).purchases == 1


def test_track_frame_larger_than_one_call(engine):
    # the library takes BVT_EVENT_BATCH_MAX events a call; the binding splits
    n = bvt._lib.EVENT_BATCH_MAX + 10
    df = pd.DataFrame({"user_id": np.array(["x", "y"])[np.arange(n) % 2],
                       "time_ms": T0 + np.arange(n, dtype=np.int64),
                       "type": "page_view", "value": np.where(np.arange(n) == n - 3, -1.0, 0.0)})
    bad = engine.track_frame(df, errors="collect")
    assert [(e.row, e.column) for e in bad] == [(n - 3, "value")]
    assert engine.profile("x", T0 + DAY).events + engine.profile("y", T0 + DAY).events == n - 1


@pytest.mark.parametrize("call, match, exc", [
    (lambda e: e.profile("u", 2**64 + 5), "now", OverflowError),
    (lambda e: e.export("u", -2**63 - 1), "now", OverflowError),
    (lambda e: e.rfm("u", T0, 2**63), "unit_ms", OverflowError),
    (lambda e: e.rfm_refresh(2**64), "now", OverflowError),
    (lambda e: e.segments_of("u", 2**64), "now", OverflowError),
    (lambda e: e.consent("u", "ads", True, 2**64 + 5), "time_ms", OverflowError),
    (lambda e: e.consent("u", -1, True, T0), "purpose", OverflowError),
    (lambda e: e.rank("u", T0, k=-1), "k", OverflowError),
    (lambda e: e.rank("u", T0, seed=2**64), "seed", OverflowError),
    (lambda e: e.rank("u", T0, candidates=["o\0x"]), r"candidates\[0\]", ValueError),
    (lambda e: e.offer_define("o", priority=2**31), "priority", OverflowError),
    (lambda e: e.offer_define("o", caps=[(-1, DAY)]), r"caps\[0\]\.max", OverflowError),
    (lambda e: e.offer_define("o", caps=[(3, 2**63)]), r"caps\[0\]\.window_ms",
     OverflowError),
    (lambda e: e.offer_define("o\0hidden"), "id: embedded NUL", ValueError),
    (lambda e: e.offer_define("o", tags=["a", "b\0"]), r"tags\[1\]", ValueError),
    (lambda e: e.offer_define("o", rule="true\0 and false"), "rule", ValueError),
    (lambda e: e.segment_define("s\0", "true"), "name", ValueError),
    (lambda e: e.segment_define("s", "true\0junk"), "rule", ValueError),
    (lambda e: e.segment_count("s\0", T0), "name", ValueError),
])
def test_every_entry_point_checks(engine, call, match, exc):
    with pytest.raises(exc, match=match):
        call(engine)


def test_k_above_the_library_limit_is_its_error(engine):
    engine.offer_define("o", value=1.0)
    with pytest.raises(bvt.InvalidArgument, match="BVT_RANK_SLOTS_MAX"):
        engine.rank("u", T0, k=2**40)
    assert [r.offer_id for r in engine.rank("u", T0, k=256)] == ["o"]


@pytest.mark.parametrize("options, match", [
    ({"shards": 2**32 + 1}, "shards"),
    ({"max_users": -1}, "max_users"),
    ({"history_events": -1}, "history_events"),
    ({"retention_ms": 2**63}, "retention_ms"),
])
def test_engine_options_checked(options, match):
    with pytest.raises(OverflowError, match=match):
        bvt.Engine(SECRET, **options)


def test_state_dir_and_commit_interval_checked(tmp_path):
    with pytest.raises(ValueError, match="dir"):
        bvt.Engine.open(str(tmp_path) + "/a\0b", SECRET)
    with pytest.raises(OverflowError, match="group_commit_ms"):
        bvt.Engine.open(tmp_path / "s", SECRET, group_commit_ms=2**32 + 5)
