package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"math"
	"time"
	"unsafe"
)

// Times cross the C API as int64 epoch milliseconds. A time.Time converts
// exactly (TimeMs); text is read by the library's own reader,
// bvt_time_parse, as the bvt tool and the decision server read it, so a
// string means the same thing everywhere (ParseTime). Nothing is guessed:
// text that could mean two things is refused.

// TimeFormat says how ParseTime reads text (enum bvt_time_format).
type TimeFormat uint32

const (
	// TimeAuto reads ISO 8601, or an integer that can only mean epoch
	// milliseconds; 8 digits (a YYYYMMDD date or milliseconds?) and 9-10
	// digits (epoch seconds or milliseconds?) are refused as ambiguous.
	TimeAuto     TimeFormat = C.BVT_TIME_AUTO
	TimeEpochMs  TimeFormat = C.BVT_TIME_EPOCH_MS // integer milliseconds since 1970-01-01 UTC
	TimeEpochS   TimeFormat = C.BVT_TIME_EPOCH_S  // integer seconds since 1970-01-01 UTC
	TimeYYYYMMDD TimeFormat = C.BVT_TIME_YYYYMMDD // an 8-digit date, midnight UTC
	TimeISO      TimeFormat = C.BVT_TIME_ISO      // ISO 8601; no offset means UTC
)

var timeFormatNames = [...]string{"auto", "epoch-ms", "epoch-s", "yyyymmdd", "iso"}

// String is the format's name as bvt and the library's messages spell it.
func (f TimeFormat) String() string {
	if int(f) < len(timeFormatNames) {
		return timeFormatNames[f]
	}
	return "unknown"
}

// ParseTimeFormat is the format of a name: "auto", "epoch-ms", "epoch-s",
// "yyyymmdd" or "iso" (for formats taken from flags or configuration).
func ParseTimeFormat(name string) (TimeFormat, error) {
	for i, n := range timeFormatNames {
		if n == name {
			return TimeFormat(i), nil
		}
	}
	return 0, argError(-1, "time format %q: want one of auto, epoch-ms, epoch-s, yyyymmdd, iso", name)
}

// ParseTime reads text as epoch milliseconds with the library's
// bvt_time_parse, or refuses it: an *Error of code ErrInvalid with the
// library's reason (Offset the byte where reading stopped). Under TimeAuto
// "20240301" and "1709287200" are refused as ambiguous; name the format.
func ParseTime(text string, format TimeFormat) (int64, error) {
	b := append([]byte(text), 0) // Go memory without pointers, for the call only
	var ms C.int64_t
	cerr := newCError()
	rc := C.bvt_time_parse((*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(text)),
		C.uint32_t(format), &ms, &cerr)
	if rc != C.BVT_OK {
		return 0, statusErr(rc, &cerr)
	}
	return int64(ms), nil
}

// TimeMs is t in epoch milliseconds, exactly (below a millisecond is
// dropped, toward the past), whatever t's location. The zero time.Time
// (an unset field) and times beyond int64 milliseconds are refused with
// ErrInvalid. Use it for the methods that take a time as int64 (Profile,
// SegmentsOf, Export, SetConsent); Event and RankRequest take a time.Time
// in their Time field.
func TimeMs(t time.Time) (int64, error) {
	return timeMs(t, "time")
}

// timeMs is the binding's one conversion of a time.Time; field names it in
// errors.
func timeMs(t time.Time, field string) (int64, error) {
	if t.IsZero() {
		return 0, argError(-1, "%s: the zero time.Time is not a time", field)
	}
	sec, ms := t.Unix(), int64(t.Nanosecond()/1e6)
	if sec > (math.MaxInt64-999)/1000 || sec < math.MinInt64/1000 {
		return 0, argError(-1, "%s: %v is beyond int64 epoch milliseconds", field, t)
	}
	return sec*1000 + ms, nil
}

// eventTimeMs is the time an Event or RankRequest gives: ms, or t when
// set; both set to different times is refused (which would it be?).
func eventTimeMs(ms int64, t time.Time, msField, tField string) (int64, error) {
	if t.IsZero() {
		return ms, nil
	}
	v, err := timeMs(t, tField)
	if err == nil && ms != 0 && ms != v {
		return 0, argError(-1, "%s (%d) and %s (%d ms) disagree: set one", msField, ms, tField, v)
	}
	return v, err
}
