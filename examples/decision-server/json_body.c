/* json_body.c — the small request bodies of /decide and /consent: one flat
 * JSON object, parsed strictly (anything unexpected is an error a client
 * can read, never a guess), and the user it names. */
#include "ds.h"

#include <string.h>

typedef struct cursor {
    const char *s;
    size_t n, i;
    char *out;       /* next free byte of the object's store */
    const char *end; /* one past the store */
} cursor;

static void skip_ws(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' ||
                           c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int put(cursor *c, unsigned char b)
{
    if (c->out >= c->end)
        return -1;
    *c->out++ = (char)b;
    return 0;
}

static int hex4(cursor *c, unsigned *v)
{
    if (c->n - c->i < 4)
        return -1;
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char h = c->s[c->i++];
        unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0')
                   : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                   : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16u;
        if (d == 16u)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static int put_utf8(cursor *c, unsigned cp)
{
    if (cp < 0x80)
        return put(c, (unsigned char)cp);
    if (cp < 0x800)
        return put(c, (unsigned char)(0xC0 | cp >> 6)) | put(c, (unsigned char)(0x80 | (cp & 0x3F)));
    if (cp < 0x10000)
        return put(c, (unsigned char)(0xE0 | cp >> 12)) |
               put(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) |
               put(c, (unsigned char)(0x80 | (cp & 0x3F)));
    return put(c, (unsigned char)(0xF0 | cp >> 18)) |
           put(c, (unsigned char)(0x80 | ((cp >> 12) & 0x3F))) |
           put(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3F))) |
           put(c, (unsigned char)(0x80 | (cp & 0x3F)));
}

/* A string at c->i (the opening quote), decoded into the store. */
static const char *string(cursor *c, const char **why)
{
    char *start = c->out;
    c->i++;
    while (c->i < c->n) {
        unsigned char ch = (unsigned char)c->s[c->i++];
        if (ch == '"')
            return put(c, 0) == 0 ? start : (*why = "body too large", NULL);
        if (ch < 0x20) {
            *why = "control character in a string";
            return NULL;
        }
        if (ch != '\\') {
            if (put(c, ch) != 0)
                break;
            continue;
        }
        if (c->i >= c->n)
            break;
        char e = c->s[c->i++];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            if (put(c, (unsigned char)map[simple - "\"\\/bfnrt"]) != 0)
                break;
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || hex4(c, &cp) != 0) {
            *why = "bad escape in a string";
            return NULL;
        }
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (c->n - c->i < 6 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u' ||
                (c->i += 2, hex4(c, &lo) != 0) || lo < 0xDC00 || lo > 0xDFFF) {
                *why = "unpaired surrogate in a string";
                return NULL;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            *why = "unpaired surrogate in a string";
            return NULL;
        }
        if (cp == 0) {
            *why = "NUL in a string";
            return NULL;
        }
        if (put_utf8(c, cp) != 0)
            break;
    }
    *why = "unterminated string";
    return NULL;
}

/* A JSON number's literal (validated by the JSON grammar), copied. */
static const char *number(cursor *c, const char **why)
{
    size_t b = c->i;
    if (c->i < c->n && c->s[c->i] == '-')
        c->i++;
    size_t d = c->i;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
        c->i++;
    int ok = c->i > d && !(c->s[d] == '0' && c->i - d > 1);
    if (ok && c->i < c->n && c->s[c->i] == '.') {
        size_t f = ++c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
        ok = c->i > f;
    }
    if (ok && c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        size_t x = c->i;
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
            c->i++;
        ok = c->i > x;
    }
    if (!ok) {
        *why = "bad number";
        return NULL;
    }
    char *start = c->out;
    for (size_t k = b; k < c->i; k++)
        if (put(c, (unsigned char)c->s[k]) != 0)
            return *why = "body too large", NULL;
    return put(c, 0) == 0 ? start : (*why = "body too large", NULL);
}

static int word(cursor *c, const char *w)
{
    size_t len = strlen(w);
    if (c->n - c->i < len || memcmp(c->s + c->i, w, len) != 0)
        return 0;
    c->i += len;
    return 1;
}

int jb_parse(jb_object *o, const char *s, size_t n, const char **why)
{
    cursor c = { s, n, 0, o->store, o->store + sizeof o->store };
    o->n = 0;
    /* JSON text is UTF-8: checked whole, so every string taken from it is
     * (escapes decode to well-formed UTF-8 too). */
    if (bvt_utf8_check(s, n) != n)
        return *why = "body is not UTF-8", -1;
    skip_ws(&c);
    if (c.i >= n || s[c.i] != '{')
        return *why = "expected a JSON object", -1;
    c.i++;
    skip_ws(&c);
    if (c.i < n && s[c.i] == '}') {
        c.i++;
    } else {
        for (;;) {
            skip_ws(&c);
            if (c.i >= n || s[c.i] != '"')
                return *why = "expected a string key", -1;
            jb_member m;
            if (!(m.key = string(&c, why)))
                return -1;
            if (jb_get(o, m.key))
                return *why = "duplicate key", -1;
            skip_ws(&c);
            if (c.i >= n || s[c.i] != ':')
                return *why = "expected ':'", -1;
            c.i++;
            skip_ws(&c);
            if (c.i >= n)
                return *why = "expected a value", -1;
            if (s[c.i] == '"') {
                m.kind = JB_STRING;
                if (!(m.text = string(&c, why)))
                    return -1;
            } else if (s[c.i] == '-' || (s[c.i] >= '0' && s[c.i] <= '9')) {
                m.kind = JB_NUMBER;
                if (!(m.text = number(&c, why)))
                    return -1;
            } else if (word(&c, "true")) {
                m.kind = JB_TRUE, m.text = "true";
            } else if (word(&c, "false")) {
                m.kind = JB_FALSE, m.text = "false";
            } else if (word(&c, "null")) {
                m.kind = JB_NULL, m.text = "null";
            } else {
                return *why = "expected a string, number, true, false or null", -1;
            }
            if (o->n == JB_MAX_MEMBERS)
                return *why = "too many keys", -1;
            o->m[o->n++] = m;
            skip_ws(&c);
            if (c.i < n && s[c.i] == ',') {
                c.i++;
                continue;
            }
            if (c.i < n && s[c.i] == '}') {
                c.i++;
                break;
            }
            return *why = "expected ',' or '}'", -1;
        }
    }
    skip_ws(&c);
    if (c.i != n)
        return *why = "text after the object", -1;
    return 0;
}

const jb_member *jb_get(const jb_object *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->m[i].key, key) == 0)
            return &o->m[i];
    return NULL;
}

/* Keys outside `known` are an error: a typo must not silently change the
 * decision. */
static const char *unknown_key(const jb_object *o, const char *const *known)
{
    for (size_t i = 0; i < o->n; i++) {
        size_t k = 0;
        while (known[k] && strcmp(known[k], o->m[i].key) != 0)
            k++;
        if (!known[k])
            return o->m[i].key;
    }
    return NULL;
}

int ds_body_open(const ds_request *req, ds_reply *rep, jb_object *o, const char *const *known,
                 ds_fresh_uid *fresh, const char **uid)
{
    const char *why;
    if (jb_parse(o, req->body, req->body_len, &why) != 0) {
        ds_reply_error(rep, 400, "body: %s", why);
        return -1;
    }
    const char *bad = unknown_key(o, known);
    if (bad) {
        ds_reply_error(rep, 400, "body: unknown key '%.64s'", bad);
        return -1;
    }
    const jb_member *u = jb_get(o, "uid");
    if (u && u->kind != JB_STRING && u->kind != JB_NULL) {
        ds_reply_error(rep, 400, "uid: must be a string");
        return -1;
    }
    *uid = ds_visitor(req, u && u->kind == JB_STRING ? u->text : NULL, fresh, rep);
    return *uid ? 0 : -1;
}
