package behavtarget

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The whole path a user's data takes: events into a profile, the profile
// into a segment, the segment into an offer's eligibility, and forgetting
// taking all of it away.
func TestTrackProfileSegmentRankForget(t *testing.T) {
	eng := newEngine(t)
	if _, err := eng.DefineSegment("browsers", "page_views >= 3"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DefineSegment("buyers", "purchases >= 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DefineOffer(Offer{ID: "for-browsers", Rule: `in_segment("browsers")`,
		Value: 100, Tags: []string{"sports/football"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.DefineOffer(Offer{ID: "anyone", Value: 1,
		Caps: []Cap{{Max: 2, Window: 24 * time.Hour}}}); err != nil {
		t.Fatal(err)
	}
	must(t, "consent", eng.SetConsent("alice", PurposeAds, true, t0))
	for i := int64(0); i < 3; i++ {
		must(t, "track", eng.Track(Event{Type: PageView, User: "alice", TimeMs: t0 + i*1000,
			Category: "sports/football", Dwell: 30 * time.Second}))
	}
	now := t0 + 10000

	p, err := eng.Profile("alice", now)
	must(t, "profile", err)
	if p.TypeCounts[PageView] != 3 || p.Events != 3 || p.FirstSeenMs != t0 ||
		p.LastSeenMs != t0+2000 || p.RecencyMs != 8000 || p.DwellMs != 90000 ||
		p.Purchases != 0 || p.PurchaseRecencyMs != -1 || p.Interests == 0 {
		t.Fatalf("profile: %+v", p)
	}

	segs, err := eng.SegmentsOf("alice", now, nil)
	must(t, "segments", err)
	if !contains(segs, "browsers") || contains(segs, "buyers") {
		t.Fatalf("segments %v: want browsers, not buyers", segs)
	}

	ranked, err := eng.Rank(RankRequest{User: "alice", Now: now, K: 2, Policy: PolicyGreedy})
	must(t, "rank", err)
	if len(ranked) != 2 || ranked[0].ID != "for-browsers" || ranked[1].ID != "anyone" ||
		ranked[0].Offer == 0 || ranked[0].Score <= ranked[1].Score {
		t.Fatalf("ranked %+v", ranked)
	}

	js, err := eng.Export("alice", now)
	must(t, "export", err)
	var doc map[string]any
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatalf("export is not JSON: %v: %s", err, js)
	}
	if _, ok := doc["segments"]; !ok {
		t.Fatalf("export has no segments: %s", js)
	}

	must(t, "forget", eng.Forget("alice"))
	must(t, "forget twice", eng.Forget("alice"))
	_, err = eng.Profile("alice", now)
	wantCode(t, "profile after forget", err, ErrNotFound)
	_, err = eng.SegmentsOf("alice", now, nil)
	wantCode(t, "segments after forget", err, ErrNotFound)
	_, err = eng.Export("alice", now)
	wantCode(t, "export after forget", err, ErrNotFound)
	ranked, err = eng.Rank(RankRequest{User: "alice", Now: now, K: 2, Policy: PolicyGreedy})
	must(t, "rank after forget", err)
	if len(ranked) != 1 || ranked[0].ID != "anyone" {
		t.Fatalf("after forget the segment offer must be gone: %+v", ranked)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Context values reach rules through ctx.<key>.
func TestSegmentContext(t *testing.T) {
	eng := newEngine(t)
	_, err := eng.DefineSegment("mobile-fr", `ctx.device == "mobile" and ctx.geo == "FR" and ctx.plan == "gold"`)
	must(t, "define", err)
	must(t, "track", eng.Track(Event{Type: PageView, User: "bob", TimeMs: t0}))
	ctx := &Context{Device: "mobile", Geo: "FR", Values: map[string]string{"plan": "gold", "x": "y"}}
	segs, err := eng.SegmentsOf("bob", t0+1, ctx)
	must(t, "segments", err)
	if !contains(segs, "mobile-fr") {
		t.Fatalf("with context: %v", segs)
	}
	segs, err = eng.SegmentsOf("bob", t0+1, nil)
	must(t, "segments", err)
	if contains(segs, "mobile-fr") {
		t.Fatalf("without context: %v", segs)
	}
}

func TestBatch(t *testing.T) {
	eng := newEngine(t)
	evs := []Event{
		{Type: Purchase, User: "carol", TimeMs: t0, Value: 40, Item: "sku-1"},
		{Type: PageView, User: "carol", TimeMs: 0}, // time must be > 0
		{Type: Purchase, User: "carol", TimeMs: t0 + day, Value: 60, Item: "sku-2"},
	}
	refused, err := eng.TrackBatch(evs)
	if len(refused) != 1 || refused[0].Index != 1 || refused[0].Field != "TimeMs" {
		t.Fatalf("refused = %+v, want event 1's TimeMs (%v)", refused, err)
	}
	e := wantCode(t, "batch", err, ErrInvalid)
	if e.Offset != 1 {
		t.Fatalf("batch error offset %d, want the bad event's index 1", e.Offset)
	}
	p, err := eng.Profile("carol", t0+2*day)
	must(t, "profile", err)
	if p.Purchases != 2 || p.MonetaryTotal != 100 || p.PurchaseDays != 2 || p.MonetaryMean != 50 {
		t.Fatalf("the valid events must be applied: %+v", p)
	}
	if refused, err := eng.TrackBatch(nil); refused != nil || err != nil {
		t.Fatalf("empty batch: %v %v", refused, err)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Open(Options{Secret: []byte("short")}); err == nil {
		t.Fatal("a 5-byte secret must be refused")
	} else {
		wantCode(t, "short secret", err, ErrInvalid)
	}
	if _, err := Open(Options{Secret: testSecret, Shards: 3}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("3 shards: %v", err)
	}
	eng := newEngine(t)

	wantCode(t, "no user", eng.Track(Event{Type: PageView, TimeMs: t0}), ErrInvalid)
	wantCode(t, "negative value", eng.Track(Event{Type: Purchase, User: "u", TimeMs: t0, Value: -1}), ErrInvalid)
	wantCode(t, "unknown type", eng.Track(Event{Type: 40, User: "u", TimeMs: t0}), ErrType)

	_, err := eng.DefineSegment("bad", "page_views >")
	e := wantCode(t, "syntax", err, ErrSyntax)
	if e.Offset < 0 || e.Message == ErrSyntax.Message {
		t.Fatalf("a syntax error names where and what: %+v", e)
	}
	if errors.Is(err, ErrInvalid) {
		t.Fatal("ErrSyntax must not match ErrInvalid")
	}
	_, err = eng.DefineSegment("loop", "page_views > 0")
	must(t, "define loop", err)
	_, err = eng.DefineSegment("loop", `in_segment("loop")`)
	wantCode(t, "cycle", err, ErrCycle)
	_, err = eng.DefineSegment("x", "nosuchfeature > 1")
	wantCode(t, "unknown feature", err, ErrNotFound)

	_, err = eng.Profile("nobody", t0)
	wantCode(t, "unknown user", err, ErrNotFound)
	_, err = eng.Profile("u", 0)
	wantCode(t, "now 0", err, ErrInvalid)

	_, err = eng.DefineOffer(Offer{ID: "", Value: 1})
	wantCode(t, "offer without id", err, ErrInvalid)
	_, err = eng.DefineOffer(Offer{ID: "o", Caps: []Cap{{Max: 0, Window: time.Hour}}})
	wantCode(t, "zero cap", err, ErrInvalid)
	_, err = eng.Rank(RankRequest{User: "u", Now: 0})
	wantCode(t, "rank now 0", err, ErrInvalid)
	_, err = eng.Rank(RankRequest{User: "u", Now: t0, Experiment: "nope"})
	wantCode(t, "unknown experiment", err, ErrNotFound)

	wantCode(t, "checkpoint in memory", eng.Checkpoint(), ErrInvalid)
	must(t, "sync without journal", eng.Sync())

	// An error prints its message and code.
	if s := (&Error{Code: -3, Message: "no such user", Offset: -1}).Error(); s != "behavtarget: no such user (code -3)" {
		t.Fatalf("Error(): %q", s)
	}
}

func TestCloseIdempotentAndAfterUse(t *testing.T) {
	eng, err := Open(Options{Secret: testSecret})
	must(t, "open", err)
	must(t, "close", eng.Close())
	must(t, "close again", eng.Close())
	if err := eng.Track(Event{Type: PageView, User: "u", TimeMs: t0}); err != ErrClosed {
		t.Fatalf("track after close: %v", err)
	}
	if _, err := eng.Rank(RankRequest{User: "u", Now: t0}); err != ErrClosed {
		t.Fatalf("rank after close: %v", err)
	}
}

// Engines are freed, not leaked or double-freed, over many cycles; each is
// independent of the ones before.
func TestManyOpenClose(t *testing.T) {
	for i := 0; i < 300; i++ {
		eng, err := Open(Options{Secret: testSecret, Shards: 1})
		must(t, "open", err)
		if _, err := eng.Profile("u", t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cycle %d: a new engine holds a user: %v", i, err)
		}
		must(t, "track", eng.Track(Event{Type: PageView, User: "u", TimeMs: t0}))
		must(t, "close", eng.Close())
	}
	// Engines dropped without Close are freed by the finalizer.
	for i := 0; i < 50; i++ {
		if _, err := Open(Options{Secret: testSecret, Shards: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if v := Version(); !strings.HasPrefix(v, "1.") {
		t.Fatalf("version %q", v)
	}
}

// Candidates restrict the ranking to the offers named, and caps apply.
func TestRankCandidatesAndCaps(t *testing.T) {
	eng := newEngine(t)
	for _, id := range []string{"a", "b", "c"} {
		_, err := eng.DefineOffer(Offer{ID: id, Value: 1, Caps: []Cap{{Max: 1, Window: time.Hour}}})
		must(t, "offer", err)
	}
	r, err := eng.Rank(RankRequest{User: "eve", Now: t0, K: 3, Candidates: []string{"b", "nope"}})
	must(t, "rank", err)
	if len(r) != 1 || r[0].ID != "b" {
		t.Fatalf("candidates b and an unknown id: %+v", r)
	}
	must(t, "impression", eng.Track(Event{Type: Impression, User: "eve", TimeMs: t0, Offer: "b"}))
	r, err = eng.Rank(RankRequest{User: "eve", Now: t0 + 1000, K: 3, Candidates: []string{"b"}})
	must(t, "rank", err)
	if len(r) != 0 {
		t.Fatalf("b is capped at one impression an hour: %+v", r)
	}
	r, err = eng.Rank(RankRequest{User: "eve", Now: t0 + 2*3600*1000, K: 3, Candidates: []string{"b"}})
	must(t, "rank", err)
	if len(r) != 1 {
		t.Fatalf("the cap window has passed: %+v", r)
	}
}
