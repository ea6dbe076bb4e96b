#!/usr/bin/env python3
"""Events/s of Engine.track_frame against the bare C batch path.

    BVT_LIBRARY=build/src/libbehavtarget.so.1 bench_python.py [--events N] [--users U]

Both sides track the same events into a fresh engine.  "C batch" times only
bvt_event_track_batch on a bvt_event array built beforehand (through
ctypes, so the call itself is the library's); "track_frame" times the whole
binding call on a numpy-backed DataFrame, string encoding included.  The
ratio is the binding's overhead.  Not a test: numbers depend on the machine.
"""
import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bindings", "python"))
import behavtarget as bvt  # noqa: E402
from behavtarget import frames  # noqa: E402

SECRET = b"bench-python-secret-of-32-bytes."
T0 = 1_700_000_000_000


def make_frame(n, users, seed=1):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, users, n)
    kinds = np.array(["page_view", "click", "add_to_cart", "purchase"])
    return pd.DataFrame({
        "user_id": np.char.add("user-", u.astype(str)),
        "time_ms": T0 + np.sort(rng.integers(0, 30 * 86_400_000, n)),
        "type": kinds[rng.integers(0, 4, n)],
        "category": np.array(["books/sf", "books/crime", "garden", "toys/kites"])[
            rng.integers(0, 4, n)],
        "value": rng.uniform(0, 50, n).round(2),
    })


def c_batch(df, users):
    """Build the bvt_event array first, then time the library call only."""
    with bvt.Engine(SECRET, max_users=users) as e:
        events, keep, problems, _ = frames.build_events(e, df)
        assert not len(problems)
        t = time.perf_counter()
        failures = e._track_array(events.ctypes.data, len(events))
        elapsed = time.perf_counter() - t
        assert not failures
        del keep
        return elapsed


def binding(df, users):
    with bvt.Engine(SECRET, max_users=users) as e:
        t = time.perf_counter()
        failures = e.track_frame(df)
        elapsed = time.perf_counter() - t
        assert not failures
        return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    df = make_frame(a.events, a.users)
    c = min(c_batch(df, a.users) for _ in range(a.repeat))
    py = min(binding(df, a.users) for _ in range(a.repeat))
    print(f"events={a.events} users={a.users} library={bvt.version()}")
    print(f"c_batch_events_per_s={a.events / c:.0f}")
    print(f"track_frame_events_per_s={a.events / py:.0f}")
    print(f"ratio_track_frame_over_c={c / py:.3f}")


if __name__ == "__main__":
    main()
