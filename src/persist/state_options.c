/* state_options.c — the options a state directory was written with
 * (state_options.h).  The file is text, one `name value` line per option
 * and a last line `check <XXH3-64 of the lines before, hex>`, so an
 * operator can read it and a damaged or edited one is refused. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change_log.h"
#include "engine.h"
#include "error.h"
#include "fileio.h"
#include "hash.h"
#include "state_options.h"

#define FORMAT_VERSION 1u
#define FILE_MAX 4096

typedef enum kind { U32, U64, I64, F64 } kind;

typedef struct field {
    const char *name;
    size_t off;
    kind kind;
    int shapes_data; /* 1: must never change under existing data */
} field;

#define FIELD(name, kind, shapes) { #name, offsetof(bvt_options, name), kind, shapes }
static const field FIELDS[] = {
    FIELD(shards, U32, 0),
    FIELD(max_users, U64, 0),
    FIELD(memory_budget, U64, 0),
    FIELD(full_policy, U32, 0),
    FIELD(top_interests, U32, 1),
    FIELD(interest_half_life_ms, I64, 1),
    FIELD(ancestor_credit, F64, 1),
    FIELD(history_events, U32, 1),
    FIELD(history_day_slots, U32, 1),
    FIELD(history_horizon_ms, I64, 1),
    FIELD(session_gap_ms, I64, 1),
    FIELD(cart_items, U32, 1),
    FIELD(max_attributes, U32, 1),
    FIELD(retention_ms, I64, 0),
    FIELD(analytics_policy, U32, 0),
    FIELD(segments_need_consent, U32, 0),
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])
#define WEIGHT_PREFIX "type_weight."

static void *at(bvt_options *o, const field *f)
{
    return (char *)o + f->off;
}

static double value_of(const bvt_options *o, const field *f)
{
    const void *p = (const char *)o + f->off;
    switch (f->kind) {
    case U32: return *(const uint32_t *)p;
    case U64: return (double)*(const uint64_t *)p;
    case I64: return (double)*(const int64_t *)p;
    default: return *(const double *)p;
    }
}

static int same_value(const bvt_options *a, const bvt_options *b, const field *f)
{
    const void *p = (const char *)a + f->off, *q = (const char *)b + f->off;
    size_t n = f->kind == U32 ? 4 : 8;
    return memcmp(p, q, n) == 0;
}

/* An option that means "none" in the engine is BVT_NONE in bvt_options. */
static uint32_t bound_of(uint32_t v)
{
    return v ? v : BVT_NONE;
}

void bvt__recorded_options_of(const bvt_engine *e, bvt_recorded_options *out)
{
    memset(out, 0, sizeof *out);
    bvt_options *o = &out->o;
    bvt_options_init(o);
    const bvt_profile_cfg *c = &e->cfg;
    o->shards = e->store.n_shards;
    o->max_users = e->store.max_users;
    o->memory_budget = e->store.memory_budget;
    o->full_policy = e->store.full_policy;
    o->top_interests = c->top_k;
    o->interest_half_life_ms = (int64_t)c->half_life_ms;
    /* 0 in bvt_options means the default; an effective 0 is negative there */
    o->ancestor_credit = c->ancestor_credit == 0 ? -1.0 : c->ancestor_credit;
    o->history_events = bound_of(c->hist.max_events);
    o->history_day_slots = bound_of(c->hist.max_days);
    o->history_horizon_ms = c->hist.horizon_ms;
    o->session_gap_ms = c->session_gap_ms;
    o->cart_items = bound_of(c->cart_max);
    o->max_attributes = bound_of(c->attrs_max);
    o->retention_ms = e->retention_ms;
    o->analytics_policy = e->analytics_policy;
    o->segments_need_consent = e->segments_need_consent;
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        out->weights[t] = bvt__event_types_weight(&e->types, t);
    o->type_weights = out->weights;
    o->type_weights_len = BVT_EVENT_BUILTIN_COUNT;
}

int bvt__recorded_options_check(const bvt_recorded_options *rec, const bvt_recorded_options *now,
                               bvt_error *err)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        if (f->shapes_data && !same_value(&rec->o, &now->o, f))
            return bvt__fail(err, BVT_EINVAL, -1, "the state directory was written with %s = %.17g; "
                            "open it with the same value (now %.17g) or with options_from = "
                            "BVT_OPTIONS_RECORDED", f->name, value_of(&rec->o, f),
                            value_of(&now->o, f));
    }
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        if (memcmp(&rec->weights[t], &now->weights[t], sizeof(double)) != 0)
            return bvt__fail(err, BVT_EINVAL, -1, "the state directory was written with "
                            "type_weights[%u] (%s) = %.17g; open it with the same value "
                            "(now %.17g) or with options_from = BVT_OPTIONS_RECORDED", t,
                            bvt_event_type_name(NULL, t), rec->weights[t], now->weights[t]);
    return BVT_OK;
}

int bvt__recorded_options_equal(const bvt_recorded_options *a, const bvt_recorded_options *b)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (!same_value(&a->o, &b->o, &FIELDS[i]))
            return 0;
    return memcmp(a->weights, b->weights, sizeof a->weights) == 0;
}

/* ---- the file ---- */

static char *path_in(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

/* Append one line; 0 when it does not fit. */
static int put(char *buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int put(char *buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, FILE_MAX - *len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= FILE_MAX - *len)
        return 0;
    *len += (size_t)k;
    return 1;
}

static size_t format_file(const bvt_recorded_options *r, char *buf)
{
    size_t len = 0;
    int ok = put(buf, &len, "# libbehavtarget state directory options (bvt_engine_open writes "
                 "this file; do not edit)\nversion %u\n", FORMAT_VERSION);
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        const void *p = (const char *)&r->o + f->off;
        switch (f->kind) {
        case U32: ok = ok && put(buf, &len, "%s %" PRIu32 "\n", f->name, *(const uint32_t *)p); break;
        case U64: ok = ok && put(buf, &len, "%s %" PRIu64 "\n", f->name, *(const uint64_t *)p); break;
        case I64: ok = ok && put(buf, &len, "%s %" PRId64 "\n", f->name, *(const int64_t *)p); break;
        case F64: ok = ok && put(buf, &len, "%s %.17g\n", f->name, *(const double *)p); break;
        }
    }
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        ok = ok && put(buf, &len, WEIGHT_PREFIX "%s %.17g\n", bvt_event_type_name(NULL, t),
                       r->weights[t]);
    ok = ok && put(buf, &len, "check %016" PRIx64 "\n", (uint64_t)XXH3_64bits(buf, len));
    return ok ? len : 0;
}

int bvt__recorded_options_write(const char *dir, const bvt_recorded_options *r, bvt_error *err)
{
    char buf[FILE_MAX];
    size_t len = format_file(r, buf);
    char *path = path_in(dir, BVT_OPTIONS_FILE);
    if (!path)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    int rc = len ? bvt__file_replace(path, buf, len, err)
                 : bvt__fail(err, BVT_EINVAL, -1, "options do not fit the options file");
    free(path);
    return rc;
}

/* Set the option `name` from text; 0 when the name or value is not one. */
static int parse_option(bvt_recorded_options *r, const char *name, const char *text)
{
    char *end;
    errno = 0;
    if (strncmp(name, WEIGHT_PREFIX, strlen(WEIGHT_PREFIX)) == 0) {
        for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
            if (strcmp(name + strlen(WEIGHT_PREFIX), bvt_event_type_name(NULL, t)) == 0) {
                r->weights[t] = strtod(text, &end);
                return *end == 0 && errno == 0;
            }
        return 0;
    }
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        if (strcmp(name, f->name) != 0)
            continue;
        void *p = at(&r->o, f);
        if (f->kind == F64) {
            *(double *)p = strtod(text, &end);
        } else if (f->kind == I64) {
            *(int64_t *)p = (int64_t)strtoll(text, &end, 10);
        } else {
            unsigned long long v = strtoull(text, &end, 10);
            if (f->kind == U32 && v > UINT32_MAX)
                return 0;
            if (f->kind == U32)
                *(uint32_t *)p = (uint32_t)v;
            else
                *(uint64_t *)p = (uint64_t)v;
        }
        return *end == 0 && end != text && errno == 0;
    }
    return 0;
}

static int parse_file(char *buf, size_t len, bvt_recorded_options *r, const char *path,
                      bvt_error *err)
{
    char *check = NULL;
    for (char *p = buf; p < buf + len; p = strchr(p, '\n') + 1) {
        if (!strchr(p, '\n'))
            break;
        if (strncmp(p, "check ", 6) == 0) {
            check = p;
            break;
        }
    }
    uint64_t want;
    if (!check || sscanf(check, "check %16" SCNx64 "\n", &want) != 1 ||
        (uint64_t)XXH3_64bits(buf, (size_t)(check - buf)) != want)
        return bvt__fail(err, BVT_ECORRUPT, check ? check - buf : -1, "%s fails its check "
                        "line: it was damaged or edited", path);
    *check = 0;
    unsigned line = 0, version = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (*l == '#')
            continue;
        char *sp = strchr(l, ' ');
        if (!sp)
            return bvt__fail(err, BVT_ECORRUPT, -1, "%s line %u: no value", path, line);
        *sp = 0;
        if (strcmp(l, "version") == 0) {
            version = (unsigned)strtoul(sp + 1, NULL, 10);
            if (version > FORMAT_VERSION)
                return bvt__fail(err, BVT_EVERSION, -1, "%s has format version %u; this library "
                                "reads %u", path, version, FORMAT_VERSION);
        } else if (!parse_option(r, l, sp + 1)) {
            return bvt__fail(err, BVT_ECORRUPT, -1, "%s line %u: bad option %s", path, line, l);
        }
    }
    return version ? BVT_OK : bvt__fail(err, BVT_ECORRUPT, -1, "%s has no version line", path);
}

int bvt__recorded_options_read(const char *dir, bvt_recorded_options *out, int *found,
                              bvt_error *err)
{
    *found = 0;
    memset(out, 0, sizeof *out);
    bvt_options_init(&out->o);
    out->o.type_weights = out->weights;
    out->o.type_weights_len = BVT_EVENT_BUILTIN_COUNT;
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        out->weights[t] = bvt_default_type_weight(t);
    char *path = path_in(dir, BVT_OPTIONS_FILE);
    if (!path)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    FILE *f = fopen(path, "rb");
    int rc = BVT_OK;
    if (!f) {
        if (errno != ENOENT)
            rc = bvt__fail(err, BVT_EIO, -1, "cannot read %s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    char buf[FILE_MAX + 1];
    size_t len = fread(buf, 1, FILE_MAX + 1, f);
    if (ferror(f))
        rc = bvt__fail(err, BVT_EIO, -1, "cannot read %s: %s", path, strerror(errno));
    else if (len > FILE_MAX)
        rc = bvt__fail(err, BVT_ECORRUPT, -1, "%s is larger than an options file", path);
    fclose(f);
    if (rc == BVT_OK) {
        buf[len] = 0;
        rc = memchr(buf, 0, len) ? bvt__fail(err, BVT_ECORRUPT, -1, "%s is not text", path)
                                 : parse_file(buf, len, out, path, err);
    }
    *found = rc == BVT_OK;
    free(path);
    return rc;
}

/* ---- the journal record ---- */

static void put_options(bvt_wbuf *w, const bvt_recorded_options *r)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        const void *p = (const char *)&r->o + f->off;
        switch (f->kind) {
        case U32: bvt__w_u32(w, *(const uint32_t *)p); break;
        case U64: bvt__w_u64(w, *(const uint64_t *)p); break;
        case I64: bvt__w_i64(w, *(const int64_t *)p); break;
        case F64: bvt__w_f64(w, *(const double *)p); break;
        }
    }
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        bvt__w_f64(w, r->weights[t]);
}

int bvt__log_options(bvt_engine *e, const bvt_recorded_options *r)
{
    bvt_wbuf w = BVT_WBUF_INIT;
    bvt__w_u8(&w, BVT_OP_OPTIONS);
    put_options(&w, r);
    return bvt__persist_log(e, &w);
}

int bvt__options_replay(bvt_engine *e, bvt_rbuf *r)
{
    bvt_recorded_options rec, now;
    memset(&rec, 0, sizeof rec);
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field *f = &FIELDS[i];
        void *p = at(&rec.o, f);
        switch (f->kind) {
        case U32: *(uint32_t *)p = bvt__r_u32(r); break;
        case U64: *(uint64_t *)p = bvt__r_u64(r); break;
        case I64: *(int64_t *)p = bvt__r_i64(r); break;
        case F64: *(double *)p = bvt__r_f64(r); break;
        }
    }
    for (uint32_t t = 0; t < BVT_EVENT_BUILTIN_COUNT; t++)
        rec.weights[t] = bvt__r_f64(r);
    if (!bvt__r_end(r))
        return bvt__r_fail(r, "bad options record"), BVT_ECORRUPT;
    bvt__recorded_options_of(e, &now);
    if (bvt__recorded_options_check(&rec, &now, NULL) != BVT_OK)
        return bvt__r_fail(r, "records written with other data-shaping options"), BVT_ECORRUPT;
    return BVT_OK;
}
