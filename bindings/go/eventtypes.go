package behavtarget

/*
#include <stdlib.h>
#include <behavtarget.h>
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// Event type names are one vocabulary, the engine's: a built-in name
// ("page_view", "purchase", ...) or a custom one registered first
// (RegisterEventType), as bvt wants custom types declared. Any other name
// is refused with ErrType, suggesting the nearest known name when one is
// close: equal once case and separators are ignored ("PageView",
// "pageview"), or within one edit of a name of up to 5 letters, two of a
// longer one ("purchse"). The Python binding suggests by the same rule.

// LookupEventType returns the id of a type name. An unknown name is an
// *Error of code ErrType: "unknown event type "pageview"; did you mean
// page_view?", or, with nothing close, a reminder that custom types must
// be registered first.
func (eng *Engine) LookupEventType(name string) (EventType, error) {
	if err := checkText("name", name); err != nil {
		return 0, err
	}
	var id C.uint32_t
	err := eng.use(func(e *C.bvt_engine) error {
		cname := C.CString(name)
		defer C.free(unsafe.Pointer(cname))
		rc := C.bvt_event_type_lookup(e, cname, &id)
		if rc == C.BVT_ETYPE {
			return &Error{Code: int(rc), Message: unknownTypeMessage(name, knownTypeNames(e)),
				Offset: -1}
		}
		return statusErr(rc, nil)
	})
	return EventType(id), err
}

// RegisterEventType registers a custom event type (bvt_event_type_register):
// 1..31 bytes of [a-z0-9_], whose events credit interests with
// interestWeight (>= 0). Registering a name again with the same weight
// returns the same id; a built-in name or another weight is ErrExist.
func (eng *Engine) RegisterEventType(name string, interestWeight float64) (EventType, error) {
	if err := checkText("name", name); err != nil {
		return 0, err
	}
	var id C.uint32_t
	err := eng.use(func(e *C.bvt_engine) error {
		cname := C.CString(name)
		defer C.free(unsafe.Pointer(cname))
		cerr := newCError()
		return statusErr(C.bvt_event_type_register(e, cname, C.double(interestWeight), &id, &cerr),
			&cerr)
	})
	return EventType(id), err
}

// EventTypes lists every type name the engine knows: built-in ones, then
// registered ones, by id.
func (eng *Engine) EventTypes() ([]string, error) {
	var names []string
	err := eng.use(func(e *C.bvt_engine) error {
		names = knownTypeNames(e)
		return nil
	})
	return names, err
}

func knownTypeNames(e *C.bvt_engine) []string {
	var names []string
	for id := 0; id < C.BVT_EVENT_TYPE_MAX; id++ {
		if n := C.bvt_event_type_name(e, C.uint32_t(id)); n != nil {
			names = append(names, C.GoString(n))
		}
	}
	return names
}

func unknownTypeMessage(name string, known []string) string {
	if near := suggestType(name, known); near != "" {
		return fmt.Sprintf("unknown event type %q; did you mean %s?", name, near)
	}
	return fmt.Sprintf("unknown event type %q; custom types must be registered first "+
		"(Engine.RegisterEventType)", name)
}

// suggestType is the known name nearest to name, or "" when none is near.
func suggestType(name string, known []string) string {
	best, bestD := "", -1
	key := foldTypeName(name)
	for _, k := range known {
		f := foldTypeName(k)
		limit := 2
		if len(f) <= 5 {
			limit = 1
		}
		if d := editDistance(key, f); d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = k, d
		}
	}
	return best
}

// foldTypeName keeps the ASCII letters (lower-cased) and digits.
func foldTypeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// editDistance is the Levenshtein distance (insert, delete, substitute).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min3(prev[j]+1, cur[j-1]+1, sub)
		}
		prev = cur
	}
	return prev[len(b)]
}

func min3(a, b, c int) int {
	if b < a {
		a = b
	}
	if c < a {
		a = c
	}
	return a
}
