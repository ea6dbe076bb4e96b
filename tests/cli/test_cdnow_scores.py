#!/usr/bin/env python3
"""RFM scores on CDNOW: `bvt rfm --scores` puts a fifth of the scored
buyers in each level of R, F and M (20% +- 2% of them), although most
CDNOW customers buy on one day only and spend one of a few common amounts:
the library ranks buyers with a tie-break (include/behavtarget.h,
bvt_rfm_refresh), so ties do not pile into one level.  Checked on the
calibration period (end 1997-09-30, as test_cdnow_rfm.py) and on the whole
sample; a buyer's scores are 1..5, and with them the summary columns are
those without --scores.

Arguments: BVT DATA_DIR (the shared data folder).  Needs only
cdnow/CDNOW_sample.txt; skips (77) with a message when it is absent."""
import collections
import csv
import io
import os
import sys

from clitest import SKIP, Checker

data = os.path.join(sys.argv[2], "cdnow") if len(sys.argv) > 2 else ""
sample = os.path.join(data, "CDNOW_sample.txt")
if not os.path.isfile(sample):
    print(f"skipping: CDNOW sample not found in {data or '(no data dir given)'}", file=sys.stderr)
    sys.exit(SKIP)

c = Checker()
rows = ["customer_id,date,value"]
with open(sample) as f:
    for line in f:
        parts = line.split()
        if len(parts) == 5:
            _, cust, ymd, _, dollars = parts
            rows.append(f"{int(cust)},{ymd[:4]}-{ymd[4:6]}-{ymd[6:]},{dollars}")
path = c.write("cdnow.csv", "\n".join(rows) + "\n")

for end in (["--end", "1997-09-30"], []):
    what = f"CDNOW {' '.join(end) or 'whole sample'}"
    rc, out, err = c.run("rfm", "--input", path, "--unit-days", "7", "--scores", *end)
    c.eq((rc, err), (0, ""), f"{what}: bvt rfm --scores exits 0 quietly")
    got = list(csv.DictReader(io.StringIO(out)))
    rc, plain, err = c.run("rfm", "--input", path, "--unit-days", "7", *end)
    summary = [{k: r[k] for k in ("customer_id", "frequency", "recency", "T", "monetary_value")}
               for r in got]
    c.eq(summary, list(csv.DictReader(io.StringIO(plain))),
         f"{what}: --scores adds columns and changes none")
    c.eq(len(got), 2357, f"{what}: every customer bought, so every one is scored")
    for dim in ("r_score", "f_score", "m_score"):
        levels = collections.Counter(int(r[dim]) for r in got)
        c.eq(sorted(levels), [1, 2, 3, 4, 5], f"{what}: {dim} uses the levels 1..5")
        for level in range(1, 6):
            share = levels[level] / len(got)
            c.check(abs(share - 0.2) <= 0.02, f"{what}: {dim} = {level} holds 20% +- 2% of "
                    f"the buyers", f"{levels[level]} of {len(got)} = {share:.1%}")
    # One-day buyers are most of CDNOW, yet they do not all score F = 1.
    one_day = [r for r in got if r["frequency"] == "0"]
    c.check(len(one_day) > 0.5 * len(got), f"{what}: most buyers buy on one day",
            f"{len(one_day)} of {len(got)}")
    # F ranks by purchase days first: more days never scores lower.
    by_days = collections.defaultdict(list)
    for r in got:
        by_days[int(r["frequency"])].append(int(r["f_score"]))
    days = sorted(by_days)
    c.check(all(max(by_days[a]) <= min(by_days[b]) for a, b in zip(days, days[1:])),
            f"{what}: more purchase days never gives a lower F score")
c.done()
