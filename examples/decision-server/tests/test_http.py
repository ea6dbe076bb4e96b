"""The decision server's HTTP contract without a browser: the pixel and
its cookie, JSON Lines ingestion, /decide, and bad requests answered with
a 4xx and a JSON error body while the server stays up."""
import json
import sys

from harness import Server

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


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
    # /decide by cookie sees both pixel events.
    st, _, body = srv.request("/decide", "{}", headers={"Cookie": "bvt_uid=" + uid})
    check(st == 200 and json.loads(body)["profile"]["page_views"] == 2,
          "decide by cookie reads the pixel's profile: %s" % body)

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
    d = srv.decide(uid="jl", now=1767261800000)
    check(d["profile"]["events"] == 2 and d["profile"]["cart_items"] == 1,
          "/events reached the profile: %s" % d)
    check(d["user"]["data"][0]["id"] == "shop.example" and
          any(s["name"] == "cart_abandoners" for s in d["user"]["data"][0]["segment"]),
          "OpenRTB user.data names the segments: %s" % d["user"])
    check([o["id"] for o in d["offers"]] == ["free-shipping"] and not d["personalised"],
          "no ads consent: the non-personalised offer")

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
        ("POST", "/decide", '{"uid":"a","now":99999999999999999999999}', 400),
        ("POST", "/decide", '{"uid":7}', 400),
        ("POST", "/decide", '{"uid":"a","nested":{}}', 400),
        ("POST", "/decide", '{"uid":"a","typo_k":1}', 400),
        ("POST", "/decide", '{"uid":"\\ud800"}', 400),
        ("POST", "/decide", '{"uid":"a\\u0000"}', 400),
        ("POST", "/decide", '{"k":1}', 400),  # no uid and no cookie
        ("POST", "/consent", '{"uid":"a"}', 400),
        ("POST", "/consent", '{"uid":"a","ads":"yes"}', 400),
        ("POST", "/consent", b'\xff\xfe', 400),
        ("POST", "/decide", b'{"uid":"a","page":"caf\xe9"}', 400),  # JSON is UTF-8
        ("POST", "/events", b'{"user_id":"\xff","timestamp":1,"type":"page_view"}\n', 400),
        ("GET", "/p.gif?cat=%ff%fe", None, 400),  # issue 11: was invalid output
        ("GET", "/p.gif?cat=shoes/%c0%af", None, 400),  # an overlong '/'
        ("GET", "/p.gif?uid=a%00b", None, 400),  # C would read "a"
        ("GET", "/p.gif?cat=a%00b", None, 400),
    ]
    for method, path, body, want in bad:
        st, hd, msg = srv.request(path, body, method=method)
        check(st == want, "%s %s... -> %d (want %d): %r" % (method, path[:40], st, want, msg[:80]))
        # every refusal is a JSON object {"error": "..."}
        try:
            why = json.loads(msg.decode("utf-8"))["error"]
        except (ValueError, KeyError, TypeError):
            why = None
        check(isinstance(why, str) and why and hd["Content-Type"] == "application/json",
              "%s %s...: a JSON error body: %r" % (method, path[:40], msg[:80]))
        check(st < 400 or "Set-Cookie" not in hd, "a refused request sets no cookie: " + path)
    # Malformed cookies are ignored, not trusted.
    st, hd, _ = srv.request("/p.gif", headers={"Cookie": "bvt_uid=<script>"})
    check(st == 200 and hd.get("Set-Cookie", "").startswith("bvt_uid="),
          "a malformed cookie is replaced")
    check(srv.alive(), "server still answers after the bad requests")
finally:
    srv.stop()
if failures:
    sys.exit("%d check(s) failed" % len(failures))
print("all checks passed")
