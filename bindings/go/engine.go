// Package behavtarget is a Go binding of libbehavtarget: behavioural events
// into user profiles, rule-defined segments and ranked offers.
//
// Times are epoch milliseconds (int64), as in the C API; Event and
// RankRequest also take a time.Time, TimeMs converts one exactly, and
// ParseTime reads text with the library's own reader. Every call copies
// its arguments into C memory and its results back out, so no C pointer is
// held between calls. An Engine may be shared between goroutines.
package behavtarget

/*
#cgo pkg-config: behavtarget
#include <stdlib.h>
#include <behavtarget.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// FullPolicy says what happens when a new user arrives at a full table.
type FullPolicy uint32

const (
	FullReject   FullPolicy = C.BVT_FULL_REJECT    // the event fails with ErrFull
	FullEvictLRU FullPolicy = C.BVT_FULL_EVICT_LRU // an old user is evicted
)

// AnalyticsPolicy says what happens to events of users without analytics consent.
type AnalyticsPolicy uint32

const (
	AnalyticsTrack     AnalyticsPolicy = C.BVT_ANALYTICS_TRACK
	AnalyticsDrop      AnalyticsPolicy = C.BVT_ANALYTICS_DROP
	AnalyticsAnonymous AnalyticsPolicy = C.BVT_ANALYTICS_ANONYMOUS
)

// Options configure an engine. Zero fields take the library's defaults;
// Secret (at least 16 bytes) is required: it keys the hashing of user ids.
type Options struct {
	Secret              []byte
	Shards              uint32 // power of two; default 64
	MaxUsers            uint64 // 0 = unlimited
	MemoryBudget        uint64 // bytes; 0 = unlimited
	FullPolicy          FullPolicy
	TopInterests        uint32
	InterestHalfLife    time.Duration
	SessionGap          time.Duration
	Retention           time.Duration // 0 = forever
	AnalyticsPolicy     AnalyticsPolicy
	SegmentsNeedConsent bool
}

// JournalMode is the durability of an engine opened on a directory.
type JournalMode uint32

const (
	JournalOff    JournalMode = C.BVT_JOURNAL_OFF    // state reaches disk at Checkpoint only
	JournalNone   JournalMode = C.BVT_JOURNAL_NONE   // journaled, never fsynced
	JournalGroup  JournalMode = C.BVT_JOURNAL_GROUP  // fsynced every few ms
	JournalAlways JournalMode = C.BVT_JOURNAL_ALWAYS // fsynced before each call returns
)

// Engine is one libbehavtarget engine. Its methods are safe for concurrent
// use; Close waits for calls in flight, since the C engine must not be freed
// under them.
type Engine struct {
	mu sync.RWMutex
	e  *C.bvt_engine
}

// cOptions fills C options; the secret is copied into m.
func (o *Options) cOptions(m *cmem) C.bvt_options {
	var c C.bvt_options
	C.bvt_options_init(&c)
	if len(o.Secret) > 0 {
		p := m.alloc(uintptr(len(o.Secret)))
		copy(unsafe.Slice((*byte)(p), len(o.Secret)), o.Secret)
		c.secret = p
		c.secret_len = C.size_t(len(o.Secret))
	}
	c.shards = C.uint32_t(o.Shards)
	c.max_users = C.uint64_t(o.MaxUsers)
	c.memory_budget = C.uint64_t(o.MemoryBudget)
	c.full_policy = C.uint32_t(o.FullPolicy)
	c.top_interests = C.uint32_t(o.TopInterests)
	c.interest_half_life_ms = C.int64_t(o.InterestHalfLife.Milliseconds())
	c.session_gap_ms = C.int64_t(o.SessionGap.Milliseconds())
	c.retention_ms = C.int64_t(o.Retention.Milliseconds())
	c.analytics_policy = C.uint32_t(o.AnalyticsPolicy)
	if o.SegmentsNeedConsent {
		c.segments_need_consent = 1
	}
	return c
}

func wrap(e *C.bvt_engine) *Engine {
	eng := &Engine{e: e}
	// A safety net for engines nobody closed; Close is still the way to
	// release the memory (and a state directory's lock) promptly.
	runtime.SetFinalizer(eng, (*Engine).Close)
	return eng
}

// Open creates an in-memory engine.
func Open(opts Options) (*Engine, error) {
	var m cmem
	defer m.free()
	copts := opts.cOptions(&m)
	cerr := newCError()
	var e *C.bvt_engine
	if rc := C.bvt_engine_new(&e, &copts, &cerr); rc != C.BVT_OK {
		return nil, statusErr(rc, &cerr)
	}
	return wrap(e), nil
}

// OpenDir opens (or creates) an engine whose state lives in dir: the last
// snapshot plus the journal after it are loaded. One process at a time may
// hold a directory; a second OpenDir gets ErrIO until the first is closed.
func OpenDir(dir string, journal JournalMode, opts Options) (*Engine, error) {
	if err := checkText("dir", dir); err != nil {
		return nil, err
	}
	var m cmem
	defer m.free()
	copts := opts.cOptions(&m)
	var st C.bvt_state_options
	C.bvt_state_options_init(&st)
	st.journal = C.uint32_t(journal)
	st.dir = m.str(dir)
	cerr := newCError()
	var e *C.bvt_engine
	if rc := C.bvt_engine_open(&e, &copts, &st, &cerr); rc != C.BVT_OK {
		return nil, statusErr(rc, &cerr)
	}
	return wrap(e), nil
}

// Close frees the engine (flushing its journal, if any). Calling it again
// is a no-op that returns nil.
func (eng *Engine) Close() error {
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.e != nil {
		C.bvt_engine_free(eng.e)
		eng.e = nil
		runtime.SetFinalizer(eng, nil)
	}
	return nil
}

// use runs f with the C engine under the read lock, so Close cannot free it
// meanwhile.
func (eng *Engine) use(f func(e *C.bvt_engine) error) error {
	eng.mu.RLock()
	defer eng.mu.RUnlock()
	if eng.e == nil {
		return ErrClosed
	}
	return f(eng.e)
}

// Checkpoint writes a snapshot into the state directory and starts a new
// journal (ErrInvalid for an engine from Open).
func (eng *Engine) Checkpoint() error {
	return eng.use(func(e *C.bvt_engine) error {
		cerr := newCError()
		return statusErr(C.bvt_engine_checkpoint(e, &cerr), &cerr)
	})
}

// Sync makes every change accepted so far durable in the journal.
func (eng *Engine) Sync() error {
	return eng.use(func(e *C.bvt_engine) error {
		cerr := newCError()
		return statusErr(C.bvt_engine_sync(e, &cerr), &cerr)
	})
}

// Version is the C library's version string.
func Version() string {
	return C.GoString(C.bvt_version())
}
