package behavtarget

/*
#include <behavtarget.h>

// The whole of a ranking in one cgo call (a call costs about as much as a
// small ranking): the request, policy and result are built on the C side.
static int bvtgo_rank(bvt_engine *e, const void *uid, size_t uid_len, int64_t now,
                      const bvt_context *ctx, const char *const *cands, size_t n_cands,
                      size_t k, uint32_t kind, uint64_t seed, const char *experiment,
                      bvt_ranked_offer *slots, size_t cap, size_t *n_out, bvt_error *err)
{
    bvt_rank_request q = BVT_RANK_REQUEST_INIT;
    bvt_policy p = BVT_POLICY_INIT;
    bvt_rank_result res = BVT_RANK_RESULT_INIT;
    q.user_id = uid;
    q.user_id_len = uid_len;
    q.now = now;
    q.ctx = ctx;
    q.candidates = cands;
    q.n_candidates = n_cands;
    q.k = k;
    if (kind != 0) {
        p.kind = kind;
        q.policy = &p;
    }
    q.seed = seed;
    q.experiment = experiment;
    res.offers = slots;
    res.offers_cap = cap;
    int rc = bvt_rank(e, &q, &res, err);
    *n_out = res.n_offers < cap ? res.n_offers : cap;
    return rc;
}
*/
import "C"

import (
	"time"
	"unsafe"
)

// Cap is a per-user frequency cap: at most Max impressions in any Window.
type Cap struct {
	Max    uint32
	Window time.Duration
}

// Offer is the subset of an offer definition this binding exposes.
type Offer struct {
	ID    string   // 1..63 bytes
	Tags  []string // category paths the offer is about
	Rule  string   // eligibility rule; "" = every user
	Value float64  // revenue per response; 0 scores as 1
	Caps  []Cap
}

// DefineOffer defines an offer, or replaces an existing id's definition,
// and returns its numeric id (>= 1).
func (eng *Engine) DefineOffer(o Offer) (uint32, error) {
	if err := checkText("Offer.ID", o.ID); err != nil {
		return 0, err
	}
	if err := checkTexts("Offer.Tags", o.Tags); err != nil {
		return 0, err
	}
	if err := checkText("Offer.Rule", o.Rule); err != nil {
		return 0, err
	}
	var id C.uint32_t
	err := eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		var c C.bvt_offer
		C.bvt_offer_init(&c)
		c.id = m.str(o.ID)
		c.tags = m.strs(o.Tags)
		c.n_tags = C.size_t(len(o.Tags))
		c.rule = m.str(o.Rule)
		c.value = C.double(o.Value)
		if len(o.Caps) > 0 {
			caps := unsafe.Slice((*C.bvt_cap)(m.alloc(uintptr(len(o.Caps))*C.sizeof_bvt_cap)), len(o.Caps))
			for i, k := range o.Caps {
				caps[i].max = C.uint32_t(k.Max)
				caps[i].window_ms = C.int64_t(k.Window.Milliseconds())
			}
			c.caps = &caps[0]
			c.n_caps = C.size_t(len(o.Caps))
		}
		cerr := newCError()
		return statusErr(C.bvt_offer_define(e, &c, &id, &cerr), &cerr)
	})
	return uint32(id), err
}

// PolicyKind is a ranking policy; 0 leaves the engine's (Thompson sampling
// by default).
type PolicyKind uint32

const (
	PolicyDefault       PolicyKind = 0
	PolicyGreedy        PolicyKind = C.BVT_POLICY_GREEDY
	PolicyEpsilonGreedy PolicyKind = C.BVT_POLICY_EPSILON_GREEDY
	PolicySoftmax       PolicyKind = C.BVT_POLICY_SOFTMAX
	PolicyThompson      PolicyKind = C.BVT_POLICY_THOMPSON
	PolicyUCB1          PolicyKind = C.BVT_POLICY_UCB1
)

// RankRequest says what to rank, for whom and when.
type RankRequest struct {
	User       string
	Now        int64     // epoch ms
	Time       time.Time // instead of Now: converted exactly (TimeMs); zero = unset
	Context    *Context
	Candidates []string // offer ids; nil = every defined offer
	K          int      // slots to fill, 0..BVT_RANK_SLOTS_MAX (256); 0 means 1
	Policy     PolicyKind
	Seed       uint64 // same seed and state, same ranking
	Experiment string // "" = none
}

// RankedOffer is one filled slot, best first.
type RankedOffer struct {
	ID         string
	Offer      uint32 // numeric id
	Score      float64
	Estimate   float64 // posterior mean response rate
	Propensity float64 // -1 when not estimated
}

// Rank ranks offers for a user; an empty result (nothing eligible) is not an error.
func (eng *Engine) Rank(req RankRequest) ([]RankedOffer, error) {
	if req.K < 0 {
		return nil, argError(-1, "RankRequest.K: %d is negative (size_t)", req.K)
	}
	if err := checkTexts("RankRequest.Candidates", req.Candidates); err != nil {
		return nil, err
	}
	if err := checkText("RankRequest.Experiment", req.Experiment); err != nil {
		return nil, err
	}
	if err := req.Context.check(); err != nil {
		return nil, err
	}
	now, err := eventTimeMs(req.Now, req.Time, "RankRequest.Now", "RankRequest.Time")
	if err != nil {
		return nil, err
	}
	var out []RankedOffer
	err = eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		k := req.K
		if k == 0 {
			k = 1
		}
		// Slots for what the library can fill: a larger K is its error
		// (BVT_RANK_SLOTS_MAX), not a huge allocation here.
		slotCap := k
		if slotCap > int(C.BVT_RANK_SLOTS_MAX) {
			slotCap = int(C.BVT_RANK_SLOTS_MAX)
		}
		// Go memory without Go pointers may be passed for the call: the id
		// bytes, the slots (C fills them with C pointers) and the error.
		uid := append([]byte(req.User), 0) // never empty, so &uid[0] exists
		slots := make([]C.bvt_ranked_offer, slotCap)
		var n C.size_t
		cerr := newCError()
		rc := C.bvtgo_rank(e, unsafe.Pointer(&uid[0]), C.size_t(len(req.User)),
			C.int64_t(now), req.Context.fill(&m), m.strs(req.Candidates),
			C.size_t(len(req.Candidates)), C.size_t(k), C.uint32_t(req.Policy),
			C.uint64_t(req.Seed), m.str(req.Experiment), &slots[0], C.size_t(slotCap), &n, &cerr)
		if rc != C.BVT_OK {
			return statusErr(rc, &cerr)
		}
		out = make([]RankedOffer, n)
		for i := range out {
			s := &slots[i]
			out[i] = RankedOffer{ID: C.GoString(s.offer_id), Offer: uint32(s.offer),
				Score: float64(s.score), Estimate: float64(s.estimate),
				Propensity: float64(s.propensity)}
		}
		return nil
	})
	return out, err
}
