"""Nothing about a user leaves the server without the consent its purpose
needs (README.md, "Consent"): a user with events behind every segment of
the demo, first without any consent, then with each purpose alone, then
both, then withdrawn, and every output checked at each step:

- /decide: the offers (ads: ranking with the profile), the profile counts
  (personalisation) and OpenRTB user.data (personalisation and ads);
- the replies of the pixel, /events and /consent, and /metrics, which
  never carry anything about a user whatever the consent;
- the same for a visitor known only by the cookie.

The page itself shows only what /decide returns (test_e2e.py drives it)."""
import json
import sys

from harness import Checks, Server

check = Checks()
NOW = 1767261800000  # 2026-01-01T10:03:20Z
SEGMENT_NAMES = ("runners", "cart_abandoners", "Retargeting", "yogis")


def events_for(uid):
    lines = [{"user_id": uid, "timestamp": NOW - 60000 * (4 - i), "type": "page_view",
              "category": "sport/running", "item_id": "road-shoe"} for i in range(3)]
    lines.append({"user_id": uid, "timestamp": NOW - 30000, "type": "add_to_cart",
                  "category": "sport/running", "item_id": "road-shoe", "value": 99})
    return "\n".join(json.dumps(e) for e in lines) + "\n"


def outputs(srv, uid=None, cookie=None):
    """What /decide tells about the user: (personalised, offer ids, profile,
    user.data, consent echo)."""
    fields = {"now": NOW, "k": 4}
    if uid:
        fields["uid"] = uid
    d = srv.decide(cookie=cookie, **fields)
    return d["personalised"], [o["id"] for o in d["offers"]], d["profile"], \
        d["user"]["data"], d["consent"]


def names(data):
    return {s.get("name") for obj in data for s in obj.get("segment", [])}


def expect(srv, label, personalised, profile, segments, uid=None, cookie=None):
    p, offers, prof, data, echo = outputs(srv, uid, cookie)
    who = uid or "cookie visitor"
    check(p == personalised and
          (offers[0] == "complete-your-order" if personalised else offers == ["free-shipping"]),
          "%s, %s: offers personalised=%s: %s" % (who, label, personalised, offers))
    if profile:
        check(prof and prof["page_views"] == 3 and prof["cart_items"] == 1,
              "%s, %s: the profile is shown: %s" % (who, label, prof))
    else:
        check(prof is None, "%s, %s: no profile: %s" % (who, label, prof))
    if segments:
        check({"runners", "cart_abandoners"} <= names(data),
              "%s, %s: user.data names the segments: %s" % (who, label, data))
    else:
        check(data == [], "%s, %s: user.data is empty: %s" % (who, label, data))
    return echo


srv = Server(sys.argv[1])
try:
    st, _, body = srv.request("/events", events_for("alice"))
    reply = json.loads(body)
    check(st == 200 and reply["accepted"] == 4 and
          set(reply) == {"errors", "events", "accepted", "rejected"},
          "/events answers counts only: %s" % body)

    # Never asked: nothing personal, and the choices echoed as all false.
    echo = expect(srv, "no consent", False, False, False, uid="alice")
    check(echo == {"personalisation": False, "ads": False, "analytics": False},
          "the consent echo: %s" % echo)
    # Analytics alone opens nothing.
    srv.consent(uid="alice", analytics=True)
    expect(srv, "analytics only", False, False, False, uid="alice")
    # Ads alone: offers chosen with the profile, but no profile and no
    # segments leave the server.
    got = srv.consent(uid="alice", ads=True)
    check(got == {"personalisation": False, "ads": True, "analytics": True},
          "/consent answers the choices held: %s" % got)
    expect(srv, "ads only", True, False, False, uid="alice")
    # Personalisation alone: the profile, not the offers nor the segments
    # for bidders.
    srv.consent(uid="alice", ads=False, personalisation=True)
    expect(srv, "personalisation only", False, True, False, uid="alice")
    # Both: everything.
    srv.consent(uid="alice", ads=True)
    echo = expect(srv, "both", True, True, True, uid="alice")
    check(echo["personalisation"] and echo["ads"], "the consent echo: %s" % echo)
    # Withdrawn: gone again at once.
    srv.consent(uid="alice", personalisation=False, ads=False)
    expect(srv, "withdrawn", False, False, False, uid="alice")

    # A visitor known only by the cookie, events from the pixel.
    st, hd, _ = srv.request("/p.gif?ev=page_view&cat=sport/running&item=trail-shoe&t=%d"
                            % (NOW - 5000))
    cookie = hd.get("Set-Cookie", "").split(";")[0].split("=", 1)[-1]
    check(st == 200 and cookie, "pixel gave a cookie")
    for i, ev in enumerate(["page_view", "page_view", "add_to_cart"]):
        st, hd, body = srv.request("/p.gif?ev=%s&cat=sport/running&item=trail-shoe&t=%d"
                                   % (ev, NOW - 4000 + i), headers={"Cookie": "bvt_uid=" + cookie})
        check(st == 200 and body.startswith(b"GIF89a") and "Set-Cookie" not in hd,
              "the pixel answers a GIF and nothing else")
    expect(srv, "no consent", False, False, False, cookie=cookie)
    srv.consent(cookie=cookie, personalisation=True, ads=True)
    expect(srv, "both", True, True, True, cookie=cookie)

    # /metrics counts, and names nobody: no id, no segment.
    st, _, body = srv.request("/metrics")
    text = body.decode()
    check(st == 200 and "alice" not in text and cookie not in text and
          not any(n in text for n in SEGMENT_NAMES), "/metrics names no user and no segment")
finally:
    srv.stop()
check.exit()
