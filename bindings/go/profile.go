package behavtarget

/*
#include <stdlib.h>
#include <behavtarget.h>
*/
import "C"

// Profile is a user's features read at a time `now`. Times are epoch ms,
// 0 when the thing never happened.
type Profile struct {
	FirstSeenMs, LastSeenMs, RecencyMs int64
	LastPurchaseMs                     int64
	PurchaseRecencyMs                  int64 // -1 without purchases
	Purchases, PurchaseDays            uint32
	MonetaryTotal, MonetaryMean        float64
	RScore, FScore, MScore             uint32
	TypeCounts                         [C.BVT_EVENT_BUILTIN_COUNT]uint32 // indexed by EventType
	Events                             uint64
	Impressions, Clicks, Conversions   uint32
	CTR, ConversionRate                float64
	Interactions, Sessions             uint32
	DwellMs                            int64
	MeanDwellMs                        float64
	CartItems                          uint32
	CartValue                          float64
	CartOldestMs                       int64
	Interests, Attributes              uint32
	HistoryEvents, HistoryDaySlots     uint32
}

// Profile reads a user's features at now; ErrNotFound for an unknown user.
func (eng *Engine) Profile(user string, now int64) (Profile, error) {
	var p Profile
	err := eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		id, n := m.bytes(user)
		var c C.bvt_profile
		C.bvt_profile_init(&c)
		if rc := C.bvt_profile_get(e, id, n, C.int64_t(now), &c); rc != C.BVT_OK {
			return statusErr(rc, nil)
		}
		p = Profile{
			FirstSeenMs: int64(c.first_seen_ms), LastSeenMs: int64(c.last_seen_ms),
			RecencyMs: int64(c.recency_ms), LastPurchaseMs: int64(c.last_purchase_ms),
			PurchaseRecencyMs: int64(c.purchase_recency_ms),
			Purchases:         uint32(c.purchases), PurchaseDays: uint32(c.purchase_days),
			MonetaryTotal: float64(c.monetary_total), MonetaryMean: float64(c.monetary_mean),
			RScore: uint32(c.r_score), FScore: uint32(c.f_score), MScore: uint32(c.m_score),
			Events:      uint64(c.events),
			Impressions: uint32(c.impressions), Clicks: uint32(c.clicks),
			Conversions: uint32(c.conversions),
			CTR:         float64(c.ctr), ConversionRate: float64(c.conversion_rate),
			Interactions: uint32(c.interactions), Sessions: uint32(c.sessions),
			DwellMs: int64(c.dwell_ms), MeanDwellMs: float64(c.mean_dwell_ms),
			CartItems: uint32(c.cart_items), CartValue: float64(c.cart_value),
			CartOldestMs: int64(c.cart_oldest_ms),
			Interests:    uint32(c.interests), Attributes: uint32(c.attributes),
			HistoryEvents: uint32(c.history_events), HistoryDaySlots: uint32(c.history_day_slots),
		}
		for i := range p.TypeCounts {
			p.TypeCounts[i] = uint32(c.type_counts[i])
		}
		return nil
	})
	return p, err
}

// Forget erases a user and every alias of it. Forgetting an unknown user
// is not an error, so a retried request is safe.
func (eng *Engine) Forget(user string) error {
	return eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		id, n := m.bytes(user)
		cerr := newCError()
		return statusErr(C.bvt_user_forget(e, id, n, &cerr), &cerr)
	})
}

// Export returns everything the engine holds about a user, as JSON read at
// now (the data-subject access request); ErrNotFound for an unknown user.
func (eng *Engine) Export(user string, now int64) ([]byte, error) {
	var out []byte
	err := eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		id, n := m.bytes(user)
		size := C.size_t(4096)
		for {
			buf := C.malloc(size)
			if buf == nil {
				return ErrNoMem
			}
			var length C.size_t
			rc := C.bvt_user_export(e, id, n, C.int64_t(now), (*C.char)(buf), size, &length)
			if rc == C.BVT_OK {
				out = C.GoBytes(buf, C.int(length))
			}
			C.free(buf)
			// Tracking meanwhile may have grown the JSON: retry with its new length.
			if rc == C.BVT_ERANGE && length+1 > size {
				size = length + 1 + length/4
				continue
			}
			return statusErr(rc, nil)
		}
	})
	return out, err
}
