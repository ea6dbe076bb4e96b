package behavtarget

import (
	"errors"
	"strings"
	"testing"
)

// One vocabulary of event types (issue 12, point 3): built-in names or
// custom ones registered first; anything else is refused with the nearest
// known name.

func TestUnknownTypeNamesGetASuggestion(t *testing.T) {
	eng := newEngine(t)
	for name, near := range map[string]string{
		"pageview": "page_view", "PageView": "page_view", "page-view": "page_view",
		"clik": "click", "purchse": "purchase", "impressions": "impression",
		"emailopen": "email_open",
	} {
		_, err := eng.LookupEventType(name)
		e := wantCode(t, name, err, ErrType)
		want := "unknown event type \"" + name + "\"; did you mean " + near + "?"
		if e.Message != want {
			t.Errorf("%s: %q, want %q", name, e.Message, want)
		}
	}
	_, err := eng.LookupEventType("video_complete")
	if e := wantCode(t, "far", err, ErrType); !strings.Contains(e.Message, "registered first") {
		t.Errorf("far name: %q", e.Message)
	}
	if id, err := eng.LookupEventType("page_view"); err != nil || id != PageView {
		t.Fatalf("page_view: %d %v", id, err)
	}
}

func TestCustomTypesMustBeRegisteredFirst(t *testing.T) {
	eng := newEngine(t)
	id, err := eng.RegisterEventType("video_complete", 2)
	must(t, "register", err)
	if again, err := eng.RegisterEventType("video_complete", 2); err != nil || again != id || id < 16 {
		t.Fatalf("again: %d %v (first %d)", again, err, id)
	}
	if got, err := eng.LookupEventType("video_complete"); err != nil || got != id {
		t.Fatalf("lookup: %d %v", got, err)
	}
	names, err := eng.EventTypes()
	must(t, "names", err)
	if names[0] != "page_view" || names[len(names)-1] != "video_complete" {
		t.Fatalf("names %v", names)
	}
	_, err = eng.LookupEventType("video_completed")
	if e := wantCode(t, "near a custom name", err, ErrType); !strings.HasSuffix(e.Message, "did you mean video_complete?") {
		t.Errorf("%q", e.Message)
	}
	must(t, "track", eng.Track(Event{Type: id, User: "u", TimeMs: t0, Category: "films"}))
	if _, err := eng.RegisterEventType("page_view", 1); !errors.Is(err, ErrExist) {
		t.Fatalf("built-in name: %v", err)
	}
	if _, err := eng.RegisterEventType("Bad Name", 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	wantArgErr(t, "NUL", func() error { _, err := eng.LookupEventType("page\x00view"); return err }(),
		"name: embedded NUL")
}
