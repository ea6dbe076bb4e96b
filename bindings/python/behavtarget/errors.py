"""Exceptions raised for the library's enum bvt_status codes."""
from __future__ import annotations

from typing import Dict, Optional, Type


class BehavtargetError(Exception):
    """A libbehavtarget call failed.

    Attributes mirror bvt_error: ``code`` (the negative status), ``message``
    (the library's text, or bvt_strerror() when the call gives none) and
    ``offset`` (byte offset / index the error refers to, or -1).
    """

    def __init__(self, code: int, message: str, offset: int = -1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


class InvalidArgument(BehavtargetError): """BVT_EINVAL."""
class OutOfMemory(BehavtargetError): """BVT_ENOMEM."""
class NotFound(BehavtargetError): """BVT_ENOTFOUND."""
class Full(BehavtargetError): """BVT_EFULL: the user table is at its limit."""
class LimitReached(BehavtargetError): """BVT_ELIMIT: a bounded registry is full."""
class AlreadyExists(BehavtargetError): """BVT_EEXIST."""
class UnknownType(BehavtargetError): """BVT_ETYPE: unknown event type."""
class OutOfRange(BehavtargetError): """BVT_ERANGE."""
class VersionError(BehavtargetError): """BVT_EVERSION."""
class IoError(BehavtargetError): """BVT_EIO."""
class Corrupt(BehavtargetError): """BVT_ECORRUPT."""
class RuleSyntaxError(BehavtargetError): """BVT_ESYNTAX: offset is the byte in the rule."""
class Cycle(BehavtargetError): """BVT_ECYCLE."""
class ConsentRequired(BehavtargetError): """BVT_ECONSENT."""
class Truncated(BehavtargetError): """BVT_ETRUNCATED."""
class FormatError(BehavtargetError): """BVT_EFORMAT."""
class SecretMismatch(BehavtargetError): """BVT_ESECRET."""


_BY_CODE: Dict[int, Type[BehavtargetError]] = {
    -1: InvalidArgument, -2: OutOfMemory, -3: NotFound, -4: Full, -5: LimitReached,
    -6: AlreadyExists, -7: UnknownType, -8: OutOfRange, -9: VersionError, -10: IoError,
    -11: Corrupt, -12: RuleSyntaxError, -13: Cycle, -14: ConsentRequired, -15: Truncated,
    -16: FormatError, -17: SecretMismatch,
}


def error_class(code: int) -> Type[BehavtargetError]:
    """The exception class for a status code (unknown codes give the base class)."""
    return _BY_CODE.get(code, BehavtargetError)


def error_for(code: int, message: Optional[str] = None, offset: int = -1) -> BehavtargetError:
    """The exception instance for a status code (unknown codes give the base class)."""
    from ._lib import lib
    if not message:
        text = lib.bvt_strerror(code)
        message = text.decode() if text else f"status {code}"
    return error_class(code)(code, message, offset)
