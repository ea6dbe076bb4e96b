/* fmt.h — number formatting shared by the demo's text and HTML reports. */
#ifndef DEMO_FMT_H
#define DEMO_FMT_H

#include <stdint.h>

/* 1234567 -> "1,234,567".  The result lives in one of 16 rotating static
 * buffers: fine for a few printf arguments at once, not for keeping. */
const char *fmt_count(uint64_t v);

/* Prints text on stdout in lines of at most `width` columns, each indented
 * by `indent` spaces, breaking at spaces (a word longer than a line is cut). */
void fmt_print_wrapped(const char *text, int indent, int width);

#endif
