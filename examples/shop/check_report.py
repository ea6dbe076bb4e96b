"""Run the demo on a small shop, open its HTML report in headless Chromium
and check what a reader would see: every chart drawn with its marks, the
page's script run without an error, nothing fetched.

usage: check_report.py DEMO

Skips (exit 77) when chromium is not installed.  Only a file:// URL is
opened, in a throwaway profile, and the page's Content-Security-Policy
forbids every load."""
import html.parser
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

DEMO = sys.argv[1]
SMALL = ["--users", "3000", "--events", "60000", "--seed", "7"]

# chart id -> {(element, class): how many}; the counts follow the report:
# 5 rule segments + 6 funnel stages, 3 funnel stages, a 5 x 5 grid and 11
# RFM segments, 3 policies, one estimate with its interval and two caps.
EXPECTED = {
    "chart-segments": {("rect", "bar"): 11},
    "chart-funnel": {("rect", "bar"): 3},
    "chart-rfm": {("rect", "cell"): 25, ("rect", "bar"): 11},
    "chart-regret": {("polyline", "series"): 3},
    "chart-lift": {("circle", "estimate"): 1, ("line", "ci"): 3},
}
POINTS = 51  # a regret line: the origin and 50 checkpoints


def fail(msg):
    sys.exit("FAIL: " + msg)


class Marks(html.parser.HTMLParser):
    """Counts the marks inside each <svg id=...>, and reads <body>'s attributes."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.svg = None
        self.counts = {}
        self.polylines = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "svg":
            self.svg = a.get("id")
            self.counts.setdefault(self.svg, {})
        elif self.svg:
            for cls in (a.get("class") or "").split():
                key = (tag, cls)
                self.counts[self.svg][key] = self.counts[self.svg].get(key, 0) + 1
            if tag == "polyline":
                self.polylines.append(a.get("points", ""))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None


def run_demo(report):
    out = subprocess.run([DEMO, *SMALL, "--progress", "--report", str(report)],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        fail("demo exited %d:\n%s" % (out.returncode, out.stderr[-3000:]))
    if "Report: %s" % report not in out.stdout.splitlines()[-3:]:
        fail("the text does not end by saying where the report is:\n" + out.stdout[-600:])
    if "demo: streamed 100%" not in out.stderr:
        fail("no progress lines with --progress:\n" + out.stderr[-600:])
    return out.stdout


def check_static(page):
    """Self-contained: nothing that could make a browser fetch."""
    if "Content-Security-Policy" not in page:
        fail("the page has no Content-Security-Policy")
    for bad in (r"https?:", r"<link\b", r"\bsrc\s*=", r"url\(", r"@import"):
        if re.search(bad, page, re.I):
            fail("the page refers to something outside it (%s)" % bad)


def browse(report, profile):
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--disable-sync",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", report.as_uri()]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within 90 s")
    if out.returncode != 0:
        fail("chromium exited %d: %s" % (out.returncode, out.stderr[-2000:]))
    return out.stdout, out.stderr


def check_dom(dom, log):
    # the page's script logs nothing: any console line is a problem
    for line in log.splitlines():
        if re.search(r":CONSOLE[:(]|Uncaught|Refused to", line):
            fail("the page logged: " + line)
    marks = Marks()
    marks.feed(dom)
    if marks.body.get("data-script") != "ok":
        fail("the page's script did not finish with every chart (data-script=%r)"
             % marks.body.get("data-script"))
    if marks.body.get("data-charts") != str(len(EXPECTED)):
        fail("the script counted %r charts" % marks.body.get("data-charts"))
    for chart, want in EXPECTED.items():
        if chart not in marks.counts:
            fail("no <svg id=%s> in the DOM" % chart)
        for key, n in want.items():
            got = marks.counts[chart].get(key, 0)
            if got != n:
                fail("%s has %d <%s class=%s>, expected %d" % (chart, got, key[0], key[1], n))
    for points in marks.polylines:
        if len(points.split()) != POINTS:
            fail("a regret line has %d points, expected %d" % (len(points.split()), POINTS))


chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("SKIP: chromium is not installed (Debian package: chromium); "
          "the report's browser check needs it")
    sys.exit(77)

with tempfile.TemporaryDirectory() as tmp:
    # a space in the path: the report's path is the user's to choose
    report = pathlib.Path(tmp) / "demo report" / "report.html"
    report.parent.mkdir()
    run_demo(report)
    page = report.read_text(encoding="utf-8")
    check_static(page)
    dom, log = browse(report, str(pathlib.Path(tmp) / "profile"))
    check_dom(dom, log)
    print("report OK: %d charts drawn with their marks, the script ran, nothing fetched"
          % len(EXPECTED))
