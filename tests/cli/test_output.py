#!/usr/bin/env python3
"""Clean output (issue 12, points 6 and 9): numbers as the shortest decimal
that reads back to what is held (15.3, not 15.300000190734863; 1/3 with
all its digits, not 12), every time in epoch ms followed by the same time
in ISO 8601 UTC (`bvt profile`, `bvt export`), RFM scores in `bvt profile`
(refreshed at --now, null for a user without a purchase, never 0), and
`bvt --version`."""
import datetime
import json
import re

from clitest import Checker

c = Checker()
ENV = {"BVT_SECRET": "a-test-secret-of-enough-bytes"}

# u1: a cart add at a time with milliseconds, a purchase of 15.3, three
# impressions and a click (ctr 1/3).  u2 buys more, u3 only browses.
EVENTS = """user_id,timestamp,type,category,item_id,value,offer_id
u1,2024-03-01T10:00:00Z,page_view,home,,,
u1,2024-03-01T10:01:00.250Z,add_to_cart,home,sku-1,19.99,
u1,2024-03-01T10:02:00Z,purchase,home,sku-0,15.3,
u1,2024-03-01T11:00:00Z,impression,,,,o1
u1,2024-03-01T11:01:00Z,impression,,,,o1
u1,2024-03-01T11:02:00Z,impression,,,,o1
u1,2024-03-01T11:03:00Z,click,,,,o1
u2,2024-03-01T12:00:00Z,purchase,home,,80,
u2,2024-03-02T12:00:00Z,purchase,home,,30,
u3,2024-03-02T13:00:00Z,page_view,home,,,
"""
events = c.write("events.csv", EVENTS)


def iso_of(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ms % 1000:03d}" if ms % 1000 else "") + "Z"


def check_times(obj, where):
    """Every NAME_ms that is a time is followed by NAME_iso with its text (null
    for 0); durations have no _iso.  Returns how many times were seen."""
    n = 0
    if isinstance(obj, list):
        return sum(check_times(x, where) for x in obj)
    if not isinstance(obj, dict):
        return 0
    keys = list(obj)
    for i, k in enumerate(keys):
        v = obj[k]
        if isinstance(v, (dict, list)):
            n += check_times(v, f"{where}.{k}")
        if not (k == "now" or k.endswith("_ms")) or k.endswith("recency_ms") \
                or k in ("dwell_ms", "mean_dwell_ms"):
            continue
        base = k[:-3] if k.endswith("_ms") else k
        iso = base + "_iso"
        c.check(i + 1 < len(keys) and keys[i + 1] == iso, f"{where}: {k} then {iso}",
                str(keys[i:i + 2]))
        got = obj.get(iso)
        if isinstance(v, list):
            c.eq(got, [iso_of(x) for x in v], f"{where}.{iso}")
        else:
            c.eq(got, iso_of(v) if v else None, f"{where}.{iso}")
        n += 1
    return n


# ---- bvt profile -----------------------------------------------------------
rc, out, err = c.run("profile", "--events", events, "u1")
c.eq((rc, err), (0, ""), "profile exits 0 quietly")
p = json.loads(out)
c.check('"monetary_total": 15.3,' in out, "monetary_total prints 15.3", out[:600])
c.check('"ctr": 0.3333333333333333,' in out, "ctr prints every digit of 1/3 (shortest "
        "round trip, not 12 digits)", out[:900])
c.eq(p["ctr"], 1 / 3, "ctr reads back to 1/3 exactly")
c.check(all(i["affinity"] == float(repr(i["affinity"])) for i in p["interests"]),
        "interest numbers read back exactly")
c.eq(check_times(p, "profile"), 6, "profile: now, first and last seen, last purchase, "
     "cart oldest and the cart add, each with its _iso twin")
c.eq((p["now_iso"], p["last_purchase_iso"], p["cart"][0]["added_iso"]),
     ("2024-03-02T13:00:00Z", "2024-03-01T10:02:00Z", "2024-03-01T10:01:00.250Z"),
     "ISO 8601 UTC, milliseconds only when there are some")
c.eq(p["cart_oldest_iso"], "2024-03-01T10:01:00.250Z", "cart_oldest_iso")

# Scores: refreshed at --now over the file's two buyers: u2 (2 days, 110)
# outranks u1 in F and M; u1 bought first, so u2 outranks it in R too.
c.eq((p["r_score"], p["f_score"], p["m_score"]), (1, 1, 1),
     "u1's scores: refreshed, the lower of two buyers")
rc, out, err = c.run("profile", "--events", events, "u2")
p2 = json.loads(out)
c.eq((p2["r_score"], p2["f_score"], p2["m_score"]), (5, 5, 5),
     "u2's scores: the higher of two buyers (with two, every cut point is the lower)")
rc, out, err = c.run("profile", "--events", events, "u3")
p3 = json.loads(out)
c.eq((p3["r_score"], p3["f_score"], p3["m_score"]), (None, None, None),
     "a user without a purchase is not scored: null, not 0")
c.eq((p3["last_purchase_ms"], p3["last_purchase_iso"]), (0, None),
     "a time that never happened: 0 and null")

# ---- bvt export ------------------------------------------------------------
d = c.tmp.name + "/state"
rc, out, err = c.run("ingest", "--events", events, "--state", d, "--journal", "off", env=ENV)
c.eq((rc, err), (0, ""), "ingest --state")
rc, out, err = c.run("export", "--state", d, "--now", "2024-03-03", "u1", env=ENV)
c.eq((rc, err), (0, ""), "export exits 0 quietly")
x = json.loads(out)
c.check('"value":15.3}' in out, "a history value kept as a float prints 15.3", out[-700:])
c.check("15.300000190734863" not in out, "no widened-float noise in the export")
c.eq(x["now_iso"], "2024-03-03T00:00:00Z", "export: now_iso")
c.check(check_times(x, "export") >= 10, "export: every time has its _iso twin")

# ---- bvt --version ---------------------------------------------------------
rc, out, err = c.run("--version")
c.eq((rc, err), (0, ""), "bvt --version exits 0 quietly")
c.check(re.fullmatch(r"bvt \d+\.\d+\.\d+\nlibbehavtarget \d+\.\d+\.\d+\n", out) is not None,
        "bvt --version: the tool's version, then the library's", repr(out))
rc, out, err = c.run("--help")
c.check("--version" in out, "bvt --help mentions --version")
c.done()
