"""End to end: headless Chromium drives the shop page.  A first-time
visitor (no cookie) loads the page and sees a decided offer with no error;
scripted visits accept or refuse the consent banner; the server's API must
then show the page's events in the profile, the decided offer must have
followed the behaviour, and nothing about a visitor who refused may come
out.  Saves screenshots of the first visit and of a decided page for
people.

usage: test_e2e.py SERVER_EXE SCREENSHOT_PATH
(the first visit's screenshot goes beside it, ending -first-visit.png)"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import Checks, Server

exe, screenshot = sys.argv[1], sys.argv[2]
first_visit_shot = re.sub(r"\.png$", "", screenshot) + "-first-visit.png"
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    sys.exit("chromium is not installed (Debian package: chromium); this test needs it")


def browse(url, *extra):
    """Load url in a fresh headless profile (so no cookie) and let its
    scripts finish: the virtual time budget waits for the page's fetches.
    (stdout, console lines: messages the page logged, failed loads)."""
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=15000", *extra, url],
            capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit("chromium exited %d: %s" % (out.returncode, out.stderr[-2000:]))
    console = [line for line in out.stderr.splitlines()
               if re.search(r":CONSOLE[:(]|Uncaught|Failed to load resource", line)]
    return out.stdout, console


def visit(base, kind, uid=None, consent=None):
    url = "%s/?visit=%s" % (base, kind) + ("&uid=" + uid if uid else "") + \
        ("&consent=" + consent if consent else "")
    dom, _ = browse(url, "--dump-dom")
    m = re.search(r'<body[^>]*\sdata-visit="([^"]*)"', dom)
    if not m or 'data-visit-done="1"' not in dom:
        sys.exit("the scripted visit did not finish; page:\n" + dom[-3000:])
    return json.loads(html.unescape(m.group(1))), dom


def visible_text(dom):
    """What a person can read: the DOM without scripts, styles and tags."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]*>", " ", text))


def element_text(dom, ident):
    m = re.search(r'id="%s"[^>]*>(.*?)</' % ident, dom, re.S)
    return html.unescape(m.group(1)) if m else None


check = Checks(verbose=True)
srv = Server(exe)
try:
    # 0. A first-time visitor: no cookie, no uid, nothing clicked.  The page
    # must show a decided offer and no error (it showed "Error: /decide:
    # 400 no user" before the page set the cookie).
    dom, console = browse(srv.base + "/", "--dump-dom")
    log = element_text(dom, "log") or ""
    check("error" not in visible_text(dom).lower(), "first visit: no error on the page: %r" % log)
    check(element_text(dom, "offer-id") == "Free shipping on your first order" and
          'data-offer="free-shipping"' in dom,
          "first visit: the general offer is rendered: %r" % element_text(dom, "offer-id"))
    check("decide -> free-shipping" in log, "first visit: the page logged its decision: %r" % log)
    check(console == [], "first visit: nothing in the console: %s" % console[:3])
    browse(srv.base + "/", "--window-size=1000,700", "--screenshot=" + first_visit_shot)
    check(os.path.getsize(first_visit_shot) > 1000,
          "first visit screenshot saved to " + first_visit_shot)

    # 1. A named visitor (uid in the URL): the API can then read the profile.
    steps, _ = visit(srv.base, "running", uid="e2e-runner")
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
    steps, _ = visit(srv.base, "yoga")
    check(steps.get("before") == "free-shipping",
          "the page set the cookie that /decide then read: %s" % steps)
    check(steps.get("after_views") == "yoga-mat-bundle",
          "cookie visitor browsing yoga: the yoga offer: %s" % steps)

    # 3. A visitor who clicks "No thanks": the same browsing, and nothing
    # personal comes out, on the page or through the API.
    steps, dom = visit(srv.base, "running", uid="e2e-refuser", consent="refuse")
    check(set(steps.values()) == {"free-shipping"},
          "refused consent: the general offer at every step: %s" % steps)
    shown = visible_text(dom)
    check(element_text(dom, "consent-state") == "refused" and "runners" not in shown and
          "cart_abandoners" not in shown and "Retargeting" not in shown,
          "refused consent: the page says so and shows no segment")
    d = srv.decide(uid="e2e-refuser", k=4)
    check(not d["personalised"] and d["profile"] is None and d["user"]["data"] == [],
          "refused consent: no profile and no OpenRTB segments: %s" % d)

    # 4. A picture for people: the page after a scripted visit.
    browse("%s/?visit=running&uid=e2e-shot" % srv.base, "--window-size=1000,900",
           "--screenshot=" + screenshot)
    check(os.path.getsize(screenshot) > 1000, "screenshot saved to " + screenshot)
    check(srv.alive(), "server still up")
finally:
    srv.stop()
check.exit()
