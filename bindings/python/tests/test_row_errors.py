"""Per-row errors (issue 12, point 2): a bad row is named with its column and
the reason, raised at once by default, or collected while every good row is
tracked."""
import numpy as np
import pandas as pd
import pytest

import behavtarget as bvt
from conftest import DAY, T0


def mixed_frame():
    return pd.DataFrame({
        "user_id": ["good0", "badtype", "badvalue", "good3", "badtime", "good5"],
        "timestamp": ["2024-03-01T10:00Z", "2024-03-01T10:00Z", "2024-03-01T10:00Z",
                      "2024-03-02", "2024-02-30T10:00Z", "2024-03-03T00:00Z"],
        "type": ["purchase", "pageview", "purchase", "page_view", "click", "click"],
        "value": [10.0, 0.0, -5.0, 0.0, 0.0, 0.0],
    })


def test_collect_tracks_good_rows_and_returns_the_bad(engine):
    bad = engine.track_frame(mixed_frame(), errors="collect")
    assert [(e.row, e.column) for e in bad] == [(1, "type"), (2, "value"), (4, "timestamp")]
    assert "did you mean page_view?" in bad[0].reason
    assert bad[1].reason == "value must be finite and >= 0"   # the library's own words
    assert "2024-02-30" in bad[2].reason and "no such day" in bad[2].reason
    for e in bad:
        assert "invalid argument" not in e.reason
        assert not engine.exists(mixed_frame().user_id[e.row])
    for good in ("good0", "good3", "good5"):
        assert engine.exists(good)
    assert engine.profile("good0", "2024-03-04").monetary_total == 10.0
    table = pd.DataFrame(bad)
    assert list(table.columns) == ["row", "column", "reason"]


def test_raise_names_the_first_bad_row_and_tracks_nothing(engine):
    with pytest.raises(bvt.UnknownType, match=r"type\[1\]: unknown event type 'pageview'"):
        engine.track_frame(mixed_frame())
    assert not engine.exists("good0")


def test_raise_picks_the_lowest_row_whichever_column(engine):
    df = mixed_frame().drop(index=[1]).reset_index(drop=True)  # bad time at 3 is first
    df.loc[4, "quantity"] = -1
    with pytest.raises(ValueError, match=r"timestamp\[3\]: time '2024-02-30T10:00Z': no such day"):
        engine.track_frame(df)
    assert not engine.exists("good0")


def test_raise_for_rows_only_the_library_refuses(engine):
    df = mixed_frame().drop(index=[1, 4])  # only the negative value is left
    with pytest.raises(bvt.InvalidArgument) as e:
        engine.track_frame(df)
    assert str(e.value).startswith("value[1]: value must be finite and >= 0")
    assert "others were tracked" in str(e.value)
    assert e.value.row_errors == [bvt.RowError(1, "value", "value must be finite and >= 0")]
    assert engine.exists("good0") and not engine.exists("badvalue")


@pytest.mark.parametrize("column, values, reason", [
    ("dwell_ms", [0, -1], "dwell_ms must be 0..86400000"),
    ("category", ["ok", "bad//path"], "empty segment in category path"),
    ("user_id", ["ok", "x" * 2000], "user id must be 1..1024 bytes"),
    ("timestamp", ["2024-03-01", "1969-12-31"], "time_ms must be > 0"),
    ("quantity", [1, 2**40], "does not fit"),
    ("category", ["ok", "a\0b"], "embedded NUL"),
    ("type", ["click", None], "missing value"),
    ("timestamp", ["2024-03-01", None], "missing time"),
])
def test_each_reason_names_its_column(engine, column, values, reason):
    df = pd.DataFrame({"user_id": ["a", "b"], "timestamp": "2024-03-01", "type": "click"})
    df[column] = values
    bad = engine.track_frame(df, errors="collect")
    assert [(e.row, e.column) for e in bad] == [(1, column)]
    assert reason in bad[0].reason
    assert engine.exists(df.user_id[0])


def test_unknown_numeric_type_is_the_type_column(engine):
    df = pd.DataFrame({"user_id": ["a", "b"], "time_ms": T0, "type": [0, 40]})
    bad = engine.track_frame(df, errors="collect")
    assert [(e.row, e.column) for e in bad] == [(1, "type")]
    assert "unknown event type 40" in bad[0].reason


def test_errors_keyword_is_checked(engine):
    with pytest.raises(ValueError, match="errors must be one of"):
        engine.track_frame(mixed_frame(), errors="ignore")


def test_batch_failures_name_field_and_reason(engine):
    failures = engine.track_batch([
        bvt.Event("a", "click", T0, value=-1.0),
        bvt.Event("b", "click", T0),
        bvt.Event("c", "click", T0, dwell_ms=-5),
        bvt.Event("d", "click", T0, category="x//y"),
        bvt.Event("e", 40, T0),
        bvt.Event("", "click", T0),
    ])
    got = [(f.index, f.field, f.error.code) for f in failures]
    assert got == [(0, "value", -1), (2, "dwell_ms", -1), (3, "category", -1), (4, "type", -7),
                   (5, "user", -1)]
    assert str(failures[1].error) == "events[2].dwell_ms: dwell_ms must be 0..86400000"
    assert "events[3].category: empty segment" in str(failures[2].error)
    assert all("invalid argument" not in str(f.error) for f in failures)
    assert engine.exists("b")


def test_full_table_refusals_name_the_user():
    with bvt.Engine(b"python-binding-test-secret-32byt", max_users=1) as engine:
        df = pd.DataFrame({"user_id": ["a", "b", "c"], "time_ms": T0 + np.arange(3),
                           "type": "click"})
        bad = engine.track_frame(df, errors="collect")
        assert [(e.row, e.column, e.reason) for e in bad] == [
            (1, "user_id", "user table full"), (2, "user_id", "user table full")]
        assert engine.profile("a", T0 + DAY).clicks == 1
