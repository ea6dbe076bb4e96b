package behavtarget

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// One engine shared by goroutines that track, rank, read and define; run
// under -race this also checks the binding keeps no shared Go state unlocked.
func TestSharedEngine(t *testing.T) {
	eng := newEngine(t)
	_, err := eng.DefineSegment("active", "page_views >= 10")
	must(t, "segment", err)
	for i := 0; i < 10; i++ {
		_, err := eng.DefineOffer(Offer{ID: fmt.Sprintf("offer-%d", i), Value: float64(i + 1),
			Rule: map[bool]string{true: `in_segment("active")`}[i%2 == 0]})
		must(t, "offer", err)
	}
	const workers, users, perUser = 8, 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for u := 0; u < users; u++ {
				user := fmt.Sprintf("w%d-u%d", w, u)
				if err := eng.SetConsent(user, PurposeAds, true, t0); err != nil {
					errs <- err
					return
				}
				for k := 0; k < perUser; k++ {
					if err := eng.Track(Event{Type: PageView, User: user, TimeMs: t0 + int64(k),
						Category: "news"}); err != nil {
						errs <- err
						return
					}
					if _, err := eng.Rank(RankRequest{User: user, Now: t0 + 1000, K: 3,
						Seed: uint64(k)}); err != nil {
						errs <- err
						return
					}
				}
				if _, err := eng.SegmentsOf(user, t0+1000, nil); err != nil {
					errs <- err
					return
				}
			}
			// redefinitions race with the readers above in other goroutines
			if _, err := eng.DefineSegment("active", "page_views >= 10"); err != nil {
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < workers; w++ {
		for u := 0; u < users; u++ {
			p, err := eng.Profile(fmt.Sprintf("w%d-u%d", w, u), t0+1000)
			must(t, "profile", err)
			if p.TypeCounts[PageView] != perUser {
				t.Fatalf("w%d-u%d: %d page views, want %d", w, u, p.TypeCounts[PageView], perUser)
			}
		}
	}
	ranked, err := eng.Rank(RankRequest{User: "w0-u0", Now: t0 + 1000, K: 10, Policy: PolicyGreedy})
	must(t, "rank", err)
	if len(ranked) != 10 {
		t.Fatalf("an active user is eligible for all 10 offers: %+v", ranked)
	}
}

// Close while other goroutines are calling: every call either completes or
// reports ErrClosed, never touches a freed engine.
func TestCloseWhileInUse(t *testing.T) {
	for round := 0; round < 20; round++ {
		eng, err := Open(Options{Secret: testSecret, Shards: 2})
		must(t, "open", err)
		var wg sync.WaitGroup
		bad := make(chan error, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for k := 0; ; k++ {
					err := eng.Track(Event{Type: PageView, User: fmt.Sprint(g), TimeMs: t0 + int64(k)})
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						bad <- err
						return
					}
				}
			}(g)
		}
		must(t, "close", eng.Close())
		wg.Wait()
		close(bad)
		for err := range bad {
			t.Fatal(err)
		}
	}
}
