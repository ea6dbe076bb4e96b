/* rule_compile.c — checks types, resolves names through the caller's
 * callbacks and emits bytecode for rule_vm.c, folding constant arithmetic
 * and comparisons.
 *
 * Types are static: numbers, conditions (true/false) and strings.  Attribute
 * and context values take the type their use asks for: compared with a
 * string literal they are strings, anywhere else numbers.  A value that is
 * absent or of the other kind at evaluation time is "no value" (NaN), which
 * makes every comparison with it false, != included. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rule_internal.h"

typedef struct vec {
    void *p;
    size_t n, cap;
} vec;

typedef struct gen {
    const char *text;
    const rule_ast *ast;
    const bvt_rule_names *names;
    bvt_error *err;
    vec code, nums, u32, str, refs;
    int depth, max_depth;
} gen;

typedef struct cval { /* what an emitted expression is known to be */
    int is_const;
    double v;
} cval;

static int vpush(gen *g, vec *v, const void *e, size_t size, size_t count)
{
    if (v->n + count > v->cap) {
        size_t cap = v->cap ? v->cap : 16;
        while (cap < v->n + count)
            cap *= 2;
        void *p = realloc(v->p, cap * size);
        if (!p)
            return bvt__fail(g->err, BVT_ENOMEM, -1, "out of memory");
        v->p = p;
        v->cap = cap;
    }
    if (count)
        memcpy((char *)v->p + v->n * size, e, count * size);
    v->n += count;
    return BVT_OK;
}

static const rule_node *node(const gen *g, uint32_t i) { return &g->ast->nodes[i]; }
static uint32_t kid(const gen *g, const rule_node *n, uint32_t i) { return g->ast->kids[n->k0 + i]; }

/* Emit one instruction that changes the stack depth by delta. */
static int emit(gen *g, rule_ins ins, int delta)
{
    TRY(vpush(g, &g->code, &ins, sizeof ins, 1));
    g->depth += delta;
    if (g->depth > g->max_depth)
        g->max_depth = g->depth;
    return BVT_OK;
}

static int emit_op(gen *g, int op, int delta)
{
    rule_ins ins = { .op = (uint8_t)op };
    return emit(g, ins, delta);
}

static int emit_push(gen *g, double v, cval *cv)
{
    rule_ins ins = { .op = OP_PUSH, .v.d = v };
    if (cv) {
        cv->is_const = 1;
        cv->v = v;
    }
    return emit(g, ins, 1);
}

/* Drop the last k instructions, each a PUSH (a folded constant). */
static void unpush(gen *g, int k)
{
    g->code.n -= (size_t)k;
    g->depth -= k;
}

static int str_add(gen *g, const char *s, size_t n, uint32_t *off)
{
    *off = (uint32_t)g->str.n;
    return vpush(g, &g->str, s, 1, n);
}

static const char *const feature_names[] = {
    [BVT_F_RECENCY] = "recency", [BVT_F_FIRST_SEEN] = "first_seen",
    [BVT_F_LAST_SEEN] = "last_seen", [BVT_F_PURCHASE_RECENCY] = "purchase_recency",
    [BVT_F_LAST_PURCHASE] = "last_purchase", [BVT_F_PURCHASES] = "purchases",
    [BVT_F_FREQUENCY] = "frequency", [BVT_F_MONETARY_TOTAL] = "monetary_total",
    [BVT_F_MONETARY_MEAN] = "monetary_mean", [BVT_F_R_SCORE] = "r_score",
    [BVT_F_F_SCORE] = "f_score", [BVT_F_M_SCORE] = "m_score", [BVT_F_EVENTS] = "events",
    [BVT_F_IMPRESSIONS] = "impressions", [BVT_F_CLICKS] = "clicks",
    [BVT_F_CONVERSIONS] = "conversions", [BVT_F_CTR] = "ctr",
    [BVT_F_CONVERSION_RATE] = "conversion_rate", [BVT_F_INTERACTIONS] = "interactions",
    [BVT_F_SESSIONS] = "sessions", [BVT_F_DWELL] = "dwell", [BVT_F_MEAN_DWELL] = "mean_dwell",
    [BVT_F_CART_ITEMS] = "cart_items", [BVT_F_CART_VALUE] = "cart_value",
    [BVT_F_PAGE_VIEWS] = "page_views", [BVT_F_SEARCHES] = "searches",
    [BVT_F_RFM_SEGMENT] = "rfm_segment", [BVT_F_CLUSTER] = "cluster",
};

static const char *const rfm_names[BVT_RFM_SEGMENT_COUNT] = {
    [BVT_RFM_CHAMPIONS] = "Champions", [BVT_RFM_LOYAL] = "Loyal",
    [BVT_RFM_POTENTIAL_LOYALIST] = "Potential Loyalist", [BVT_RFM_NEW_CUSTOMERS] = "New Customers",
    [BVT_RFM_PROMISING] = "Promising", [BVT_RFM_NEED_ATTENTION] = "Need Attention",
    [BVT_RFM_ABOUT_TO_SLEEP] = "About to Sleep", [BVT_RFM_AT_RISK] = "At Risk",
    [BVT_RFM_CANT_LOSE_THEM] = "Can't Lose Them", [BVT_RFM_HIBERNATING] = "Hibernating",
    [BVT_RFM_LOST] = "Lost",
};

static int eq_name(const char *name, const char *s, size_t n)
{
    return strlen(name) == n && memcmp(name, s, n) == 0;
}

/* Feature of a name node; ENOTFOUND if it names none. */
static int feature_of(gen *g, const rule_node *n, uint32_t *out)
{
    const char *s = g->text + n->s_off;
    if (eq_name("monetary", s, n->s_len)) {
        *out = BVT_F_MONETARY_TOTAL;
        return BVT_OK;
    }
    for (uint32_t f = 0; f < BVT_F_COUNT; f++)
        if (eq_name(feature_names[f], s, n->s_len)) {
            *out = f;
            return BVT_OK;
        }
    return bvt__fail(g->err, BVT_ENOTFOUND, n->off, "unknown feature '%.*s'",
                    (int)(n->s_len > 40 ? 40 : n->s_len), s);
}

static int is_rfm(gen *g, const rule_node *n)
{
    uint32_t f;
    return n->kind == N_NAME && eq_name("rfm_segment", g->text + n->s_off, n->s_len) &&
           feature_of(g, n, &f) == BVT_OK;
}

static int rfm_code(gen *g, const rule_node *s, uint32_t *out)
{
    const char *v = g->ast->pool + s->s_off;
    for (uint32_t c = 1; c < BVT_RFM_SEGMENT_COUNT; c++)
        if (eq_name(rfm_names[c], v, s->s_len)) {
            *out = c;
            return BVT_OK;
        }
    return bvt__fail(g->err, BVT_ENOTFOUND, s->off,
                    "unknown RFM segment \"%.*s\" (names such as \"Champions\", \"At Risk\")",
                    (int)(s->s_len > 40 ? 40 : s->s_len), v);
}

typedef int (*resolver)(void *ud, const char *s, size_t len, uint32_t *out);

/* Resolve a name through a callback; its failure is reported at the name. */
static int resolve(gen *g, resolver cb, const char *what, uint32_t off, const char *s,
                   size_t n, uint32_t *out)
{
    int len = (int)(n > 60 ? 60 : n);
    if (!cb)
        return bvt__fail(g->err, BVT_EINVAL, off, "%s names are not available here", what);
    int rc = cb(g->names->ud, s, n, out);
    if (rc == BVT_OK)
        return BVT_OK;
    if (rc == BVT_ENOTFOUND || rc == BVT_ETYPE)
        return bvt__fail(g->err, BVT_ENOTFOUND, off, "unknown %s '%.*s'", what, len, s);
    if (rc > 0)
        rc = BVT_EINVAL;
    return bvt__fail(g->err, rc, off, "%s '%.*s': %s", what, len, s, bvt_strerror(rc));
}

static const char *describe(const rule_node *n)
{
    switch (n->kind) {
    case N_STR: return "a string";
    case N_BOOL: case N_NOT: case N_CMP: case N_AND: case N_OR:
    case N_IN_LIST: case N_IN_RANGE: return "a condition";
    case N_STAR: return "'*'";
    case N_NAME: return "a name";
    case N_CALL:
        switch (n->op) {
        case FN_COUNT: case FN_SUM: case FN_INTEREST: return "a number";
        default: return "a condition";
        }
    default: return "a number";
    }
}

static int type_error(gen *g, const rule_node *n, const char *expected)
{
    uint32_t f;
    if (n->kind == N_NAME) /* an unknown name is reported as such */
        TRY(feature_of(g, n, &f));
    return bvt__fail(g->err, BVT_EINVAL, n->start, "expected %s, found %s", expected,
                    n->kind == N_NAME ? "a number" : describe(n));
}

static int key_of(gen *g, const rule_node *n, uint32_t *key)
{
    return resolve(g, g->names->string, "attribute", n->off, g->text + n->s_off, n->s_len, key);
}

static int string_id(gen *g, const rule_node *s, uint32_t *id)
{
    return resolve(g, g->names->string, "string", s->off, g->ast->pool + s->s_off, s->s_len, id);
}

static int window_of(gen *g, uint32_t i, int64_t *ms)
{
    const rule_node *n = node(g, i);
    if (n->kind != N_NUM || !n->is_dur)
        return bvt__fail(g->err, BVT_EINVAL, n->start,
                        "expected a duration such as 7d for the window, found %s",
                        n->kind == N_NUM ? "a plain number" : describe(n));
    *ms = (int64_t)n->num;
    if (*ms <= 0)
        return bvt__fail(g->err, BVT_ERANGE, n->off, "a window must be longer than 0");
    if (g->names->horizon_ms > 0 && *ms > g->names->horizon_ms)
        return bvt__fail(g->err, BVT_ERANGE, n->off,
                        "window of %lld ms is longer than the history horizon (%lld ms)",
                        (long long)*ms, (long long)g->names->horizon_ms);
    return BVT_OK;
}

static int category_arg(gen *g, uint32_t i, int star_ok, uint32_t *cat)
{
    const rule_node *n = node(g, i);
    if (n->kind == N_STAR && star_ok) {
        *cat = 0;
        return BVT_OK;
    }
    if (n->kind != N_STR)
        return bvt__fail(g->err, BVT_EINVAL, n->start, "expected a category string%s, found %s",
                        star_ok ? " or '*'" : "", describe(n));
    return resolve(g, g->names->category, "category", n->off, g->ast->pool + n->s_off,
                   n->s_len, cat);
}

static int gen_num(gen *g, uint32_t i, cval *cv);
static int gen_bool(gen *g, uint32_t i);

/* count / sum / did: (type | *, category | *, window). */
static int gen_window_call(gen *g, const rule_node *n, int op, int delta)
{
    const rule_node *t = node(g, kid(g, n, 0));
    rule_ins ins = { .op = (uint8_t)op };
    if (t->kind == N_STAR)
        ins.a = UINT32_MAX;
    else if (t->kind == N_NAME)
        TRY(resolve(g, g->names->event_type, "event type", t->off, g->text + t->s_off,
                    t->s_len, &ins.a));
    else
        return bvt__fail(g->err, BVT_EINVAL, t->start,
                        "expected an event type name or '*', found %s", describe(t));
    TRY(category_arg(g, kid(g, n, 1), 1, &ins.b));
    TRY(window_of(g, kid(g, n, 2), &ins.v.ms));
    return emit(g, ins, delta);
}

static int gen_num(gen *g, uint32_t i, cval *cv)
{
    const rule_node *n = node(g, i);
    cv->is_const = 0;
    rule_ins ins = { 0 };
    switch (n->kind) {
    case N_NUM:
        return emit_push(g, n->num, cv);
    case N_NEG: {
        cval a;
        TRY(gen_num(g, n->l, &a));
        if (a.is_const) {
            unpush(g, 1);
            return emit_push(g, -a.v, cv);
        }
        return emit_op(g, OP_NEG, 0);
    }
    case N_ARITH: {
        cval a, b;
        TRY(gen_num(g, n->l, &a));
        TRY(gen_num(g, n->r, &b));
        if (a.is_const && b.is_const) {
            double v;
            switch (n->op) {
            case T_PLUS: v = a.v + b.v; break;
            case T_MINUS: v = a.v - b.v; break;
            case T_STAR: v = a.v * b.v; break;
            default: v = b.v == 0 ? NAN : a.v / b.v; break;
            }
            unpush(g, 2);
            return emit_push(g, v, cv);
        }
        int op = n->op == T_PLUS ? OP_ADD : n->op == T_MINUS ? OP_SUB
               : n->op == T_STAR ? OP_MUL : OP_DIV;
        return emit_op(g, op, -1);
    }
    case N_NAME:
        TRY(feature_of(g, n, &ins.a));
        if (ins.a == BVT_F_RFM_SEGMENT)
            return bvt__fail(g->err, BVT_EINVAL, n->off,
                            "rfm_segment compares only with ==, != or in against segment names");
        ins.op = OP_FEATURE;
        return emit(g, ins, 1);
    case N_ATTR:
        TRY(key_of(g, n, &ins.a));
        ins.op = OP_ATTR_NUM;
        return emit(g, ins, 1);
    case N_CTX:
        TRY(str_add(g, g->text + n->s_off, n->s_len, &ins.a));
        ins.klen = (uint16_t)n->s_len;
        ins.op = OP_CTX_NUM;
        return emit(g, ins, 1);
    case N_CALL:
        if (n->op == FN_COUNT)
            return gen_window_call(g, n, OP_COUNT, 1);
        if (n->op == FN_SUM)
            return gen_window_call(g, n, OP_SUM, 1);
        if (n->op == FN_INTEREST) {
            TRY(category_arg(g, kid(g, n, 0), 0, &ins.a));
            ins.op = OP_INTEREST;
            return emit(g, ins, 1);
        }
        break;
    default:
        break;
    }
    return type_error(g, n, "a number");
}

static int cmp_op(int tok)
{
    switch (tok) {
    case T_EQ: return OP_EQ;
    case T_NE: return OP_NE;
    case T_LT: return OP_LT;
    case T_LE: return OP_LE;
    case T_GT: return OP_GT;
    default: return OP_GE;
    }
}

static double fold_cmp(int op, double a, double b)
{
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a < b || a > b; /* false with NaN, like == */
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    default: return a >= b;
    }
}

/* A comparison with a string literal on one side. */
static int gen_str_cmp(gen *g, const rule_node *n, const rule_node *s, const rule_node *o)
{
    if (n->op != T_EQ && n->op != T_NE)
        return bvt__fail(g->err, BVT_EINVAL, n->off, "strings compare only with == and !=");
    int neg = n->op == T_NE;
    rule_ins ins = { .neg = (uint8_t)neg };
    switch (o->kind) {
    case N_STR: {
        int eq = s->s_len == o->s_len &&
                 memcmp(g->ast->pool + s->s_off, g->ast->pool + o->s_off, s->s_len) == 0;
        return emit_push(g, eq != neg, NULL);
    }
    case N_ATTR:
        TRY(key_of(g, o, &ins.a));
        TRY(string_id(g, s, &ins.b));
        ins.op = OP_ATTR_STR;
        return emit(g, ins, 1);
    case N_CTX:
        TRY(str_add(g, g->text + o->s_off, o->s_len, &ins.a));
        ins.klen = (uint16_t)o->s_len;
        TRY(str_add(g, g->ast->pool + s->s_off, s->s_len, &ins.b));
        ins.c = s->s_len;
        ins.op = OP_CTX_STR;
        return emit(g, ins, 1);
    default:
        if (is_rfm(g, o)) {
            uint32_t code;
            TRY(rfm_code(g, s, &code));
            rule_ins f = { .op = OP_FEATURE, .a = BVT_F_RFM_SEGMENT };
            TRY(emit(g, f, 1));
            TRY(emit_push(g, code, NULL));
            return emit_op(g, neg ? OP_NE : OP_EQ, -1);
        }
        if (o->kind == N_NAME) {
            uint32_t f;
            TRY(feature_of(g, o, &f));
        }
        return bvt__fail(g->err, BVT_EINVAL, s->off,
                        "a string compares only with an attribute, a context value or "
                        "rfm_segment, not with %s", describe(o));
    }
}

static int gen_cmp(gen *g, const rule_node *n)
{
    const rule_node *l = node(g, n->l), *r = node(g, n->r);
    if (l->kind == N_STR)
        return gen_str_cmp(g, n, l, r);
    if (r->kind == N_STR)
        return gen_str_cmp(g, n, r, l);
    cval a, b;
    TRY(gen_num(g, n->l, &a));
    TRY(gen_num(g, n->r, &b));
    int op = cmp_op(n->op);
    if (a.is_const && b.is_const) {
        unpush(g, 2);
        return emit_push(g, fold_cmp(op, a.v, b.v), NULL);
    }
    return emit_op(g, op, -1);
}

static int gen_in(gen *g, const rule_node *n)
{
    const rule_node *x = node(g, n->l);
    const rule_node *first = node(g, kid(g, n, 0));
    int strings = first->kind == N_STR;
    for (uint32_t k = 1; k < n->kn; k++) {
        const rule_node *it = node(g, kid(g, n, k));
        if ((it->kind == N_STR) != strings)
            return bvt__fail(g->err, BVT_EINVAL, it->start, "a list mixes numbers and strings");
    }
    rule_ins ins = { .c = n->kn };
    if (n->kind == N_IN_RANGE) {
        if (strings)
            return bvt__fail(g->err, BVT_EINVAL, first->start, "a range needs numbers");
        cval cv;
        TRY(gen_num(g, n->l, &cv));
        ins.op = OP_RANGE;
        ins.b = (uint32_t)g->nums.n;
        for (uint32_t k = 0; k < 2; k++)
            TRY(vpush(g, &g->nums, &node(g, kid(g, n, k))->num, sizeof(double), 1));
        return emit(g, ins, 0);
    }
    if (!strings) {
        cval cv;
        TRY(gen_num(g, n->l, &cv));
        ins.op = OP_IN_NUM;
        ins.b = (uint32_t)g->nums.n;
        for (uint32_t k = 0; k < n->kn; k++)
            TRY(vpush(g, &g->nums, &node(g, kid(g, n, k))->num, sizeof(double), 1));
        return emit(g, ins, 0);
    }
    if (x->kind == N_ATTR) {
        TRY(key_of(g, x, &ins.a));
        ins.op = OP_ATTR_STR_IN;
        ins.b = (uint32_t)g->u32.n;
        for (uint32_t k = 0; k < n->kn; k++) {
            uint32_t id;
            TRY(string_id(g, node(g, kid(g, n, k)), &id));
            TRY(vpush(g, &g->u32, &id, sizeof id, 1));
        }
        return emit(g, ins, 1);
    }
    if (x->kind == N_CTX) {
        TRY(str_add(g, g->text + x->s_off, x->s_len, &ins.a));
        ins.klen = (uint16_t)x->s_len;
        ins.op = OP_CTX_STR_IN;
        ins.b = (uint32_t)g->u32.n;
        for (uint32_t k = 0; k < n->kn; k++) {
            const rule_node *it = node(g, kid(g, n, k));
            uint32_t pair[2] = { 0, it->s_len };
            TRY(str_add(g, g->ast->pool + it->s_off, it->s_len, &pair[0]));
            TRY(vpush(g, &g->u32, pair, sizeof pair[0], 2));
        }
        return emit(g, ins, 1);
    }
    if (is_rfm(g, x)) {
        rule_ins f = { .op = OP_FEATURE, .a = BVT_F_RFM_SEGMENT };
        TRY(emit(g, f, 1));
        ins.op = OP_IN_NUM;
        ins.b = (uint32_t)g->nums.n;
        for (uint32_t k = 0; k < n->kn; k++) {
            uint32_t code;
            TRY(rfm_code(g, node(g, kid(g, n, k)), &code));
            double d = code;
            TRY(vpush(g, &g->nums, &d, sizeof d, 1));
        }
        return emit(g, ins, 0);
    }
    if (x->kind == N_NAME) {
        uint32_t f;
        TRY(feature_of(g, x, &f));
    }
    return bvt__fail(g->err, BVT_EINVAL, x->start,
                    "a list of strings needs an attribute, a context value or rfm_segment "
                    "before 'in', not %s", describe(x));
}

static int gen_call_bool(gen *g, const rule_node *n)
{
    rule_ins ins = { 0 };
    const rule_node *a0 = node(g, kid(g, n, 0));
    switch (n->op) {
    case FN_DID:
        return gen_window_call(g, n, OP_DID, 1);
    case FN_CARTED_NOT_BOUGHT:
        TRY(window_of(g, kid(g, n, 0), &ins.v.ms));
        ins.op = OP_CARTED;
        return emit(g, ins, 1);
    case FN_VIEWED_NOT_BOUGHT:
        TRY(category_arg(g, kid(g, n, 0), 0, &ins.a));
        TRY(window_of(g, kid(g, n, 1), &ins.v.ms));
        ins.op = OP_VIEWED;
        return emit(g, ins, 1);
    case FN_CONSENT:
        if (a0->kind == N_NAME || a0->kind == N_STR) {
            const char *s = a0->kind == N_NAME ? g->text + a0->s_off : g->ast->pool + a0->s_off;
            TRY(resolve(g, g->names->purpose, "consent purpose", a0->off, s, a0->s_len, &ins.a));
            ins.op = OP_CONSENT;
            return emit(g, ins, 1);
        }
        return bvt__fail(g->err, BVT_EINVAL, a0->start,
                        "expected a consent purpose name such as ads, found %s", describe(a0));
    case FN_IN_SEGMENT: {
        if (a0->kind != N_STR)
            return bvt__fail(g->err, BVT_EINVAL, a0->start,
                            "expected a segment name string, found %s", describe(a0));
        TRY(resolve(g, g->names->segment, "segment", a0->off, g->ast->pool + a0->s_off,
                    a0->s_len, &ins.a));
        const uint32_t *refs = g->refs.p;
        size_t k = 0;
        while (k < g->refs.n && refs[k] != ins.a)
            k++;
        if (k == g->refs.n)
            TRY(vpush(g, &g->refs, &ins.a, sizeof ins.a, 1));
        ins.op = OP_IN_SEGMENT;
        return emit(g, ins, 1);
    }
    case FN_WITHIN: {
        const rule_node *p = node(g, kid(g, n, 1));
        if (a0->kind != N_CTX)
            return bvt__fail(g->err, BVT_EINVAL, a0->start,
                            "within() needs a context value such as ctx.page_category, found %s",
                            describe(a0));
        if (p->kind != N_STR || p->s_len == 0)
            return bvt__fail(g->err, BVT_EINVAL, p->start,
                            "within() needs a non-empty category path string");
        TRY(str_add(g, g->text + a0->s_off, a0->s_len, &ins.a));
        ins.klen = (uint16_t)a0->s_len;
        TRY(str_add(g, g->ast->pool + p->s_off, p->s_len, &ins.b));
        ins.c = p->s_len;
        ins.op = OP_CTX_WITHIN;
        return emit(g, ins, 1);
    }
    default:
        return type_error(g, n, "a condition (true or false)");
    }
}

static int gen_bool(gen *g, uint32_t i)
{
    const rule_node *n = node(g, i);
    switch (n->kind) {
    case N_BOOL:
        return emit_push(g, n->num, NULL);
    case N_NOT: {
        size_t at = g->code.n;
        TRY(gen_bool(g, n->l));
        const rule_ins *last = (const rule_ins *)g->code.p + g->code.n - 1;
        if (g->code.n == at + 1 && last->op == OP_PUSH) {
            double v = last->v.d;
            unpush(g, 1);
            return emit_push(g, v == 0, NULL);
        }
        return emit_op(g, OP_NOT, 0);
    }
    case N_AND:
    case N_OR: {
        TRY(gen_bool(g, n->l));
        size_t jump = g->code.n;
        TRY(emit_op(g, n->kind == N_AND ? OP_AND : OP_OR, -1));
        TRY(gen_bool(g, n->r));
        ((rule_ins *)g->code.p)[jump].a = (uint32_t)g->code.n;
        return BVT_OK;
    }
    case N_CMP:
        return gen_cmp(g, n);
    case N_IN_LIST:
    case N_IN_RANGE:
        return gen_in(g, n);
    case N_CALL:
        return gen_call_bool(g, n);
    default:
        return type_error(g, n, "a condition (true or false)");
    }
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Pack the arrays after the header in one allocation. */
static int pack(gen *g, bvt_rule **out)
{
    size_t at = align8(sizeof(bvt_rule));
    size_t o_code = at;
    at = align8(at + g->code.n * sizeof(rule_ins));
    size_t o_nums = at;
    at = align8(at + g->nums.n * sizeof(double));
    size_t o_u32 = at;
    at += g->u32.n * sizeof(uint32_t);
    size_t o_refs = at;
    at += g->refs.n * sizeof(uint32_t);
    size_t o_str = at;
    at += g->str.n;
    char *m = malloc(at);
    if (!m)
        return bvt__fail(g->err, BVT_ENOMEM, -1, "out of memory");
    bvt_rule *r = (bvt_rule *)(void *)m;
    if (g->code.n)
        memcpy(m + o_code, g->code.p, g->code.n * sizeof(rule_ins));
    if (g->nums.n)
        memcpy(m + o_nums, g->nums.p, g->nums.n * sizeof(double));
    if (g->u32.n)
        memcpy(m + o_u32, g->u32.p, g->u32.n * sizeof(uint32_t));
    if (g->refs.n)
        memcpy(m + o_refs, g->refs.p, g->refs.n * sizeof(uint32_t));
    if (g->str.n)
        memcpy(m + o_str, g->str.p, g->str.n);
    r->bytes = at;
    r->n_code = (uint32_t)g->code.n;
    r->n_refs = (uint32_t)g->refs.n;
    r->code = (const rule_ins *)(const void *)(m + o_code);
    r->nums = (const double *)(const void *)(m + o_nums);
    r->u32 = (const uint32_t *)(const void *)(m + o_u32);
    r->refs = (const uint32_t *)(const void *)(m + o_refs);
    r->str = m + o_str;
    r->release = NULL;
    r->owner = NULL;
    *out = r;
    return BVT_OK;
}

int bvt__rule_compile(bvt_rule **out, const char *text, size_t len,
                     const bvt_rule_names *names, bvt_error *err)
{
    if (!out)
        return bvt__fail(err, BVT_EINVAL, -1, "out is NULL");
    *out = NULL;
    if (!text && len)
        return bvt__fail(err, BVT_EINVAL, -1, "text is NULL");
    static const bvt_rule_names none = { 0 };
    rule_ast ast;
    int rc = rule_parse(&ast, text ? text : "", len, err);
    gen g = { .text = text, .ast = &ast, .names = names ? names : &none, .err = err };
    if (rc == BVT_OK)
        rc = gen_bool(&g, ast.root);
    if (rc == BVT_OK)
        rc = emit_op(&g, OP_END, 0);
    if (rc == BVT_OK && g.max_depth > RULE_STACK)
        rc = bvt__fail(err, BVT_ELIMIT, 0, "rule too complex: needs more than %d stack slots",
                      RULE_STACK);
    if (rc == BVT_OK)
        rc = pack(&g, out);
    free(g.code.p);
    free(g.nums.p);
    free(g.u32.p);
    free(g.str.p);
    free(g.refs.p);
    rule_ast_free(&ast);
    return rc;
}

void bvt__rule_free(bvt_rule *r)
{
    if (r && r->release)
        r->release(r->owner);
    free(r);
}

void bvt__rule_set_owner(bvt_rule *r, void (*release)(void *ud), void *ud)
{
    r->release = release;
    r->owner = ud;
}

void *bvt__rule_owner(const bvt_rule *r) { return r ? r->owner : NULL; }

size_t bvt__rule_segment_refs(const bvt_rule *r, const uint32_t **ids)
{
    if (ids)
        *ids = r ? r->refs : NULL;
    return r ? r->n_refs : 0;
}

size_t bvt__rule_bytes(const bvt_rule *r) { return r ? r->bytes : 0; }
