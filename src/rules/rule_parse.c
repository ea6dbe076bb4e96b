/* rule_parse.c — recursive descent from tokens to a syntax tree.
 *
 * Precedence, loosest first: or; and; not; comparisons and `in` (one per
 * operand: they do not chain); + -; * /; unary minus.  Calls must name a
 * known function with its exact number of arguments; every other name is
 * resolved by the compiler, which knows what each position expects. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rule_internal.h"
#include "utf8.h"

static const struct {
    const char *name;
    unsigned arity;
} fns[FN_COUNT_OF] = {
    [FN_COUNT] = { "count", 3 },
    [FN_SUM] = { "sum", 3 },
    [FN_DID] = { "did", 3 },
    [FN_CARTED_NOT_BOUGHT] = { "carted_not_bought", 1 },
    [FN_VIEWED_NOT_BOUGHT] = { "viewed_not_bought", 2 },
    [FN_INTEREST] = { "interest", 1 },
    [FN_CONSENT] = { "consent", 1 },
    [FN_IN_SEGMENT] = { "in_segment", 1 },
    [FN_WITHIN] = { "within", 2 },
};

const char *rule_fn_name(int fn) { return fn >= 0 && fn < FN_COUNT_OF ? fns[fn].name : "?"; }

typedef struct parser {
    const char *text;
    rule_lexer lx;
    rule_tok tok; /* the current token */
    rule_ast *ast;
    bvt_error *err;
    int nest;
} parser;

static int advance(parser *p) { return rule_lex_next(&p->lx, &p->tok, p->err); }

static int peek(parser *p, rule_tok *t)
{
    rule_lexer save = p->lx;
    int rc = rule_lex_next(&p->lx, t, p->err);
    p->lx = save;
    return rc;
}

static int fail_here(parser *p, const char *what)
{
    return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off, "%s, found %s", what,
                    rule_tok_describe(p->tok.kind));
}

static int new_node(parser *p, int kind, uint32_t off, uint32_t start, uint32_t *out)
{
    rule_ast *a = p->ast;
    if (a->n_nodes == a->cap_nodes) {
        size_t cap = a->cap_nodes ? a->cap_nodes * 2 : 32;
        rule_node *n = realloc(a->nodes, cap * sizeof *n);
        if (!n)
            return bvt__fail(p->err, BVT_ENOMEM, -1, "out of memory");
        a->nodes = n;
        a->cap_nodes = cap;
    }
    rule_node *n = &a->nodes[a->n_nodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->off = off;
    n->start = start;
    n->height = 1;
    *out = (uint32_t)a->n_nodes++;
    return BVT_OK;
}

static int push_kid(parser *p, uint32_t kid)
{
    rule_ast *a = p->ast;
    if (a->n_kids == a->cap_kids) {
        size_t cap = a->cap_kids ? a->cap_kids * 2 : 16;
        uint32_t *k = realloc(a->kids, cap * sizeof *k);
        if (!k)
            return bvt__fail(p->err, BVT_ENOMEM, -1, "out of memory");
        a->kids = k;
        a->cap_kids = cap;
    }
    a->kids[a->n_kids++] = kid;
    return BVT_OK;
}

/* Height is bounded so that compiling the tree recurses a bounded depth. */
static int grow(parser *p, uint32_t node, uint32_t child)
{
    rule_node *n = &p->ast->nodes[node];
    uint32_t h = p->ast->nodes[child].height + 1;
    if (h > n->height)
        n->height = h;
    if (n->height > RULE_MAX_HEIGHT)
        return bvt__fail(p->err, BVT_ELIMIT, n->off,
                        "rule too complex: more than %d nested operations", RULE_MAX_HEIGHT);
    return BVT_OK;
}

static int binary(parser *p, int kind, int op, uint32_t off, uint32_t l, uint32_t r,
                  uint32_t *out)
{
    TRY(new_node(p, kind, off, p->ast->nodes[l].start, out));
    rule_node *n = &p->ast->nodes[*out];
    n->op = (uint8_t)op;
    n->l = l;
    n->r = r;
    TRY(grow(p, *out, l));
    return grow(p, *out, r);
}

static int enter(parser *p)
{
    if (++p->nest > RULE_MAX_NEST)
        return bvt__fail(p->err, BVT_ELIMIT, p->tok.off, "rule nests deeper than %d levels",
                        RULE_MAX_NEST);
    return BVT_OK;
}

static int parse_or(parser *p, uint32_t *out);

/* A literal in an `in` list or range: [-] number | [-] duration | string. */
static int parse_lit(parser *p, uint32_t *out)
{
    uint32_t start = p->tok.off;
    int neg = 0;
    if (p->tok.kind == T_MINUS) {
        neg = 1;
        TRY(advance(p));
    }
    if (p->tok.kind == T_NUMBER || p->tok.kind == T_DURATION) {
        TRY(new_node(p, N_NUM, p->tok.off, start, out));
        rule_node *n = &p->ast->nodes[*out];
        n->num = neg ? -p->tok.num : p->tok.num;
        n->is_dur = p->tok.kind == T_DURATION;
        return advance(p);
    }
    if (p->tok.kind == T_STRING && !neg) {
        TRY(new_node(p, N_STR, p->tok.off, start, out));
        rule_node *n = &p->ast->nodes[*out];
        n->s_off = (uint32_t)p->ast->pool_len;
        n->s_len = (uint32_t)rule_lex_unescape(p->text, &p->tok, p->ast->pool + p->ast->pool_len);
        p->ast->pool_len += n->s_len;
        return advance(p);
    }
    return fail_here(p, "expected a number, duration or string after 'in'");
}

static int parse_call(parser *p, int fn, const rule_tok *name, uint32_t *out)
{
    TRY(enter(p));
    TRY(advance(p)); /* the name */
    TRY(advance(p)); /* '(' */
    rule_ast *a = p->ast;
    uint32_t args[3];
    unsigned n = fns[fn].arity;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0) {
            if (p->tok.kind == T_RPAREN)
                return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off,
                                "too few arguments: %s takes %u", fns[fn].name, n);
            if (p->tok.kind != T_COMMA)
                return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off,
                                "expected ',' after argument %u of %s, found %s", i,
                                fns[fn].name, rule_tok_describe(p->tok.kind));
            TRY(advance(p));
        }
        if (p->tok.kind == T_STAR) {
            TRY(new_node(p, N_STAR, p->tok.off, p->tok.off, &args[i]));
            TRY(advance(p));
        } else {
            TRY(parse_or(p, &args[i]));
        }
    }
    if (p->tok.kind != T_RPAREN) {
        if (p->tok.kind == T_COMMA)
            return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off, "too many arguments: %s takes %u",
                            fns[fn].name, n);
        return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off,
                        "expected ')' after arguments of %s, found %s", fns[fn].name,
                        rule_tok_describe(p->tok.kind));
    }
    TRY(advance(p));
    p->nest--;
    TRY(new_node(p, N_CALL, name->off, name->off, out));
    a->nodes[*out].op = (uint8_t)fn;
    a->nodes[*out].k0 = (uint32_t)a->n_kids;
    a->nodes[*out].kn = n;
    for (unsigned i = 0; i < n; i++) {
        TRY(push_kid(p, args[i]));
        TRY(grow(p, *out, args[i]));
    }
    return BVT_OK;
}

static int parse_name(parser *p, uint32_t *out)
{
    rule_tok name = p->tok, next;
    TRY(peek(p, &next));
    const char *s = p->text + name.off;
    if (next.kind == T_LPAREN) {
        for (int fn = 0; fn < FN_COUNT_OF; fn++)
            if (strlen(fns[fn].name) == name.len && memcmp(fns[fn].name, s, name.len) == 0)
                return parse_call(p, fn, &name, out);
        return bvt__fail(p->err, BVT_ENOTFOUND, name.off, "unknown function '%.*s'",
                        (int)(name.len > 40 ? 40 : name.len), s);
    }
    int is_attr = name.len == 4 && memcmp(s, "attr", 4) == 0;
    int is_ctx = name.len == 3 && memcmp(s, "ctx", 3) == 0;
    if (is_attr || is_ctx) {
        TRY(advance(p));
        if (p->tok.kind != T_DOT)
            return fail_here(p, is_attr ? "expected '.' and a key after attr"
                                        : "expected '.' and a key after ctx");
        TRY(advance(p));
        if (p->tok.kind != T_IDENT)
            return fail_here(p, is_attr ? "expected an attribute key after 'attr.'"
                                        : "expected a context key after 'ctx.'");
        TRY(new_node(p, is_attr ? N_ATTR : N_CTX, p->tok.off, name.off, out));
        p->ast->nodes[*out].s_off = p->tok.off;
        p->ast->nodes[*out].s_len = p->tok.len;
        return advance(p);
    }
    TRY(new_node(p, N_NAME, name.off, name.off, out));
    p->ast->nodes[*out].s_off = name.off;
    p->ast->nodes[*out].s_len = name.len;
    return advance(p);
}

static int parse_primary(parser *p, uint32_t *out)
{
    rule_tok t = p->tok;
    switch (t.kind) {
    case T_NUMBER:
    case T_DURATION:
        TRY(new_node(p, N_NUM, t.off, t.off, out));
        p->ast->nodes[*out].num = t.num;
        p->ast->nodes[*out].is_dur = t.kind == T_DURATION;
        return advance(p);
    case T_STRING:
        return parse_lit(p, out);
    case T_TRUE:
    case T_FALSE:
        TRY(new_node(p, N_BOOL, t.off, t.off, out));
        p->ast->nodes[*out].num = t.kind == T_TRUE;
        return advance(p);
    case T_LPAREN:
        TRY(enter(p));
        TRY(advance(p));
        TRY(parse_or(p, out));
        if (p->tok.kind != T_RPAREN)
            return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off,
                            "expected ')' to close the '(' at offset %u, found %s", t.off,
                            rule_tok_describe(p->tok.kind));
        p->ast->nodes[*out].start = t.off;
        p->nest--;
        return advance(p);
    case T_IDENT:
        return parse_name(p, out);
    default:
        return fail_here(p, "expected a value");
    }
}

static int parse_unary(parser *p, uint32_t *out)
{
    if (p->tok.kind != T_MINUS)
        return parse_primary(p, out);
    uint32_t off = p->tok.off, l;
    TRY(enter(p));
    TRY(advance(p));
    TRY(parse_unary(p, &l));
    p->nest--;
    TRY(new_node(p, N_NEG, off, off, out));
    p->ast->nodes[*out].l = l;
    return grow(p, *out, l);
}

static int parse_prod(parser *p, uint32_t *out)
{
    uint32_t l, r;
    TRY(parse_unary(p, &l));
    while (p->tok.kind == T_STAR || p->tok.kind == T_SLASH) {
        rule_tok op = p->tok;
        TRY(advance(p));
        TRY(parse_unary(p, &r));
        TRY(binary(p, N_ARITH, op.kind, op.off, l, r, &l));
    }
    *out = l;
    return BVT_OK;
}

static int parse_sum(parser *p, uint32_t *out)
{
    uint32_t l, r;
    TRY(parse_prod(p, &l));
    while (p->tok.kind == T_PLUS || p->tok.kind == T_MINUS) {
        rule_tok op = p->tok;
        TRY(advance(p));
        TRY(parse_prod(p, &r));
        TRY(binary(p, N_ARITH, op.kind, op.off, l, r, &l));
    }
    *out = l;
    return BVT_OK;
}

static int is_cmp(int kind) { return kind >= T_EQ && kind <= T_GE; }

static int parse_in(parser *p, uint32_t l, uint32_t off, uint32_t *out)
{
    rule_ast *a = p->ast;
    uint32_t items[2];
    if (p->tok.kind == T_LPAREN) {
        TRY(advance(p));
        uint32_t first = UINT32_MAX, n = 0;
        /* Items are pushed as they come; nothing else adds kids meanwhile. */
        for (;;) {
            uint32_t item;
            TRY(parse_lit(p, &item));
            if (first == UINT32_MAX)
                first = (uint32_t)a->n_kids;
            TRY(push_kid(p, item));
            n++;
            if (p->tok.kind == T_RPAREN)
                break;
            if (p->tok.kind != T_COMMA)
                return fail_here(p, "expected ',' or ')' in the list after 'in'");
            TRY(advance(p));
        }
        TRY(advance(p));
        TRY(new_node(p, N_IN_LIST, off, a->nodes[l].start, out));
        a->nodes[*out].l = l;
        a->nodes[*out].k0 = first;
        a->nodes[*out].kn = n;
        return grow(p, *out, l);
    }
    TRY(parse_lit(p, &items[0]));
    if (p->tok.kind != T_DOTDOT)
        return fail_here(p, "expected '..' in a range such as 'x in 1..10'");
    TRY(advance(p));
    TRY(parse_lit(p, &items[1]));
    TRY(new_node(p, N_IN_RANGE, off, a->nodes[l].start, out));
    a->nodes[*out].l = l;
    a->nodes[*out].k0 = (uint32_t)a->n_kids;
    a->nodes[*out].kn = 2;
    TRY(push_kid(p, items[0]));
    TRY(push_kid(p, items[1]));
    return grow(p, *out, l);
}

static int parse_cmp(parser *p, uint32_t *out)
{
    uint32_t l, r;
    TRY(parse_sum(p, &l));
    rule_tok op = p->tok;
    if (is_cmp(op.kind)) {
        TRY(advance(p));
        TRY(parse_sum(p, &r));
        TRY(binary(p, N_CMP, op.kind, op.off, l, r, &l));
    } else if (op.kind == T_IN) {
        TRY(advance(p));
        TRY(parse_in(p, l, op.off, &l));
    } else {
        *out = l;
        return BVT_OK;
    }
    if (is_cmp(p->tok.kind) || p->tok.kind == T_IN)
        return bvt__fail(p->err, BVT_ESYNTAX, p->tok.off,
                        "comparisons do not chain: join them with 'and'");
    *out = l;
    return BVT_OK;
}

static int parse_not(parser *p, uint32_t *out)
{
    if (p->tok.kind != T_NOT)
        return parse_cmp(p, out);
    uint32_t off = p->tok.off, l;
    TRY(enter(p));
    TRY(advance(p));
    TRY(parse_not(p, &l));
    p->nest--;
    TRY(new_node(p, N_NOT, off, off, out));
    p->ast->nodes[*out].l = l;
    return grow(p, *out, l);
}

static int parse_and(parser *p, uint32_t *out)
{
    uint32_t l, r;
    TRY(parse_not(p, &l));
    while (p->tok.kind == T_AND) {
        uint32_t off = p->tok.off;
        TRY(advance(p));
        TRY(parse_not(p, &r));
        TRY(binary(p, N_AND, T_AND, off, l, r, &l));
    }
    *out = l;
    return BVT_OK;
}

static int parse_or(parser *p, uint32_t *out)
{
    uint32_t l, r;
    TRY(parse_and(p, &l));
    while (p->tok.kind == T_OR) {
        uint32_t off = p->tok.off;
        TRY(advance(p));
        TRY(parse_and(p, &r));
        TRY(binary(p, N_OR, T_OR, off, l, r, &l));
    }
    *out = l;
    return BVT_OK;
}

int rule_parse(rule_ast *ast, const char *text, size_t len, bvt_error *err)
{
    memset(ast, 0, sizeof *ast);
    if (len > RULE_MAX_TEXT)
        return bvt__fail(err, BVT_ELIMIT, RULE_MAX_TEXT, "rule longer than %d bytes",
                        RULE_MAX_TEXT);
    /* Strings in rules are kept (attribute values, category paths): the
     * whole text is checked, so every literal cut from it is UTF-8 too. */
    int rc = bvt__utf8_require(text, len, "rule text", err);
    if (rc != BVT_OK)
        return rc;
    ast->pool = malloc(len + 1); /* decoded strings are never longer than the text */
    if (!ast->pool)
        return bvt__fail(err, BVT_ENOMEM, -1, "out of memory");
    parser p = { .text = text, .ast = ast, .err = err };
    rule_lex_init(&p.lx, text, len);
    TRY(advance(&p));
    TRY(parse_or(&p, &ast->root));
    if (p.tok.kind != T_EOF)
        return fail_here(&p, "expected an operator or end of rule");
    return BVT_OK;
}

void rule_ast_free(rule_ast *ast)
{
    free(ast->nodes);
    free(ast->kids);
    free(ast->pool);
    memset(ast, 0, sizeof *ast);
}
