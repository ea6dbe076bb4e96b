package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"errors"
	"fmt"
)

// Error is a failure reported by the library: the status code (a BVT_*
// value, always negative), the library's message, and a byte offset (rule
// text, file) or batch index, -1 when it does not apply.
type Error struct {
	Code    int
	Message string
	Offset  int64
}

func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("behavtarget: %s (code %d, offset %d)", e.Message, e.Code, e.Offset)
	}
	return fmt.Sprintf("behavtarget: %s (code %d)", e.Message, e.Code)
}

// Is makes errors.Is(err, ErrInvalid) and friends match by status code, so
// callers need not compare messages.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func sentinel(code C.int) *Error {
	return &Error{Code: int(code), Message: C.GoString(C.bvt_strerror(code)), Offset: -1}
}

// Sentinels, one per status; compare with errors.Is.
var (
	ErrInvalid   = sentinel(C.BVT_EINVAL)
	ErrNoMem     = sentinel(C.BVT_ENOMEM)
	ErrNotFound  = sentinel(C.BVT_ENOTFOUND)
	ErrFull      = sentinel(C.BVT_EFULL)
	ErrLimit     = sentinel(C.BVT_ELIMIT)
	ErrExist     = sentinel(C.BVT_EEXIST)
	ErrType      = sentinel(C.BVT_ETYPE)
	ErrRange     = sentinel(C.BVT_ERANGE)
	ErrVersion   = sentinel(C.BVT_EVERSION)
	ErrIO        = sentinel(C.BVT_EIO)
	ErrCorrupt   = sentinel(C.BVT_ECORRUPT)
	ErrSyntax    = sentinel(C.BVT_ESYNTAX)
	ErrCycle     = sentinel(C.BVT_ECYCLE)
	ErrConsent   = sentinel(C.BVT_ECONSENT)
	ErrTruncated = sentinel(C.BVT_ETRUNCATED)
	ErrFormat    = sentinel(C.BVT_EFORMAT)
	ErrSecret    = sentinel(C.BVT_ESECRET)
)

// ErrClosed is returned by every method of an Engine after Close.
var ErrClosed = errors.New("behavtarget: engine is closed")

// statusErr turns a status into an error; detail may be nil for calls that
// take no bvt_error, and then the message is the status text.
func statusErr(rc C.int, detail *C.bvt_error) error {
	if rc == C.BVT_OK {
		return nil
	}
	e := &Error{Code: int(rc), Offset: -1}
	if detail != nil {
		e.Message = C.GoString(&detail.message[0])
		e.Offset = int64(detail.offset)
	}
	if e.Message == "" {
		e.Message = C.GoString(C.bvt_strerror(rc))
	}
	return e
}

// newCError is BVT_ERROR_INIT, set in Go: a cgo call per method saved.
func newCError() C.bvt_error {
	return C.bvt_error{version: C.BVT_ERROR_VERSION, offset: -1}
}
