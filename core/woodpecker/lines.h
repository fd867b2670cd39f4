/* lines.h - log bytes -> line chunks (spec 5.7.1) with secret masking
 * (spec 5.7.4).
 *
 * Chunking follows the Woodpecker agent: a chunk ends after each '\n', and a
 * line longer than M bytes is cut into M-byte pieces counted from the start
 * of the line (the last piece carries the '\n'); at EOF the remainder is
 * emitted without a newline. Unlike the agent, masking is applied to the
 * whole line before it is cut, and across the pieces in which the bytes
 * arrived, so a secret is masked even when it straddles a network read or an
 * M-byte boundary. With masking the M-byte cuts are counted on the masked
 * text. A completed line is always emitted at once; of an unfinished line,
 * up to (longest secret - 1) trailing bytes that could begin a secret wait
 * for the next feed. Memory stays bounded for lines of any length. */
#ifndef WPDOCK_LINES_H
#define WPDOCK_LINES_H

#include <stddef.h>

#include "util/buf.h"

#define WPD_LINES_DEFAULT_MAX ((size_t)1 << 20)
#define WPD_MASK "********"

typedef struct wpd_masker wpd_masker;

/* Patterns from secret values: each value is trimmed of leading/trailing
 * (Unicode) whitespace, skipped when then <= 3 bytes, split on '\n'; every
 * non-empty piece is a pattern. Patterns are tried longest first (ties in
 * byte order, duplicates dropped). NULL values are skipped. NULL only when
 * memory ran out. */
wpd_masker *wpd_masker_new(const char *const *secrets, size_t n);
void wpd_masker_free(wpd_masker *m);
/* Number of patterns. */
size_t wpd_masker_count(const wpd_masker *m);
/* Append a masked copy of s[0..len) to *out: scanning left to right without
 * overlaps, each pattern occurrence becomes WPD_MASK. m may be NULL. */
void wpd_masker_apply(const wpd_masker *m, const char *s, size_t len, wpd_buf *out);

/* One emitted chunk, masked, with ONE trailing '\n' removed (unless
 * keep_newline is set). line points into internal or caller memory, is valid
 * only during the call and is not NUL-terminated. */
typedef void (*wpd_line_cb)(void *arg, const char *line, size_t len);

typedef struct wpd_lines {
    wpd_buf pending; /* the unfinished chunk (already masked) */
    wpd_buf masked;  /* masker only: scratch for the masked form of the input */
    wpd_buf hold;    /* masker only: raw bytes whose masking depends on bytes
                      * not yet seen (a possible start of a secret) */
    size_t max;      /* M */
    const wpd_masker *m;
    wpd_line_cb cb;
    void *arg;
    int keep_newline; /* set to 1 after init to get chunks exactly as cut */
} wpd_lines;

/* max 0 = WPD_LINES_DEFAULT_MAX (1 MiB). m may be NULL (no masking); it is
 * borrowed and must outlive l. */
void wpd_lines_init(wpd_lines *l, size_t max, const wpd_masker *m, wpd_line_cb cb, void *arg);
/* 0, or -1 when memory ran out: then this input is lost (nothing unmasked
 * is ever emitted) and l can go on with the next. */
int wpd_lines_feed(wpd_lines *l, const char *data, size_t len);
/* EOF: emit the remainder (if any); l can then be fed again as a new stream.
 * 0, or -1 as for feed. */
int wpd_lines_finish(wpd_lines *l);
void wpd_lines_free(wpd_lines *l);

#endif
