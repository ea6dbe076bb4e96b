/* cli_util.c — files, options, errors and output for bvt (the engine is in
 * cli_engine.c). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_file_load(cli_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->data = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "bvt: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int have_stat = fstat(fd, &st) == 0;
    if (have_stat && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "bvt: %s: is a directory\n", path);
        close(fd);
        return -1;
    }
    if (have_stat && S_ISREG(st.st_mode) && st.st_size > 0) {
        /* Populated up front: one pass of faults in the kernel is much
         * cheaper than one fault per page while parsing. */
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            f->map = m;
            f->map_len = (size_t)st.st_size;
            f->data = m;
            f->len = (size_t)st.st_size;
            close(fd);
            return 0;
        }
    }
    /* Pipes and the like: read it all. */
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fprintf(stderr, "bvt: %s: out of memory\n", path);
            close(fd);
            return -1;
        }
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
            continue;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "bvt: %s: %s\n", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    f->heap = buf;
    f->data = buf;
    f->len = n;
    return 0;
}

int64_t cli_file_written_ms(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void cli_file_free(cli_file *f)
{
    if (f->map)
        munmap(f->map, f->map_len);
    free(f->heap);
    memset(f, 0, sizeof *f);
}

void cli_input_error(const char *path, size_t line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%zu: ", path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_input_error_at(const char *path, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%zu:%zu: ", path, line, col);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("bvt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return CLI_EXIT_USAGE;
}

int cli_parse(int argc, char **argv, const char *usage, const cli_opt *opts, size_t nopts,
              const char **positional, size_t max_positional, size_t *npositional)
{
    int only_positional = 0;
    *npositional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        if (!only_positional && a[0] == '-' && a[1] != '\0') {
            const char *name = a[1] == '-' ? a + 2 : a + 1;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            size_t k = 0;
            while (k < nopts && !(a[1] == '-' && strlen(opts[k].name) == nlen
                                  && memcmp(opts[k].name, name, nlen) == 0))
                k++;
            if (k == nopts)
                return cli_usage_error(usage, "unknown option '%s'", a);
            if (eq) {
                *opts[k].value = eq + 1;
            } else {
                if (i + 1 >= argc)
                    return cli_usage_error(usage, "option '%s' needs a value", a);
                *opts[k].value = argv[++i];
            }
            continue;
        }
        if (*npositional == max_positional)
            return cli_usage_error(usage, "unexpected argument '%s'", a);
        positional[(*npositional)++] = a;
    }
    return -1;
}

int cli_take_flag(int *argc, char **argv, const char *name)
{
    int found = 0, n = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[n++] = argv[i++];
            break;
        }
        if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, name) == 0) {
            found = 1;
            continue;
        }
        argv[n++] = argv[i];
        if (a[0] == '-' && a[1] == '-' && a[2] && !strchr(a, '=') && strcmp(a, "--help") != 0
            && i + 1 < *argc)
            argv[n++] = argv[++i]; /* its value */
    }
    *argc = n;
    return found;
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- buffered output ------------------------------------------------ */

static int out_reserve(cli_out *o, size_t more)
{
    if (o->oom)
        return -1;
    if (o->n + more + 1 <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->n + more + 1)
        cap *= 2;
    char *p = realloc(o->p, cap);
    if (!p) {
        o->oom = 1;
        return -1;
    }
    o->p = p;
    o->cap = cap;
    return 0;
}

void cli_out_reserve(cli_out *o, size_t n) { out_reserve(o, n); }

void cli_out_bytes(cli_out *o, const char *s, size_t n)
{
    if (out_reserve(o, n) < 0)
        return;
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

void cli_out_printf(cli_out *o, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        cli_out_bytes(o, small, (size_t)n);
        return;
    }
    if (out_reserve(o, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(o->p + o->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->n += (size_t)n;
}

void cli_out_fixed6(cli_out *o, double v)
{
    char b[48];
    if (!isfinite(v) || fabs(v) >= 1e12) { /* not expected from the library */
        cli_out_printf(o, "%.6g", v);
        return;
    }
    /* Integer arithmetic instead of printf("%.6f"), which dominates output
     * time; v * 1e6 is exact to within an ulp, so only values within an ulp
     * of a half-millionth can round differently. */
    long long r = llround(fabs(v) * 1e6);
    int n = sizeof b, neg = v < 0 && r != 0;
    long long ip = r / 1000000, fp = r % 1000000;
    b[--n] = '\0';
    if (fp) {
        int digits = 6;
        while (fp % 10 == 0) {
            fp /= 10;
            digits--;
        }
        while (digits--) {
            b[--n] = (char)('0' + fp % 10);
            fp /= 10;
        }
        b[--n] = '.';
    }
    do {
        b[--n] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (neg)
        b[--n] = '-';
    cli_out_bytes(o, b + n, sizeof b - 1 - (size_t)n);
}

void cli_out_csv_field(cli_out *o, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ',' && s[i] != '"' && s[i] != '\r' && s[i] != '\n')
        i++;
    if (i == n) {
        cli_out_bytes(o, s, n);
        return;
    }
    cli_out_bytes(o, "\"", 1);
    size_t run = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '"') {
            cli_out_bytes(o, s + run, i + 1 - run); /* the quote, then its double */
            run = i;
        }
    }
    cli_out_bytes(o, s + run, n - run);
    cli_out_bytes(o, "\"", 1);
}

void cli_out_json_string(cli_out *o, const char *s, size_t n)
{
    cli_out_bytes(o, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cli_out_bytes(o, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': cli_out_bytes(o, "\\\"", 2); break;
        case '\\': cli_out_bytes(o, "\\\\", 2); break;
        case '\n': cli_out_bytes(o, "\\n", 2); break;
        case '\r': cli_out_bytes(o, "\\r", 2); break;
        case '\t': cli_out_bytes(o, "\\t", 2); break;
        default: cli_out_printf(o, "\\u%04x", c); break;
        }
    }
    cli_out_bytes(o, s + run, n - run);
    cli_out_bytes(o, "\"", 1);
}

void cli_out_double(cli_out *o, double v)
{
    if (v == 0)
        v = 0; /* no -0 */
    char text[32];
    /* the shortest of %.15g .. %.17g that reads back exactly, as the
     * library's JSON does: 15.3 stays 15.3, and nothing held is rounded off */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (prec == 17 || strtod(text, NULL) == v)
            break;
    }
    cli_out_bytes(o, text, strlen(text));
}

void cli_out_json_number(cli_out *o, double v)
{
    if (!isfinite(v))
        cli_out_bytes(o, "null", 4);
    else
        cli_out_double(o, v);
}

void cli_out_json_time(cli_out *o, int64_t ms)
{
    char text[BVT_TIME_TEXT_MAX];
    size_t n;
    if (ms != 0 && bvt_time_format(ms, text, sizeof text, &n) == BVT_OK)
        cli_out_json_string(o, text, n);
    else
        cli_out_bytes(o, "null", 4);
}

int cli_out_flush(cli_out *o)
{
    int rc = 0;
    if (o->oom) {
        fprintf(stderr, "bvt: out of memory\n");
        rc = CLI_EXIT_FAIL;
    } else if ((o->n && fwrite(o->p, 1, o->n, stdout) != o->n) || fflush(stdout) != 0) {
        fprintf(stderr, "bvt: writing output: %s\n", strerror(errno));
        rc = CLI_EXIT_FAIL;
    }
    cli_out_free(o);
    return rc;
}

void cli_out_free(cli_out *o)
{
    free(o->p);
    memset(o, 0, sizeof *o);
}
