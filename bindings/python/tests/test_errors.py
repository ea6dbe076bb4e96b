"""Bad arguments raise the subclass of the status, with the library's message."""
import pytest

import behavtarget as bvt
from conftest import SECRET, T0


def test_short_secret_is_invalid_argument():
    with pytest.raises(bvt.InvalidArgument) as info:
        bvt.Engine(b"short")
    assert info.value.code == -1
    assert "secret" in info.value.message
    assert isinstance(info.value, bvt.BehavtargetError)


def test_unknown_option_and_closed_engine():
    with pytest.raises(TypeError, match="no_such_option"):
        bvt.Engine(SECRET, no_such_option=1)
    e = bvt.Engine(SECRET)
    e.close()
    e.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        e.track("u", "click", T0)


def test_bad_event_time(engine):
    with pytest.raises(bvt.InvalidArgument) as info:
        engine.track("u", "page_view", 0)
    assert info.value.message
    assert not engine.exists("u")


def test_unknown_event_type(engine):
    with pytest.raises(bvt.UnknownType, match="teleport"):
        engine.track("u", "teleport", T0)


def test_rule_syntax_error_has_offset(engine):
    with pytest.raises(bvt.RuleSyntaxError) as info:
        engine.segment_define("broken", "purchases >")
    assert info.value.code == -12
    assert info.value.offset == len("purchases >")
    assert "end of rule" in info.value.message


def test_missing_user_and_segment(engine):
    with pytest.raises(bvt.NotFound):
        engine.profile("nobody", T0)
    with pytest.raises(bvt.NotFound, match="no segment"):
        list(engine.segment_members("missing", T0))
    engine.forget("nobody")  # erasing what is not held succeeds
    with pytest.raises(bvt.NotFound):
        engine.export("nobody", T0)


def test_full_table_rejects_new_users():
    with bvt.Engine(SECRET, max_users=1) as e:
        e.track("first", "page_view", T0)
        with pytest.raises(bvt.Full) as info:
            e.track("second", "page_view", T0)
        assert info.value.code == -4
        e.track("first", "click", T0 + 1)  # an existing user still tracks


def test_offer_errors(engine):
    engine.offer_define("o1", value=1.0)
    with pytest.raises(bvt.RuleSyntaxError):
        engine.offer_define("o2", rule="purchases >>= 1")
    with pytest.raises(bvt.InvalidArgument):
        engine.offer_define("o3", value=-1.0)
    with pytest.raises(bvt.InvalidArgument):
        engine.rank("u", 0)
