/* buf.c - growable byte buffer and checked allocation helpers. */
#include "util/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation failure: injected for tests, recovered under a guard ---- */

static long fail_nth;     /* 0: off; else the allocation number that fails */
static long alloc_number; /* allocations since wpd_alloc_fail_nth */
static _Thread_local wpd_oom_guard *guards;

void wpd_alloc_fail_nth(long n)
{
    fail_nth = n;
    alloc_number = 0;
}

long wpd_alloc_count(void)
{
    return alloc_number;
}

static bool injected_failure(void)
{
    if (!fail_nth)
        return false;
    return ++alloc_number == fail_nth;
}

void wpd_oom_guard_push(wpd_oom_guard *g)
{
    g->prev = guards;
    guards = g;
}

void wpd_oom_guard_pop(wpd_oom_guard *g)
{
    if (guards == g)
        guards = g->prev;
}

void wpd_oom_raise(void)
{
    wpd_oom_guard *g = guards;
    if (g) {
        guards = g->prev;
        longjmp(g->env, 1);
    }
    fputs("wpdock: out of memory\n", stderr);
    abort();
}

static void oom(void)
{
    wpd_oom_raise();
}

void *wpd_try_malloc(size_t n)
{
    return injected_failure() ? NULL : malloc(n ? n : 1);
}

void *wpd_try_realloc(void *p, size_t n)
{
    return injected_failure() ? NULL : realloc(p, n ? n : 1);
}

void *wpd_xmalloc(size_t n)
{
    void *p = wpd_try_malloc(n);
    if (!p)
        oom();
    return p;
}

void *wpd_xcalloc(size_t n, size_t size)
{
    void *p = injected_failure() ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *wpd_xrealloc(void *p, size_t n)
{
    void *q = wpd_try_realloc(p, n);
    if (!q)
        oom();
    return q;
}

char *wpd_xstrdup(const char *s)
{
    return wpd_xstrndup(s, strlen(s));
}

char *wpd_xstrndup(const char *s, size_t n)
{
    char *p = wpd_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *wpd_xasprintf(const char *fmt, ...)
{
    wpd_buf b = WPD_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0)
        n = 0;
    wpd_buf_reserve(&b, (size_t)n);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap2);
    b.len = (size_t)n;
    va_end(ap2);
    va_end(ap);
    return wpd_buf_steal(&b);
}

int wpd_buf_try_reserve(wpd_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *grown = wpd_try_realloc(b->data, cap);
    if (!grown)
        return -1;
    b->data = grown;
    b->cap = cap;
    return 0;
}

void wpd_buf_reserve(wpd_buf *b, size_t extra)
{
    if (wpd_buf_try_reserve(b, extra) != 0)
        oom();
}

void wpd_buf_append(wpd_buf *b, const void *data, size_t len)
{
    wpd_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void wpd_buf_puts(wpd_buf *b, const char *s)
{
    wpd_buf_append(b, s, strlen(s));
}

void wpd_buf_putc(wpd_buf *b, char c)
{
    wpd_buf_append(b, &c, 1);
}

void wpd_buf_printf(wpd_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    char tmp[1];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) {
        wpd_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void wpd_buf_consume(wpd_buf *b, size_t n)
{
    if (n >= b->len) {
        wpd_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void wpd_buf_reset(wpd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void wpd_buf_free(wpd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *wpd_buf_steal(wpd_buf *b)
{
    char *p = b->data;
    if (!p)
        p = wpd_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *wpd_buf_cstr(const wpd_buf *b)
{
    return b->data ? b->data : "";
}
