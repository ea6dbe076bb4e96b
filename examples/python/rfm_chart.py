#!/usr/bin/env python3
"""Bar chart of the built-in RFM segments of a transactions CSV.

    rfm_chart.py transactions.csv segments.png [--now 2024-06-30]

The CSV has columns user_id,timestamp,value (timestamps ISO 8601 or epoch
ms, read by the library's bvt_time_parse as `bvt` reads them).  Every row is tracked as a purchase, bvt_rfm_refresh() scores the
buyers' R/F/M quintiles, and the engine's built-in RFM segments
(docs/segments.md) are counted at `--now` (default: the latest row).
"""
from __future__ import annotations

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

try:
    import behavtarget as bvt
except ImportError:  # run from a source checkout: the package is in bindings/python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "bindings", "python"))
    import behavtarget as bvt
from behavtarget.frames import to_ms  # noqa: E402

RFM_SEGMENTS = ["Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
                "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them",
                "Hibernating", "Lost"]


def segment_sizes(df: pd.DataFrame, now_ms: int | None = None) -> dict[str, int]:
    """Members of each built-in RFM segment after tracking df's purchases."""
    ms = to_ms(df["timestamp"], "timestamp")
    # Each user's purchases in time order, so days are counted exactly.
    order = np.lexsort((ms, pd.factorize(df["user_id"])[0]))
    events = pd.DataFrame({"user_id": df["user_id"].to_numpy()[order], "time_ms": ms[order],
                           "type": "purchase",
                           "value": df["value"].to_numpy(dtype=float)[order]})
    now = int(now_ms if now_ms is not None else ms.max())
    with bvt.Engine(os.urandom(32)) as engine:
        engine.track_frame(events, time_format="epoch-ms")  # raises for a bad row
        engine.rfm_refresh(now)
        return {name: engine.segment_count(name, now) for name in RFM_SEGMENTS}


def draw(sizes: dict[str, int], path: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = list(sizes)
    ax.barh(names[::-1], [sizes[n] for n in names][::-1], color="#4c72b0")
    ax.set_xlabel("customers")
    ax.set_title("RFM segments")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", help="transactions: user_id,timestamp,value")
    ap.add_argument("png", help="chart to write")
    ap.add_argument("--now", help="scoring time (default: the latest row)")
    args = ap.parse_args(argv)
    df = pd.read_csv(args.csv, dtype={"user_id": str})
    now = bvt.parse_time(args.now) if args.now else None
    sizes = segment_sizes(df, now)
    draw(sizes, args.png)
    for name, n in sizes.items():
        print(f"{name},{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
