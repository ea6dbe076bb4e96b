package behavtarget

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// cmem collects the C copies made for one call and frees them together:
// the library only borrows pointers for the call, and no C pointer outlives it.
type cmem struct {
	ptrs []unsafe.Pointer
}

// str copies s into C memory; "" gives NULL (the library's "absent").
func (m *cmem) str(s string) *C.char {
	if s == "" {
		return nil
	}
	p := C.CString(s)
	m.ptrs = append(m.ptrs, unsafe.Pointer(p))
	return p
}

// bytes copies an id in; an empty one still gets a valid pointer so the
// library reports the bad length, not a NULL.
func (m *cmem) bytes(s string) (unsafe.Pointer, C.size_t) {
	p := C.CBytes([]byte(s))
	m.ptrs = append(m.ptrs, p)
	return p, C.size_t(len(s))
}

// strs copies a list of strings into a C array of C strings.
func (m *cmem) strs(list []string) **C.char {
	if len(list) == 0 {
		return nil
	}
	arr := (*[1 << 28]*C.char)(m.alloc(uintptr(len(list)) * unsafe.Sizeof((*C.char)(nil))))[:len(list):len(list)]
	for i, s := range list {
		p := C.CString(s)
		m.ptrs = append(m.ptrs, unsafe.Pointer(p))
		arr[i] = p
	}
	return &arr[0]
}

// alloc returns zeroed C memory of n bytes.
func (m *cmem) alloc(n uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	if p == nil {
		panic("behavtarget: out of C memory")
	}
	m.ptrs = append(m.ptrs, p)
	return p
}

func (m *cmem) free() {
	for _, p := range m.ptrs {
		C.free(p)
	}
	m.ptrs = m.ptrs[:0]
}
