package behavtarget

import (
	"errors"
	"testing"
)

const (
	t0  = int64(1735689600000) // 2025-01-01 UTC, epoch ms
	day = int64(86400000)
)

var testSecret = []byte("go-binding-test-secret-0123456789")

func newEngine(t testing.TB) *Engine {
	t.Helper()
	eng, err := Open(Options{Secret: testSecret, Shards: 4})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// wantCode asserts err is an *Error with the code of sentinel and a message.
func wantCode(t *testing.T, what string, err error, sentinel *Error) *Error {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want %v", what, err, sentinel)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %T is not *Error", what, err)
	}
	if e.Code != sentinel.Code || e.Message == "" {
		t.Fatalf("%s: code %d message %q", what, e.Code, e.Message)
	}
	return e
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
