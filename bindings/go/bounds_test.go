package behavtarget

import (
	"errors"
	"strings"
	"testing"
)

// Values C cannot hold as given are refused before any C call (issue 11):
// strings with a NUL byte (C would see them end there) and ints wider than
// their C field. The error is ErrInvalid and names the field.

func wantArgErr(t *testing.T, what string, err error, field string) *Error {
	t.Helper()
	e := wantCode(t, what, err, ErrInvalid)
	if !strings.Contains(e.Message, field) {
		t.Fatalf("%s: message %q does not name %q", what, e.Message, field)
	}
	return e
}

func TestTrackRefusesStringsWithNUL(t *testing.T) {
	eng := newEngine(t)
	for _, c := range []struct {
		field string
		ev    Event
	}{
		{"Category", Event{Category: "shoes\x00/hidden"}},
		{"Item", Event{Item: "sku\x00"}},
		{"Offer", Event{Offer: "o\x001"}},
		{"SearchText", Event{SearchText: "red\x00kite"}},
	} {
		c.ev.Type, c.ev.User, c.ev.TimeMs = PageView, "u", t0
		e := wantArgErr(t, c.field, eng.Track(c.ev), c.field+": embedded NUL")
		if e.Offset < 0 {
			t.Fatalf("%s: offset %d", c.field, e.Offset)
		}
	}
	if _, err := eng.Profile("u", t0+day); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused event was tracked: %v", err)
	}
	// User ids go with their length: a NUL is one more byte of the id.
	must(t, "NUL in a user id", eng.Track(Event{Type: PageView, User: "a\x00b", TimeMs: t0}))
	if _, err := eng.Profile("a", t0+day); !errors.Is(err, ErrNotFound) {
		t.Fatalf("user id cut at its NUL: %v", err)
	}
}

func TestTrackBatchNamesTheEventAndTracksNothing(t *testing.T) {
	eng := newEngine(t)
	events := []Event{
		{Type: PageView, User: "u", TimeMs: t0},
		{Type: PageView, User: "v", TimeMs: t0, Category: "a\x00b"},
	}
	refused, err := eng.TrackBatch(events)
	e := wantArgErr(t, "batch", err, "events[1].Category")
	if refused != nil || e.Offset != 1 {
		t.Fatalf("refused %v offset %d", refused, e.Offset)
	}
	if _, err := eng.Profile("u", t0+day); !errors.Is(err, ErrNotFound) {
		t.Fatalf("part of a refused batch was tracked: %v", err)
	}
}

func TestTrackBatchLargerThanOneCall(t *testing.T) {
	eng := newEngine(t)
	n := batchMax + 10
	events := make([]Event, n)
	for i := range events {
		events[i] = Event{Type: PageView, User: "x", TimeMs: t0 + int64(i)}
	}
	events[n-3].TimeMs = -1 // refused by the library, in the second call
	refused, err := eng.TrackBatch(events)
	e := wantCode(t, "big batch", err, ErrInvalid)
	if len(refused) != 1 || refused[0].Index != n-3 || e.Offset != int64(n-3) {
		t.Fatalf("refused %+v, offset %d; want 1 at %d", refused, e.Offset, n-3)
	}
	p, err := eng.Profile("x", t0+day)
	must(t, "profile", err)
	if p.Events != uint64(n-1) {
		t.Fatalf("events %d, want %d", p.Events, n-1)
	}
}

func TestEntryPointsRefuseWhatCCannotHold(t *testing.T) {
	eng := newEngine(t)
	_, err := eng.DefineOffer(Offer{ID: "o"})
	must(t, "offer", err)
	wide := 1 << 40
	cases := []struct {
		what, field string
		call        func() error
	}{
		{"hour wider than int32", "Context.Hour", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0, Context: &Context{Hour: wide, HourKnown: true}})
			return err
		}},
		{"hour in SegmentsOf", "Context.Hour", func() error {
			_, err := eng.SegmentsOf("u", t0, &Context{Hour: -wide, HourKnown: true})
			return err
		}},
		{"negative K", "RankRequest.K", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0, K: -1})
			return err
		}},
		{"K over the library's limit", "BVT_RANK_SLOTS_MAX", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0, K: wide})
			return err
		}},
		{"candidate", "RankRequest.Candidates[1]", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0, Candidates: []string{"o", "o\x00x"}})
			return err
		}},
		{"experiment", "RankRequest.Experiment", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0, Experiment: "e\x00"})
			return err
		}},
		{"context value", "Context.Values", func() error {
			_, err := eng.Rank(RankRequest{User: "u", Now: t0,
				Context: &Context{Values: map[string]string{"k": "v\x00"}}})
			return err
		}},
		{"context geo", "Context.Geo", func() error {
			_, err := eng.SegmentsOf("u", t0, &Context{Geo: "F\x00R"})
			return err
		}},
		{"offer id", "Offer.ID", func() error {
			_, err := eng.DefineOffer(Offer{ID: "p\x00"})
			return err
		}},
		{"offer tag", "Offer.Tags[0]", func() error {
			_, err := eng.DefineOffer(Offer{ID: "p", Tags: []string{"a\x00"}})
			return err
		}},
		{"offer rule", "Offer.Rule", func() error {
			_, err := eng.DefineOffer(Offer{ID: "p", Rule: "true\x00 and false"})
			return err
		}},
		{"segment name", "name", func() error {
			_, err := eng.DefineSegment("s\x00", "true")
			return err
		}},
		{"segment rule", "rule", func() error {
			_, err := eng.DefineSegment("s", "true\x00junk")
			return err
		}},
		{"state dir", "dir", func() error {
			_, err := OpenDir(t.TempDir()+"/a\x00b", JournalOff, Options{Secret: testSecret})
			return err
		}},
	}
	for _, c := range cases {
		wantArgErr(t, c.what, c.call(), c.field)
	}
	if _, err := eng.Rank(RankRequest{User: "u", Now: t0, K: 256}); err != nil {
		t.Fatalf("K at the limit: %v", err)
	}
	if _, err := eng.SegmentsOf("u", t0, &Context{Hour: 23, HourKnown: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a good hour: %v", err)
	}
}
