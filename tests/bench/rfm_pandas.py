"""The lifetimes RFM summary with a plain pandas groupby: the peer that
`bvt rfm` is compared with.

Definitions (lifetimes summary_data_from_transaction_data, freq='D',
include_first_transaction=False): purchases snapped to their day and summed
per customer-day; purchases after the observation end dropped;
frequency = purchase days - 1; recency = last - first purchase day;
T = end - first purchase day (both in units of --unit-days days);
monetary_value = mean of the per-day totals over the repeat days (first day
excluded), 0 without repeats.

Usage: rfm_pandas.py INPUT.csv END(YYYY-MM-DD) UNIT_DAYS OUTPUT.csv
INPUT has a header customer_id,date,value with dates as YYYY-MM-DD.
"""
import sys

import pandas as pd


def main():
    inp, end, unit_days, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    end = pd.Timestamp(end)
    df = pd.read_csv(inp, dtype={"customer_id": str, "date": str, "value": float})
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    df = df[df["date"] <= end]
    daily = df.groupby(["customer_id", "date"], sort=True)["value"].sum().reset_index()
    g = daily.groupby("customer_id", sort=True)
    first = g["date"].min()
    last = g["date"].max()
    days = g.size()
    total = g["value"].sum()
    first_value = g["value"].first()  # daily is sorted by date within a customer
    repeats = days - 1
    monetary = ((total - first_value) / repeats.where(repeats > 0)).fillna(0.0)
    res = pd.DataFrame({
        "frequency": repeats.astype(float),
        "recency": (last - first).dt.days / unit_days,
        "T": (end - first).dt.days / unit_days,
        "monetary_value": monetary,
    })
    res.index.name = "customer_id"
    res.to_csv(out, float_format="%.6f")


if __name__ == "__main__":
    main()
