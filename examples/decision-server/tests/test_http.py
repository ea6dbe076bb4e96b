"""The decision server's HTTP contract without a browser: the page and the
pixel and their cookie, JSON Lines ingestion, /decide, times read without
guessing, /healthz, and bad requests answered with a 4xx and a JSON error
body (a 405 with Allow) while the server stays up."""
import json
import sys

from harness import Checks, Server

check = Checks()


srv = Server(sys.argv[1])
try:
    # The pixel: a GIF, and a first-party id for a visitor without one.
    st, hd, body = srv.request("/p.gif?ev=page_view&cat=sport/yoga&item=yoga-mat")
    check(st == 200 and body.startswith(b"GIF89a") and hd["Content-Type"] == "image/gif",
          "pixel answers a GIF")
    cookie = hd.get("Set-Cookie", "")
    check(cookie.startswith("bvt_uid=") and "Path=/" in cookie and "SameSite=Lax" in cookie
          and "HttpOnly" in cookie, "pixel sets bvt_uid with Path, SameSite=Lax, HttpOnly: %r"
          % cookie)
    uid = cookie.split(";")[0].split("=", 1)[1]
    check(len(uid) == 32 and all(c in "0123456789abcdef" for c in uid), "random hex id")
    st, hd, _ = srv.request("/p.gif?cat=sport/yoga&item=yoga-block",
                            headers={"Cookie": "bvt_uid=" + uid})
    check(st == 200 and "Set-Cookie" not in hd, "a known visitor keeps the cookie")
    st, hd2, _ = srv.request("/p.gif?cat=sport/yoga")
    check(hd2.get("Set-Cookie", "").split(";")[0] != cookie.split(";")[0],
          "each new visitor gets another id")
    # /decide by cookie sees both pixel events (once the visitor lets the
    # profile be shown: test_consent.py has the rest of that).
    srv.consent(cookie=uid, personalisation=True)
    st, _, body = srv.request("/decide", "{}", headers={"Cookie": "bvt_uid=" + uid})
    check(st == 200 and json.loads(body)["profile"]["page_views"] == 2,
          "decide by cookie reads the pixel's profile: %s" % body)

    # A first visit: the page sets the cookie before any script runs, and
    # /decide without any id starts a visit too instead of failing.
    st, hd, body = srv.request("/")
    page_cookie = hd.get("Set-Cookie", "")
    check(st == 200 and b"Demo shop" in body and page_cookie.startswith("bvt_uid=")
          and "HttpOnly" in page_cookie and "SameSite=Lax" in page_cookie,
          "the page sets bvt_uid for a first-time visitor: %r" % page_cookie)
    st, hd, _ = srv.request("/", headers={"Cookie": "bvt_uid=" + uid})
    check(st == 200 and "Set-Cookie" not in hd, "a returning visitor keeps the cookie")
    st, hd, body = srv.request("/decide", "{}")
    fresh = hd.get("Set-Cookie", "")
    got = json.loads(body) if st == 200 else {}
    check(st == 200 and fresh.startswith("bvt_uid=") and
          [o["id"] for o in got.get("offers", [])] == ["free-shipping"] and
          got.get("profile") is None, "/decide with no id: a new visitor, the general offer, "
          "the id in a cookie: %s %r" % (body, fresh))
    st, hd, body = srv.request("/consent", '{"ads":false}')
    check(st == 200 and hd.get("Set-Cookie", "").startswith("bvt_uid="),
          "/consent with no id starts a visit: %s" % body)

    # JSON Lines: counts, and library refusals listed by line.
    lines = "\n".join(json.dumps(e) for e in [
        {"user_id": "jl", "timestamp": "2026-01-01T10:00:00Z", "type": "page_view",
         "category": "sport/running"},
        {"user_id": "jl", "timestamp": 1767261600000, "type": "add_to_cart",
         "category": "sport/running", "item_id": "road-shoe", "value": 99},
        {"user_id": "jl", "timestamp": 1767261700000, "type": "not_a_type"},
    ]) + "\n"
    st, _, body = srv.request("/events", lines)
    got = json.loads(body) if st == 200 else {}
    check(got.get("accepted") == 2 and got.get("rejected") == 1
          and got.get("errors", [{}])[0].get("line") == 3, "/events counts: %s" % body)
    srv.consent(uid="jl", personalisation=True, ads=True)
    d = srv.decide(uid="jl", now=1767261800000)
    check(d["profile"]["events"] == 2 and d["profile"]["cart_items"] == 1,
          "/events reached the profile: %s" % d)
    check(d["user"]["data"][0]["id"] == "shop.example" and
          any(s["name"] == "cart_abandoners" for s in d["user"]["data"][0]["segment"]),
          "OpenRTB user.data names the segments: %s" % d["user"])
    check([o["id"] for o in d["offers"]] == ["complete-your-order"] and d["personalised"],
          "with consent: the personalised offer: %s" % d["offers"])
    # now as ISO 8601 text means the same instant as its epoch milliseconds.
    d_iso = srv.decide(uid="jl", now="2026-01-01T10:03:20Z")
    check(d_iso["now"] == 1767261800000 and d_iso["offers"] == d["offers"],
          "now in ISO 8601: %s" % d_iso)

    # Times are never guessed: an integer that could be a YYYYMMDD date or
    # epoch seconds is refused with the reason, wherever a time is read.
    ambiguous = [
        ("/decide", '{"uid":"jl","now":20260101}'),
        ("/decide", '{"uid":"jl","now":1767261800}'),
        ("/decide", '{"uid":"jl","now":"1767261800"}'),
        ("/events", '{"user_id":"amb","timestamp":1767261800,"type":"page_view"}\n'),
        ("/events", '{"user_id":"amb","timestamp":"20260101","type":"page_view"}\n'),
        ("/p.gif?uid=amb&t=1767261800", None),
        ("/p.gif?uid=amb&t=20260101", None),
    ]
    for path, body in ambiguous:
        st, _, msg = srv.request(path, body)
        why = json.loads(msg).get("error", "") if st == 400 else ""
        check(st == 400 and "ambiguous" in why and "epoch milliseconds" in why,
              "%s %s: refused as ambiguous, saying why: %d %s" % (path, body, st, msg))
    st, _, _ = srv.request("/p.gif?uid=timed&t=2026-01-01T10:00:00%2B01:00")
    check(st == 200, "pixel with an ISO time (offset +01:00)")
    st, _, _ = srv.request("/p.gif?uid=timed&t=1767261600000")
    check(st == 200, "pixel with epoch milliseconds")
    srv.consent(uid="timed", personalisation=True)
    check(srv.decide(uid="timed", now=1767261700000)["profile"]["page_views"] == 2,
          "the pixel's times were kept")

    # /healthz: tiny JSON, and HEAD as well.
    st, hd, body = srv.request("/healthz")
    check(st == 200 and json.loads(body) == {"status": "ok"} and
          hd["Content-Type"] == "application/json", "/healthz: %d %s" % (st, body))
    st, _, body = srv.request("/healthz", method="HEAD")
    check(st == 200 and body == b"", "HEAD /healthz")

    # Bad requests: a 4xx with a message, never a crash.
    bad = [
        ("GET", "/nowhere", None, 404),
        ("POST", "/p.gif", "", 405),
        ("GET", "/decide", None, 405),
        ("GET", "/p.gif?ev=no_such_type", None, 400),
        ("GET", "/p.gif?value=-3", None, 400),
        ("GET", "/p.gif?value=abc", None, 400),
        ("GET", "/p.gif?cat=a//b", None, 400),
        ("GET", "/p.gif?uid=" + "x" * 1025, None, 400),
        ("POST", "/events", "", 400),
        ("POST", "/events", '{"user_id":"a","timestamp":"2026-13-01","type":"page_view"}\n', 400),
        ("POST", "/events", '{"user_id":"a",\n', 400),
        ("POST", "/decide", "", 400),
        ("POST", "/decide", "[]", 400),
        ("POST", "/decide", '{"uid":"a"} trailing', 400),
        ("POST", "/decide", '{"uid":"a","uid":"b"}', 400),
        ("POST", "/decide", '{"uid":"a","k":0}', 400),
        ("POST", "/decide", '{"uid":"a","k":9}', 400),
        ("POST", "/decide", '{"uid":"a","k":1.5}', 400),
        ("POST", "/decide", '{"uid":"a","now":-1}', 400),
        ("POST", "/decide", '{"uid":"a","now":0}', 400),
        ("POST", "/decide", '{"uid":"a","now":1.5e12}', 400),
        ("POST", "/decide", '{"uid":"a","now":true}', 400),
        ("POST", "/decide", '{"uid":"a","now":"1969-12-31"}', 400),
        ("POST", "/decide", '{"uid":"a","now":"2026-02-30"}', 400),
        ("POST", "/decide", '{"uid":"a","now":99999999999999999999999}', 400),
        ("POST", "/decide", '{"uid":""}', 400),
        ("POST", "/decide", '{"uid":7}', 400),
        ("POST", "/decide", '{"uid":"a","nested":{}}', 400),
        ("POST", "/decide", '{"uid":"a","typo_k":1}', 400),
        ("POST", "/decide", '{"uid":"\\ud800"}', 400),
        ("POST", "/decide", '{"uid":"a\\u0000"}', 400),
        ("POST", "/consent", '{"uid":"a"}', 400),
        ("POST", "/consent", '{"uid":"a","newsletter":true}', 400),
        ("POST", "/consent", '{"uid":"a","ads":"yes"}', 400),
        ("POST", "/consent", b'\xff\xfe', 400),
        ("POST", "/decide", b'{"uid":"a","page":"caf\xe9"}', 400),  # JSON is UTF-8
        ("POST", "/events", b'{"user_id":"\xff","timestamp":1,"type":"page_view"}\n', 400),
        ("GET", "/p.gif?cat=%ff%fe", None, 400),  # issue 11: was invalid output
        ("GET", "/p.gif?cat=shoes/%c0%af", None, 400),  # an overlong '/'
        ("GET", "/p.gif?uid=a%00b", None, 400),  # C would read "a"
        ("GET", "/p.gif?cat=a%00b", None, 400),
        ("GET", "/p.gif?t=yesterday", None, 400),
        ("GET", "/p.gif?t=0", None, 400),
        ("PUT", "/", "", 405),
        ("DELETE", "/healthz", None, 405),
        ("POST", "/metrics", "", 405),
        ("HEAD", "/consent", None, 405),
    ]
    for method, path, body, want in bad:
        st, hd, msg = srv.request(path, body, method=method)
        check(st == want, "%s %s... -> %d (want %d): %r" % (method, path[:40], st, want, msg[:80]))
        # every refusal is a JSON object {"error": "..."} (HEAD gets the
        # headers alone)
        try:
            why = json.loads(msg.decode("utf-8"))["error"] if method != "HEAD" else "-"
        except (ValueError, KeyError, TypeError):
            why = None
        check(isinstance(why, str) and why and hd["Content-Type"] == "application/json",
              "%s %s...: a JSON error body: %r" % (method, path[:40], msg[:80]))
        check(st < 400 or "Set-Cookie" not in hd, "a refused request sets no cookie: " + path)
        if st == 405:  # RFC 9110: a 405 lists the methods the resource takes
            want_allow = "POST" if path in ("/events", "/decide", "/consent") else "GET, HEAD"
            check(hd.get("Allow") == want_allow,
                  "%s %s: Allow %r" % (method, path, hd.get("Allow")))
    # Malformed cookies are ignored, not trusted.
    st, hd, _ = srv.request("/p.gif", headers={"Cookie": "bvt_uid=<script>"})
    check(st == 200 and hd.get("Set-Cookie", "").startswith("bvt_uid="),
          "a malformed cookie is replaced")
    check(srv.alive(), "server still answers after the bad requests")
finally:
    srv.stop()
check.exit()
