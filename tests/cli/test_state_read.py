#!/usr/bin/env python3
"""The analysis commands on a state directory (--state DIR): profile,
segments, rfm and report read DIR read-only, through the same code as an
events file, so the same events give the same output either way, except
what a state cannot hold (raw user and item ids: keyed hashes instead).
DIR is the last checkpoint plus the journal; no file of it changes; other
readers may share it; a writer holding it is refused with a message that
says so and what to do.

Arguments: BVT.  The report section builds a state with offers through the
Python binding (BVT_LIBRARY and PYTHONPATH come from meson)."""
import csv
import datetime
import fcntl
import io
import json
import os

from clitest import Checker

c = Checker()
SECRET = "a-test-secret-of-enough-bytes"
ENV = {"BVT_SECRET": SECRET}

# Two halves: the first goes into DIR's snapshot (--journal off), the second
# into its journal, so every read covers both.  Buyers on several days,
# ties (u2 and u5 buy once, for the same value), a cart, offer feedback.
FIRST = """user_id,timestamp,type,category,item_id,value,offer_id
u1,2024-03-01T10:00:00Z,page_view,home/bedroom,,,
u1,2024-03-01T10:05:00Z,add_to_cart,home/bedroom,sku-1,40,
u1,2024-03-01T10:06:00Z,purchase,home/bedroom,,15.3,
u2,2024-03-02T09:00:00Z,purchase,garden,,7.5,
u3,2024-03-02T09:30:00Z,page_view,garden,,,
u3,2024-03-02T09:31:00Z,add_to_cart,garden,sku-9,12,
u4,2024-03-01T08:00:00Z,purchase,home,,100,
"""
SECOND = """user_id,timestamp,type,category,item_id,value,offer_id
u4,2024-03-03T08:00:00Z,impression,,,,shoes
u4,2024-03-03T08:01:00Z,click,,,,shoes
u1,2024-03-03T11:00:00Z,purchase,home/bedroom,,20,
u5,2024-03-03T12:00:00Z,purchase,garden,,7.5,
u6,2024-03-04T12:00:00Z,page_view,home,,,
"""
first = c.write("first.csv", FIRST)
second = c.write("second.csv", SECOND)
both = c.write("both.csv", FIRST + SECOND.split("\n", 1)[1])
RULES = c.write("rules.txt", "bedroom: interest(\"home/bedroom\") > 0\n"
                             "spenders: monetary_total >= 10\n")
d = os.path.join(c.tmp.name, "state")
USERS = ["u1", "u2", "u3", "u4", "u5", "u6"]


def files_of(path):
    return {f: open(os.path.join(path, f), "rb").read() for f in sorted(os.listdir(path))}


def run_ok(what, *args):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, err), (0, ""), f"{what}: exit 0, nothing on stderr")
    return out


def rows_of(out):
    return list(csv.DictReader(io.StringIO(out)))


run_ok("ingest the first half (snapshot)", "ingest", "--events", first, "--state", d,
       "--journal", "off")
run_ok("ingest the second half (journal)", "ingest", "--events", second, "--state", d,
       "--journal", "group")
c.check(any(f.endswith(".bvtj") for f in os.listdir(d)), "DIR has a journal to replay")
before = files_of(d)

# The keyed hash of each user, as bvt export names it.
KEY = {}
for u in USERS:
    out = run_ok(f"export {u}", "export", "--state", d, "--now", "2024-03-05", u)
    KEY[u] = json.loads(out)["key"] if out else None
ID_OF = {k: u for u, k in KEY.items()}

# ---- profile ---------------------------------------------------------------
for u in USERS:
    for now in ([], ["--now", "2024-03-10T00:00:00Z"]):
        want = json.loads(run_ok(f"profile --events {u}", "profile", "--events", both, *now, u))
        got = json.loads(run_ok(f"profile --state {u}", "profile", "--state", d, *now, u))
        for item in want["cart"]:
            item["item"] = None  # a state keeps only the item's hash
        c.eq(got, want, f"profile {u} {' '.join(now)}: the same from DIR as from the file")
p = json.loads(run_ok("profile u3", "profile", "--state", d, "u3"))
c.eq(p.get("now_iso"), "2024-03-04T12:00:00Z", "--now defaults to DIR's latest event")
c.eq([(i["item"], len(i["item_hash"])) for i in p["cart"]], [(None, 16)],
     "a cart item's id is null from DIR, its hash is there")
rc, out, err = c.run("profile", "--state", d, "nobody", env=ENV)
c.eq((rc, out), (1, ""), "profile --state of an unknown user: exit 1")
c.check(f"no profile for user 'nobody' in {d}" in err, "the message names user and DIR", err)

# ---- segments --------------------------------------------------------------
want = run_ok("segments --events", "segments", "--events", both, "--rules", RULES)
got = run_ok("segments --state", "segments", "--state", d, "--rules", RULES)
c.eq(got, want, "segment sizes: the same from DIR as from the file")
c.check("bedroom,1\n" in got and "spenders,2\n" in got, "the rules file's segments count", got)
for seg in ("spenders", "First-time Buyer", "bedroom"):
    ids = run_ok(f"members {seg}", "segments", "--events", both, "--rules", RULES,
                 "--members", seg).split()
    keys = run_ok(f"members {seg} --state", "segments", "--state", d, "--rules", RULES,
                  "--members", seg).split()
    c.eq(keys, sorted(KEY[u] for u in ids), f"members of {seg} from DIR: their keyed hashes")
out = run_ok("members csv", "segments", "--state", d, "--rules", RULES, "--members", "spenders",
             "--format", "csv")
c.eq(out.splitlines()[0], "user_key", "--format csv from DIR: the column is user_key")
out = run_ok("members jsonl", "segments", "--state", d, "--rules", RULES, "--members",
             "spenders", "--format", "jsonl")
c.eq(sorted(json.loads(l)["user_key"] for l in out.splitlines()),
     sorted([KEY["u1"], KEY["u4"]]), "--format jsonl from DIR: {\"user_key\": ...}")

# ---- rfm -------------------------------------------------------------------
tx = ["customer_id,date,value"] + [
    f"{r['user_id']},{r['timestamp']},{r['value']}"
    for r in csv.DictReader(open(both)) if r["type"] == "purchase"]
tx_path = c.write("tx.csv", "\n".join(tx) + "\n")
for args in ([], ["--end", "2024-03-02", "--unit-days", "7"], ["--scores"],
             ["--end", "2024-03-31", "--scores"]):
    want = rows_of(run_ok(f"rfm --input {args}", "rfm", "--input", tx_path, *args))
    got = rows_of(run_ok(f"rfm --state {args}", "rfm", "--state", d, *args))
    for r in got:
        r["customer_id"] = ID_OF.get(r.pop("user_key"))
    c.eq(sorted(got, key=lambda r: r["customer_id"]), want,
         f"rfm {' '.join(args)}: DIR's buyers, the same columns as from the file")
out = run_ok("rfm --state header", "rfm", "--state", d, "--scores")
c.eq(out.splitlines()[0], "user_key,frequency,recency,T,monetary_value,r_score,f_score,m_score",
     "rfm --state: user_key instead of customer_id")
keys = [l.split(",")[0] for l in out.splitlines()[1:]]
c.eq(keys, sorted(keys), "rfm --state: lines sorted by key")
rc, out, err = c.run("rfm", "--state", d, "--end", "2024-03-02", "--scores", env=ENV)
c.eq((rc, out), (1, ""), "rfm --state --scores with an end before DIR's last purchase: exit 1")
c.check("2024-03-03T12:00:00Z" in err and "--end" in err, "the message says why and what", err)

# ---- report ----------------------------------------------------------------
rc, out, err = c.run("report", "--state", d, env=ENV)
c.eq((rc, out), (1, ""), "report on a DIR without offers: exit 1")
c.check("defines no offers" in err and "bvt report --events" in err,
        "the message says why nothing was counted and what to do", err)
for extra, what in ((["--offers", RULES], "--offers"), (["--rules", RULES], "--rules"),
                    (["--now", "2024-03-01"], "--now")):
    rc, out, err = c.run("report", "--state", d, *extra, env=ENV)
    c.eq((rc, out), (2, ""), f"report --state {what}: a command-line error")
    c.check(what in err and "usage:" in err, f"report --state {what}: says why", err)

try:
    import behavtarget
except ImportError as e:  # meson sets PYTHONPATH; by hand, say what is missing
    c.check(False, "the Python binding is importable (PYTHONPATH, BVT_LIBRARY)", str(e))
    c.done()

# A state whose offers were defined before its events came, as a program on
# the library would keep one: its report is the file's on the same events.
OFFERS = c.write("offers.txt", "shoes: value=2\nhats: value=5\n")
od = os.path.join(c.tmp.name, "offers-state")
FEEDBACK = [("u4", "impression", "2024-03-03T08:00:00Z", "shoes"),
            ("u4", "click", "2024-03-03T08:01:00Z", "shoes"),
            ("u5", "impression", "2024-03-03T09:00:00Z", "shoes"),
            ("u5", "impression", "2024-03-03T09:01:00Z", "hats"),
            ("u5", "click", "2024-03-03T09:02:00Z", "hats")]
eng = behavtarget.Engine.open(od, SECRET, journal="group")
eng.offer_define("shoes", value=2.0)
eng.offer_define("hats", value=5.0)
for user, kind, when, offer in FEEDBACK:
    ms = int(datetime.datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    eng.track(user, kind, ms, offer=offer)
eng.sync()  # in DIR's journal, which bvt replays
eng.close()
fb = c.write("feedback.csv", "user_id,timestamp,type,offer_id\n" + "".join(
    f"{u},{t},{k},{o}\n" for u, k, t, o in FEEDBACK))
want = run_ok("report --events", "report", "--events", fb, "--offers", OFFERS)
got = run_ok("report --state", "report", "--state", od)
c.eq(got, want, "report --state: DIR's offers, as counted, the same as from the file")
rc, out, err = c.run("report", "--state", od, "--segments", "Champions", env=ENV)
c.eq((rc, out), (1, ""), "report --state by a segment DIR does not count by: exit 1")
c.check("counts no offer metrics by segment 'Champions'" in err, "says so", err)

# stats: an option DIR records as 17 digits prints as the shortest decimal
# that reads back to it.
wd = os.path.join(c.tmp.name, "weights-state")
eng = behavtarget.Engine.open(wd, SECRET, journal="off", ancestor_credit=0.1)
eng.checkpoint()
eng.close()
c.check("ancestor_credit 0.10000000000000001" in open(os.path.join(wd, "options")).read(),
        "the options file keeps 17 digits")
out = run_ok("stats with a fraction", "stats", "--state", wd)
c.check("option.ancestor_credit=0.1\n" in out, "stats prints option.ancestor_credit=0.1", out)

# ---- read-only: no file changed, readers share, a writer is refused -------
c.eq(files_of(d), before, "no command above changed a file of DIR")
lock = open(os.path.join(d, "lock"), "rb")
fcntl.flock(lock, fcntl.LOCK_SH)  # another reader
for args in (["profile", "--state", d, "u1"], ["rfm", "--state", d],
             ["segments", "--state", d, "--rules", RULES], ["stats", "--state", d]):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, err), (0, ""), f"{args[0]} --state shares DIR with another reader")
fcntl.flock(lock, fcntl.LOCK_UN)
fcntl.flock(lock, fcntl.LOCK_EX)  # a writer
for args in (["profile", "--state", d, "u1"], ["rfm", "--state", d],
             ["segments", "--state", d, "--rules", RULES], ["report", "--state", d],
             ["export", "--state", d, "u1"]):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (1, ""), f"{args[0]} --state while a writer holds DIR: exit 1")
    c.check(err.startswith(f"bvt: {d}: ") and "in use by another engine" in err
            and "open to write" in err and "run this command again" in err,
            f"{args[0]}: says a writer holds DIR and what to do", err)
rc, out, err = c.run("checkpoint", "--state", d, env=ENV)
c.check(rc == 1 and "a writer must have it alone" in err,
        "a writer refused says who may hold DIR", err)
fcntl.flock(lock, fcntl.LOCK_UN)
lock.close()

# ---- command lines ---------------------------------------------------------
for args, what in ((["profile", "u1"], "profile without a source"),
                   (["profile", "--events", both, "--state", d, "u1"], "profile with both"),
                   (["segments", "--rules", RULES], "segments without a source"),
                   (["segments", "--events", both, "--state", d, "--rules", RULES],
                    "segments with both"),
                   (["report", "--offers", OFFERS], "report without a source"),
                   (["rfm"], "rfm without a source"),
                   (["rfm", "--input", tx_path, "--state", d], "rfm with both"),
                   (["profile", "--state", "", "u1"], "an empty --state")):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (2, ""), f"{what}: exit 2")
    c.check("usage:" in err and ("--state" in err), f"{what}: names --state", err)
# The reading options read a file: DIR's events were read when tracked.
for args, opt in ((["profile", "--state", d, "--time-format", "iso", "u1"], "--time-format"),
                  (["rfm", "--state", d, "--returns", "ignore"], "--returns"),
                  (["segments", "--state", d, "--rules", RULES, "--max-errors", "3"],
                   "--max-errors"),
                  (["report", "--state", d, "--custom-types", "video_view"], "--custom-types")):
    rc, out, err = c.run(*args, env=ENV)
    c.eq((rc, out), (2, ""), f"{args[0]} --state {opt}: exit 2")
    c.check(f"{opt} with --state" in err and "usage:" in err,
            f"{args[0]} --state {opt}: says why", err)
for args in (["profile", "--state", d, "u1"], ["rfm", "--state", d],
             ["segments", "--state", d, "--rules", RULES], ["report", "--state", d]):
    rc, out, err = c.run(*args)
    c.eq((rc, out), (2, ""), f"{args[0]} --state without a secret: exit 2")
    c.check("BVT_SECRET" in err, f"{args[0]} --state without a secret: says so", err)
for cmd in ("profile", "segments", "rfm", "report"):
    rc, out, err = c.run(cmd, "--help")
    c.check(rc == 0 and "--state DIR" in out, f"{cmd} --help shows --state DIR", out)
c.done()
