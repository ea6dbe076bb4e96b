package behavtarget

import (
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The scenario of tests/bench/bench-rank ("scored" catalog, greedy, k = 4):
// users with 8 page views over 30 days and ads consent; offers tagged with
// a leaf of an 8x8x8 category tree, a daily and a weekly cap, 20 feedback
// events each. BVT_BENCH_USERS sets the user count (default 100000).

const benchNow = t0 + 31*day

type benchSetup struct {
	eng   *Engine
	users []string
}

var (
	benchMu      sync.Mutex
	benchEngines = map[int]*benchSetup{}
)

func benchCat(leaf int) string {
	return fmt.Sprintf("dept%d/aisle%d/shelf%d", leaf/64, (leaf/8)%8, leaf%8)
}

func benchEngine(b *testing.B, offers int) *benchSetup {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchEngines[offers]; s != nil {
		return s
	}
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("BVT_BENCH_USERS")); err == nil && v > 0 {
		n = v
	}
	eng, err := Open(Options{Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	users := make([]string, n)
	rng := rand.New(rand.NewSource(42))
	batch := make([]Event, 0, 8192)
	flush := func() {
		if _, err := eng.TrackBatch(batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range users {
		users[i] = fmt.Sprintf("user-%011d", i) // 16 bytes, as the C bench
		for k := 0; k < 8; k++ {
			batch = append(batch, Event{Type: PageView, User: users[i],
				TimeMs:   t0 + rng.Int63n(30*day) + 1,
				Category: benchCat(rng.Intn(512))})
			if len(batch) == cap(batch) {
				flush()
			}
		}
	}
	flush()
	for _, u := range users {
		if err := eng.SetConsent(u, PurposeAds, true, t0); err != nil {
			b.Fatal(err)
		}
	}
	caps := []Cap{{Max: 3, Window: 24 * time.Hour}, {Max: 10, Window: 7 * 24 * time.Hour}}
	for i := 0; i < offers; i++ {
		id := fmt.Sprintf("offer-%d", i)
		if _, err := eng.DefineOffer(Offer{ID: id, Tags: []string{benchCat(i * 37 % 512)},
			Value: 0.5 + float64(i%7), Caps: caps}); err != nil {
			b.Fatal(err)
		}
		for k := 0; k < 20; k++ {
			typ := Impression
			if k%10 == 9 {
				typ = Click
			}
			u := users[(i*131+k)%n]
			if err := eng.Track(Event{Type: typ, User: u, TimeMs: t0 + int64(k), Offer: id}); err != nil {
				b.Fatal(err)
			}
		}
	}
	s := &benchSetup{eng: eng, users: users}
	benchEngines[offers] = s
	return s
}

// BenchmarkRank is the cost of one Rank through cgo, argument copies and
// result copies included; compare with bench-rank's median (bench-compare.sh).
func BenchmarkRank(b *testing.B) {
	for _, offers := range []int{1, 100} {
		b.Run(fmt.Sprintf("offers=%d", offers), func(b *testing.B) {
			s := benchEngine(b, offers)
			rng := rand.New(rand.NewSource(7))
			// Each call timed too: bench-rank reports the median, and a
			// mean also carries GC pauses and the machine's noise.
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				r, err := s.eng.Rank(RankRequest{User: s.users[rng.Intn(len(s.users))],
					Now: benchNow, K: 4, Policy: PolicyGreedy, Seed: uint64(i)})
				lat[i] = time.Since(start)
				if err != nil || len(r) == 0 {
					b.Fatal(err, r)
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
