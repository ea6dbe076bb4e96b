"""Open/close cycles do not leak; a state directory survives a restart."""
import pytest

import behavtarget as bvt
from conftest import DAY, SECRET, T0


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def cycle(n):
    for i in range(n):
        with bvt.Engine(SECRET, shards=4) as e:
            e.track(f"u{i}", "purchase", T0, value=1.0, category="a/b")
            e.profile(f"u{i}", T0 + 1)


def test_open_close_cycles_do_not_grow():
    cycle(50)  # warm up allocator arenas
    before = rss_bytes()
    cycle(500)
    grown = rss_bytes() - before
    assert grown < 4 * 1024 * 1024, f"RSS grew {grown} bytes over 500 engines"


def test_state_dir_round_trip(tmp_path):
    with bvt.Engine.open(tmp_path / "state", SECRET, journal="group") as e:
        e.track("kept", "purchase", T0, value=42.0)
        e.track("kept", "page_view", T0 + 5, category="music")
        e.sync()
        before = e.profile("kept", T0 + DAY)
    with bvt.Engine.open(tmp_path / "state", SECRET) as e:
        assert e.profile("kept", T0 + DAY) == before
        e.track("kept", "purchase", T0 + 10, value=8.0)
        e.checkpoint()
    with bvt.Engine.open(tmp_path / "state", SECRET, journal="off") as e:
        p = e.profile("kept", T0 + DAY)
        assert p.purchases == 2 and p.monetary_total == pytest.approx(50.0)


def test_state_dir_with_other_secret(tmp_path):
    with bvt.Engine.open(tmp_path / "s", SECRET) as e:
        e.track("x", "click", T0)
    with pytest.raises(bvt.SecretMismatch):
        bvt.Engine.open(tmp_path / "s", b"another-secret-of-32-bytes......")
    with pytest.raises(ValueError):
        bvt.Engine.open(tmp_path / "s", SECRET, journal="sometimes")


def test_state_dir_recorded_options_and_read_only(tmp_path):
    with bvt.Engine.open(tmp_path / "s", SECRET, history_events=8,
                         analytics_policy=2) as e:  # BVT_ANALYTICS_ANONYMOUS
        e.track("x", "click", T0)
        assert not e.exists("x")
    with pytest.raises(bvt.InvalidArgument, match="history_events"):
        bvt.Engine.open(tmp_path / "s", SECRET)
    with bvt.Engine.open(tmp_path / "s", SECRET, journal="off", access="read-only",
                         options_from="recorded") as e:
        e.track("y", "click", T0)  # the recorded policy: counted anonymously
        assert not e.exists("y")
        with pytest.raises(bvt.InvalidArgument):
            e.checkpoint()
    with pytest.raises(ValueError):
        bvt.Engine.open(tmp_path / "s", SECRET, access="sometimes")
