#!/usr/bin/env python3
"""bvt rfm on the CDNOW sample against lifetimes' published summary.

Arguments: BVT DATA_DIR (the shared data folder).  The transactions are
converted to the rfm CSV (customer_id,date,value) in a temporary folder and
`bvt rfm --end 1997-09-30 --unit-days 7` must reproduce
cdnow_customers_summary_with_transactions.csv (x, t_x, T, zbar) within 0.01
for all 2,357 customers.  Then the sample as it comes, only with commas
between its columns (00001,0001,19970101,...: YYYYMMDD dates, its own
column names): refused without --time-format (8 digits could be epoch
milliseconds), the same summary with --time-format yyyymmdd and --columns;
and as an event file of purchases, the same summary again.  Skips (77) when
the data folder is absent."""
import csv
import io
import os
import statistics
import sys

from clitest import SKIP, Checker

data = os.path.join(sys.argv[2], "cdnow") if len(sys.argv) > 2 else ""
sample = os.path.join(data, "CDNOW_sample.txt")
summary = os.path.join(data, "cdnow_customers_summary_with_transactions.csv")
if not (os.path.isfile(sample) and os.path.isfile(summary)):
    print(f"skipping: CDNOW data not found in {data or '(no data dir given)'}", file=sys.stderr)
    sys.exit(SKIP)

c = Checker()
rows = ["customer_id,date,value"]
with open(sample) as f:
    for line in f:
        parts = line.split()
        if len(parts) != 5:
            continue
        _, cust, ymd, _, dollars = parts
        rows.append(f"{int(cust)},{ymd[:4]}-{ymd[4:6]}-{ymd[6:]},{dollars}")
c.eq(len(rows) - 1, 6919, "CDNOW sample rows")
path = c.write("cdnow.csv", "\n".join(rows) + "\n")

WEEKS = ("--end", "1997-09-30", "--unit-days", "7")
with open(summary) as f:
    want = {r["ID"]: r for r in csv.DictReader(f)}


def compare(out, what):
    """Rows of a bvt rfm output against lifetimes' (ids compared as numbers)."""
    got = {str(int(r["customer_id"])): r for r in csv.DictReader(io.StringIO(out))}
    c.eq(len(got), len(want), f"{what}: one row per customer (2,357)")
    mismatches = []
    for cid, w in want.items():
        g = got.get(cid)
        if g is None:
            mismatches.append(f"{cid}: missing")
            continue
        for wk, gk in (("x", "frequency"), ("t_x", "recency"), ("T", "T"),
                       ("zbar", "monetary_value")):
            if abs(float(w[wk]) - float(g[gk])) > 0.01:
                mismatches.append(f"{cid}: {gk} {g[gk]} != {w[wk]}")
    for m in mismatches[:5]:
        print("  " + m)
    c.eq(len(mismatches), 0, f"{what}: customers differing from lifetimes by more than 0.01")
    return got


rc, out, err = c.run("rfm", "--input", path, *WEEKS)
c.eq((rc, err), (0, ""), "bvt rfm exits 0 quietly")
got = compare(out, "ISO dates")

# The sample as it comes, commas between its columns.
raw = ["master_customer_id,customer_id,date,number_of_cds,dollar_value"]
events = ["user_id,timestamp,type,quantity,value"]
with open(sample) as f:
    for line in f:
        parts = line.split()
        if len(parts) == 5:
            raw.append(",".join(parts))
            events.append(f"{parts[1]},{parts[2]},purchase,{parts[3]},{parts[4]}")
raw_path = c.write("cdnow-raw.csv", "\n".join(raw) + "\n")
COLUMNS = ("--columns", "value=dollar_value,quantity=number_of_cds")
rc, out, err = c.run("rfm", "--input", raw_path, *WEEKS, *COLUMNS)
c.eq((rc, out), (1, ""), "YYYYMMDD dates without --time-format: refused, nothing printed")
c.check(err.startswith(f"{raw_path}:2: date: time '19970101' is ambiguous: a YYYYMMDD date "
                       "or epoch milliseconds") and "--time-format" in err,
        "the refusal names the line, column, value and option", err)
rc, out, err = c.run("rfm", "--input", raw_path, *WEEKS, *COLUMNS, "--time-format", "yyyymmdd")
c.eq((rc, err), (0, ""), "--time-format yyyymmdd: exit 0 quietly")
compare(out, "YYYYMMDD dates")

# The same purchases as an event file: bvt rfm reads its purchases, and the
# file serves the event commands as it is.
ev_path = c.write("cdnow-events.csv", "\n".join(events) + "\n")
rc, out, err = c.run("rfm", "--input", ev_path, *WEEKS, "--time-format", "yyyymmdd")
c.eq((rc, err), (0, ""), "the event file: exit 0 quietly")
compare(out, "the event file")
rc, out, err = c.run("ingest", "--events", ev_path, "--time-format", "yyyymmdd")
c.check(rc == 0 and "users=2357" in out and "events=6919" in out,
        "bvt ingest reads the same event file", err)

# The published monetary figures for repeat buyers (Fader, Hardie & Lee 2005).
repeat = [float(r["monetary_value"]) for r in got.values() if int(r["frequency"]) > 0]
c.eq(len(repeat), 946, "repeat buyers")
if repeat:
    c.near(statistics.mean(repeat), 35.08, 0.005, "mean monetary value")
    c.near(statistics.stdev(repeat), 30.28, 0.005, "sd of monetary value")
    c.near(min(repeat), 2.99, 0.005, "min monetary value")
    c.near(statistics.median(repeat), 27.50, 0.005, "median monetary value")
    c.near(max(repeat), 299.63, 0.005, "max monetary value")
c.done()
