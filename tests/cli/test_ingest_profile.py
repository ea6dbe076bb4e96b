#!/usr/bin/env python3
"""bvt ingest and bvt profile: output fields, CSV details (quoting, extra
columns, CRLF), and the same events as JSON Lines giving the same profile."""
import json

from clitest import Checker

c = Checker()

# The file's custom type is declared (an undeclared name is refused).
CUSTOM = ("--custom-types", "video_complete")

# user u1: a session on 1 March (view, search, two cart adds, a purchase of
# the first item, a custom event), then an impression on 2 March 09:00 and a
# click at 10:00 (epoch ms) -> 3 sessions.  u2: one view on 3 March, the
# latest event in the file, so --now defaults to 2024-03-03T00:00:00Z.
CSV = '''user_id,timestamp,type,category,item_id,value,quantity,offer_id,dwell_ms,search_text,ignored
u1,2024-03-01T10:00:00Z,page_view,home/bedroom/mattresses,,,,,30000,,x
u1,2024-03-01T10:01:00Z,search,,,,,,,"memory foam, king",y
u1,2024-03-01T10:02:00Z,add_to_cart,home/bedroom/mattresses,sku-1,199.00,1,,,,
u1,2024-03-01T11:03:00+01:00,add_to_cart,home/bedroom/pillows,"sku ""2""",25.5,2,,,,"a
b"
u1,2024-03-01T10:04:00.000Z,purchase,home/bedroom/mattresses,sku-1,199.00,1,offer-9,,,
u1,2024-03-01T10:05:00Z,video_complete,home,,,,,,,
u1,2024-03-02T09:00:00Z,impression,,,,,offer-9,,,
u1,1709373600000,click,,,,,offer-9,,,
u2,2024-03-03,page_view,garden,,,,,,,
'''

JSONL = r"""{"user_id":"u1","timestamp":"2024-03-01T10:00:00Z","type":"page_view","category":"home/bedroom/mattresses","dwell_ms":30000,"ignored":{"nested":[1,2]}}
{"user_id":"u1","timestamp":"2024-03-01T10:01:00Z","type":"search","search_text":"memory foam, king","value":null}

{"user_id":"u1","timestamp":"2024-03-01T10:02:00Z","type":"add_to_cart","category":"home/bedroom/mattresses","item_id":"sku-1","value":199.00,"quantity":1}
{"type":"add_to_cart","user_id":"u1","timestamp":"2024-03-01T11:03:00+01:00","category":"home/bedroom/pillows","item_id":"sku \"2\"","value":"25.5","quantity":2}
{"user_id":"u1","timestamp":1709287440000,"type":"purchase","category":"home\/bedroom\/mattresses","item_id":"sku-1","value":199,"quantity":1,"offer_id":"offer-9"}
{"user_id":"\u0075\u0031","timestamp":"2024-03-01T10:05:00Z","type":"video_complete","category":"home"}
{"user_id":"u1","timestamp":"2024-03-02T09:00:00Z","type":"impression","offer_id":"offer-9"}
{"user_id":"u1","timestamp":1709373600000,"type":"click","offer_id":"offer-9"}
{"user_id":"u2","timestamp":"2024-03-03","type":"page_view","category":"garden"}
"""

csv_path = c.write("events.csv", CSV, newline="\r\n")
jsonl_path = c.write("events.jsonl", JSONL)

# ---- ingest -------------------------------------------------------------
rc, out, err = c.run("ingest", "--events", csv_path, *CUSTOM)
c.eq(rc, 0, "ingest exits 0")
c.eq(err, "", "ingest: nothing on stderr")
lines = out.splitlines()
c.eq([l.split("=", 1)[0] for l in lines], ["users", "events", "events_per_s", "bytes_per_user"],
     "ingest prints exactly these keys, in this order")
kv = dict(l.split("=", 1) for l in lines if "=" in l)
c.eq(kv.get("users"), "2", "users=2")
c.eq(kv.get("events"), "9", "events=9")
c.check(kv.get("events_per_s", "").isdigit() and int(kv["events_per_s"]) > 0,
        "events_per_s is a positive integer", repr(kv.get("events_per_s")))
try:
    c.check(float(kv.get("bytes_per_user", "x")) > 0, "bytes_per_user is a positive number")
except ValueError:
    c.check(False, "bytes_per_user is a number", repr(kv.get("bytes_per_user")))

rc, out2, err = c.run("ingest", "--events", jsonl_path, *CUSTOM)
kv2 = dict(l.split("=", 1) for l in out2.splitlines() if "=" in l)
c.eq((rc, kv2.get("users"), kv2.get("events")), (0, "2", "9"), "ingest of the JSON Lines twin")

# ---- profile ------------------------------------------------------------
rc, out, err = c.run("profile", *CUSTOM, "--events", csv_path, "u1")
c.eq(rc, 0, "profile exits 0")
c.eq(err, "", "profile: nothing on stderr")
try:
    p = json.loads(out)
except ValueError as e:
    c.check(False, "profile prints JSON", f"{e}: {out[:200]!r}")
    c.done()

NOW = 1709424000000  # 2024-03-03T00:00:00Z, the latest event in the file
c.eq(p["user"], "u1", "user")
c.eq(p["now_ms"], NOW, "--now defaults to the latest event time")
c.eq(p["first_seen_ms"], 1709287200000, "first_seen_ms (10:00Z on 1 March)")
c.eq(p["last_seen_ms"], 1709373600000, "last_seen_ms (the epoch-ms click)")
c.eq(p["recency_ms"], NOW - 1709373600000, "recency_ms")
c.eq(p["purchases"], 1, "purchases")
c.eq(p["purchase_days"], 1, "purchase_days")
c.near(p["monetary_total"], 199.0, 1e-9, "monetary_total")
c.eq(p["last_purchase_ms"], 1709287440000, "last_purchase_ms")
c.eq(p["purchase_recency_ms"], NOW - 1709287440000, "purchase_recency_ms")
c.eq(p["events"], 8, "events counts the custom type too")
want_counts = {"page_view": 1, "search": 1, "add_to_cart": 2, "remove_from_cart": 0,
               "purchase": 1, "impression": 1, "click": 1, "conversion": 0, "like": 0,
               "share": 0, "comment": 0, "email_open": 0}
c.eq(p["type_counts"], want_counts, "type_counts")
c.eq((p["impressions"], p["clicks"]), (1, 1), "impressions, clicks")
c.near(p["ctr"], 1.0, 1e-9, "ctr")
c.eq(p["sessions"], 3, "sessions (30 min gap)")
c.eq(p["dwell_ms"], 30000, "dwell_ms")
c.eq(p["attributes"], 0, "attribute count")
c.eq(p["cart_items"], 1, "the bought item left the cart")
c.eq(len(p["cart"]), 1, "one cart entry")
if p["cart"]:
    item = p["cart"][0]
    c.eq(item["item"], 'sku "2"', "cart item named from the file")
    c.eq(item["category"], "home/bedroom/pillows", "cart item category")
    c.eq(item["quantity"], 2, "cart item quantity")
    c.near(item["value"], 25.5, 1e-9, "cart item value")
    c.eq(item["added_ms"], 1709287380000, "cart add time (11:03+01:00 = 10:03Z)")
    c.eq(len(item["item_hash"]), 16, "item_hash is 16 hex digits")
cats = [i["category"] for i in p["interests"]]
c.check(cats[:1] == ["home/bedroom/mattresses"], "top interest is mattresses", repr(cats))
c.check("home/bedroom/pillows" in cats and "home" in cats, "ancestors and other categories", repr(cats))
c.near(sum(i["affinity"] for i in p["interests"]), 1.0, 1e-6, "affinities sum to 1")

rc, out_j, err = c.run("profile", *CUSTOM, "--events", jsonl_path, "u1")
c.eq((rc, err), (0, ""), "profile from JSON Lines exits 0")
c.eq(out_j, out, "JSON Lines twin gives the identical profile output")

# --now as ISO 8601 with an offset and as epoch ms
rc, out_n, err = c.run("profile", *CUSTOM, "--events", csv_path, "--now", "2024-03-04T00:00:00+01:00", "u1")
c.eq((rc, json.loads(out_n)["now_ms"] if rc == 0 else None), (0, 1709506800000), "--now ISO 8601")
rc, out_e, err = c.run("profile", *CUSTOM, "--events", csv_path, "--now=1709506800000", "u1")
c.eq(out_e, out_n, "--now epoch ms gives the same output")

# The secret changes nothing visible (ids are only hashed inside).
rc, out_s, err = c.run("profile", *CUSTOM, "--events", csv_path, "u1",
                       env={"BVT_SECRET": "a-test-secret-of-enough-bytes"})
c.eq((rc, out_s), (0, out), "BVT_SECRET set: same profile")
rc, out_s, err = c.run("profile", *CUSTOM, "--events", csv_path, "u1", env={"BVT_SECRET": "short"})
c.eq((rc, out_s), (2, ""), "BVT_SECRET shorter than 16 bytes: exit 2")
c.check("BVT_SECRET" in err, "the message names BVT_SECRET", err)

# A user with no events
rc, out_u, err = c.run("profile", *CUSTOM, "--events", csv_path, "nobody")
c.eq((rc, out_u), (1, ""), "unknown user: exit 1, nothing on stdout")
c.check("nobody" in err, "the message names the user", err)

# A user id that needs JSON escaping
esc = c.write("esc.jsonl", '{"user_id":"q\\"\\\\\\u00e9","timestamp":"2024-01-01","type":"like"}\n')
rc, out_q, err = c.run("profile", "--events", esc, 'q"\\\u00e9')
c.eq((rc, json.loads(out_q)["user"] if rc == 0 else err), (0, 'q"\\\u00e9'), "user id escaped in JSON")

c.done()
