package behavtarget

/*
#include <behavtarget.h>
*/
import "C"

import (
	"errors"
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
	Type       EventType
	User       string // raw user id, 1..1024 bytes (hashed, never stored)
	TimeMs     int64  // epoch ms, > 0
	Category   string // category path such as "sports/football"
	Item       string
	Value      float64 // monetary value, >= 0
	Quantity   uint32
	Offer      string // offer id, for impressions, clicks, dismissals
	Dwell      time.Duration
	SearchText string
}

// check refuses what C could not read as given; at prefixes the field
// names ("events[3]." in a batch).
func (ev *Event) check(at string) error {
	for _, f := range [...]struct{ name, s string }{{"Category", ev.Category}, {"Item", ev.Item},
		{"Offer", ev.Offer}, {"SearchText", ev.SearchText}} {
		if err := checkText(at+f.name, f.s); err != nil {
			return err
		}
	}
	return nil
}

func (ev *Event) fill(c *C.bvt_event, m *cmem) {
	// BVT_EVENT_INIT in Go: one cgo call fewer per event of a batch.
	*c = C.bvt_event{version: C.BVT_EVENT_VERSION}
	c._type = C.uint32_t(ev.Type)
	c.user_id, c.user_id_len = m.bytes(ev.User)
	c.time_ms = C.int64_t(ev.TimeMs)
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
	if err := ev.check(""); err != nil {
		return err
	}
	return eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		var c C.bvt_event
		ev.fill(&c, &m)
		cerr := newCError()
		return statusErr(C.bvt_event_track(e, &c, &cerr), &cerr)
	})
}

// batchMax is how many events one C call takes (BVT_EVENT_BATCH_MAX).
const batchMax = int(C.BVT_EVENT_BATCH_MAX)

// TrackBatch applies a batch: the valid events are kept, and failed counts
// the others. err describes the first failure (its Offset is the index).
// An event the binding cannot pass to C (a NUL byte in a string field) is
// refused before anything is tracked: failed is 0 and err names the event
// and field (Offset its index). Batches over BVT_EVENT_BATCH_MAX events
// are sent in several calls.
func (eng *Engine) TrackBatch(events []Event) (failed int, err error) {
	for i := range events {
		if err := events[i].check(fmt.Sprintf("events[%d].", i)); err != nil {
			err.(*Error).Offset = int64(i)
			return 0, err
		}
	}
	for start := 0; start < len(events); start += batchMax {
		end := start + batchMax
		if end > len(events) {
			end = len(events)
		}
		n, cerr := eng.trackBatch(events[start:end])
		if errors.Is(cerr, ErrClosed) {
			return failed, cerr
		}
		if e, ok := cerr.(*Error); ok && e.Offset >= 0 {
			e.Offset += int64(start) // an index into this call's part
		}
		if err == nil {
			err = cerr
		}
		failed += n
	}
	return failed, err
}

// trackBatch is one C call for at most batchMax events.
func (eng *Engine) trackBatch(events []Event) (failed int, err error) {
	err = eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		// One C block for the array, freed with the strings it points to.
		arr := unsafe.Slice((*C.bvt_event)(m.alloc(uintptr(len(events))*C.sizeof_bvt_event)), len(events))
		for i := range events {
			events[i].fill(&arr[i], &m)
		}
		var nfailed C.size_t
		cerr := newCError()
		rc := C.bvt_event_track_batch(e, &arr[0], C.size_t(len(events)), nil, 0, &nfailed, &cerr)
		failed = int(nfailed)
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
