package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"fmt"
	"math"
	"strings"
)

// Arguments are checked before they are copied into C memory: a Go string
// may hold a NUL, where C would see the string end, and some Go integers
// are wider than the C field they fill (an int Hour in an int32_t). Such a
// value is refused with an *Error of code ErrInvalid naming the field,
// and nothing is called.

// argError is the refusal of a Go value the C type cannot hold.
func argError(offset int64, format string, a ...any) error {
	return &Error{Code: int(C.BVT_EINVAL), Message: "behavtarget: " + fmt.Sprintf(format, a...),
		Offset: offset}
}

// checkText refuses a string passed as a C string (NUL-terminated) that
// holds a NUL byte; Offset is that byte's.
func checkText(field, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return argError(int64(i), "%s: embedded NUL byte at offset %d", field, i)
	}
	return nil
}

// checkTexts is checkText over a list, naming each entry field[i].
func checkTexts(field string, list []string) error {
	for i, s := range list {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), s); err != nil {
			return err
		}
	}
	return nil
}

// checkInt32 refuses an int outside int32_t.
func checkInt32(field string, v int) error {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return argError(-1, "%s: %d does not fit int32_t", field, v)
	}
	return nil
}
