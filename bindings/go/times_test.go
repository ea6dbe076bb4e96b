package behavtarget

import (
	"strings"
	"testing"
	"time"
)

// Times are parsed or refused, never guessed (issue 12, point 1): text goes
// through the library's bvt_time_parse, as bvt reads it; a time.Time is
// converted exactly.

const mar1At10 = int64(1709287200000) // 2024-03-01T10:00:00Z

func TestParseTimeReadsAsBvtDoes(t *testing.T) {
	for _, c := range []struct {
		text   string
		format TimeFormat
		want   int64
	}{
		{"2024-03-01T10:00:00Z", TimeAuto, mar1At10},
		{"2024-03-01 11:00+01:00", TimeAuto, mar1At10},
		{" 2024-03-01T10:00:00.5Z ", TimeISO, mar1At10 + 500},
		{"1709287200000", TimeAuto, mar1At10},
		{"1709287200", TimeEpochS, mar1At10},
		{"1709287200000", TimeEpochMs, mar1At10},
		{"20240301", TimeYYYYMMDD, mar1At10 - 10*3600000},
	} {
		got, err := ParseTime(c.text, c.format)
		if err != nil || got != c.want {
			t.Errorf("ParseTime(%q, %v) = %d, %v; want %d", c.text, c.format, got, err, c.want)
		}
	}
	for _, c := range []struct{ text, why string }{
		{"20240301", "ambiguous"},   // a YYYYMMDD date or epoch ms?
		{"1709287200", "ambiguous"}, // epoch seconds or ms?
		{"2024-02-30", "no such day"},
		{"yesterday", "expected a date"},
		{"2024-03-01\x00junk", "unexpected characters"},
	} {
		_, err := ParseTime(c.text, TimeAuto)
		e := wantCode(t, c.text, err, ErrInvalid)
		if !strings.Contains(e.Message, c.why) {
			t.Errorf("ParseTime(%q): %q does not say %q", c.text, e.Message, c.why)
		}
	}
	if f, err := ParseTimeFormat("epoch-s"); err != nil || f != TimeEpochS || f.String() != "epoch-s" {
		t.Fatalf("ParseTimeFormat: %v %v", f, err)
	}
	wantArgErr(t, "format name", func() error { _, err := ParseTimeFormat("seconds"); return err }(),
		"time format")
}

func TestTimeMsIsExactInAnyLocation(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, tm := range []time.Time{
		time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2024, 3, 1, 15, 30, 0, 999999, kolkata), // below a ms: dropped
		time.UnixMilli(mar1At10),
	} {
		if got, err := TimeMs(tm); err != nil || got != mar1At10 {
			t.Errorf("TimeMs(%v) = %d, %v", tm, got, err)
		}
	}
	if got, _ := TimeMs(time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)); got != -1 {
		t.Errorf("before 1970 the millisecond is floored: %d", got)
	}
	wantArgErr(t, "zero", func() error { _, err := TimeMs(time.Time{}); return err }(), "zero time")
	wantArgErr(t, "far", func() error {
		_, err := TimeMs(time.Date(300000000, 1, 1, 0, 0, 0, 0, time.UTC))
		return err
	}(), "beyond int64")
}

func TestEventAndRankTakeATime(t *testing.T) {
	eng := newEngine(t)
	at := time.Date(2024, 3, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	must(t, "track", eng.Track(Event{Type: Purchase, User: "u", Time: at, Value: 5}))
	refused, err := eng.TrackBatch([]Event{{Type: PageView, User: "u", Time: at.Add(time.Hour)}})
	must(t, "batch", err)
	if refused != nil {
		t.Fatalf("refused %v", refused)
	}
	p, err := eng.Profile("u", mar1At10+day)
	must(t, "profile", err)
	if p.FirstSeenMs != mar1At10 || p.LastSeenMs != mar1At10+3600000 {
		t.Fatalf("first %d last %d", p.FirstSeenMs, p.LastSeenMs)
	}
	_, err = eng.DefineOffer(Offer{ID: "o"})
	must(t, "offer", err)
	must(t, "consent", eng.SetConsent("u", PurposeAds, true, mar1At10))
	if _, err := eng.Rank(RankRequest{User: "u", Time: at}); err != nil {
		t.Fatalf("rank at a time.Time: %v", err)
	}
	// Two different times in one event: which? Refused, not guessed.
	wantArgErr(t, "both", eng.Track(Event{Type: PageView, User: "v", TimeMs: 5, Time: at}),
		"TimeMs (5) and Time")
	_, err = eng.TrackBatch([]Event{{Type: PageView, User: "v", TimeMs: mar1At10},
		{Type: PageView, User: "v", TimeMs: 1, Time: at}})
	wantArgErr(t, "batch both", err, "events[1].TimeMs")
	_, err = eng.Rank(RankRequest{User: "u", Now: 1, Time: at})
	wantArgErr(t, "rank both", err, "RankRequest.Now")
}
