#!/usr/bin/env python3
"""bvt segments: sizes of rules-file and built-in segments, --now and
--context, audience export with --members in three formats, and every error
path (exit status, message, nothing on stdout)."""
import json

from clitest import Checker

c = Checker()

# The latest event is c's purchase on 10 March 10:00Z, so --now defaults to
# it.  a viewed mattresses on 1, 2 and 3 March at 10:00 (the 3 March view is
# exactly 7 days before now: outside a 7d window, which is now-7d < t <= now).
# b viewed them on 9 March.  The user 'x,"y' bought on 9 March, c on 10 March.
# 'z q' only had an impression.
EVENTS = '''user_id,timestamp,type,category,item_id,value
a,2024-03-01T10:00:00Z,page_view,home/bedroom/mattresses,,
a,2024-03-02T10:00:00Z,page_view,home/bedroom/mattresses,,
a,2024-03-03T10:00:00Z,page_view,home/bedroom/mattresses,,
b,2024-03-09T10:00:00Z,page_view,home/bedroom/mattresses,,
"x,""y",2024-03-09T11:00:00Z,purchase,home,sku-1,20
z q,2024-03-09T12:00:00Z,impression,,,
c,2024-03-10T10:00:00Z,purchase,home/garden,sku-2,50
'''

RULES = '''# segments for the test
matt_7d: count(page_view, "home/bedroom/mattresses", 7d) >= 1

  matt_30d :  count(page_view, "home/bedroom/mattresses", 30d) >= 3
buyers:purchases >= 1
   # an indented comment
home_buyers: did(purchase, "home", 30d) and sum(purchase, "home", 30d) > 30
mobile: ctx.device == "mobile" and events > 0
evening: ctx.hour >= 18 and within(ctx.page_category, "home")
campaign: ctx.campaign == "spring, sale"
anyone: events >= 1
'''

FILE_SEGMENTS = ["matt_7d", "matt_30d", "buyers", "home_buyers", "mobile", "evening",
                 "campaign", "anyone"]
BUILTINS = ["Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
            "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating",
            "Lost", "New Visitor", "Engaged", "Retargeting Pool", "First-time Buyer",
            "Repeat Buyer", "Lapsed"]

ev = c.write("events.csv", EVENTS)
rules = c.write("rules.txt", RULES)


def sizes(*extra, rules_path=rules):
    rc, out, err = c.run("segments", "--events", ev, "--rules", rules_path, *extra)
    c.eq((rc, err), (0, ""), f"segments {' '.join(extra)}: exit 0, quiet stderr")
    lines = out.splitlines()
    c.eq(lines[:1], ["segment,size"], "header segment,size")
    return lines, dict(l.rsplit(",", 1) for l in lines[1:])


# ---- sizes --------------------------------------------------------------
lines, got = sizes()
names = [l.rsplit(",", 1)[0] for l in lines[1:]]
c.eq(names, FILE_SEGMENTS + BUILTINS,
     "rows: the file's segments in file order, then RFM segments, then funnel stages")
c.eq(got.get("matt_7d"), "1", "7d window: only b (a's last view is exactly 7 days old)")
c.eq(got.get("matt_30d"), "1", "30d window, >= 3 views: a")
c.eq(got.get("buyers"), "2", "buyers: x,\"y and c")
c.eq(got.get("home_buyers"), "1", "purchases in 'home' and below summing over 30: c (50)")
c.eq(got.get("mobile"), "0", "no --context: ctx comparisons are false")
c.eq(got.get("evening"), "0", "no --context: within() is false")
c.eq(got.get("anyone"), "5", "every user")
# Funnel: a (3 sessions) is Engaged, b and 'z q' are New Visitors, both
# buyers are First-time Buyers; RFM segments are scored (two buyers).
c.eq(got.get("Engaged"), "1", "built-in Engaged: a")
c.eq(got.get("New Visitor"), "2", "built-in New Visitor: b and 'z q'")
c.eq(got.get("First-time Buyer"), "2", "built-in First-time Buyer")
rfm_total = sum(int(got.get(n, "0")) for n in BUILTINS[:11])
c.eq(rfm_total, 2, "RFM scores refreshed: each buyer is in exactly one RFM segment")

# The same events as JSON Lines give the same sizes.
jl = c.write("events.jsonl", "".join(json.dumps(r) + "\n" for r in [
    {"user_id": "a", "timestamp": "2024-03-01T10:00:00Z", "type": "page_view",
     "category": "home/bedroom/mattresses"},
    {"user_id": "a", "timestamp": "2024-03-02T10:00:00Z", "type": "page_view",
     "category": "home/bedroom/mattresses"},
    {"user_id": "a", "timestamp": "2024-03-03T10:00:00Z", "type": "page_view",
     "category": "home/bedroom/mattresses"},
    {"user_id": "b", "timestamp": "2024-03-09T10:00:00Z", "type": "page_view",
     "category": "home/bedroom/mattresses"},
    {"user_id": "x,\"y", "timestamp": "2024-03-09T11:00:00Z", "type": "purchase",
     "category": "home", "item_id": "sku-1", "value": 20},
    {"user_id": "z q", "timestamp": "2024-03-09T12:00:00Z", "type": "impression"},
    {"user_id": "c", "timestamp": "2024-03-10T10:00:00Z", "type": "purchase",
     "category": "home/garden", "item_id": "sku-2", "value": 50},
]))
rc, out_jl, _ = c.run("segments", "--events", jl, "--rules", rules)
c.eq((rc, out_jl), (0, "\n".join(lines) + "\n"), "JSON Lines twin gives identical output")

# --now moves the 7d window: on 8 March b has not viewed yet and a's views
# on 2 and 3 March are in the window (8 March 10:00 - 7d < t).
_, got = sizes("--now", "2024-03-08T10:00:00Z")
c.eq(got.get("matt_7d"), "1", "--now 8 March: a is in the 7d window, b not yet")
_, got = sizes("--now", "2024-03-17T10:00:00Z")
c.eq(got.get("matt_7d"), "0", "--now 17 March: b's view is older than 7 days")
B_VIEW = 1709978400000  # 2024-03-09T10:00:00Z, b's view
WEEK = 7 * 86400000
_, got = sizes("--now", str(B_VIEW + WEEK))
c.eq(got.get("matt_7d"), "0", "--now in epoch ms, exactly 7 days after b's view: out")
_, got = sizes("--now", str(B_VIEW + WEEK - 1))
c.eq(got.get("matt_7d"), "1", "--now in epoch ms, 1 ms less: in")

# --context fills bvt_context.
_, got = sizes("--context", "device=mobile")
c.eq(got.get("mobile"), "5", "--context device=mobile")
_, got = sizes("--context", "device=desktop")
c.eq(got.get("mobile"), "0", "--context device=desktop")
_, got = sizes("--context", "hour=19", "--context=page_category=home/bedroom")
c.eq(got.get("evening"), "5", "--context hour and page_category")
_, got = sizes("--context", "hour=9", "--context", "page_category=home/bedroom")
c.eq(got.get("evening"), "0", "--context hour=9 is not >= 18")
_, got = sizes("--context", "hour=19", "--context", "page_category=homeware")
c.eq(got.get("evening"), "0", "'homeware' is not within 'home'")
_, got = sizes("--context", "campaign=spring, sale", "--context", "geo=FR")
c.eq(got.get("campaign"), "5", "caller-named key, value with a comma and space")
_, got = sizes("--context", "campaign=spring=sale")
c.eq(got.get("campaign"), "0", "the value is everything after the first '='")

# Names needing CSV quotes; a custom event type declared for the events
# file is known to the rules.
odd = c.write("odd.txt", 'a "quoted", name: events >= 1\nplain: count(video_end, *, 30d) >= 1\n')
ev2 = c.write("events2.csv", EVENTS + "b,2024-03-10T09:00:00Z,video_end,,,\n")
rc, out, err = c.run("segments", "--events", ev2, "--rules", odd, "--custom-types", "video_end")
c.eq(rc, 0, "odd names: exit 0")
c.eq(out.splitlines()[1:3], ['"a ""quoted"", name",5', "plain,1"],
     "a name with a comma and quotes is quoted RFC 4180 style; custom types work")

# ---- --members ------------------------------------------------------------
def members(name, *extra):
    rc, out, err = c.run("segments", "--events", ev, "--rules", rules, "--members", name, *extra)
    c.eq((rc, err), (0, ""), f"--members {name} {' '.join(extra)}: exit 0, quiet stderr")
    return out

c.eq(members("anyone"), 'a\nb\nc\nx,"y\nz q\n', "ids: sorted as bytes, one per line")
c.eq(members("anyone", "--format", "ids"), 'a\nb\nc\nx,"y\nz q\n', "--format ids is the default")
c.eq(members("anyone", "--format", "csv"), 'user_id\na\nb\nc\n"x,""y"\nz q\n',
     "csv: header, quoted id")
out = members("buyers", "--format", "jsonl")
c.eq(out, '{"user_id":"c"}\n{"user_id":"x,\\"y"}\n', "jsonl: escaped quote")
c.eq([json.loads(l)["user_id"] for l in out.splitlines()], ["c", 'x,"y'], "jsonl parses back")
c.eq(members("matt_7d"), "b\n", "members of a window rule")
c.eq(members("matt_7d", "--now", "2024-03-08T10:00:00Z"), "a\n", "--members honours --now")
c.eq(members("mobile"), "", "empty segment: no lines")
c.eq(members("mobile", "--format", "csv"), "user_id\n", "empty segment as csv: the header")
c.eq(members("mobile", "--context", "device=mobile", "--format", "jsonl").count("\n"), 5,
     "--members honours --context")
c.eq(members("New Visitor"), "b\nz q\n", "members of a built-in segment")

# Sorting is bytewise: upper case before lower case, '10' before '9'.
ev3 = c.write("events3.csv", "user_id,timestamp,type\n" + "".join(
    f"{u},2024-03-01,page_view\n" for u in ["b", "9", "10", "B", "a", "\u00e9"]))
rc, out, _ = c.run("segments", "--events", ev3, "--rules", rules, "--members", "anyone")
c.eq((rc, out), (0, "10\n9\nB\na\nb\n\u00e9\n"), "bytewise order")

# ---- errors -----------------------------------------------------------------
def fails(what, args, status, stderr_starts=None, stderr_has=None):
    rc, out, err = c.run("segments", *args)
    c.eq(rc, status, f"{what}: exit {status}")
    c.eq(out, "", f"{what}: nothing on stdout")
    first = err.splitlines()[0] if err else ""
    if stderr_starts is not None:
        c.check(first.startswith(stderr_starts), f"{what}: stderr starts {stderr_starts!r}", first)
    if stderr_has is not None:
        c.check(stderr_has in first, f"{what}: stderr mentions {stderr_has!r}", first)
    if status == 2:
        c.check("usage: bvt segments" in err, f"{what}: usage on stderr", err)


def bad_rules(what, text, line, col, has):
    path = c.write("bad.txt", text)
    fails(what, ["--events", ev, "--rules", path], 1, f"{path}:{line}:{col}: ", has)


bad_rules("unknown event type", "ok: events > 0\n\n   b :  count(page_vew, *, 7d) > 1\n",
          3, 15, "page_vew")
bad_rules("syntax error at the end", "# c\nx:purchases >=\n", 2, 15, "")
bad_rules("unknown feature", "\tx: purchase > 1\n", 1, 5, "purchase")
bad_rules("CRLF file", "a: events > 0\r\nb: events >> 1\r\n", 2, 12, "")
bad_rules("window beyond the horizon", "w: count(*, *, 500d) > 0\n", 1, 16, "horizon")
bad_rules("duplicate name", "dup: events > 0\nother: events > 1\n dup : events > 2\n",
          3, 2, "dup")
bad_rules("built-in name", "x: events > 0\nChampions: events > 0\n", 2, 1, "Champions")
bad_rules("built-in funnel name", "  Lapsed: purchases > 0\n", 1, 3, "Lapsed")
bad_rules("no colon", "ok: events > 0\njust a rule\n", 2, 1, "name: rule")
bad_rules("empty name", "  : events > 0\n", 1, 3, "name")
bad_rules("empty rule", "x:\n", 1, 3, "")
bad_rules("name too long", "n" * 64 + ": events > 0\n", 1, 1, "63")
bad_rules("in_segment of a later name", "a: in_segment(\"b\")\nb: events > 0\n", 1, 15, "")

fails("unknown --members name", ["--events", ev, "--rules", rules, "--members", "nope"], 1,
      "bvt: no segment 'nope'")
fails("--members of a rules file that fails", ["--events", ev, "--rules", c.write(
    "bad2.txt", "x: nope\n"), "--members", "x"], 1, c.tmp.name + "/bad2.txt:1:4: ")
fails("missing rules file", ["--events", ev, "--rules", c.tmp.name + "/none.txt"], 1,
      f"bvt: {c.tmp.name}/none.txt: ")
fails("bad events file", ["--events", c.write("badev.csv", "user_id,timestamp,type\nu,x,click\n"),
                          "--rules", rules], 1, c.tmp.name + "/badev.csv:2: ")

USAGE = [
    ("no --rules", ["--events", ev]),
    ("no --events", ["--rules", rules]),
    ("bad --now", ["--events", ev, "--rules", rules, "--now", "soon"]),
    ("--context without '='", ["--events", ev, "--rules", rules, "--context", "device"]),
    ("--context empty key", ["--events", ev, "--rules", rules, "--context", "=x"]),
    ("--context key not a name", ["--events", ev, "--rules", rules, "--context", "a-b=x"]),
    ("--context hour 24", ["--events", ev, "--rules", rules, "--context", "hour=24"]),
    ("--context hour text", ["--events", ev, "--rules", rules, "--context", "hour=7pm"]),
    ("--context hour empty", ["--events", ev, "--rules", rules, "--context", "hour="]),
    ("--context key twice", ["--events", ev, "--rules", rules, "--context", "geo=FR",
                             "--context", "geo=DE"]),
    ("--context without a value", ["--events", ev, "--rules", rules, "--context"]),
    ("bad --format", ["--events", ev, "--rules", rules, "--members", "anyone",
                      "--format", "xml"]),
    ("--format without --members", ["--events", ev, "--rules", rules, "--format", "csv"]),
    ("unknown option", ["--events", ev, "--rules", rules, "--bogus", "1"]),
    ("positional argument", ["--events", ev, "--rules", rules, "extra"]),
]
for what, args in USAGE:
    fails(what, args, 2, "bvt: ")

rc, out, err = c.run("segments", "--help")
c.eq((rc, err), (0, ""), "segments --help: exit 0, quiet stderr")
for word in ("--events", "--rules", "--now", "--context", "--members", "--format", "jsonl",
             "segment,size", "FILE:LINE:COL"):
    c.check(word in out, f"segments --help mentions {word}", out)
rc, out, _ = c.run("--help")
c.check(rc == 0 and "segments" in out, "bvt --help lists segments", out)

c.done()
