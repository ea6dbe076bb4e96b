/* offer_codec.h — the byte encoding of the catalog's pieces (offer_codec.c). */
#ifndef BVT_OFFER_CODEC_H
#define BVT_OFFER_CODEC_H

#include "codec.h"
#include "offer.h"

/* Caps: a count, then each cap; the reader bounds the count only (the
 * define path checks values) and returns it (0 when r failed). */
void bvt__offers_put_caps(bvt_wbuf *w, const bvt_cap *caps, uint32_t n);
uint32_t bvt__offers_get_caps(bvt_rbuf *r, bvt_cap *caps);

/* One definition as its text: id, names, rule source, numbers.  The
 * decoded form points into the record (and into t for the arrays). */
/* A decoded definition: strings point into the record. */
typedef struct bvt_offer_def_text {
    uint32_t id;
    const char *tags[BVT_OFFER_TAGS_MAX];
    bvt_cap caps[BVT_OFFER_CAPS_MAX];
} bvt_offer_def_text;

void bvt__offers_put_def(bvt_engine *e, bvt_wbuf *w, const bvt_offer_def *d);
void bvt__offers_get_def(bvt_rbuf *r, bvt_offer *o, bvt_offer_def_text *t);

#endif
