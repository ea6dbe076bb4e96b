/* rule_lex.c — splits rule text into tokens: names, keywords, numbers,
 * durations (7d → ms), strings with \" and \\ escapes, operators. */
#include <math.h>
#include <string.h>

#include "error.h"
#include "rule_internal.h"

void rule_lex_init(rule_lexer *lx, const char *text, size_t len)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const char *rule_tok_describe(int kind)
{
    switch (kind) {
    case T_EOF: return "end of rule";
    case T_IDENT: return "a name";
    case T_NUMBER: return "a number";
    case T_DURATION: return "a duration";
    case T_STRING: return "a string";
    case T_LPAREN: return "'('";
    case T_RPAREN: return "')'";
    case T_COMMA: return "','";
    case T_DOT: return "'.'";
    case T_DOTDOT: return "'..'";
    case T_STAR: return "'*'";
    case T_PLUS: return "'+'";
    case T_MINUS: return "'-'";
    case T_SLASH: return "'/'";
    case T_EQ: return "'=='";
    case T_NE: return "'!='";
    case T_LT: return "'<'";
    case T_LE: return "'<='";
    case T_GT: return "'>'";
    case T_GE: return "'>='";
    case T_AND: return "'and'";
    case T_OR: return "'or'";
    case T_NOT: return "'not'";
    case T_IN: return "'in'";
    case T_TRUE: return "'true'";
    case T_FALSE: return "'false'";
    default: return "a token";
    }
}

/* Correctly rounded while the digits fit 2^53: they are accumulated as one
 * integer and divided once by an exact power of ten.  Locale-independent. */
int rule_parse_decimal(const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= n || !is_digit(s[i]))
        return -1;
    double m = 0, scale = 1;
    while (i < n && is_digit(s[i]))
        m = m * 10 + (s[i++] - '0');
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return -1;
        for (; i < n && is_digit(s[i]); i++) {
            if (scale < 1e22) { /* later digits are below double precision */
                m = m * 10 + (s[i] - '0');
                scale *= 10;
            }
        }
    }
    double v = m / scale;
    if (i != n || !isfinite(v))
        return -1;
    *out = neg ? -v : v;
    return 0;
}

static const struct {
    const char *unit;
    int64_t ms;
} units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
    { "d", 86400000 }, { "w", 604800000 },
};

static int lex_number(rule_lexer *lx, rule_tok *t, bvt_error *err)
{
    const char *s = lx->text;
    size_t p = lx->pos;
    while (p < lx->len && is_digit(s[p]))
        p++;
    int whole = 1;
    /* "1..5" is a range, so a '.' is a fraction only before a digit. */
    if (p + 1 < lx->len && s[p] == '.' && is_digit(s[p + 1])) {
        whole = 0;
        p += 1;
        while (p < lx->len && is_digit(s[p]))
            p++;
    }
    size_t num_end = p;
    if (rule_parse_decimal(s + lx->pos, num_end - lx->pos, &t->num) != 0)
        return bvt__fail(err, BVT_EINVAL, (int64_t)lx->pos, "number out of range");
    t->kind = T_NUMBER;
    if (p < lx->len && is_alpha(s[p])) {
        size_t u = p;
        while (p < lx->len && (is_alpha(s[p]) || is_digit(s[p])))
            p++;
        int64_t scale = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].unit) == p - u && memcmp(units[i].unit, s + u, p - u) == 0)
                scale = units[i].ms;
        if (!scale)
            return bvt__fail(err, BVT_EINVAL, (int64_t)u,
                            "unknown unit '%.*s' after a number (use ms, s, m, h, d or w)",
                            (int)(p - u > 20 ? 20 : p - u), s + u);
        if (!whole)
            return bvt__fail(err, BVT_EINVAL, (int64_t)lx->pos,
                            "a duration needs a whole number (write 90m, not 1.5h)");
        if (t->num > 9.0e15 / (double)scale)
            return bvt__fail(err, BVT_EINVAL, (int64_t)lx->pos, "duration out of range");
        t->kind = T_DURATION;
        t->ms = (int64_t)t->num * scale;
        t->num = (double)t->ms;
    }
    t->len = (uint32_t)(p - lx->pos);
    lx->pos = p;
    return BVT_OK;
}

static int lex_string(rule_lexer *lx, rule_tok *t, bvt_error *err)
{
    const char *s = lx->text;
    size_t p = lx->pos + 1;
    while (p < lx->len && s[p] != '"') {
        if (s[p] == '\\') {
            if (p + 1 >= lx->len)
                break;
            if (s[p + 1] != '"' && s[p + 1] != '\\')
                return bvt__fail(err, BVT_ESYNTAX, (int64_t)p,
                                "unknown escape in string (only \\\" and \\\\)");
            p++;
        }
        p++;
    }
    if (p >= lx->len)
        return bvt__fail(err, BVT_ESYNTAX, (int64_t)lx->pos, "unterminated string");
    t->kind = T_STRING;
    t->len = (uint32_t)(p + 1 - lx->pos);
    lx->pos = p + 1;
    return BVT_OK;
}

size_t rule_lex_unescape(const char *text, const rule_tok *t, char *dst)
{
    const char *s = text + t->off + 1;
    size_t n = t->len - 2, o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            i++;
        dst[o++] = s[i];
    }
    return o;
}

static const struct {
    const char *word;
    int kind;
} keywords[] = {
    { "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
    { "true", T_TRUE }, { "false", T_FALSE },
};

int rule_lex_next(rule_lexer *lx, rule_tok *t, bvt_error *err)
{
    const char *s = lx->text;
    while (lx->pos < lx->len && is_space(s[lx->pos]))
        lx->pos++;
    memset(t, 0, sizeof *t);
    t->off = (uint32_t)lx->pos;
    if (lx->pos >= lx->len) {
        t->kind = T_EOF;
        return BVT_OK;
    }
    char c = s[lx->pos];
    if (is_digit(c))
        return lex_number(lx, t, err);
    if (c == '"')
        return lex_string(lx, t, err);
    if (is_alpha(c)) {
        size_t p = lx->pos;
        while (p < lx->len && (is_alpha(s[p]) || is_digit(s[p])))
            p++;
        t->kind = T_IDENT;
        t->len = (uint32_t)(p - lx->pos);
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
            if (strlen(keywords[i].word) == t->len && memcmp(keywords[i].word, s + lx->pos, t->len) == 0)
                t->kind = keywords[i].kind;
        lx->pos = p;
        return BVT_OK;
    }
    char n = lx->pos + 1 < lx->len ? s[lx->pos + 1] : '\0';
    t->len = 1;
    switch (c) {
    case '(': t->kind = T_LPAREN; break;
    case ')': t->kind = T_RPAREN; break;
    case ',': t->kind = T_COMMA; break;
    case '*': t->kind = T_STAR; break;
    case '+': t->kind = T_PLUS; break;
    case '-': t->kind = T_MINUS; break;
    case '/': t->kind = T_SLASH; break;
    case '.':
        t->kind = n == '.' ? T_DOTDOT : T_DOT;
        t->len = n == '.' ? 2 : 1;
        break;
    case '<':
        t->kind = n == '=' ? T_LE : T_LT;
        t->len = n == '=' ? 2 : 1;
        break;
    case '>':
        t->kind = n == '=' ? T_GE : T_GT;
        t->len = n == '=' ? 2 : 1;
        break;
    case '=':
        if (n != '=')
            return bvt__fail(err, BVT_ESYNTAX, (int64_t)lx->pos, "unexpected '=' (compare with '==')");
        t->kind = T_EQ;
        t->len = 2;
        break;
    case '!':
        if (n != '=')
            return bvt__fail(err, BVT_ESYNTAX, (int64_t)lx->pos, "unexpected '!' (negate with 'not')");
        t->kind = T_NE;
        t->len = 2;
        break;
    default:
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            return bvt__fail(err, BVT_ESYNTAX, (int64_t)lx->pos, "unexpected character '%c'", c);
        return bvt__fail(err, BVT_ESYNTAX, (int64_t)lx->pos, "unexpected byte 0x%02x",
                        (unsigned)(unsigned char)c);
    }
    lx->pos += t->len;
    return BVT_OK;
}
