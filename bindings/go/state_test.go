package behavtarget

import (
	"errors"
	"path/filepath"
	"testing"
)

// Everything accepted before Close is there after reopening the directory,
// through the journal alone and through a checkpoint's snapshot.
func TestStateDirRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	opts := Options{Secret: testSecret, Shards: 4}

	eng, err := OpenDir(dir, JournalAlways, opts)
	must(t, "open", err)
	_, err = eng.DefineSegment("buyers", "purchases >= 1")
	must(t, "segment", err)
	_, err = eng.DefineOffer(Offer{ID: "welcome", Value: 2})
	must(t, "offer", err)
	must(t, "track", eng.Track(Event{Type: Purchase, User: "dana", TimeMs: t0, Value: 25}))

	// The directory is locked while open.
	if _, err := OpenDir(dir, JournalAlways, opts); !errors.Is(err, ErrIO) {
		t.Fatalf("second open of a held directory: %v", err)
	}
	must(t, "sync", eng.Sync())
	must(t, "close", eng.Close())

	check := func(stage string, eng *Engine, purchases uint32) {
		t.Helper()
		p, err := eng.Profile("dana", t0+day)
		must(t, stage+": profile", err)
		if p.Purchases != purchases || p.MonetaryTotal != float64(25*purchases) {
			t.Fatalf("%s: %+v", stage, p)
		}
		segs, err := eng.SegmentsOf("dana", t0+day, nil)
		must(t, stage+": segments", err)
		if !contains(segs, "buyers") {
			t.Fatalf("%s: segment definition lost: %v", stage, segs)
		}
		r, err := eng.Rank(RankRequest{User: "dana", Now: t0 + day})
		must(t, stage+": rank", err)
		if len(r) != 1 || r[0].ID != "welcome" {
			t.Fatalf("%s: offer lost: %+v", stage, r)
		}
	}

	eng, err = OpenDir(dir, JournalAlways, opts)
	must(t, "reopen", err)
	check("journal replay", eng, 1)
	must(t, "track", eng.Track(Event{Type: Purchase, User: "dana", TimeMs: t0 + 1, Value: 25}))
	must(t, "checkpoint", eng.Checkpoint())
	must(t, "close", eng.Close())

	eng, err = OpenDir(dir, JournalOff, opts)
	must(t, "reopen after checkpoint", err)
	check("snapshot", eng, 2)
	must(t, "close", eng.Close())

	// Another secret cannot read the state.
	other := Options{Secret: []byte("another-secret-of-32-bytes-long!"), Shards: 4}
	if _, err := OpenDir(dir, JournalOff, other); !errors.Is(err, ErrSecret) {
		t.Fatalf("open with another secret: %v", err)
	}
}
