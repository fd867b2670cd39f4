/* buf.h - growable byte buffer, always NUL-terminated after its contents.
 * Used for HTTP bodies, JSON writing and log line assembly. Aborts the
 * process on allocation failure (see wpd_xmalloc): out of memory is not a
 * condition the runner can recover from meaningfully. */
#ifndef WPDOCK_BUF_H
#define WPDOCK_BUF_H

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

void *wpd_xmalloc(size_t n);
void *wpd_xcalloc(size_t n, size_t size);
void *wpd_xrealloc(void *p, size_t n);
char *wpd_xstrdup(const char *s);
char *wpd_xstrndup(const char *s, size_t n);
char *wpd_xasprintf(const char *fmt, ...) WPD_PRINTF(1, 2);

#endif
