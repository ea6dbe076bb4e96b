package behavtarget

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// cmem is a bump arena of C memory for the copies one call makes; it is
// freed when the call returns, since the library only borrows pointers for
// the call. One block serves many strings: each cgo allocation is a cgo
// call, and a batch of events would otherwise make several per event.
type cmem struct {
	blocks    []unsafe.Pointer
	cur       unsafe.Pointer
	off, size uintptr
}

const cmemBlock = 4096

// alloc returns n zeroed bytes, 8-byte aligned.
func (m *cmem) alloc(n uintptr) unsafe.Pointer {
	n = (n + 7) &^ 7
	if n == 0 {
		n = 8
	}
	if m.cur == nil || m.off+n > m.size {
		size := uintptr(cmemBlock)
		if n > size {
			size = n
		}
		p := C.calloc(1, C.size_t(size))
		if p == nil {
			panic("behavtarget: out of C memory")
		}
		m.blocks = append(m.blocks, p)
		m.cur, m.off, m.size = p, 0, size
	}
	p := unsafe.Add(m.cur, m.off)
	m.off += n
	return p
}

// copyIn copies s to C memory followed by a NUL.
func (m *cmem) copyIn(s string) unsafe.Pointer {
	p := m.alloc(uintptr(len(s)) + 1)
	copy(unsafe.Slice((*byte)(p), len(s)), s)
	return p
}

// str copies s in as a C string; "" gives NULL (the library's "absent").
func (m *cmem) str(s string) *C.char {
	if s == "" {
		return nil
	}
	return (*C.char)(m.copyIn(s))
}

// bytes copies an id in; an empty one still gets a valid pointer so the
// library reports the bad length.
func (m *cmem) bytes(s string) (unsafe.Pointer, C.size_t) {
	return m.copyIn(s), C.size_t(len(s))
}

// strs copies a list of strings into a C array of C strings.
func (m *cmem) strs(list []string) **C.char {
	if len(list) == 0 {
		return nil
	}
	arr := unsafe.Slice((**C.char)(m.alloc(uintptr(len(list))*unsafe.Sizeof((*C.char)(nil)))), len(list))
	for i, s := range list {
		arr[i] = (*C.char)(m.copyIn(s))
	}
	return &arr[0]
}

func (m *cmem) free() {
	for _, p := range m.blocks {
		C.free(p)
	}
	m.blocks, m.cur = nil, nil
}
