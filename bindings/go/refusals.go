package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"crypto/rand"
	"fmt"
)

// Why the library refused each event of a batch, and in which field.
//
// bvt_event_track_batch reports every refused event's status, but its
// message only for the first. Most statuses name the field by themselves
// (ErrType: Type; ErrFull and ErrConsent: User; ErrLimit: Category).
// ErrInvalid is the library's validation of one of several fields, which
// depends on the event alone: the binding finds which by tracking, into a
// private scratch engine, a plain event carrying one field of the refused
// one at a time, in the order the library checks them. The first that
// fails is the field, and the library's message says why. The caller's
// engine sees nothing of this.

// EventError is an event of a batch the library refused.
type EventError struct {
	Index  int    // position in the batch
	Field  string // the Event field at fault: "User", "Type", "TimeMs" (or "Time"), "Value", "Dwell", "Category"; "" when unknown
	Reason string // the library's words, such as "value must be finite and >= 0"
	Err    *Error // its status; Message "events[i].Field: Reason"; Offset = Index
}

func (e EventError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is(ev, ErrInvalid) and errors.As(ev, &*Error) see the status.
func (e EventError) Unwrap() error { return e.Err }

var fieldOfCode = map[C.int]string{C.BVT_ETYPE: "Type", C.BVT_EFULL: "User",
	C.BVT_ECONSENT: "User", C.BVT_ELIMIT: "Category"}

// probes are the fields the library validates, in its order: each copies
// one field of the refused event into a plain one.
var probes = [...]struct {
	field string
	copy  func(plain *Event, ev *Event, ms int64)
}{
	{"User", func(p, ev *Event, _ int64) { p.User = ev.User }},
	{"TimeMs", func(p, _ *Event, ms int64) { p.TimeMs = ms }},
	{"Value", func(p, ev *Event, _ int64) { p.Value = ev.Value }},
	{"Dwell", func(p, ev *Event, _ int64) { p.Dwell = ev.Dwell }},
	{"Category", func(p, ev *Event, _ int64) { p.Category = ev.Category }},
}

// scratch is a small engine of its own for probes, opened when first needed.
type scratch struct{ eng *Engine }

func (s *scratch) close() {
	if s.eng != nil {
		s.eng.Close()
	}
}

// probe returns the field and the library's message of the first field
// the library refuses on its own, or "", "".
func (s *scratch) probe(ev *Event, ms int64) (string, string) {
	if s.eng == nil {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return "", ""
		}
		eng, err := Open(Options{Secret: secret, Shards: 1})
		if err != nil {
			return "", ""
		}
		s.eng = eng
	}
	for _, p := range probes {
		plain := Event{Type: PageView, User: "x", TimeMs: 1}
		p.copy(&plain, ev, ms)
		if e, ok := s.eng.Track(plain).(*Error); ok && e.Code == int(C.BVT_EINVAL) {
			field := p.field
			if field == "TimeMs" && !ev.Time.IsZero() {
				field = "Time"
			}
			return field, e.Message
		}
	}
	return "", ""
}

// explain turns the (index, status) pairs of refused events into
// EventErrors; ms[i] is event i's time in milliseconds.
func explain(events []Event, ms []int64, failed []C.bvt_batch_error, base int, s *scratch) []EventError {
	out := make([]EventError, 0, len(failed))
	for _, f := range failed {
		i, code := int(f.index), f.code
		field, reason := fieldOfCode[code], ""
		if code == C.BVT_EINVAL {
			field, reason = s.probe(&events[i], ms[i])
		}
		if reason == "" {
			reason = C.GoString(C.bvt_strerror(code))
			if code == C.BVT_ETYPE {
				reason += fmt.Sprintf(" %d; custom types must be registered first", events[i].Type)
			}
		}
		where := fmt.Sprintf("events[%d]", base+i)
		if field != "" {
			where += "." + field
		}
		out = append(out, EventError{Index: base + i, Field: field, Reason: reason,
			Err: &Error{Code: int(code), Message: where + ": " + reason, Offset: int64(base + i)}})
	}
	return out
}
