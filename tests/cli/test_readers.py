#!/usr/bin/env python3
"""How every reader of bvt reads a file (docs/cli.md, "Reading files"):
times parsed or refused, never guessed (--time-format); one vocabulary of
event types (--custom-types, --types-file); lenient reading with a report
(--max-errors, --rejects) and returns (--returns); column mapping and
delimiters (--columns, --delimiter); bvt rfm on an event file."""
import csv
import io
import json
import os

from clitest import Checker

c = Checker()
SECRET = {"BVT_SECRET": "a-test-secret-of-enough-bytes"}


def lines(text):
    return text.splitlines()


# ---- 1. times: parsed or refused, never guessed -----------------------------

# CDNOW's dates are YYYYMMDD: 8 digits that epoch milliseconds could also be
# (1970-01-01T05:28:21.101Z).  Read as such, every customer had 0 repeat
# purchases and bvt rfm exited 0.
CDNOW = """customer_id,date,value
00001,19970101,29.33
00001,19970118,29.73
00001,19970802,14.96
00002,19970112,77.00
"""
tx = c.write("cdnow.csv", CDNOW)
rc, out, err = c.run("rfm", "--input", tx)
c.eq((rc, out), (1, ""), "YYYYMMDD without --time-format: exit 1, nothing on stdout")
c.check(err.startswith(f"{tx}:2: date: time '19970101' is ambiguous"),
        "the error names the line, the column and the value", err)
c.check("yyyymmdd or epoch-ms" in err and "--time-format" in err,
        "the error names the formats and the option", err)

rc, out, err = c.run("rfm", "--input", tx, "--time-format", "yyyymmdd")
c.eq((rc, err), (0, ""), "--time-format yyyymmdd: exit 0, quiet")
# 00001: days 1997-01-01, 01-18, 08-02 -> frequency 2, recency 213,
# T 213 (the end is the last date), monetary (29.73 + 14.96) / 2.
# 00002: one purchase on 01-12 -> T 202.
c.eq(out, "customer_id,frequency,recency,T,monetary_value\n"
     "00001,2,213,213,22.345\n00002,0,0,202,0\n", "YYYYMMDD read as dates")

# Epoch seconds: 10 digits could be seconds or milliseconds.  Read as
# milliseconds this was 1970-01-20, silently.
EV_S = "user_id,timestamp,type\nu1,1709287200,page_view\n"
ev_s = c.write("epoch-s.csv", EV_S)
for cmd in (["ingest", "--events", ev_s], ["profile", "--events", ev_s, "u1"]):
    rc, out, err = c.run(*cmd)
    c.eq((rc, out), (1, ""), f"{cmd[0]}: 10-digit time refused")
    c.check(err.startswith(f"{ev_s}:2: timestamp: time '1709287200' is ambiguous")
            and "epoch-s or epoch-ms" in err, f"{cmd[0]}: says which formats", err)
rc, out, err = c.run("profile", "--events", ev_s, "--time-format", "epoch-s", "u1")
c.eq((rc, err), (0, ""), "--time-format epoch-s: exit 0, quiet")
if rc == 0:
    p = json.loads(out)
    c.eq((p["first_seen_ms"], p["now_ms"]), (1709287200000, 1709287200000),
         "epoch seconds read as 2024-03-01T10:00:00Z")

# The format is the caller's to choose: epoch-ms reads 1970, and the
# implausible time is warned about once, with a count.
rc, out, err = c.run("ingest", "--events", ev_s, "--time-format", "epoch-ms")
c.eq(rc, 0, "--time-format epoch-ms: exit 0")
c.eq(err, f"bvt: warning: {ev_s}: 1 time before 1990-01-01 (first at line 2): "
     "check --time-format\n", "times before 1990 warned about")
# ISO only: a bare integer is then an error.
rc, out, err = c.run("ingest", "--events", ev_s, "--time-format", "iso")
c.check(rc == 1 and f"{ev_s}:2: timestamp:" in err, "--time-format iso refuses digits", err)
rc, out, err = c.run("ingest", "--events", ev_s, "--time-format", "unix")
c.check(rc == 2 and "--time-format must be auto, iso, yyyymmdd, epoch-s or epoch-ms" in err,
        "an unknown --time-format: exit 2", err)

# Times far after the file was written (its modification time): here a
# year typed 2204 among 2024 dates.
late = c.write("late.csv", "user_id,timestamp,type\n" + "".join(
    f"u{k},2024-03-0{k}T10:00:00Z,page_view\n" for k in range(1, 4)) +
    "u4,2204-03-04T10:00:00Z,page_view\nu5,2204-03-05T10:00:00Z,page_view\n")
written = 1709596800  # 2024-03-05T00:00:00Z
os.utime(late, (written, written))
rc, out, err = c.run("ingest", "--events", late)
c.eq(rc, 0, "late times: exit 0")
c.eq(err, f"bvt: warning: {late}: 2 times more than a day after the file was written "
     "(2024-03-05T00:00:00Z) (first at line 5): check --time-format\n",
     "times after the file was written warned about once, with a count")
# --now takes the same forms: a 10-digit value is ambiguous there too.
rc, out, err = c.run("profile", "--events", late, "--now", "1709287200", "u1")
c.check(rc == 2 and "ambiguous" in err, "--now 1709287200: exit 2, ambiguous", err)

# ---- 3. one vocabulary of event types --------------------------------------
typo = c.write("typo.csv", "user_id,timestamp,type\nu1,2024-03-01T10:00:00Z,page_view\n"
               "u1,2024-03-01T10:01:00Z,pageview\n")
for cmd in (["ingest", "--events", typo], ["profile", "--events", typo, "u1"],
            ["rfm", "--input", typo]):
    rc, out, err = c.run(*cmd)
    c.eq((rc, out), (1, ""), f"{cmd[0]}: 'pageview' refused")
    c.check(err.startswith(f"{typo}:3: type: unknown event type 'pageview' "
                           "(did you mean page_view?)"), f"{cmd[0]}: suggests page_view", err)
for bad, near in (("Page_View", "page_view"), ("purchse", "purchase"), ("add-to-cart", "add_to_cart")):
    path = c.write("near.csv", f"user_id,timestamp,type\nu1,2024-03-01,{bad}\n")
    rc, out, err = c.run("ingest", "--events", path)
    c.check(rc == 1 and f"(did you mean {near}?)" in err, f"'{bad}': did you mean {near}?", err)
far = c.write("far.csv", "user_id,timestamp,type\nu1,2024-03-01,video_complete\n")
rc, out, err = c.run("ingest", "--events", far)
c.check(rc == 1 and "unknown event type 'video_complete'; declare custom types with "
        "--custom-types or --types-file" in err, "no near miss: no suggestion", err)
rc, out, err = c.run("ingest", "--events", far, "--custom-types", "video_complete,signup")
c.check(rc == 0 and "events=1" in out, "--custom-types declares it", err)
types = c.write("types.txt", "# our custom types\nvideo_complete\n\nsignup\r\n")
rc, out, err = c.run("ingest", "--events", far, "--types-file", types)
c.check(rc == 0 and "events=1" in out, "--types-file declares it", err)
rc, out, err = c.run("ingest", "--events", far, "--custom-types", "Video")
c.check(rc == 2 and "--custom-types: 'Video' is not a type name" in err,
        "a declared name must be a valid type name", err)
# A declared custom type that is also a near miss of it is taken as declared.
rc, out, err = c.run("ingest", "--events", typo, "--custom-types", "pageview")
c.check(rc == 0 and "events=2" in out, "declaring pageview accepts it", err)

# ---- 2. lenient reading with a report; returns -------------------------------
MIXED = """user_id,timestamp,type,value,quantity
u1,2024-03-01T10:00:00Z,page_view,,
u1,2024-03-01T10:01:00Z,purchase,12x,1
u2,2024-03-01T10:02:00Z,purchase,30,-1
u2,2024-03-02T10:00:00Z,purchase,30,1
u3,2024-03-02T11:00:00Z,click,,
"""
mixed = c.write("mixed.csv", MIXED)
rc, out, err = c.run("ingest", "--events", mixed)
c.eq((rc, out), (1, ""), "default: the first bad row stops (exit 1)")
c.eq(lines(err), [f"{mixed}:3: value: expected a number >= 0 in '12x'"],
     "default: one line, as before")

rejects = os.path.join(c.tmp.name, "rejects.csv")
rc, out, err = c.run("ingest", "--events", mixed, "--max-errors", "2", "--rejects", rejects)
c.eq(rc, 0, "--max-errors 2: two bad rows skipped, exit 0")
c.check("events=3" in out and "users=3" in out, "the good rows are tracked", out)
c.eq(lines(err), [
    f"bvt: {mixed}: 5 records read: 3 accepted, 2 rejected",
    f"bvt: {mixed}: rejected 1: value: expected a number >= 0",
    f"bvt: {mixed}: rejected 1: quantity: a return",
], "counts by reason on stderr")
got = None
if os.path.exists(rejects):
    with open(rejects, newline="") as f:
        got = list(csv.reader(f))
c.eq(got, [
    ["line", "field", "reason", "record"],
    ["3", "value", "value: expected a number >= 0 in '12x'",
     "u1,2024-03-01T10:01:00Z,purchase,12x,1"],
    ["4", "quantity", "quantity: must be >= 0 in '-1' (a purchase with a negative value or "
     "quantity is a return: see --returns)", "u2,2024-03-01T10:02:00Z,purchase,30,-1"],
], "each skipped row in the rejects file, as written")

rc, out, err = c.run("ingest", "--events", mixed, "--max-errors", "1")
c.eq((rc, out), (1, ""), "--max-errors 1 with 2 bad rows: exit 1, nothing on stdout")
c.eq(lines(err), [
    f"{mixed}:3: value: expected a number >= 0 in '12x'",
    f"{mixed}:4: quantity: must be >= 0 in '-1' (a purchase with a negative value or "
    "quantity is a return: see --returns)",
    f"bvt: {mixed}: stopped at line 4: more than 1 bad record (--max-errors 1)",
    f"bvt: {mixed}: 3 records read: 1 accepted, 2 rejected (stopped early)",
    f"bvt: {mixed}: rejected 1: value: expected a number >= 0",
    f"bvt: {mixed}: rejected 1: quantity: a return",
], "without --rejects the skipped rows are printed; then why it stopped and the counts")

rc, out, err = c.run("ingest", "--events", mixed, "--max-errors", "1", "--returns", "ignore")
c.eq(rc, 0, "--returns ignore: the return is no error")
c.check("events=3" in out, "--returns ignore: three events tracked", out)
c.eq(lines(err)[-2:], [f"bvt: {mixed}: 5 records read: 3 accepted, 1 rejected, 1 return ignored",
                       f"bvt: {mixed}: rejected 1: value: expected a number >= 0"],
     "--returns ignore: counted apart")
rc, out, err = c.run("ingest", "--events", mixed, "--returns", "subtract")
c.check(rc == 2 and "--returns subtract is for bvt rfm" in err,
        "--returns subtract on an event command: exit 2, says why", err)

# bvt rfm: a return subtracts from the customer's purchases before it.
# a: 01-01 10, 01-03 20, 01-08 30, returns 5 on 01-09 -> 01-08 is 25;
# b: 01-05 7.50 and 01-05 a return of 2.50 listed first (same day);
# r: only a return (not printed; its amount cannot be subtracted).
RET = """customer_id,date,value,quantity
a,2024-01-01,10,1
a,2024-01-03,20,1
a,2024-01-08,30,2
a,2024-01-09,-5,-1
b,2024-01-05,-2.5,-1
b,2024-01-05,7.5,3
b,2024-01-06,4,1
r,2024-01-02,-9,-1
"""
ret = c.write("returns.csv", RET)
rc, out, err = c.run("rfm", "--input", ret)
c.check(rc == 1 and f"{ret}:5: value: must be >= 0 in '-5'" in err,
        "rfm: a return is an error by default", err)
rc, out, err = c.run("rfm", "--input", ret, "--returns", "ignore", "--end", "2024-01-09")
c.eq(out, "customer_id,frequency,recency,T,monetary_value\na,2,7,8,25\nb,1,1,4,4\n",
     "rfm --returns ignore: returns dropped")
c.eq(lines(err), [f"bvt: {ret}: 8 records read: 5 accepted, 0 rejected, 3 returns ignored"],
     "rfm --returns ignore: counted")
rc, out, err = c.run("rfm", "--input", ret, "--returns", "subtract", "--end", "2024-01-09")
c.eq(out, "customer_id,frequency,recency,T,monetary_value\na,2,7,8,22.5\nb,1,1,4,4\n",
     "rfm --returns subtract: a's last purchase day is worth 25, b's first 5")
c.eq(lines(err), [f"bvt: warning: {ret}: 1 return was larger than the purchases before "
                  "them; 9.00 in all was not subtracted"], "an uncovered return is reported")
rc, out, err = c.run("rfm", "--input", ret, "--returns", "subtract", "--end", "2024-01-09",
                     "--scores")
c.check(rc == 0 and out.splitlines()[0].endswith(",r_score,f_score,m_score")
        and [l.split(",")[0] for l in out.splitlines()[1:]] == ["a", "b"],
        "rfm --returns subtract --scores: r, with only a return, is neither scored nor "
        "printed", out + err)

# ---- 4. column mapping and delimiters ---------------------------------------
SEMI = """CustomerID;InvoiceDate;Kind;Amount;Qty
c1;2024-01-01T10:00:00Z;purchase;12.5;1
c1;2024-01-04T10:00:00Z;purchase;20;2
c2;2024-01-02T10:00:00Z;page_view;;
c1;2024-01-04T11:00:00Z;page_view;;
"""
semi = c.write("semi.csv", SEMI)
MAP = "user_id=CustomerID,timestamp=InvoiceDate,type=Kind,value=Amount,quantity=Qty"
rc, out, err = c.run("ingest", "--events", semi)
c.check(rc == 1 and "missing column 'user_id'" in err, "without the options: refused", err)
rc, out, err = c.run("ingest", "--events", semi, "--delimiter", ";", "--columns", MAP)
c.check(rc == 0 and "users=2" in out and "events=4" in out, "--delimiter ';' --columns", err)
rc, out, err = c.run("profile", "--events", semi, "--delimiter", ";", "--columns", MAP, "c1")
c.eq(rc, 0, "profile with --columns")
if rc == 0:
    p = json.loads(out)
    c.eq((p["purchases"], p["monetary_total"], p["events"]), (2, 32.5, 3),
         "profile: the mapped columns are read")
rc, out, err = c.run("rfm", "--input", semi, "--delimiter", ";", "--columns", MAP)
c.eq((rc, out), (0, "customer_id,frequency,recency,T,monetary_value\nc1,1,3,3,20\n"),
     "rfm reads the same mapped event file")
# A mapped column the header lacks is named with its field.
rc, out, err = c.run("ingest", "--events", semi, "--delimiter", ";", "--columns",
                     MAP.replace("Kind", "EventType"))
c.check(rc == 1 and "missing column 'EventType' (type, from --columns)" in err,
        "a missing mapped column", err)
# Field errors name the file's column too.
bad_semi = c.write("bad-semi.csv", SEMI.replace("12.5", "12,5"))
rc, out, err = c.run("ingest", "--events", bad_semi, "--delimiter", ";", "--columns", MAP)
c.check(rc == 1 and "value (column 'Amount'): expected a number >= 0 in '12,5'" in err,
        "errors name the mapped column", err)
for args, why in ((["--columns", "user=CustomerID"], "'user' is not a field of event files"),
                  (["--columns", "user_id"], "expected field=COLUMN"),
                  (["--columns", "user_id=A,timestamp=A"], "column 'A' given for two fields"),
                  (["--delimiter", ":"], "--delimiter must be")):
    rc, out, err = c.run("ingest", "--events", semi, *args)
    c.check(rc == 2 and why in err, f"bad {args[0]}: exit 2", err)
# Tabs and pipes; JSON Lines keys are mapped the same way.
tab = c.write("tab.tsv", "uid\twhen\twhat\nu1\t2024-01-01\tclick\n")
rc, out, err = c.run("ingest", "--events", tab, "--delimiter", "\\t", "--columns",
                     "user_id=uid,timestamp=when,type=what")
c.check(rc == 0 and "events=1" in out, "--delimiter '\\t'", err)
jl = c.write("mapped.jsonl", '{"uid":"u1","when":"2024-01-01","what":"click"}\n')
rc, out, err = c.run("ingest", "--events", jl, "--columns", "user_id=uid,timestamp=when,type=what")
c.check(rc == 0 and "events=1" in out, "--columns maps JSON keys", err)
# bvt rfm's transactions are mapped with their own field names.
TXS = "Kunde|Datum|Betrag\nk1|2024-01-01|5\nk1|2024-01-03|7\n"
txs = c.write("tx.psv", TXS)
rc, out, err = c.run("rfm", "--input", txs, "--delimiter", "|", "--columns",
                     "customer_id=Kunde,date=Datum,value=Betrag")
c.eq((rc, out), (0, "customer_id,frequency,recency,T,monetary_value\nk1,1,2,2,7\n"),
     "rfm: a pipe-delimited transactions file with its own column names")

# ---- bvt rfm on an event file -----------------------------------------------
# The same purchases as a transactions file, an events CSV and JSON Lines
# give the same summary; other event types are checked, not counted.
TX = """customer_id,date,value
a,2024-01-01,10
a,2024-01-03,20
b,2024-01-05,7.5
"""
EVENTS = """user_id,timestamp,type,category,value
a,2024-01-01T09:00:00Z,page_view,shoes,
a,2024-01-01T09:05:00Z,purchase,shoes,10
a,2024-01-03T12:00:00Z,purchase,shoes,20
b,2024-01-05T18:00:00Z,add_to_cart,bags,7.5
b,2024-01-05T18:01:00Z,purchase,bags,7.5
"""
JSONL = "".join(json.dumps(r) + "\n" for r in csv.DictReader(io.StringIO(EVENTS)))
JSONL = JSONL.replace('"value": ""', '"value": null')
want_rc, want, _ = c.run("rfm", "--input", c.write("tx.csv", TX), "--end", "2024-01-10")
c.eq(want_rc, 0, "rfm on the transactions")
for name, text in (("events.csv", EVENTS), ("events.jsonl", JSONL)):
    path = c.write(name, text)
    rc, out, err = c.run("rfm", "--input", path, "--end", "2024-01-10")
    c.eq((rc, out, err), (0, want, ""), f"rfm on {name}: the transactions' summary")
    rc, out, err = c.run("ingest", "--events", path)
    c.check(rc == 0 and "events=5" in out, f"the same {name} serves ingest", err)
rc, out, err = c.run("rfm", "--input", c.write("neither.csv", "id,day,amount\nx,2024-01-01,1\n"))
c.check(rc == 1 and "missing column 'customer_id'" in err and "user_id, timestamp and type" in err,
        "rfm: a file of neither kind says what it expects", err)

# ---- acknowledgements count skipped records -----------------------------------
state = os.path.join(c.tmp.name, "state")
rc, out, err = c.run("ingest", "--events", mixed, "--state", state, "--journal", "always",
                     "--ack-every", "2", "--max-errors", "2", "--rejects", rejects, env=SECRET)
c.eq(rc, 0, "ingest --state with skipped records: exit 0")
c.eq([l for l in lines(out) if l.startswith("acked")], ["acked 2", "acked 4", "acked 5"],
     "acks count the file's records, skipped ones too")
# Bad records (3 and 5) right after a batch that ends on a multiple of 2:
# the batch is tracked first, and each ack comes once, in every mode.
ACKS = """user_id,timestamp,type,value
u1,2024-03-01T10:00:00Z,page_view,
u1,2024-03-01T10:01:00Z,purchase,12
u2,2024-03-01T10:02:00Z,purchase,-30
u2,2024-03-02T10:00:00Z,purchase,30
u3,2024-03-02T11:00:00Z,purchase,x
"""
acks = c.write("acks.csv", ACKS)
for journal in ("group", "always", "off"):
    rc, out, err = c.run("ingest", "--events", acks, "--state", state, "--journal", journal,
                         "--ack-every", "2", "--max-errors", "2", "--rejects", rejects,
                         env=SECRET)
    c.eq((rc, [l for l in lines(out) if l.startswith("acked")]),
         (0, ["acked 2", "acked 4", "acked 5"]), f"--journal {journal}: each ack once")

c.done()
