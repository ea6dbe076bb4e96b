#!/usr/bin/env python3
"""Bad input: exit 1, "FILE:LINE: reason" on stderr, nothing on stdout.
Bad command lines: exit 2, usage on stderr, nothing on stdout."""
import json

from clitest import Checker

c = Checker()

EV = "user_id,timestamp,type,category,item_id,value,quantity,offer_id\n"
OK = "u1,2024-01-01,page_view,,,,,\n"
RFM = "customer_id,date,value\n"

# (name, command, file name, content, line, part of the reason)
CASES = [
    ("events: empty file", "ingest", "e.csv", "", 1, "empty file"),
    ("events: header without type", "ingest", "e.csv",
     "user_id,timestamp,category\nu1,2024-01-01,x\n", 1, "missing column 'type'"),
    ("events: column twice", "ingest", "e.csv",
     "user_id,timestamp,type,type\n", 1, "appears twice"),
    ("events: month 13", "ingest", "e.csv",
     EV + OK + "u1,2024-13-01,page_view,,,,,\n", 3, "month must be 01..12"),
    ("events: 30 February", "ingest", "e.csv",
     EV + "u1,2024-02-30T10:00:00Z,click,,,,,\n", 2, "no such day"),
    ("events: bad time zone", "ingest", "e.csv",
     EV + "u1,2024-02-03T10:00:00+1,click,,,,,\n", 2, "timestamp"),
    ("events: epoch 0", "ingest", "e.csv",
     EV + "u1,0,click,,,,,\n", 2, "after 1970"),
    ("events: too many fields", "ingest", "e.csv",
     EV + OK + OK + "u1,2024-01-01,page_view,,,,,,\n", 4, "found 9 fields"),
    ("events: too few fields", "ingest", "e.csv",
     EV + "u1,2024-01-01,page_view\n", 2, "found 3 fields"),
    ("events: unterminated quote", "ingest", "e.csv",
     EV + OK + 'u1,2024-01-01,page_view,"home\n,,,,\n', 3, "unterminated quoted field"),
    ("events: text after closing quote", "ingest", "e.csv",
     EV + 'u1,2024-01-01,page_view,"home"x,,,,\n', 2, "after a closing quote"),
    ("events: line numbers count blank lines and quoted line breaks", "ingest", "e.csv",
     EV + "\n" + 'u1,2024-01-01,page_view,,"two\nlines",,,\n' + "u1,2024-01-01,Page View,,,,,\n",
     5, "unknown event type 'Page View' (did you mean page_view?)"),
    ("events: negative value", "ingest", "e.csv",
     EV + "u1,2024-01-01,purchase,,,-3,,\n", 2, "must be >= 0"),
    ("events: value not a number", "ingest", "e.csv",
     EV + "u1,2024-01-01,purchase,,,12 EUR,,\n", 2, "value"),
    ("events: value nan", "ingest", "e.csv",
     EV + "u1,2024-01-01,purchase,,,nan,,\n", 2, "value"),
    ("events: quantity words", "ingest", "e.csv",
     EV + "u1,2024-01-01,add_to_cart,,,,two,\n", 2, "quantity"),
    ("events: dwell over a day", "ingest", "e.csv",
     "user_id,timestamp,type,dwell_ms\nu1,2024-01-01,page_view,86400001\n", 2, "dwell_ms"),
    ("events: empty category segment", "ingest", "e.csv",
     EV + "u1,2024-01-01,page_view,home//beds,,,,\n", 2, "empty path segment"),
    ("events: empty user", "ingest", "e.csv",
     EV + OK + ",2024-01-01,page_view,,,,,\n", 3, "user_id"),
    ("events: user id over 1024 bytes", "ingest", "e.csv",
     EV + "u" * 1025 + ",2024-01-01,page_view,,,,,\n", 2, "1024"),
    ("events: line over 64 KiB", "ingest", "e.csv",
     EV + OK + "u1,2024-01-01,page_view,,," + "1" * 70000 + ",,\n", 3, "longer than 65536"),
    ("events: an undeclared custom type", "ingest", "e.csv",
     EV + OK + "u1,2024-01-01,custom_0,,,,,\n", 3, "unknown event type 'custom_0'"),
    ("jsonl: not an object", "ingest", "e.jsonl",
     '{"user_id":"u1","timestamp":"2024-01-01","type":"like"}\n[1]\n', 2, "JSON object"),
    ("jsonl: missing type", "ingest", "e.jsonl",
     '{"user_id":"u1","timestamp":"2024-01-01"}\n', 1, "type: missing"),
    ("jsonl: null user", "ingest", "e.jsonl",
     '{"user_id":null,"timestamp":"2024-01-01","type":"like"}\n', 1, "user_id"),
    ("jsonl: key twice", "ingest", "e.jsonl",
     '\n{"user_id":"a","user_id":"b","timestamp":"2024-01-01","type":"like"}\n', 2, "appears twice"),
    ("jsonl: bad escape", "ingest", "e.jsonl",
     '{"user_id":"a\\q","timestamp":"2024-01-01","type":"like"}\n', 1, "bad escape"),
    ("jsonl: lone surrogate", "ingest", "e.jsonl",
     '{"user_id":"a\\ud800","timestamp":"2024-01-01","type":"like"}\n', 1, "surrogate"),
    ("jsonl: text after the object", "ingest", "e.jsonl",
     '{"user_id":"a","timestamp":"2024-01-01","type":"like"} x\n', 1, "after the object"),
    ("jsonl: boolean value", "ingest", "e.jsonl",
     '{"user_id":"a","timestamp":"2024-01-01","type":"purchase","value":true}\n', 1,
     "value: expected a string or a number"),
    ("jsonl: missing comma", "ingest", "e.jsonl",
     '{"user_id":"a" "timestamp":"2024-01-01","type":"like"}\n', 1, "expected ',' or '}'"),
    ("jsonl: unterminated string", "ingest", "e.jsonl",
     '{"user_id":"a,"timestamp":"2024-01-01","type":"like"}\n{"user_id":"b\n', 1, ""),
    ("jsonl: raw NUL via escape", "ingest", "e.jsonl",
     '{"user_id":"a\\u0000b","timestamp":"2024-01-01","type":"like"}\n', 1, "NUL"),
    ("jsonl: nesting over 64 levels in an ignored key", "ingest", "e.jsonl",
     '{"x":' + "[" * 65 + "]" * 65 + ',"user_id":"a","timestamp":"2024-01-01","type":"like"}\n',
     1, "deeper than 64"),
    ("profile: bad event file", "profile", "e.csv",
     EV + OK + "u1,yesterday,page_view,,,,,\n", 3, "timestamp"),
    ("rfm: empty file", "rfm", "t.csv", "", 1, "empty file"),
    ("rfm: missing value column", "rfm", "t.csv", "customer_id,date\na,2024-01-01\n", 1,
     "missing column 'value'"),
    ("rfm: bad date", "rfm", "t.csv", RFM + "a,2024-01-01,1\na,01/02/2024,1\n", 3, "date"),
    ("rfm: empty value", "rfm", "t.csv", RFM + "a,2024-01-01,\n", 2, "value: empty"),
    ("rfm: negative value", "rfm", "t.csv", RFM + "a,2024-01-01,-1\n", 2, "must be >= 0"),
    ("rfm: empty customer", "rfm", "t.csv", RFM + ",2024-01-01,1\n", 2, "customer_id: empty"),
    ("rfm: field count", "rfm", "t.csv", RFM + "a,2024-01-01,1\r\nb,2024-01-01\r\n", 3,
     "found 2 fields"),
    ("rfm: bad row after the --end day still fails", "rfm", "t.csv",
     RFM + "a,2024-01-01,1\na,2030-01-01,x\n", 3, "value"),
]

for name, cmd, fname, content, line, reason in CASES:
    path = c.write(fname, content)
    args = {"ingest": ["ingest", "--events", path],
            "profile": ["profile", "--events", path, "u1"],
            "rfm": ["rfm", "--input", path, "--end", "2024-06-01"]}[cmd]
    rc, out, err = c.run(*args)
    first = err.splitlines()[0] if err else ""
    c.eq(rc, 1, f"{name}: exit status")
    c.eq(out, "", f"{name}: nothing on stdout")
    c.check(first.startswith(f"{path}:{line}: "), f"{name}: reported at line {line}", first)
    c.check(reason in first, f"{name}: reason mentions {reason!r}", first)

# 49 declared custom types: the library holds 48 (exit 1, nothing tracked).
types = c.write("types.txt", "".join(f"custom_{k}\n" for k in range(49)))
path = c.write("e.csv", EV + OK)
rc, out, err = c.run("ingest", "--events", path, "--types-file", types)
c.eq((rc, out), (1, ""), "49 custom types: exit 1, nothing on stdout")
c.check(err.startswith("bvt: custom type 'custom_48': "), "49 custom types: names the 49th", err)

# Good records before the bad one are not printed either.
path = c.write("late.csv", RFM + "a,2024-01-01,1\n" * 10 + "a,2024-01-02,oops\n")
rc, out, err = c.run("rfm", "--input", path)
c.eq((rc, out), (1, ""), "rfm with a late bad row prints nothing")

# ---- the command line ---------------------------------------------------
good = c.write("good.csv", RFM + "a,2024-01-01,1\n")
USAGE = [
    ("no command", []),
    ("unknown command", ["frobnicate"]),
    ("unknown top-level option", ["--bogus"]),
    ("rfm without --input", ["rfm"]),
    ("rfm unknown option", ["rfm", "--input", good, "--bogus", "1"]),
    ("rfm short option", ["rfm", "-i", good]),
    ("rfm --unit-days 0", ["rfm", "--input", good, "--unit-days", "0"]),
    ("rfm --unit-days x", ["rfm", "--input", good, "--unit-days", "x"]),
    ("rfm --end bad date", ["rfm", "--input", good, "--end", "2024-02-30"]),
    ("rfm extra argument", ["rfm", "--input", good, "extra"]),
    ("ingest without a value", ["ingest", "--events"]),
    ("ingest without --events", ["ingest"]),
    ("profile without USER", ["profile", "--events", good]),
    ("profile with two users", ["profile", "--events", good, "a", "b"]),
    ("profile bad --now", ["profile", "--events", good, "--now", "soon", "a"]),
]
for name, args in USAGE:
    rc, out, err = c.run(*args)
    c.eq(rc, 2, f"usage: {name}: exit 2")
    c.eq(out, "", f"usage: {name}: nothing on stdout")
    c.check("usage: bvt" in err, f"usage: {name}: usage on stderr", err)

for args, must in ((["--help"], "rfm"), (["rfm", "--help"], "--unit-days"),
                   (["ingest", "--help"], "events_per_s"), (["profile", "-h"], "--now")):
    rc, out, err = c.run(*args)
    c.eq((rc, err), (0, ""), f"{' '.join(args)}: exit 0, quiet stderr")
    c.check(out.startswith("usage: bvt") and must in out, f"{' '.join(args)}: usage on stdout", out)

missing = c.tmp.name + "/no-such-file.csv"
rc, out, err = c.run("rfm", "--input", missing)
c.eq((rc, out), (1, ""), "missing file: exit 1")
c.check(err.startswith(f"bvt: {missing}: "), "missing file: message names it", err)

c.done()
