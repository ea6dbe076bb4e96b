"""rfm_summary: lifetimes' summary of a hand-made frame."""
import pandas as pd
import pytest

import behavtarget as bvt

ROWS = [  # customer, date, value
    ("A", "2024-01-01", 10.0), ("A", "2024-01-11", 30.0), ("A", "2024-01-01", 5.0),
    ("A", "2024-01-05", 20.0), ("B", "2024-01-06", 7.0), ("C", "2024-01-20", 99.0),
]


def frame():
    return pd.DataFrame(ROWS, columns=["customer_id", "date", "value"])


def test_daily_summary_with_end():
    s = bvt.rfm_summary(frame(), end="2024-01-15")
    assert list(s.index) == ["A", "B"]  # C bought after the end
    assert list(s.columns) == ["frequency", "recency", "T", "monetary_value"]
    a, b = s.loc["A"], s.loc["B"]
    # A: days 1, 5, 11 (two purchases on the 1st are one day); end day 15
    assert (a.frequency, a.recency, a["T"]) == (2, 10, 14)
    assert a.monetary_value == pytest.approx(25.0)  # repeat days only: (20 + 30) / 2
    assert (b.frequency, b.recency, b["T"], b.monetary_value) == (0, 0, 9, 0)


def test_weekly_summary_defaults_to_last_row():
    s = bvt.rfm_summary(frame(), unit_days=7)
    assert list(s.index) == ["A", "B", "C"]
    assert s.loc["A", "recency"] == pytest.approx(10 / 7)
    assert s.loc["A", "T"] == pytest.approx(19 / 7)
    assert s.loc["C", "T"] == 0


def test_row_order_does_not_matter():
    shuffled = frame().sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(bvt.rfm_summary(shuffled), bvt.rfm_summary(frame()))


def test_bad_input():
    with pytest.raises(ValueError):
        bvt.rfm_summary(frame().drop(columns="value"))
    with pytest.raises(bvt.InvalidArgument):
        bvt.rfm_summary(frame().assign(value=-1.0))
