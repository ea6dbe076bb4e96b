"""Python bindings for libbehavtarget (ctypes over libbehavtarget.so.1).

The library is found through the BVT_LIBRARY environment variable, else a
build/src/ directory above this package, else the system library path.
"""
from ._lib import lib as _clib
from ._times import TIME_FORMATS, parse_time
from .engine import (EVENT_TYPES, BatchFailure, Engine, Event, Profile, RankedOffer,
                     RfmSummary)
from .errors import (AlreadyExists, BehavtargetError, ConsentRequired, Corrupt, Cycle,
                     Full, FormatError, InvalidArgument, IoError, LimitReached, NotFound,
                     OutOfMemory, OutOfRange, RuleSyntaxError, SecretMismatch, Truncated,
                     UnknownType, VersionError)

__all__ = [
    "Engine", "Event", "BatchFailure", "Profile", "RankedOffer", "RfmSummary", "EVENT_TYPES",
    "BehavtargetError", "InvalidArgument", "OutOfMemory", "NotFound", "Full", "LimitReached",
    "AlreadyExists", "UnknownType", "OutOfRange", "VersionError", "IoError", "Corrupt",
    "RuleSyntaxError", "Cycle", "ConsentRequired", "Truncated", "FormatError",
    "SecretMismatch", "version", "track_frame", "rfm_summary", "RowError", "parse_time",
    "TIME_FORMATS",
]


def version() -> str:
    """The loaded library's version string."""
    return _clib.bvt_version().decode()


try:  # the frame helpers need numpy and pandas
    from ._rows import RowError
    from .frames import rfm_summary, track_frame
except ImportError:  # pragma: no cover - exercised only without pandas
    pass
