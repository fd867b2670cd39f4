/* lines_fixtures.h - what the line splitter and masking tests share:
 * capturing the chunks a splitter emits, comparing two captures exactly,
 * and feeding data in given pieces, at given cut points or byte by byte. */
#ifndef WPDOCK_TEST_LINES_FIXTURES_H
#define WPDOCK_TEST_LINES_FIXTURES_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/lines.h"

/* ---- capturing emitted chunks */

typedef struct chunks {
    wpd_buf joined; /* chunks separated by '|' (for readable vectors) */
    wpd_buf framed; /* [8-byte length][bytes] per chunk (exact) */
    size_t n;
} chunks;

static inline void on_chunk(void *arg, const char *line, size_t len)
{
    chunks *c = arg;
    wpd_buf_append(&c->joined, line, len);
    wpd_buf_putc(&c->joined, '|');
    uint64_t l = len;
    wpd_buf_append(&c->framed, &l, sizeof l);
    wpd_buf_append(&c->framed, line, len);
    c->n++;
}

static inline void chunks_free(chunks *c)
{
    wpd_buf_free(&c->joined);
    wpd_buf_free(&c->framed);
}

static inline void assert_same(const chunks *a, const chunks *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->framed.len, b->framed.len);
    if (a->framed.len)
        ck_assert(memcmp(a->framed.data, b->framed.data, a->framed.len) == 0);
}

/* Feed pieces (NULL-terminated list) and finish. */
static inline void run_pieces(size_t max, const wpd_masker *m, int keep_nl,
                              const char *const *pieces, chunks *out)
{
    wpd_lines l;
    wpd_lines_init(&l, max, m, on_chunk, out);
    l.keep_newline = keep_nl;
    for (size_t i = 0; pieces[i]; i++)
        wpd_lines_feed(&l, pieces[i], strlen(pieces[i]));
    wpd_lines_finish(&l);
    wpd_lines_free(&l);
}

/* Feed data in pieces ending at cuts[] (ascending), then finish. */
static inline void run_cuts(size_t max, const wpd_masker *m, int keep_nl, const char *data,
                            size_t len, const size_t *cuts, size_t ncuts, chunks *out)
{
    wpd_lines l;
    wpd_lines_init(&l, max, m, on_chunk, out);
    l.keep_newline = keep_nl;
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        wpd_lines_feed(&l, data + at, end - at);
        at = end;
    }
    wpd_lines_finish(&l);
    wpd_lines_free(&l);
}

static inline void run_bytewise(size_t max, const wpd_masker *m, int keep_nl, const char *data,
                                size_t len, chunks *out)
{
    wpd_lines l;
    wpd_lines_init(&l, max, m, on_chunk, out);
    l.keep_newline = keep_nl;
    for (size_t i = 0; i < len; i++)
        wpd_lines_feed(&l, data + i, 1);
    wpd_lines_finish(&l);
    wpd_lines_free(&l);
}

#endif
