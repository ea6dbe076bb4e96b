package behavtarget

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Per-event errors (issue 12, point 2): TrackBatch names every refused
// event's index, field and the library's reason, not only the first's, and
// tracks the others.

func TestTrackBatchNamesEveryRefusedEvent(t *testing.T) {
	eng := newEngine(t)
	refused, err := eng.TrackBatch([]Event{
		{Type: Click, User: "a", TimeMs: t0, Value: -1},
		{Type: Click, User: "ok", TimeMs: t0},
		{Type: Click, User: "b", TimeMs: t0, Dwell: -5 * time.Millisecond},
		{Type: Click, User: "c", TimeMs: t0, Category: "x//y"},
		{Type: EventType(40), User: "d", TimeMs: t0},
		{Type: Click, User: "", TimeMs: t0},
		{Type: Click, User: "e", Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
	})
	type want struct {
		index        int
		field, words string
		code         *Error
	}
	wants := []want{
		{0, "Value", "value must be finite and >= 0", ErrInvalid},
		{2, "Dwell", "dwell_ms must be 0..86400000", ErrInvalid},
		{3, "Category", "empty segment in category path", ErrInvalid},
		{4, "Type", "unknown event type 40", ErrType},
		{5, "User", "user id must be 1..1024 bytes", ErrInvalid},
		{6, "Time", "time_ms must be > 0", ErrInvalid},
	}
	if len(refused) != len(wants) {
		t.Fatalf("refused %+v", refused)
	}
	for i, w := range wants {
		r := refused[i]
		if r.Index != w.index || r.Field != w.field || !strings.Contains(r.Reason, w.words) ||
			!errors.Is(r, w.code) || r.Err.Offset != int64(w.index) {
			t.Errorf("refused[%d] = %+v (%v), want %+v", i, r, r.Err, w)
		}
		if !strings.HasPrefix(r.Err.Message, "events[") || strings.Contains(r.Error(), "invalid argument") {
			t.Errorf("refused[%d]: message %q", i, r.Err.Message)
		}
	}
	if e := wantCode(t, "first", err, ErrInvalid); e.Message != "events[0].Value: value must be finite and >= 0" {
		t.Errorf("err %q", e.Message)
	}
	if _, err := eng.Profile("ok", t0+day); err != nil {
		t.Fatalf("the good event was not tracked: %v", err)
	}
}

func TestTrackBatchFullTableNamesTheUser(t *testing.T) {
	eng, err := Open(Options{Secret: testSecret, MaxUsers: 1})
	must(t, "open", err)
	defer eng.Close()
	refused, err := eng.TrackBatch([]Event{{Type: Click, User: "a", TimeMs: t0},
		{Type: Click, User: "b", TimeMs: t0}})
	wantCode(t, "full", err, ErrFull)
	if len(refused) != 1 || refused[0].Index != 1 || refused[0].Field != "User" ||
		refused[0].Reason != "user table full" {
		t.Fatalf("refused %+v", refused)
	}
}
