/* rule_vm.c — evaluates compiled rules: a loop over the bytecode with a
 * fixed stack of doubles.  The compiler bounded the stack depth and checked
 * every operand, so nothing here can fail, allocate or parse rule text. */
#include <math.h>
#include <string.h>

#include "rule_internal.h"

static double ctx_number(const bvt_rule_env *env, const char *key, size_t klen)
{
    const char *v = NULL;
    size_t n = 0;
    double d;
    if (!env->context(env->ud, key, klen, &v, &n) || !v || rule_parse_decimal(v, n, &d) != 0)
        return NAN;
    return d;
}

/* 1 present and equal, 0 present and different, -1 absent. */
static int ctx_equals(const bvt_rule_env *env, const char *key, size_t klen, const char *s,
                      size_t n)
{
    const char *v = NULL;
    size_t vn = 0;
    if (!env->context(env->ud, key, klen, &v, &vn) || (!v && vn))
        return -1;
    return vn == n && (n == 0 || memcmp(v, s, n) == 0);
}

int bvt__rule_eval(const bvt_rule *r, const bvt_rule_env *env)
{
    double st[RULE_STACK];
    int sp = -1; /* index of the top */
    const rule_ins *code = r->code;
    const rule_ins *pc = code;
    for (;; pc++) {
        switch ((enum rule_op)pc->op) {
        case OP_END:
            return sp >= 0 && st[sp] != 0;
        case OP_PUSH:
            st[++sp] = pc->v.d;
            break;
        case OP_FEATURE:
            st[++sp] = env->feature(env->ud, pc->a);
            break;
        case OP_INTEREST:
            st[++sp] = env->interest(env->ud, pc->a);
            break;
        case OP_COUNT:
        case OP_SUM:
        case OP_DID: {
            uint64_t count = 0;
            double sum = 0;
            env->window(env->ud, pc->a, pc->b, pc->v.ms, &count, &sum);
            st[++sp] = pc->op == OP_COUNT ? (double)count : pc->op == OP_SUM ? sum : count > 0;
            break;
        }
        case OP_CARTED:
            st[++sp] = env->carted_not_bought(env->ud, pc->v.ms) > 0;
            break;
        case OP_VIEWED:
            st[++sp] = env->viewed_not_bought(env->ud, pc->a, pc->v.ms) > 0;
            break;
        case OP_CONSENT:
            st[++sp] = env->consent(env->ud, pc->a) > 0;
            break;
        case OP_IN_SEGMENT:
            st[++sp] = env->in_segment(env->ud, pc->a) > 0;
            break;
        case OP_ATTR_NUM: {
            double num = 0;
            uint32_t str = 0;
            st[++sp] = env->attr(env->ud, pc->a, &num, &str) == BVT_ATTR_NUMBER ? num : NAN;
            break;
        }
        case OP_CTX_NUM:
            st[++sp] = ctx_number(env, r->str + pc->a, pc->klen);
            break;
        case OP_NEG:
            st[sp] = -st[sp];
            break;
        case OP_ADD:
            sp--;
            st[sp] += st[sp + 1];
            break;
        case OP_SUB:
            sp--;
            st[sp] -= st[sp + 1];
            break;
        case OP_MUL:
            sp--;
            st[sp] *= st[sp + 1];
            break;
        case OP_DIV:
            sp--;
            st[sp] = st[sp + 1] == 0 ? NAN : st[sp] / st[sp + 1];
            break;
        case OP_NOT:
            st[sp] = st[sp] == 0;
            break;
        case OP_EQ:
            sp--;
            st[sp] = st[sp] == st[sp + 1];
            break;
        case OP_NE: /* false when either side has no value, like == */
            sp--;
            st[sp] = st[sp] < st[sp + 1] || st[sp] > st[sp + 1];
            break;
        case OP_LT:
            sp--;
            st[sp] = st[sp] < st[sp + 1];
            break;
        case OP_LE:
            sp--;
            st[sp] = st[sp] <= st[sp + 1];
            break;
        case OP_GT:
            sp--;
            st[sp] = st[sp] > st[sp + 1];
            break;
        case OP_GE:
            sp--;
            st[sp] = st[sp] >= st[sp + 1];
            break;
        case OP_IN_NUM: {
            double x = st[sp];
            int hit = 0;
            for (uint32_t k = 0; k < pc->c && !hit; k++)
                hit = x == r->nums[pc->b + k];
            st[sp] = hit;
            break;
        }
        case OP_RANGE:
            st[sp] = r->nums[pc->b] <= st[sp] && st[sp] <= r->nums[pc->b + 1];
            break;
        case OP_ATTR_STR:
        case OP_ATTR_STR_IN: {
            double num = 0;
            uint32_t str = 0;
            int hit = 0;
            if (env->attr(env->ud, pc->a, &num, &str) == BVT_ATTR_STRING) {
                if (pc->op == OP_ATTR_STR)
                    hit = (str == pc->b) != pc->neg;
                else
                    for (uint32_t k = 0; k < pc->c && !hit; k++)
                        hit = str == r->u32[pc->b + k];
            }
            st[++sp] = hit;
            break;
        }
        case OP_CTX_STR: {
            int eq = ctx_equals(env, r->str + pc->a, pc->klen, r->str + pc->b, pc->c);
            st[++sp] = eq >= 0 && eq != pc->neg;
            break;
        }
        case OP_CTX_STR_IN: {
            const char *v = NULL;
            size_t n = 0;
            int hit = 0;
            if (env->context(env->ud, r->str + pc->a, pc->klen, &v, &n) && (v || !n)) {
                for (uint32_t k = 0; k < pc->c && !hit; k++) {
                    const uint32_t *pair = r->u32 + pc->b + 2 * k;
                    hit = n == pair[1] && (n == 0 || memcmp(v, r->str + pair[0], n) == 0);
                }
            }
            st[++sp] = hit;
            break;
        }
        case OP_CTX_WITHIN: {
            const char *v = NULL;
            size_t n = 0;
            int hit = 0;
            if (env->context(env->ud, r->str + pc->a, pc->klen, &v, &n) && v && n >= pc->c &&
                memcmp(v, r->str + pc->b, pc->c) == 0)
                hit = n == pc->c || v[pc->c] == '/';
            st[++sp] = hit;
            break;
        }
        case OP_AND:
            if (st[sp] == 0)
                pc = code + pc->a - 1;
            else
                sp--;
            break;
        case OP_OR:
            if (st[sp] != 0)
                pc = code + pc->a - 1;
            else
                sp--;
            break;
        }
    }
}
