"""A restart loses no acknowledged change (--state DIR): events from
/events and the pixel and a consent choice are posted, the server is
killed with SIGKILL as soon as the last of them is acknowledged, and a
server started again on the same directory has every one of them.

Both journal modes are run.  Under `group` the commit interval is set to
a second, so a change acknowledged before its group commit would be lost
by the kill: the server must wait for the commit before it answers.  Then
a clean stop (SIGTERM) writes a checkpoint, and a second server cannot
open a directory that one holds.  Loopback only; every server started here
is stopped or killed here."""
import json
import os
import sys
import tempfile
import time

from harness import Checks, Server, run

check = Checks()
exe = sys.argv[1]
NOW = 1767261800000  # 2026-01-01T10:03:20Z


def post_changes(srv, uid):
    """Every kind of change, each acknowledged; the number of events."""
    lines = "".join(json.dumps({"user_id": uid, "timestamp": NOW - 1000 * (9 - i),
                                "type": "page_view", "category": "sport/running"}) + "\n"
                    for i in range(3))
    st, _, body = srv.request("/events", lines)
    check(st == 200 and json.loads(body)["accepted"] == 3, "/events acknowledged: %s" % body)
    st, _, _ = srv.request("/p.gif?uid=%s&ev=add_to_cart&cat=sport/running&item=road-shoe"
                           "&value=99&t=%d" % (uid, NOW - 500))
    check(st == 200, "pixel acknowledged")
    got = srv.consent(uid=uid, personalisation=True, ads=True)
    check(got["personalisation"] and got["ads"], "consent acknowledged")


def has_changes(srv, uid, label):
    d = srv.decide(uid=uid, now=NOW)
    p = d["profile"] or {}
    check(p.get("page_views") == 3 and p.get("add_to_cart") == 1 and p.get("cart_items") == 1,
          "%s: the events are back: %s" % (label, p))
    check(d["consent"]["personalisation"] and d["consent"]["ads"] and d["personalised"] and
          d["offers"][0]["id"] == "complete-your-order",
          "%s: the consent is back, and the decision follows: %s" % (label, d["offers"]))


for mode in ("group", "always"):
    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state")
        args = ["--state", state, "--journal", mode, "--group-commit-ms", "1000",
                "--checkpoint", "0"]
        uid = "durable-" + mode
        srv = Server(exe, *args)
        try:
            start = time.monotonic()
            post_changes(srv, uid)
            took = time.monotonic() - start
        finally:
            srv.kill()  # as soon as the last change is acknowledged
        print("%s: 3 acknowledged requests in %.2fs, then SIGKILL" % (mode, took))

        srv = Server(exe, *args)
        try:
            has_changes(srv, uid, mode + ", after SIGKILL")
            # One writer at a time: a second server on the directory fails.
            rc, _, err = run(exe, "--port", "0", "--state", state, timeout=20)
            check(rc == 1 and state in err, "a second server on the directory is refused "
                  "(exit %d): %s" % (rc, err.strip()))
        finally:
            srv.stop()  # clean: a checkpoint, so the next start replays nothing
        check(os.path.exists(os.path.join(state, "snapshot.bvts")),
              "%s: SIGTERM wrote a checkpoint" % mode)
        srv = Server(exe, *args)
        try:
            has_changes(srv, uid, mode + ", after a clean stop")
        finally:
            srv.stop()
check.exit()
