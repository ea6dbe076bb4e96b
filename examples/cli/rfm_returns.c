/* rfm_returns.c — `bvt rfm --returns subtract`: a return takes its amount
 * off the customer's purchases before it, the latest first.
 *
 * The library keeps no negative purchase (bvt_event_track refuses one),
 * so returns are settled here, before the purchases are tracked: what a
 * return takes lowers the customer's monetary value; the purchases still
 * count as purchase days (frequency and recency are about coming back to
 * buy, which a later return does not undo).  A purchase is never taken
 * below 0; what no earlier purchase can cover is reported, not kept. */
#include "rfm.h"

/* Amounts below this are rounding left by subtracting decimals. */
#define CENT_FRACTION 1e-9

rfm_settled rfm_subtract_returns(rfm_row *rows, size_t n, size_t *stack)
{
    rfm_settled out = { 0, 0 };
    size_t top = 0;
    for (size_t b = 0, e; b < n; b = e) {
        /* A return and a purchase at the same time (a day, in a file of
         * dates) settle whatever their order in the file. */
        for (e = b; e < n && rows[e].t_ms == rows[b].t_ms; e++)
            if (rows[e].value > 0)
                stack[top++] = e;
        for (size_t i = b; i < e; i++) {
            if (rows[i].value >= 0)
                continue;
            double owed = -rows[i].value;
            while (owed > CENT_FRACTION && top > 0) {
                rfm_row *p = &rows[stack[top - 1]];
                double take = owed < p->value ? owed : p->value;
                p->value -= take;
                owed -= take;
                if (p->value <= CENT_FRACTION) {
                    p->value = 0;
                    top--;
                }
            }
            if (owed > CENT_FRACTION) {
                out.uncovered++;
                out.uncovered_value += owed;
            }
        }
    }
    return out;
}
