"""Batches from a list of Event / dicts and from numpy-backed DataFrames."""
import numpy as np
import pandas as pd
import pytest

import behavtarget as bvt
from conftest import DAY, HOUR, T0


def test_batch_from_events_and_dicts(engine):
    failures = engine.track_batch([
        bvt.Event("u1", "page_view", T0, category="garden/tools"),
        {"user": "u1", "type": "purchase", "time_ms": T0 + HOUR, "value": 12.5},
        bvt.Event("u2", "add_to_cart", T0, item="sku-9", value=3.0),
    ])
    assert failures == []
    p = engine.profile("u1", T0 + DAY)
    assert p.purchases == 1 and p.monetary_total == pytest.approx(12.5)
    assert p.type_counts[bvt.EVENT_TYPES["page_view"]] == 1
    assert engine.profile("u2", T0 + DAY).cart_items == 1


def test_batch_reports_bad_events_and_keeps_good_ones(engine):
    failures = engine.track_batch([
        bvt.Event("ok", "click", T0),
        bvt.Event("bad", "click", -5),
        bvt.Event("ok", "click", T0 + 1),
    ])
    assert [f.index for f in failures] == [1]
    assert isinstance(failures[0].error, bvt.InvalidArgument)
    assert failures[0].error.message
    assert engine.profile("ok", T0 + 10).clicks == 2
    assert not engine.exists("bad")


def test_batch_rejects_unknown_fields(engine):
    with pytest.raises(TypeError):
        engine.track_batch([{"user": "u", "type": "click", "time_ms": T0, "colour": 1}])
    with pytest.raises(ValueError, match="time_ms"):
        engine.track_batch([{"user": "u", "type": "click"}])


def test_track_frame_numpy_columns(engine):
    n = 1000
    rng = np.random.default_rng(3)
    users = np.array([f"user{i % 50}" for i in range(n)])
    df = pd.DataFrame({
        "user_id": users,
        "time_ms": T0 + np.arange(n, dtype=np.int64) * 1000,
        "type": np.where(np.arange(n) % 7 == 0, "purchase", "page_view"),
        "category": np.where(np.arange(n) % 2 == 0, "books/sf", "books/crime"),
        "value": np.where(np.arange(n) % 7 == 0, rng.uniform(1, 9, n).round(2), 0.0),
    })
    assert engine.track_frame(df) == []
    now = T0 + DAY
    bought = df[df["type"] == "purchase"].groupby("user_id")["value"].agg(["count", "sum"])
    for u in range(50):
        p = engine.profile(f"user{u}", now)
        assert p.events == 20
        assert p.purchases == bought.loc[f"user{u}", "count"]
        assert p.monetary_total == pytest.approx(bought.loc[f"user{u}", "sum"])
        assert p.type_counts[bvt.EVENT_TYPES["page_view"]] == 20 - p.purchases


def test_track_frame_timestamps_and_missing_values(engine):
    df = pd.DataFrame({
        "user_id": ["a", "a", "b"],
        "timestamp": pd.to_datetime(["2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z",
                                     "2024-03-02T00:00:00Z"]),
        "type": ["search", "purchase", "page_view"],
        "category": [None, "toys", np.nan],
        "value": [np.nan, 15.0, 0.0],
        "search_text": ["red kite", None, None],
    })
    assert engine.track_frame(df) == []
    mar1_10 = 1709287200000
    p = engine.profile("a", mar1_10 + DAY)
    assert p.first_seen_ms == mar1_10
    assert p.last_purchase_ms == mar1_10 + HOUR
    assert p.type_counts[bvt.EVENT_TYPES["search"]] == 1
    assert p.monetary_total == pytest.approx(15.0)
    assert engine.profile("b", mar1_10 + DAY).first_seen_ms == mar1_10 + 14 * HOUR


def test_track_frame_failures_are_frame_positions(engine):
    df = pd.DataFrame({"user_id": ["a", "b", "c"], "time_ms": [T0, T0, T0],
                       "type": ["click", "click", "click"], "value": [1.0, -1.0, 2.0]},
                      index=[10, 11, 12])
    bad = engine.track_frame(df, errors="collect")
    assert [(e.row, e.column) for e in bad] == [(1, "value")]
    assert engine.exists("a") and engine.exists("c") and not engine.exists("b")
    with pytest.raises(bvt.UnknownType):
        engine.track_frame(df.assign(type="warp"))
    with pytest.raises(ValueError, match="user_id"):
        engine.track_frame(df.drop(columns="user_id"))
