"""GET /metrics speaks the Prometheus text exposition format (0.0.4) and
counts what happened: every sample's family has # HELP and # TYPE lines
before it, counters end in _total, the decision latency histogram has
ascending le buckets, cumulative counts and a +Inf bucket equal to
_count; and after known traffic the counters say what it was."""
import json
import re
import sys

from harness import Checks, Server

check = Checks()
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]+="[^"\\]*"'
                    r'(,[a-zA-Z_]+="[^"\\]*")*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$')


def parse(text):
    """{family: {"type": t, "help": h, "samples": [(name, labels, value)]}},
    checking the format as it goes."""
    families, current = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name, _, helptext = line[7:].partition(" ")
            check(name not in families, "line %d: %s described twice" % (n, name))
            families[name] = {"help": helptext, "type": None, "samples": []}
            current = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            check(name == current and kind in ("counter", "gauge", "histogram"),
                  "line %d: TYPE %s %s right after its HELP" % (n, name, kind))
            families[name]["type"] = kind
        else:
            m = SAMPLE.match(line)
            check(m is not None, "line %d is a sample: %r" % (n, line))
            if not m:
                continue
            name = m.group(1)
            family = re.sub(r"_(bucket|sum|count)$", "", name) \
                if families.get(current, {}).get("type") == "histogram" else name
            check(family == current, "line %d: %s under its own HELP/TYPE" % (n, name))
            labels = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', m.group(3) or ""))
            families[current]["samples"].append((name, labels, float(m.group(5))))
    for name, f in families.items():
        check(f["help"] and f["type"], "%s has HELP and TYPE" % name)
        check(f["type"] != "counter" or name.endswith("_total"), "counter %s ends in _total"
              % name)
    return families


def value(families, name, **labels):
    fam = re.sub(r"_(bucket|sum|count)$", "", name)
    for n, lab, v in families.get(name, families.get(fam, {"samples": []}))["samples"]:
        if n == name and lab == labels:
            return v
    return None


def check_histogram(f):
    buckets = [(lab["le"], v) for n, lab, v in f["samples"] if n.endswith("_bucket")]
    bounds = [float(le) for le, _ in buckets[:-1]]
    counts = [v for _, v in buckets]
    check(len(buckets) >= 5 and buckets[-1][0] == "+Inf", "histogram ends with +Inf")
    check(bounds == sorted(bounds) and len(set(bounds)) == len(bounds), "le ascending")
    check(counts == sorted(counts), "bucket counts are cumulative")
    count = [v for n, _, v in f["samples"] if n.endswith("_count")]
    total = [v for n, _, v in f["samples"] if n.endswith("_sum")]
    check(count == [counts[-1]] and len(total) == 1 and total[0] >= 0,
          "+Inf bucket equals _count, one _sum")
    return counts[-1]


srv = Server(sys.argv[1])
try:
    st, hd, body = srv.request("/metrics")
    check(st == 200 and hd["Content-Type"].startswith("text/plain; version=0.0.4"),
          "/metrics: %d %s" % (st, hd["Content-Type"]))
    fams = parse(body.decode())
    for name in ("bvt_events_accepted_total", "bvt_events_rejected_total",
                 "bvt_decisions_total", "bvt_decision_duration_seconds", "bvt_users",
                 "bvt_memory_bytes", "bvt_http_responses_total"):
        check(name in fams, "%s is exposed" % name)
    check(check_histogram(fams["bvt_decision_duration_seconds"]) == 0, "no decision yet")

    # Known traffic: 2 pixel events accepted, 1 refused by the engine; a
    # JSON Lines body with 2 accepted and 1 refused; 3 decisions, one of
    # them personalised; a 404.
    srv.request("/p.gif?uid=m1&cat=sport/yoga")
    srv.request("/p.gif?uid=m2")
    srv.request("/p.gif?uid=m1&cat=a//b")
    lines = "".join(json.dumps(e) + "\n" for e in [
        {"user_id": "m3", "timestamp": 1767261600000, "type": "page_view"},
        {"user_id": "m3", "timestamp": 1767261600001, "type": "add_to_cart", "item_id": "x"},
        {"user_id": "m3", "timestamp": 1767261600002, "type": "not_a_type"}])
    srv.request("/events", lines)
    srv.consent(uid="m3", ads=True)
    for uid in ("m1", "m2", "m3"):
        srv.decide(uid=uid, now=1767261700000)
    srv.request("/nowhere")

    st, _, body = srv.request("/metrics")
    fams = parse(body.decode())
    got = {
        "pixel accepted": value(fams, "bvt_events_accepted_total", source="pixel"),
        "pixel rejected": value(fams, "bvt_events_rejected_total", source="pixel"),
        "events accepted": value(fams, "bvt_events_accepted_total", source="events"),
        "events rejected": value(fams, "bvt_events_rejected_total", source="events"),
        "decisions": value(fams, "bvt_decisions_total", personalised="false"),
        "personalised": value(fams, "bvt_decisions_total", personalised="true"),
        "users": value(fams, "bvt_users"),
        "404s": value(fams, "bvt_http_responses_total", code="404"),
    }
    want = {"pixel accepted": 2, "pixel rejected": 1, "events accepted": 2,
            "events rejected": 1, "decisions": 2, "personalised": 1, "users": 3, "404s": 1}
    check(got == want, "counters after known traffic: %s" % got)
    check(check_histogram(fams["bvt_decision_duration_seconds"]) == 3,
          "three decisions in the latency histogram")
    check(value(fams, "bvt_memory_bytes") > 0, "memory bytes")
    check(value(fams, "bvt_http_responses_total", code="200") == 8,
          "200s counted: the pixels, /events, /consent, the decisions, the first scrape")
finally:
    srv.stop()
check.exit()
