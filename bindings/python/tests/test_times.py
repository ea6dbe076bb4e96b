"""Times are parsed or refused, never guessed (issue 12, point 1).

Every kind of time a Python caller holds gives the same epoch ms as the
library's own reader, bvt_time_parse(), gives for its ISO text; integers
that could mean two things are refused until the caller names the format.
"""
import datetime

import numpy as np
import pandas as pd
import pytest

import behavtarget as bvt
from conftest import DAY

MAR1_10 = 1709287200000  # 2024-03-01T10:00:00Z
MAR1 = 1709251200000     # 2024-03-01T00:00:00Z
UTC = datetime.timezone.utc
PLUS1 = datetime.timezone(datetime.timedelta(hours=1))

SAME_TIME = [  # each is MAR1_10
    "2024-03-01T10:00:00Z",
    "2024-03-01 11:00+01:00",
    datetime.datetime(2024, 3, 1, 10),                    # naive: UTC
    datetime.datetime(2024, 3, 1, 11, tzinfo=PLUS1),      # aware: converted
    pd.Timestamp("2024-03-01T10:00:00"),
    pd.Timestamp("2024-03-01T05:00:00-05:00"),
    np.datetime64("2024-03-01T10:00:00", "s"),
    np.datetime64("2024-03-01T10:00:00.000000999", "ns"),  # below a ms: dropped
    np.datetime64("2024-03-01T10", "h"),
]


@pytest.mark.parametrize("when", SAME_TIME, ids=repr)
def test_every_kind_of_time_gives_the_same_ms(engine, when):
    engine.track("u", "purchase", when, value=1.0)
    assert engine.profile("u", MAR1_10 + DAY).first_seen_ms == MAR1_10
    engine.consent("u", "ads", True, when)
    assert engine.profile("u", when).recency_ms == 0
    assert engine.export("u", when)
    assert engine.rfm("u", when).T == 0
    engine.rfm_refresh(when)
    assert engine.segments_of("u", when) is not None
    assert engine.rank("u", when) == []


def test_dates_are_midnight_utc(engine):
    engine.track("d", "purchase", datetime.date(2024, 3, 1), value=1.0)
    engine.track("d", "purchase", np.datetime64("2024-03-02", "D"), value=1.0)
    p = engine.profile("d", "2024-03-03")
    assert p.first_seen_ms == MAR1 and p.last_seen_ms == MAR1 + DAY


@pytest.mark.parametrize("when, exc, match", [
    ("20240301", ValueError, "ambiguous.*yyyymmdd.*parse_time"),
    ("1709287200", ValueError, "ambiguous.*epoch-s"),
    ("2024-02-30", ValueError, "no such day"),
    ("yesterday", ValueError, "expected a date"),
    (True, TypeError, "bool"),
    (np.datetime64("NaT"), ValueError, "missing"),
    (pd.NaT, ValueError, "missing"),
    ([MAR1], TypeError, "a time is required"),
])
def test_single_times_refused_with_the_reason(engine, when, exc, match):
    with pytest.raises(exc, match=match):
        engine.track("u", "page_view", when)
    with pytest.raises(exc, match="now: .*" + match):
        engine.profile("u", when)
    assert not engine.exists("u")


def test_parse_time_reads_as_bvt_does():
    assert bvt.parse_time("20240301", "yyyymmdd") == MAR1
    assert bvt.parse_time("1709287200", "epoch-s") == MAR1_10
    assert bvt.parse_time("1709287200000", "epoch-ms") == MAR1_10
    assert bvt.parse_time(" 2024-03-01T10:00:00.5Z ") == MAR1_10 + 500
    with pytest.raises(ValueError, match="ambiguous"):
        bvt.parse_time("20240301")
    with pytest.raises(ValueError, match="time_format must be one of"):
        bvt.parse_time("20240301", "YYYYMMDD")


@pytest.mark.parametrize("unit", ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns"])
def test_datetime64_of_any_unit_is_exact(unit):
    from behavtarget._times import datetime64_ms
    a = np.array(["1969-12-31T23:59:59.999999", "2024-03-01T10:00:00.123456"],
                 dtype="datetime64[us]").astype(f"datetime64[{unit}]")
    ms, nat, over = datetime64_ms(a)
    want = a.astype("datetime64[ms]").astype(np.int64)  # numpy floors: the same rule
    assert ms.tolist() == want.tolist() and not nat.any() and not over.any()
    assert datetime64_ms(np.array(["2000-01-01"], dtype="datetime64[D]"))[0] == [946684800000]


def test_datetime64_beyond_int64_ms_is_refused():
    from behavtarget._times import datetime64_ms
    ms, nat, over = datetime64_ms(np.array([2**62], dtype="datetime64[s]"))
    assert over.tolist() == [True]


def frame(times, n=None):
    n = len(times) if n is None else n
    return pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "timestamp": times,
                         "type": "page_view"})


def first_seen(engine, n, now=MAR1 + 30 * DAY):
    return [engine.profile(f"u{i}", now).first_seen_ms for i in range(n)]


def test_integer_yyyymmdd_column_refused_then_read_as_named(engine):
    df = frame([20240301, 20240302])
    with pytest.raises(ValueError) as e:
        engine.track_frame(df)
    msg = str(e.value)
    assert "timestamp[0] = 20240301" in msg and "ambiguous" in msg and "time_format=" in msg
    assert not engine.exists("u0")
    with pytest.raises(ValueError, match="ambiguous"):  # not a row's problem: no collecting
        engine.track_frame(df, errors="collect")
    assert engine.track_frame(df, time_format="yyyymmdd") == []
    assert first_seen(engine, 2) == [MAR1, MAR1 + DAY]


def test_integer_and_text_dates_agree(engine):
    engine.track_frame(frame([20240301, 20240302]), time_format="yyyymmdd")
    engine.track_frame(frame(["2024-03-01", "2024-03-02"]).assign(user_id=["t0", "t1"]))
    assert first_seen(engine, 2) == [engine.profile(u, MAR1 + DAY).first_seen_ms
                                     for u in ("t0", "t1")]


def test_epoch_seconds_refused_then_read_as_named(engine):
    df = frame(np.array([1709287200, 1709287260], dtype=np.int64))
    with pytest.raises(ValueError, match=r"timestamp\[0\] = 1709287200: .*ambiguous.*epoch-s"):
        engine.track_frame(df)
    assert not engine.exists("u0")
    assert engine.track_frame(df, time_format="epoch-s") == []
    assert first_seen(engine, 2) == [MAR1_10, MAR1_10 + 60_000]
    # 13 digits can only be milliseconds: read as they always were
    assert engine.track_frame(frame(df.timestamp * 1000 + 1).assign(user_id=["m0", "m1"])) == []
    assert [engine.profile(u, MAR1_10 + DAY).first_seen_ms for u in ("m0", "m1")] == [
        MAR1_10 + 1, MAR1_10 + 60_001]


def test_text_column_read_by_the_library(engine):
    digits = frame(["20240301", "20240302"])  # pandas would take these for dates
    with pytest.raises(ValueError, match=r"timestamp\[0\] = '20240301': .*ambiguous"):
        engine.track_frame(digits)
    assert engine.track_frame(digits, time_format="yyyymmdd") == []
    assert first_seen(engine, 2) == [MAR1, MAR1 + DAY]
    df = frame(["2024-03-01T10:00:00Z", "2024-03-01 11:00:00+01:00", "2024-03-01T10:00Z",
                "2024-03-01T10:00:00.000999Z"]).assign(user_id=lambda d: "t" + d.user_id)
    assert engine.track_frame(df) == []
    assert [engine.profile(u, MAR1_10).first_seen_ms for u in df.user_id] == [MAR1_10] * 4


@pytest.mark.parametrize("times", [
    pd.to_datetime(["2024-03-01T10:00:00", "2024-03-01T10:00:00"]),              # ns, naive
    np.array(["2024-03-01T10:00:00"] * 2, dtype="datetime64[s]"),              # s unit
    pd.to_datetime(["2024-03-01T10:00:00Z"] * 2).tz_convert("Asia/Kolkata"),    # tz-aware
    pd.to_datetime(["2024-03-01T11:00:00+01:00"] * 2),                         # fixed offset
    [datetime.datetime(2024, 3, 1, 11, tzinfo=PLUS1), pd.Timestamp("2024-03-01T10:00Z")],
    [np.datetime64("2024-03-01T10:00:00", "s"), np.datetime64(MAR1_10 * 10**6, "ns")],
], ids=["ns", "s", "tz", "offset", "datetimes", "datetime64-objects"])
def test_datetime_columns_converted_exactly(engine, times):
    assert engine.track_frame(frame(times)) == []
    assert first_seen(engine, 2) == [MAR1_10, MAR1_10]
    # a value of the column, given alone, is the same time
    assert [engine.profile(f"u{i}", pd.Series(times)[i]).recency_ms for i in range(2)] == [0, 0]


def test_date_objects_in_a_column_are_midnight_utc(engine):
    days = [datetime.date(2024, 3, 1), datetime.date(2024, 3, 2)]
    assert engine.track_frame(frame(days)) == []
    assert first_seen(engine, 2) == [MAR1, MAR1 + DAY]
    assert engine.profile("u1", days[1]).recency_ms == 0


def test_time_format_is_checked(engine):
    with pytest.raises(ValueError, match="time_format must be one of"):
        engine.track_frame(frame([MAR1]), time_format="seconds")


def test_rfm_summary_takes_an_integer_date_column_when_told():
    df = pd.DataFrame({"customer_id": ["A", "A", "B"], "date": [20240101, 20240105, 20240103],
                       "value": [10.0, 20.0, 7.0]})
    with pytest.raises(ValueError, match="time_format="):
        bvt.rfm_summary(df, end="2024-01-15")
    as_text = bvt.rfm_summary(df.assign(date=["2024-01-01", "2024-01-05", "2024-01-03"]),
                              end="2024-01-15")
    pd.testing.assert_frame_equal(
        bvt.rfm_summary(df, end=datetime.date(2024, 1, 15), time_format="yyyymmdd"), as_text)
