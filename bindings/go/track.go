package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// EventType is a built-in or registered event type.
type EventType uint32

const (
	PageView       EventType = C.BVT_EVENT_PAGE_VIEW
	Search         EventType = C.BVT_EVENT_SEARCH
	AddToCart      EventType = C.BVT_EVENT_ADD_TO_CART
	RemoveFromCart EventType = C.BVT_EVENT_REMOVE_FROM_CART
	Purchase       EventType = C.BVT_EVENT_PURCHASE
	Impression     EventType = C.BVT_EVENT_IMPRESSION
	Click          EventType = C.BVT_EVENT_CLICK
	Conversion     EventType = C.BVT_EVENT_CONVERSION
	Like           EventType = C.BVT_EVENT_LIKE
	Share          EventType = C.BVT_EVENT_SHARE
	Comment        EventType = C.BVT_EVENT_COMMENT
	EmailOpen      EventType = C.BVT_EVENT_EMAIL_OPEN
	Dismiss        EventType = C.BVT_EVENT_DISMISS
)

// Event is one behavioural event. Empty strings mean "absent".
type Event struct {
	Type       EventType // a built-in constant, or from LookupEventType / RegisterEventType
	User       string    // raw user id, 1..1024 bytes (hashed, never stored)
	TimeMs     int64     // epoch ms, > 0
	Time       time.Time // instead of TimeMs: converted exactly (TimeMs); zero = unset
	Category   string    // category path such as "sports/football"
	Item       string
	Value      float64 // monetary value, >= 0
	Quantity   uint32
	Offer      string // offer id, for impressions, clicks, dismissals
	Dwell      time.Duration
	SearchText string
}

// check refuses what C could not read as given and returns the event's
// time in ms (TimeMs, or Time when set); at prefixes the field names
// ("events[3]." in a batch).
func (ev *Event) check(at string) (int64, error) {
	for _, f := range [...]struct{ name, s string }{{"Category", ev.Category}, {"Item", ev.Item},
		{"Offer", ev.Offer}, {"SearchText", ev.SearchText}} {
		if err := checkText(at+f.name, f.s); err != nil {
			return 0, err
		}
	}
	return eventTimeMs(ev.TimeMs, ev.Time, at+"TimeMs", at+"Time")
}

func (ev *Event) fill(c *C.bvt_event, m *cmem, ms int64) {
	// BVT_EVENT_INIT in Go: one cgo call fewer per event of a batch.
	*c = C.bvt_event{version: C.BVT_EVENT_VERSION}
	c._type = C.uint32_t(ev.Type)
	c.user_id, c.user_id_len = m.bytes(ev.User)
	c.time_ms = C.int64_t(ms)
	c.category = m.str(ev.Category)
	c.item_id = m.str(ev.Item)
	c.value = C.double(ev.Value)
	c.quantity = C.uint32_t(ev.Quantity)
	c.offer_id = m.str(ev.Offer)
	c.dwell_ms = C.int64_t(ev.Dwell.Milliseconds())
	c.search_text = m.str(ev.SearchText)
}

// Track applies one event; on error nothing changed. A string field
// holding a NUL byte is refused (ErrInvalid, Offset that byte's).
func (eng *Engine) Track(ev Event) error {
	ms, err := ev.check("")
	if err != nil {
		return err
	}
	return eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		var c C.bvt_event
		ev.fill(&c, &m, ms)
		cerr := newCError()
		return statusErr(C.bvt_event_track(e, &c, &cerr), &cerr)
	})
}

// batchMax is how many events one C call takes (BVT_EVENT_BATCH_MAX).
const batchMax = int(C.BVT_EVENT_BATCH_MAX)

// TrackBatch applies a batch: the valid events are kept, and the others
// are returned, in index order, as EventErrors naming the index, the
// field at fault and the library's reason (found for every refused event,
// not only the first: see EventError). err is nil when every event was
// applied, else the first refused event's *Error (Offset its index), or
// a failure of the whole call (a closed engine, the journal, memory).
//
// An event the binding cannot pass to C (a NUL byte in a string field, a
// Time beyond int64 ms, TimeMs and Time that disagree) is refused before
// anything is tracked: no EventErrors, and err names the event and field
// (Offset its index). Batches over BVT_EVENT_BATCH_MAX events are sent in
// several calls; indexes count from the first event.
func (eng *Engine) TrackBatch(events []Event) ([]EventError, error) {
	ms := make([]int64, len(events))
	for i := range events {
		t, err := events[i].check(fmt.Sprintf("events[%d].", i))
		if err != nil {
			err.(*Error).Offset = int64(i)
			return nil, err
		}
		ms[i] = t
	}
	var refused []EventError
	var s scratch
	defer s.close()
	for start := 0; start < len(events); start += batchMax {
		end := start + batchMax
		if end > len(events) {
			end = len(events)
		}
		failed, err := eng.trackBatch(events[start:end], ms[start:end])
		refused = append(refused, explain(events[start:end], ms[start:end], failed, start, &s)...)
		if err != nil {
			if e, ok := err.(*Error); ok && e.Offset >= 0 {
				e.Offset += int64(start) // an index into this call's part
			}
			return refused, err
		}
	}
	if len(refused) > 0 {
		return refused, refused[0].Err
	}
	return nil, nil
}

// trackBatch is one C call for at most batchMax events: the refused
// events' (index, status), and an error only for a failure of the whole
// call (one no refused event accounts for).
func (eng *Engine) trackBatch(events []Event, ms []int64) (failed []C.bvt_batch_error, err error) {
	err = eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		// One C block for the array, freed with the strings it points to.
		arr := unsafe.Slice((*C.bvt_event)(m.alloc(uintptr(len(events))*C.sizeof_bvt_event)), len(events))
		for i := range events {
			events[i].fill(&arr[i], &m, ms[i])
		}
		fails := unsafe.Slice((*C.bvt_batch_error)(m.alloc(uintptr(len(events))*C.sizeof_bvt_batch_error)), len(events))
		var nfailed C.size_t
		cerr := newCError()
		rc := C.bvt_event_track_batch(e, &arr[0], C.size_t(len(events)), &fails[0],
			C.size_t(len(events)), &nfailed, &cerr)
		failed = append(failed, fails[:nfailed]...)
		for _, f := range failed {
			if f.code == rc {
				return nil // rc is a refused event's status
			}
		}
		return statusErr(rc, &cerr)
	})
	return failed, err
}

// Purpose is a consent purpose.
type Purpose uint32

const (
	PurposePersonalisation Purpose = C.BVT_PURPOSE_PERSONALISATION
	PurposeAds             Purpose = C.BVT_PURPOSE_ADS
	PurposeAnalytics       Purpose = C.BVT_PURPOSE_ANALYTICS
)

// SetConsent records a user's choice for a purpose made at timeMs. Ranking
// personalises (reads the profile) only for users who granted PurposeAds.
func (eng *Engine) SetConsent(user string, purpose Purpose, granted bool, timeMs int64) error {
	return eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		id, n := m.bytes(user)
		g := C.int(0)
		if granted {
			g = 1
		}
		return statusErr(C.bvt_consent_set(e, id, n, C.uint32_t(purpose), g, C.int64_t(timeMs)), nil)
	})
}
