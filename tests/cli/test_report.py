#!/usr/bin/env python3
"""bvt report: offer metrics per offer, for all users and per segment, checked
against rows computed by hand; the same events as JSON Lines; --now; and the
error paths (exit status, FILE:LINE message, nothing on stdout)."""
import json

from clitest import Checker

c = Checker()

# r1 and r2 viewed running gear before their impressions, so they are in
# 'runners' when the shoes feedback is tracked; c1 viewed kitchen, so is in
# 'cooks'; c2 and x viewed nothing.  x's first impression names an offer the
# offers file does not define (unattributed: in no row).  r2 watched a video
# (a custom type the rules file names).
EVENTS = '''user_id,timestamp,type,category,offer_id,value
r1,2024-03-01T09:00:00Z,page_view,sports/running,,
r1,2024-03-01T10:00:00Z,impression,,shoes,
r1,2024-03-01T10:01:00Z,click,,shoes,
r1,2024-03-01T10:05:00Z,impression,,shoes,
r2,2024-03-01T09:30:00Z,page_view,sports/running,,
r2,2024-03-01T09:40:00Z,video_complete,,,
r2,2024-03-01T11:00:00Z,impression,,shoes,
r2,2024-03-01T11:02:00Z,share,,shoes,
c1,2024-03-01T12:00:00Z,page_view,kitchen,,
c1,2024-03-01T12:01:00Z,impression,,pans,
c1,2024-03-01T12:02:00Z,click,,pans,
c1,2024-03-01T12:10:00Z,conversion,,pans,45.5
c2,2024-03-02T08:00:00Z,impression,,pans,
c2,2024-03-02T08:00:05Z,dismiss,,pans,
c2,2024-03-02T08:01:00Z,impression,,"a,b",
c2,2024-03-02T08:02:00Z,click,,"a,b",
x,2024-03-02T09:00:00Z,impression,,unknown-offer,
x,2024-03-03T09:00:00Z,impression,,shoes,
x,2024-03-03T09:01:00Z,click,,shoes,3
'''

OFFERS = '''# test offers; the group is defined after the offer naming it
shoes: value=2 cost=0.1 tags=sports/running caps=3/1d,10/7d group=spring
pans:  value=10 response=conversion cost=1.5 cost_per=click tags=kitchen cooloff=1d rule=events >= 1

a,b: value=0 priority=-1 start=2024-01-01 end=2025-01-01 budget=1000 personalised=no
group spring: caps=5/1d
'''

RULES = '''runners: interest("sports/running") > 0
cooks: interest("kitchen") > 0
watchers: count(video_complete, *, 30d) >= 1
'''

HEADER = ("offer,segment,impressions,clicks,conversions,dismissals,engagements,"
          "revenue,cost,ctr,conversion_rate,engagement_rate,roi")
ZERO = "0,0,0,0,0,0,0,0,0,0,0"
# By hand (revenue: the response event's value when > 0, else the offer's;
# cost: the offer's cost per cost_per event; engagements: clicks + likes,
# shares, comments; rates as in bvt_metrics):
#  shoes: 4 impressions x 0.1 = 0.4 cost; clicks r1 (value 2) and x (event
#    value 3) = revenue 5; r2's share = 3 engagements; roi (5 - 0.4) / 0.4.
#  shoes/runners: r1 and r2 only: 3 impressions, 1 click, 2 engagements,
#    revenue 2, cost 0.3, roi 1.7 / 0.3.
#  pans: responds to conversions: revenue 45.5 (c1's conversion value);
#    cost per click 1.5 x 1; c2 dismissed it; roi 44 / 1.5.
#  a,b: value 0 and no event value: revenue 0, no cost, roi 0.
#  *: the sum of the offers (not the unattributed impression).
WANT = [
    HEADER,
    "shoes,all,4,2,0,0,3,5,0.4,0.5,0,0.75,11.5",
    "shoes,runners,3,1,0,0,2,2,0.3,0.333333,0,0.666667,5.666667",
    "shoes,cooks," + ZERO,
    "pans,all,2,1,1,1,1,45.5,1.5,0.5,1,0.5,29.333333",
    "pans,runners," + ZERO,
    "pans,cooks,1,1,1,0,1,45.5,1.5,1,1,1,29.333333",
    '"a,b",all,1,1,0,0,1,0,0,1,0,1,0',
    '"a,b",runners,' + ZERO,
    '"a,b",cooks,' + ZERO,
    "*,all,7,4,1,1,5,50.5,1.9,0.571429,0.25,0.714286,25.578947",
    "*,runners,3,1,0,0,2,2,0.3,0.333333,0,0.666667,5.666667",
    "*,cooks,1,1,1,0,1,45.5,1.5,1,1,1,29.333333",
]

ev = c.write("events.csv", EVENTS)
offers = c.write("offers.txt", OFFERS)
rules = c.write("rules.txt", RULES)


def report(*args):
    # video_complete is the events file's custom type, which rules name.
    return c.run("report", "--custom-types", "video_complete", *args)


# ---- the report ------------------------------------------------------
rc, out, err = report("--events", ev, "--offers", offers, "--rules", rules,
                      "--segments", "runners,cooks")
c.eq((rc, err), (0, ""), "report: exit 0, quiet stderr")
c.eq(out.splitlines(), WANT, "rows computed by hand")

# Without --segments: the 'all' rows only; without --rules too.
rc, out, err = report("--events", ev, "--offers", offers)
c.eq((rc, err), (0, ""), "no rules, no segments: exit 0")
c.eq(out.splitlines(), [r for r in WANT if ",all," in r or r == HEADER], "only 'all' rows")

# A built-in segment can be listed (quoted in the output when needed).
rc, out, err = report("--events", ev, "--offers", offers, "--segments", "New Visitor")
c.eq((rc, err), (0, ""), "a built-in segment: exit 0")
c.eq(len(out.splitlines()), 1 + 4 * 2, "a row for all and one for New Visitor per offer")

# The same events as JSON Lines give the same bytes.
lines = EVENTS.splitlines()
keys = lines[0].split(",")
records = []
for line in lines[1:]:
    parts = line.replace('"a,b"', "A_B").split(",")
    rec = {k: v.replace("A_B", "a,b") for k, v in zip(keys, parts) if v != ""}
    if "value" in rec:
        rec["value"] = float(rec["value"])
    records.append(rec)
jl = c.write("events.jsonl", "".join(json.dumps(r) + "\n" for r in records))
rc, out, err = report("--events", jl, "--offers", offers, "--rules", rules,
                      "--segments", "runners,cooks")
c.eq((rc, out.splitlines()), (0, WANT), "JSON Lines: the same report")

# --now: only events up to T (x's shoes impression and click on 3 March
# drop out: 3 impressions, 1 click, revenue 2, cost 0.3).
rc, out, err = report("--events", ev, "--offers", offers, "--now", "2024-03-02T23:59:59Z")
c.eq(rc, 0, "--now: exit 0")
got = out.splitlines()
c.eq(got[1], "shoes,all,3,1,0,0,2,2,0.3,0.333333,0,0.666667,5.666667", "--now: shoes")
c.eq(got[-1], "*,all,6,3,1,1,4,47.5,1.8,0.5,0.333333,0.666667,25.388889", "--now: total")

# CRLF offers file, offers only (no events naming them): zero rows.
crlf = c.write("crlf.txt", "solo: value=1\n\n# nothing else\n", newline="\r\n")
rc, out, err = report("--events", ev, "--offers", crlf)
c.eq((rc, out.splitlines()), (0, [HEADER, "solo,all," + ZERO, "*,all," + ZERO]),
     "CRLF offers file, an offer without events")


# ---- bad input: exit 1, FILE:LINE: reason, nothing on stdout ----------
def bad_offers(text, want_err, what):
    path = c.write("bad-offers.txt", text)
    rc, out, err = report("--events", ev, "--offers", path)
    c.eq((rc, out), (1, ""), f"{what}: exit 1, nothing on stdout")
    c.eq(err.strip(), f"{path}:{want_err}", f"{what}: message")


bad_offers("# x\nshoes value=2\n", "2: expected 'id: key=value ...'", "no colon")
bad_offers("shoes: value=abc\n", "1: value: expected a number >= 0 in 'abc'", "bad value")
bad_offers("shoes: caps=3/1y\n",
           "1: caps: expected COUNT/DURATION such as 3/1d (count 1..255; units ms, s, m, h, "
           "d, w), found '3/1y'", "bad cap")
bad_offers("shoes: caps=0/1d\n",
           "1: caps: expected COUNT/DURATION such as 3/1d (count 1..255; units ms, s, m, h, "
           "d, w), found '0/1d'", "cap of 0")
bad_offers("shoes: colour=red\n", "1: unknown key 'colour'", "unknown key")
bad_offers("shoes: value=1 value=2\n", "1: key 'value' given twice", "key twice")
bad_offers("shoes: value\n", "1: expected key=value, found 'value'", "no '='")
bad_offers("shoes: cost_per=view\n", "1: cost_per: expected impression or click, found 'view'",
           "bad cost_per")
bad_offers("a: value=1\nb: value=1\na: value=2\n", "3: offer 'a' is defined twice",
           "offer twice")
bad_offers("shoes: group=nope\n", "1: offer 'shoes': no offer group 'nope'", "unknown group")
bad_offers("shoes: rule=events >>= 1\n",
           "1: offer 'shoes': expected a value, found '>=' (at byte 9 of the rule)",
           "bad rule")
bad_offers("group g: value=1\n", "1: unknown key 'value' (a group has only caps=)",
           "group with an offer key")

# A bad rules file: FILE:LINE:COL as in bvt segments.
bad_rules = c.write("bad-rules.txt", "ok: events > 0\nbroken: events >\n")
rc, out, err = report("--events", ev, "--offers", offers, "--rules", bad_rules)
c.eq((rc, out), (1, ""), "bad rules: exit 1, nothing on stdout")
c.check(err.startswith(f"{bad_rules}:2:"), "bad rules: FILE:LINE:COL", err)

# A bad events file names its line.
bad_ev = c.write("bad-events.csv", "user_id,timestamp,type,offer_id\nu,2024-03-01,click,shoes\n"
                 "u,2024-13-01,click,shoes\n")
rc, out, err = report("--events", bad_ev, "--offers", offers)
c.eq((rc, out), (1, ""), "bad events: exit 1, nothing on stdout")
c.check(err.startswith(f"{bad_ev}:3: timestamp:"), "bad events: FILE:LINE", err)

# An unknown segment is bad input (exit 1), as in bvt segments --members.
rc, out, err = report("--events", ev, "--offers", offers, "--segments", "runners")
c.eq((rc, out, err.strip()), (1, "", "bvt: no segment 'runners'"),
     "a segment not defined: exit 1")

rc, out, err = report("--events", c.write("none.csv", ""), "--offers", offers)
c.eq((rc, out), (1, ""), "empty events file: exit 1")

# ---- bad command line: exit 2 ------------------------------------------
for args, what in [
    (["--events", ev], "no --offers"),
    (["--offers", offers], "no --events"),
    (["--events", ev, "--offers", offers, "--now", "yesterday"], "bad --now"),
    (["--events", ev, "--offers", offers, "--segments", "a,,b"], "empty segment name"),
    (["--events", ev, "--offers", offers, "--segments", "a,a"], "segment twice"),
    (["--events", ev, "--offers", offers, "--segments", ",".join(f"s{i}" for i in range(16))],
     "16 segments"),
    (["--events", ev, "--offers", offers, "--colour", "red"], "unknown option"),
    (["--events", ev, "--offers", offers, "extra"], "positional argument"),
]:
    rc, out, err = report(*args)
    c.eq((rc, out), (2, ""), f"{what}: exit 2, nothing on stdout")
    c.check("usage: bvt report" in err, f"{what}: usage on stderr", err)

rc, out, err = report("--help")
c.check(rc == 0 and out.startswith("usage: bvt report"), "--help: usage on stdout, exit 0")
rc, out, err = c.run("--help")
c.check("  report " in out, "bvt --help lists report")

c.done()
