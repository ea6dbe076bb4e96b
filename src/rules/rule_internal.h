/* rule_internal.h — what the rule lexer, parser, compiler and evaluator
 * share: tokens, the syntax tree, the bytecode and the compiled rule.
 * The language itself is described in docs/rules.md. */
#ifndef BVT_RULE_INTERNAL_H
#define BVT_RULE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rule.h"

/* Bounds checked at compile time, so evaluation needs no checks. */
#define RULE_MAX_TEXT 4096   /* bytes of rule text */
#define RULE_MAX_NEST 64     /* parentheses, call arguments, not, unary minus */
#define RULE_MAX_HEIGHT 512  /* syntax tree height (long and/or chains) */
#define RULE_STACK 256       /* evaluation stack slots */

/* ---- tokens (rule_lex.c) ------------------------------------------------ */

enum rule_tok_kind {
    T_EOF, T_IDENT, T_NUMBER, T_DURATION, T_STRING,
    T_LPAREN, T_RPAREN, T_COMMA, T_DOT, T_DOTDOT, T_STAR,
    T_PLUS, T_MINUS, T_SLASH,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
    T_AND, T_OR, T_NOT, T_IN, T_TRUE, T_FALSE
};

typedef struct rule_tok {
    int kind;
    uint32_t off, len; /* bytes of the token in the text (strings: quotes included) */
    double num;        /* T_NUMBER; T_DURATION: milliseconds */
    int64_t ms;        /* T_DURATION */
} rule_tok;

typedef struct rule_lexer {
    const char *text;
    size_t len, pos;
} rule_lexer;

void rule_lex_init(rule_lexer *lx, const char *text, size_t len);
/* Next token into *t; BVT_OK, or ESYNTAX / EINVAL (bad literal) with err set. */
int rule_lex_next(rule_lexer *lx, rule_tok *t, bvt_error *err);
/* Decode a T_STRING's escapes into dst (at least t->len bytes); its length. */
size_t rule_lex_unescape(const char *text, const rule_tok *t, char *dst);
/* How a token kind reads in messages: "')'", "a number", "end of rule". */
const char *rule_tok_describe(int kind);
/* Parse [+-]digits[.digits] exactly as rule literals do; 0 on success. */
int rule_parse_decimal(const char *s, size_t n, double *out);

/* ---- syntax tree (rule_parse.c) ---------------------------------------- */

enum rule_node_kind {
    N_NUM,      /* number or duration literal: num (ms for durations), is_dur */
    N_STR,      /* string literal: s_off/s_len in the pool */
    N_BOOL,     /* true / false: num 1 / 0 */
    N_NAME,     /* bare name (feature, event type, purpose): s_off/s_len in the text */
    N_ATTR,     /* attr.<key>: key in the text */
    N_CTX,      /* ctx.<key>: key in the text */
    N_STAR,     /* `*` argument */
    N_NEG,      /* -l */
    N_NOT,      /* not l */
    N_ARITH,    /* l op r, op T_PLUS / T_MINUS / T_STAR / T_SLASH */
    N_CMP,      /* l op r, op T_EQ .. T_GE */
    N_AND, N_OR,
    N_IN_LIST,  /* l in (kids) */
    N_IN_RANGE, /* l in kids[0]..kids[1] */
    N_CALL      /* fn(kids) */
};

enum rule_fn {
    FN_COUNT, FN_SUM, FN_DID, FN_CARTED_NOT_BOUGHT, FN_VIEWED_NOT_BOUGHT,
    FN_INTEREST, FN_CONSENT, FN_IN_SEGMENT, FN_WITHIN, FN_COUNT_OF
};

typedef struct rule_node {
    uint8_t kind;
    uint8_t op;      /* operator token kind, or enum rule_fn for N_CALL */
    uint8_t is_dur;  /* N_NUM written as a duration */
    uint32_t off;    /* the token that names the node: operator, literal, name */
    uint32_t start;  /* first byte of the whole expression */
    uint32_t l, r;   /* children (node indexes) */
    uint32_t k0, kn; /* kid list in rule_ast.kids: call arguments, list items */
    uint32_t s_off, s_len;
    uint32_t height;
    double num;
} rule_node;

typedef struct rule_ast {
    rule_node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
    char *pool; /* decoded string literals */
    size_t pool_len;
    uint32_t root;
} rule_ast;

/* Parse text into ast (all fields owned by ast; rule_ast_free releases them,
 * also after a failure).  Names are not resolved here, except that a call
 * must name a known function. */
int rule_parse(rule_ast *ast, const char *text, size_t len, bvt_error *err);
void rule_ast_free(rule_ast *ast);

const char *rule_fn_name(int fn);

/* ---- bytecode (rule_compile.c → rule_vm.c) ------------------------------ */

/* A stack machine over doubles; booleans are 0 / 1.  "No value" (absent
 * attribute or context, string where a number was needed, division by zero)
 * is NaN, which makes every comparison false. */
enum rule_op {
    OP_END,        /* result = top */
    OP_PUSH,       /* v.d */
    OP_FEATURE,    /* a = enum bvt_rule_feature */
    OP_INTEREST,   /* a = category */
    OP_COUNT,      /* a = type, b = category, v.ms = window */
    OP_SUM,
    OP_DID,
    OP_CARTED,     /* v.ms */
    OP_VIEWED,     /* a = category, v.ms */
    OP_CONSENT,    /* a = purpose */
    OP_IN_SEGMENT, /* a = segment */
    OP_ATTR_NUM,   /* a = key: the number, or NaN */
    OP_CTX_NUM,    /* key at str[a], klen bytes: parsed as a decimal, or NaN */
    OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_NOT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_IN_NUM,     /* pop x: x equals one of nums[b .. b+c) */
    OP_RANGE,      /* pop x: nums[b] <= x <= nums[b+1] */
    OP_ATTR_STR,   /* attr a is a string with id b (neg: and is not b) */
    OP_ATTR_STR_IN,/* attr a is a string whose id is one of u32[b .. b+c) */
    OP_CTX_STR,    /* ctx str[a], klen, equals str[b], c bytes (neg: differs) */
    OP_CTX_STR_IN, /* ctx str[a], klen, equals one of c (offset, length) pairs at u32[b] */
    OP_CTX_WITHIN, /* ctx str[a], klen, is str[b], c bytes, or below it at a '/' */
    OP_AND,        /* top false: jump to a keeping it; else pop */
    OP_OR          /* top true: jump to a keeping it; else pop */
};

typedef struct rule_ins {
    uint8_t op;
    uint8_t neg;
    uint16_t klen;
    uint32_t a, b, c;
    union {
        double d;
        int64_t ms;
    } v;
} rule_ins;

/* One allocation: this header, then the arrays it points into. */
struct bvt_rule {
    size_t bytes;
    uint32_t n_code, n_refs;
    const rule_ins *code;
    const double *nums;
    const uint32_t *u32;
    const char *str;
    const uint32_t *refs;
    void (*release)(void *owner); /* bvt__rule_set_owner() */
    void *owner;
};

/* Return the status of x when it is not BVT_OK. */
#define TRY(x)                   \
    do {                         \
        int rc_ = (x);           \
        if (rc_ != BVT_OK)       \
            return rc_;          \
    } while (0)

#endif
