"""Shared fixtures: an engine with a test secret, and fixed times."""
import pytest

import behavtarget as bvt

SECRET = b"python-binding-test-secret-32byt"
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
HOUR = 3_600_000
DAY = 86_400_000


@pytest.fixture
def engine():
    with bvt.Engine(SECRET) as e:
        yield e
