"""track -> profile features -> segment membership -> rank -> forget."""
import pytest

import behavtarget as bvt
from conftest import DAY, HOUR, T0


def test_behavioural_chain(engine):
    for i in range(3):
        engine.track("alice", "page_view", T0 + i * 1000, category="shoes/running",
                     dwell_ms=2000)
    engine.track("alice", "purchase", T0 + HOUR, category="shoes/running", value=80.0,
                 item="sku-1")
    engine.track("alice", "purchase", T0 + DAY + HOUR, category="shoes", value=20.0)
    engine.track("bob", "page_view", T0, category="books")
    now = T0 + 2 * DAY

    p = engine.profile("alice", now)
    assert isinstance(p, bvt.Profile)
    assert p.purchases == 2 and p.purchase_days == 2
    assert p.monetary_total == pytest.approx(100.0)
    assert p.monetary_mean == pytest.approx(50.0)
    assert p.type_counts[bvt.EVENT_TYPES["page_view"]] == 3
    assert p.events == 5
    assert p.first_seen_ms == T0 and p.last_purchase_ms == T0 + DAY + HOUR
    assert p.recency_ms == now - (T0 + DAY + HOUR)
    assert p.sessions == 3  # the purchases come after > 30 min of inactivity
    assert p.dwell_ms == 6000

    engine.segment_define("buyers", "purchases >= 2")
    engine.segment_define("readers", 'count(page_view, "books", 7d) >= 1')
    assert "buyers" in engine.segments_of("alice", now)
    assert "readers" not in engine.segments_of("alice", now)
    assert "readers" in engine.segments_of("bob", now)
    assert "buyers" not in engine.segments_of("bob", now)
    members = list(engine.segment_members("buyers", now))
    assert members == [engine.user_key("alice")]
    assert engine.segment_count("buyers", now) == 1

    engine.offer_define("vip", rule='in_segment("buyers")', value=5.0)
    engine.offer_define("everyone", value=1.0, caps=[(3, DAY)])
    # Without ads consent the profile is not used: the rule cannot hold.
    assert [o.offer_id for o in engine.rank("alice", now, k=2, seed=7)] == ["everyone"]
    engine.consent("alice", "ads", True, T0)
    engine.consent("bob", "ads", True, T0)
    alice = engine.rank("alice", now, k=2, seed=7)
    assert {o.offer_id for o in alice} == {"vip", "everyone"}
    assert alice == engine.rank("alice", now, k=2, seed=7)  # same seed, same ranking
    bob = engine.rank("bob", now, k=2, seed=7)
    assert [o.offer_id for o in bob] == ["everyone"]

    exported = engine.export("alice", now)
    assert exported["profile"]["purchases"] == 2
    assert "buyers" in exported["segments"] or any(
        s.get("name") == "buyers" for s in exported["segments"] if isinstance(s, dict))

    engine.forget("alice")
    assert not engine.exists("alice")
    with pytest.raises(bvt.NotFound):
        engine.profile("alice", now)
    assert list(engine.segment_members("buyers", now)) == []
    assert [o.offer_id for o in engine.rank("alice", now, k=2, seed=7)] == ["everyone"]
    assert engine.exists("bob")
