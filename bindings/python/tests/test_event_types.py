"""One vocabulary of event types (issue 12, point 3): built-in names or
custom ones registered first; anything else is refused with the nearest
known name, as `bvt` does."""
import pandas as pd
import pytest

import behavtarget as bvt
from conftest import DAY, T0


@pytest.mark.parametrize("name, near", [
    ("pageview", "page_view"), ("PageView", "page_view"), ("page-view", "page_view"),
    ("clik", "click"), ("purchse", "purchase"), ("impressions", "impression"),
    ("emailopen", "email_open"),
])
def test_near_misses_are_refused_with_a_suggestion(engine, name, near):
    with pytest.raises(bvt.UnknownType, match=f"unknown event type '{name}'; "
                                              f"did you mean {near}\\?"):
        engine.track("u", name, T0)
    assert not engine.exists("u")


def test_far_names_point_at_registration(engine):
    with pytest.raises(bvt.UnknownType, match="custom types must be registered first"):
        engine.track("u", "video_complete", T0)


def test_custom_types_must_be_registered_first(engine):
    vid = engine.register_event_type("video_complete", interest_weight=2.0)
    assert vid >= 16 and engine.register_event_type("video_complete", 2.0) == vid
    assert engine.event_types()[-1] == "video_complete"
    engine.track("u", "video_complete", T0, category="films")
    assert engine.profile("u", T0 + DAY).events == 1
    with pytest.raises(bvt.UnknownType, match="did you mean video_complete\\?"):
        engine.track("u", "video_completed", T0)
    with pytest.raises(bvt.AlreadyExists):
        engine.register_event_type("page_view")
    with pytest.raises(bvt.InvalidArgument):
        engine.register_event_type("Bad Name")


def test_batches_and_frames_use_the_same_vocabulary(engine):
    with pytest.raises(bvt.UnknownType, match=r"events\[1\]\.type: .*did you mean page_view"):
        engine.track_batch([bvt.Event("u", "click", T0), bvt.Event("u", "pageview", T0)])
    df = pd.DataFrame({"user_id": ["a", "b", "c"], "time_ms": T0,
                       "type": ["page_view", "pageview", "pageview"]})
    with pytest.raises(bvt.UnknownType, match=r"type\[1\]: .*did you mean page_view"):
        engine.track_frame(df)
    bad = engine.track_frame(df, errors="collect")
    assert [(e.row, e.column) for e in bad] == [(1, "type"), (2, "type")]
    assert engine.exists("a") and not engine.exists("b")
