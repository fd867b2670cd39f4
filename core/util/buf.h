/* buf.h - growable byte buffer, always NUL-terminated after its contents,
 * used for HTTP bodies, JSON writing and log line assembly; and the checked
 * allocation helpers everything uses.
 *
 * Allocation failure: the wpd_x* helpers never return NULL. Code that can
 * give all its memory back (the parsers of foreign bytes: they own an arena
 * or a struct) runs under a wpd_oom_guard, and a failed allocation inside
 * jumps back to the guard, which frees and reports WPD_ERR_NOMEM. Outside
 * every guard a failed allocation ends the process with "wpdock: out of
 * memory". wpd_try_* return NULL instead, for code that checks. */
#ifndef WPDOCK_BUF_H
#define WPDOCK_BUF_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <wpdock/export.h>

typedef struct wpd_buf {
    char *data; /* NULL until the first append; then NUL-terminated */
    size_t len;
    size_t cap;
} wpd_buf;

#define WPD_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void wpd_buf_reserve(wpd_buf *b, size_t extra);
/* Room for extra more bytes without allocating later: 0, or -1 (b unchanged)
 * when memory ran out. */
int wpd_buf_try_reserve(wpd_buf *b, size_t extra);
void wpd_buf_append(wpd_buf *b, const void *data, size_t len);
void wpd_buf_puts(wpd_buf *b, const char *s);
void wpd_buf_putc(wpd_buf *b, char c);
void wpd_buf_printf(wpd_buf *b, const char *fmt, ...) WPD_PRINTF(2, 3);
/* Drop the first n bytes (n <= len). */
void wpd_buf_consume(wpd_buf *b, size_t n);
void wpd_buf_reset(wpd_buf *b); /* len = 0, keeps memory */
void wpd_buf_free(wpd_buf *b);
/* Hand the contents to the caller (malloc'd, NUL-terminated, never NULL). */
char *wpd_buf_steal(wpd_buf *b);
/* Contents as a C string ("" when empty). */
const char *wpd_buf_cstr(const wpd_buf *b);

/* A recovery point for allocation failure. Use as
 *     wpd_oom_guard g;
 *     wpd_oom_guard_push(&g);
 *     if (setjmp(g.env) != 0) { ...free what is owned, fail with NOMEM... }
 *     ...work...
 *     wpd_oom_guard_pop(&g);
 * Guards nest; a jump pops its guard. Objects changed after setjmp and read
 * in the recovery branch must live in memory reached through pointers set
 * before it (not in local variables). */
typedef struct wpd_oom_guard {
    jmp_buf env;
    struct wpd_oom_guard *prev;
} wpd_oom_guard;
void wpd_oom_guard_push(wpd_oom_guard *g);
void wpd_oom_guard_pop(wpd_oom_guard *g);
/* What a failed allocation does: jump to the innermost guard (popping it),
 * or end the process. A guard's recovery branch that only cleans up its
 * own part calls it to hand the failure on. */
_Noreturn void wpd_oom_raise(void);

/* Tests: make the n-th allocation from now fail (0: none), and count. */
void wpd_alloc_fail_nth(long n);
long wpd_alloc_count(void);

void *wpd_try_malloc(size_t n);
void *wpd_try_realloc(void *p, size_t n);
void *wpd_xmalloc(size_t n);
void *wpd_xcalloc(size_t n, size_t size);
void *wpd_xrealloc(void *p, size_t n);
char *wpd_xstrdup(const char *s);
char *wpd_xstrndup(const char *s, size_t n);
char *wpd_xasprintf(const char *fmt, ...) WPD_PRINTF(1, 2);

#endif
