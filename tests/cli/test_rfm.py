#!/usr/bin/env python3
"""bvt rfm on a small hand-computed table.

Customers (dates in January 2024, values in brackets):
  a   1 [10 + 5, same day]  3 [20]  8 [30]
  b   5 [7.50]                                     one-time buyer
  c   2 [1]  10 [3, at 23:59:59Z]  20 [100]
  d   18 [9]                                       only after the --end below
  B, 10, 9  one purchase each, to check byte-order sorting
Day units, end = last date (Jan 20):
  a: frequency 2, recency 8-1 = 7, T 20-1 = 19, monetary (20+30)/2 = 25
  c: frequency 2, recency 18, T 18, monetary (3+100)/2 = 51.5
"""
import datetime

from clitest import Checker

c = Checker()
rows = """customer_id,date,value,note
a,2024-01-01,10.00,first
a,2024-01-01,5.00,same day: summed
c,2024-01-02,1,
a,2024-01-08,30.00,
a,2024-01-03,20.00,out of order
b,2024-01-05,7.50,
c,2024-01-10T23:59:59Z,3,
d,2024-01-18,9,
c,2024-01-20,100,
B,2024-01-04,2,
10,2024-01-04,2,
9,2024-01-04,2,
"""
path = c.write("tx.csv", rows)

rc, out, err = c.run("rfm", "--input", path)
c.eq(rc, 0, "rfm exits 0")
c.eq(err, "", "rfm prints nothing on stderr")
c.eq(out, """customer_id,frequency,recency,T,monetary_value
10,0,0,16,0
9,0,0,16,0
B,0,0,16,0
a,2,7,19,25
b,0,0,15,0
c,2,18,18,51.5
d,0,0,2,0
""", "default end (last date), day units")

rc, out, err = c.run("rfm", "--input", path, "--end", "2024-01-15")
c.eq(rc, 0, "rfm --end exits 0")
c.eq(out, """customer_id,frequency,recency,T,monetary_value
10,0,0,11,0
9,0,0,11,0
B,0,0,11,0
a,2,7,14,25
b,0,0,10,0
c,1,8,13,3
""", "--end cuts later rows (c loses Jan 20, d disappears)")

rc, out, err = c.run("rfm", "--input", path, "--end", "2024-01-15", "--unit-days", "7")
c.eq(rc, 0, "rfm --unit-days exits 0")
c.eq(out, """customer_id,frequency,recency,T,monetary_value
10,0,0,1.571429,0
9,0,0,1.571429,0
B,0,0,1.571429,0
a,2,1,2,25
b,0,0,1.428571,0
c,1,1.142857,1.857143,3
""", "weeks: 6 decimals, trailing zeros removed")

# The same rows with CRLF line ends, the columns in another order and
# quoted fields give the same answer.
quoted = c.write("tx-quoted.csv", """"value","note","date","customer_id"
"10.00","first",2024-01-01,"a"
5.00,"same ""day"", summed",2024-01-01,a
20,,2024-01-03,"a"
30,"two
lines",2024-01-08,a
""", newline="\r\n")
rc, out, err = c.run("rfm", "--input", quoted, "--end", "2024-01-20")
c.eq((rc, out), (0, "customer_id,frequency,recency,T,monetary_value\na,2,7,19,25\n"),
     "quoted fields, CRLF and reordered columns")

# Ids that need quoting are quoted on output.
odd = c.write("odd.csv", 'customer_id,date,value\n"x,y",2024-01-01,1\n"say ""hi""",2024-01-02,2\n')
rc, out, err = c.run("rfm", "--input", odd)
c.eq(out, 'customer_id,frequency,recency,T,monetary_value\n"say ""hi""",0,0,0,0\n"x,y",0,0,1,0\n',
     "ids with commas or quotes are quoted")

# A header alone gives a header alone.
empty = c.write("empty.csv", "customer_id,date,value\n")
rc, out, err = c.run("rfm", "--input", empty)
c.eq((rc, out), (0, "customer_id,frequency,recency,T,monetary_value\n"), "no rows")

# Rows arrive in any order: a customer with more purchases than the exact
# history holds, fed newest first, still gets every purchase day counted.
base = datetime.date(2023, 1, 1)
many = ["customer_id,date,value"] + [
    f"z,{(base + datetime.timedelta(days=3 * k)).isoformat()},{k + 1}" for k in range(199, -1, -1)]
path_many = c.write("many.csv", "\n".join(many) + "\n")
rc, out, err = c.run("rfm", "--input", path_many)
want_monetary = sum(range(2, 201)) / 199
c.eq(out.splitlines()[1:], [f"z,199,597,597,{want_monetary:.6f}".rstrip("0").rstrip(".")],
     "200 purchase days newest first: frequency 199")

# --scores: the quintile scores over the 7 buyers, refreshed at the end.  F
# ranks by purchase days, then spend, then recency, then keyed hash: B, 10
# and 9 tie on all three (one day, 2, Jan 4), so they take levels 1..3 in an
# order the key decides; then b (7.50), d (9), a (3 days, 65), c (3, 104).
# With 7 buyers the cuts sit at ranks 1, 2, 4, 5: levels 1,2,3,3,4,5,5.
rc, out, err = c.run("rfm", "--input", path, "--scores")
c.eq((rc, err), (0, ""), "rfm --scores exits 0 quietly")
lines = out.splitlines()
c.eq(lines[0], "customer_id,frequency,recency,T,monetary_value,r_score,f_score,m_score",
     "--scores adds r_score,f_score,m_score")
rows = {l.split(",")[0]: l.split(",") for l in lines[1:]}
rc, plain, err = c.run("rfm", "--input", path)
c.eq([l.rsplit(",", 3)[0] for l in lines], plain.splitlines()[:1] + [
     l for l in plain.splitlines()[1:]], "the other columns are those without --scores")
f = {k: int(v[6]) for k, v in rows.items()}
c.eq((f.get("b"), f.get("d"), f.get("a"), f.get("c")), (3, 4, 5, 5), "F scores by hand")
c.eq(sorted(f[k] for k in ("B", "10", "9")), [1, 2, 3], "tied buyers take levels 1..3")
m = {k: int(v[7]) for k, v in rows.items()}
c.eq((m.get("b"), m.get("d"), m.get("a"), m.get("c")), (3, 4, 5, 5), "M scores by hand")
r = {k: int(v[5]) for k, v in rows.items()}
c.eq((r.get("b"), r.get("a"), r.get("d"), r.get("c")), (3, 4, 5, 5),
     "R by last purchase: b (Jan 5), a (Jan 8), d (Jan 18), c (Jan 20) after the Jan 4 three")
rc, out, err = c.run("rfm", "--input", path, "--scores", "--end", "2024-01-15")
c.eq((rc, len(out.splitlines())), (0, 7), "--scores with --end: the 6 buyers up to it")
for bad in (["--scores=1"], ["--scores", "--unit-days", "0"]):
    rc, out, err = c.run("rfm", "--input", path, *bad)
    c.eq((rc, out), (2, ""), f"rfm {' '.join(bad)}: a command-line error")

# Large files (>= 4 MiB without quotes) are parsed by two threads, each on
# half of the lines.  The same rows with one quoted id are parsed by one
# thread: both must give the same summary, and a bad row in the second half
# must be reported at its line in the whole file.
import random
rng = random.Random(7)
big_rows = []
for k in range(240000):
    cust = rng.randrange(20000) if k % 3 else k // 12  # scattered and runs
    day = base + datetime.timedelta(days=rng.randrange(400))
    big_rows.append(f"c{cust},{day.isoformat()},{rng.randrange(1, 100000) / 100}")
plain = "customer_id,date,value\n" + "\n".join(big_rows) + "\n"
c.check(len(plain) >= 4 << 20, "the large file is big enough to be split", str(len(plain)))
quoted = plain.replace("\nc0,", '\n"c0",', 1)
c.check(quoted != plain, "one id is quoted")
p_plain, p_quoted = c.write("big.csv", plain), c.write("big-quoted.csv", quoted)
rc1, out1, err1 = c.run("rfm", "--input", p_plain, "--unit-days", "7")
rc2, out2, err2 = c.run("rfm", "--input", p_quoted, "--unit-days", "7")
c.eq((rc1, rc2, err1, err2), (0, 0, "", ""), "large files: exit 0")
c.check(out1 == out2 and out1.count("\n") > 20000, "split and unsplit parsing agree",
        f"{len(out1)} vs {len(out2)} bytes")
bad_line = 200001  # in the second half (line 1 is the header)
lines = plain.split("\n")
lines[bad_line - 1] = lines[bad_line - 1].rsplit(",", 1)[0] + ",12x"
p_bad = c.write("big-bad.csv", "\n".join(lines))
rc, out, err = c.run("rfm", "--input", p_bad)
c.eq((rc, out), (1, ""), "large file with a bad row: exit 1, nothing on stdout")
c.check(err.startswith(f"{p_bad}:{bad_line}: value:"), "bad row reported at its line", err)

c.done()
