"""Check that two RFM summaries agree: same customers, and frequency,
recency, T and monetary_value within a tolerance.  Prints one line and exits
non-zero on disagreement.  Reads only the csv module (no pandas), so it is
not part of any timing.

Usage: rfm_compare.py A.csv B.csv [TOLERANCE]
Both files: a header naming customer_id (or id), frequency, recency, T,
monetary_value, in any order; extra columns are ignored.
"""
import csv
import sys

FIELDS = ("frequency", "recency", "T", "monetary_value")


def load(path):
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        names = {n.strip().lower(): n for n in rows.fieldnames or []}
        key = names.get("customer_id") or names.get("id") or names.get("user_id")
        cols = {}
        for fld in FIELDS:
            col = names.get(fld.lower())
            if col is None:
                sys.exit(f"{path}: no column {fld} (have {rows.fieldnames})")
            cols[fld] = col
        if key is None:
            sys.exit(f"{path}: no customer id column (have {rows.fieldnames})")
        return {r[key].strip(): tuple(float(r[cols[f]]) for f in FIELDS) for r in rows}


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    if a.keys() != b.keys():
        only_a, only_b = len(a.keys() - b.keys()), len(b.keys() - a.keys())
        sys.exit(f"customers differ: {only_a} only in the first, {only_b} only in the second")
    worst, where = 0.0, None
    for k, va in a.items():
        for fld, x, y in zip(FIELDS, va, b[k]):
            d = abs(x - y)
            if d > worst:
                worst, where = d, (k, fld, x, y)
    if worst > tol:
        k, fld, x, y = where
        sys.exit(f"outputs disagree: customer {k} {fld} {x} vs {y} (tolerance {tol})")
    print(f"outputs agree: {len(a)} customers, largest difference {worst:.2g} "
          f"(tolerance {tol})")


if __name__ == "__main__":
    main()
