package behavtarget

/*
#include <stdlib.h>
#include <behavtarget.h>
*/
import "C"

import (
	"fmt"
	"sort"
	"unsafe"
)

// Context is the request a decision is made for; rules read it as
// ctx.page_category, ctx.device, ctx.geo, ctx.hour and ctx.<key>.
type Context struct {
	PageCategory string
	Device       string
	Geo          string
	Hour         int  // local hour 0..23, read only when HourKnown
	HourKnown    bool // without it ctx.hour is unknown
	Values       map[string]string
}

// check refuses what C could not read as given: strings with a NUL byte,
// an Hour beyond int32_t.
func (x *Context) check() error {
	if x == nil {
		return nil
	}
	if x.HourKnown {
		if err := checkInt32("Context.Hour", x.Hour); err != nil {
			return err
		}
	}
	for _, f := range [...]struct{ name, s string }{{"Context.PageCategory", x.PageCategory},
		{"Context.Device", x.Device}, {"Context.Geo", x.Geo}} {
		if err := checkText(f.name, f.s); err != nil {
			return err
		}
	}
	for k, v := range x.Values {
		if err := checkText("Context.Values key", k); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("Context.Values[%q]", k), v); err != nil {
			return err
		}
	}
	return nil
}

// fill returns a C context in m, or nil for a nil Context (checked).
func (x *Context) fill(m *cmem) *C.bvt_context {
	if x == nil {
		return nil
	}
	c := (*C.bvt_context)(m.alloc(C.sizeof_bvt_context))
	C.bvt_context_init(c)
	c.page_category = m.str(x.PageCategory)
	c.device = m.str(x.Device)
	c.geo = m.str(x.Geo)
	if x.HourKnown {
		c.hour = C.int32_t(x.Hour)
	}
	if len(x.Values) > 0 {
		keys := make([]string, 0, len(x.Values))
		for k := range x.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic order for the same request
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = x.Values[k]
		}
		c.keys = m.strs(keys)
		c.values = m.strs(vals)
		c.n = C.size_t(len(keys))
	}
	return c
}

// DefineSegment defines a segment by a rule (docs/rules.md), or replaces
// the rule of an existing one, and returns its id. A rule error is an
// *Error whose Offset is the byte in the rule.
func (eng *Engine) DefineSegment(name, rule string) (uint32, error) {
	if err := checkText("name", name); err != nil {
		return 0, err
	}
	if err := checkText("rule", rule); err != nil {
		return 0, err
	}
	var id C.uint32_t
	err := eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		cerr := newCError()
		// An empty rule is still passed as text so the library reports it.
		r := C.CString(rule)
		defer C.free(unsafe.Pointer(r))
		return statusErr(C.bvt_segment_define(e, m.str(name), r, &id, &cerr), &cerr)
	})
	return uint32(id), err
}

// SegmentsOf returns the names of the segments a user is in at now (built-in
// segments first, then in order of definition). ctx may be nil.
func (eng *Engine) SegmentsOf(user string, now int64, ctx *Context) ([]string, error) {
	if err := ctx.check(); err != nil {
		return nil, err
	}
	var names []string
	err := eng.use(func(e *C.bvt_engine) error {
		var m cmem
		defer m.free()
		id, n := m.bytes(user)
		cctx := ctx.fill(&m)
		ids := make([]C.uint32_t, 32)
		for {
			var count C.size_t
			rc := C.bvt_segments_of(e, id, n, C.int64_t(now), cctx, &ids[0], C.size_t(len(ids)), &count)
			if rc != C.BVT_OK {
				return statusErr(rc, nil)
			}
			if int(count) > len(ids) {
				ids = make([]C.uint32_t, count)
				continue
			}
			names = make([]string, 0, count)
			for _, s := range ids[:count] {
				names = append(names, C.GoString(C.bvt_segment_name(e, s)))
			}
			return nil
		}
	})
	return names, err
}
