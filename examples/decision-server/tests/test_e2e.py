"""End to end: headless Chromium drives the shop page through scripted
visits; the server's API must then show the page's events in the profile,
and the decided offer must have followed the behaviour.  Saves a
screenshot of a decided page for people.

usage: test_e2e.py SERVER_EXE SCREENSHOT_PATH"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import Server

exe, screenshot = sys.argv[1], sys.argv[2]
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    sys.exit("chromium is not installed (Debian package: chromium); this test needs it")


def browse(url, *extra):
    """Load url in a fresh headless profile and let its scripts finish: the
    virtual time budget waits for the page's fetches."""
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + profile, "--virtual-time-budget=15000", *extra, url],
            capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit("chromium exited %d: %s" % (out.returncode, out.stderr[-2000:]))
    return out.stdout


def visit(base, kind, uid=None):
    url = "%s/?visit=%s" % (base, kind) + ("&uid=" + uid if uid else "")
    dom = browse(url, "--dump-dom")
    m = re.search(r'<body[^>]*\sdata-visit="([^"]*)"', dom)
    if not m or 'data-visit-done="1"' not in dom:
        sys.exit("the scripted visit did not finish; page:\n" + dom[-3000:])
    return json.loads(html.unescape(m.group(1)))


failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


srv = Server(exe)
try:
    # 1. A named visitor (uid in the URL): the API can then read the profile.
    steps = visit(srv.base, "running", uid="e2e-runner")
    check("error" not in steps, "running visit ran: %s" % steps)
    check(steps.get("before") == "free-shipping", "first offer is the general one: %s" % steps)
    check(steps.get("after_consent") == "free-shipping",
          "consent alone changes nothing (no behaviour yet)")
    check(steps.get("after_views") == "running-shoes-15-off",
          "three running views: the running offer")
    check(steps.get("after_cart") == "complete-your-order", "an item in the cart: the reminder")
    d = srv.decide(uid="e2e-runner", k=4)
    p = d["profile"] or {}
    # front page + 3 product views + 1 cart add, all fired by the page.
    check(p.get("page_views") == 4 and p.get("add_to_cart") == 1 and p.get("cart_items") == 1,
          "the page's events reached the profile: %s" % p)
    segs = {s["name"] for s in d["user"]["data"][0]["segment"]}
    check({"runners", "cart_abandoners"} <= segs and "yogis" not in segs,
          "OpenRTB segments follow the visit: %s" % sorted(segs))
    check(d["personalised"] and [o["id"] for o in d["offers"]][:2] ==
          ["complete-your-order", "running-shoes-15-off"], "ranking: %s" % d["offers"])
    stranger = srv.decide(uid="e2e-nobody")
    check([o["id"] for o in stranger["offers"]] == ["free-shipping"] and
          stranger["profile"] is None, "another user is untouched")

    # 2. An anonymous visitor: only the HttpOnly cookie links the requests.
    steps = visit(srv.base, "yoga")
    check(steps.get("before") == "free-shipping",
          "the front page's pixel set the cookie that /decide then read: %s" % steps)
    check(steps.get("after_views") == "yoga-mat-bundle",
          "cookie visitor browsing yoga: the yoga offer: %s" % steps)

    # 3. A picture for people: the page after a scripted visit.
    browse("%s/?visit=running&uid=e2e-shot" % srv.base, "--window-size=1000,900",
           "--screenshot=" + screenshot)
    check(os.path.getsize(screenshot) > 1000, "screenshot saved to " + screenshot)
    check(srv.alive(), "server still up")
finally:
    srv.stop()
if failures:
    sys.exit("%d check(s) failed" % len(failures))
