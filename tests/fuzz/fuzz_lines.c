/* fuzz_lines.c - the log line splitter with secret masking
 * (core/woodpecker/lines.c) fed in arbitrary chunk splits.
 *
 * Input: [max][secret count][per secret: length, bytes][chunk sizes]
 * [stream]. max: the line limit M (1..64, or 0 for the 1 MiB default).
 * Asserts:
 *   - the emitted chunks, concatenated, are exactly wpd_masker_apply() of
 *     the whole stream at once: chunking and read boundaries change
 *     nothing, also for a secret straddling them;
 *   - when every secret is "plain" (printable ASCII without space or '*',
 *     so it is its own single pattern), the masked text equals a naive
 *     leftmost, longest-first reference, and no secret survives in it;
 *   - no chunk is longer than M, a '\n' only ends a chunk, and every chunk
 *     but the one emitted at the end ends in '\n' or is M bytes long;
 *   - a splitter fed again after wpd_lines_finish gives the same chunks. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "fuzz.h"
#include "woodpecker/lines.h"

#define MAX_SECRETS 4

typedef struct collect {
    wpd_buf all;
    size_t max, chunks, last_len;
    int last_open;  /* the last chunk neither ends in '\n' nor is M long */
    int after_open; /* a chunk followed an open one */
} collect;

static void on_line(void *arg, const char *line, size_t len)
{
    collect *c = arg;
    FZ_ASSERT(len <= c->max);
    const char *nl = memchr(line, '\n', len);
    FZ_ASSERT(!nl || nl == line + len - 1);
    if (c->last_open)
        c->after_open = 1;
    c->last_open = !nl && len != c->max;
    c->chunks++;
    wpd_buf_append(&c->all, line, len);
}

static void run(const wpd_masker *m, size_t max, const char *s, size_t len, const fz_chunks *ch0,
                collect *c)
{
    fz_chunks ch = *ch0;
    wpd_lines l;
    wpd_lines_init(&l, max, m, on_line, c);
    l.keep_newline = 1;
    for (int pass = 0; pass < 2; pass++) {
        collect *cc = &c[pass];
        l.arg = cc;
        cc->max = max ? max : WPD_LINES_DEFAULT_MAX;
        size_t at = 0;
        while (at < len) {
            size_t k = fz_chunk(&ch, len - at);
            wpd_lines_feed(&l, s + at, k);
            at += k;
        }
        wpd_lines_finish(&l);
        FZ_ASSERT(!cc->after_open);
    }
    wpd_lines_free(&l);
}

static int plain(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '*')
            return 0;
    return 1;
}

/* Naive masking: at each position the longest matching secret (ties:
 * byte order) becomes the mask. Secrets of 3 bytes or less do not count. */
static void naive_mask(char **sec, size_t n, const char *s, size_t len, wpd_buf *out)
{
    size_t i = 0;
    while (i < len) {
        size_t best = 0;
        for (size_t k = 0; k < n; k++) {
            size_t sl = strlen(sec[k]);
            if (sl > 3 && sl > best && sl <= len - i && memcmp(s + i, sec[k], sl) == 0)
                best = sl;
        }
        if (best) {
            wpd_buf_puts(out, WPD_MASK);
            i += best;
        } else {
            wpd_buf_putc(out, s[i++]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    size_t max = fz_byte(&in) % 65;
    size_t nsec = fz_byte(&in) % (MAX_SECRETS + 1);
    char *sec[MAX_SECRETS];
    int all_plain = 1;
    for (size_t i = 0; i < nsec; i++) {
        size_t got;
        const uint8_t *p = fz_take(&in, fz_byte(&in) % 24, &got);
        sec[i] = fz_strndup(p, got);
        all_plain &= plain(sec[i]);
    }
    fz_chunks ch;
    fz_chunks_read(&in, &ch);
    const char *s = (const char *)in.p;
    size_t len = in.n;

    wpd_masker *m = wpd_masker_new((const char *const *)sec, nsec);
    wpd_buf whole = WPD_BUF_INIT;
    wpd_masker_apply(m, s, len, &whole);

    collect c[2];
    memset(c, 0, sizeof c);
    run(m, max, s, len, &ch, c);
    for (int pass = 0; pass < 2; pass++) {
        FZ_ASSERT(c[pass].all.len == whole.len);
        FZ_ASSERT(whole.len == 0 || memcmp(c[pass].all.data, whole.data, whole.len) == 0);
        FZ_ASSERT(c[pass].chunks == c[0].chunks);
        wpd_buf_free(&c[pass].all);
    }

    if (all_plain) {
        wpd_buf ref = WPD_BUF_INIT;
        naive_mask(sec, nsec, s, len, &ref);
        FZ_ASSERT(ref.len == whole.len && (ref.len == 0 || !memcmp(ref.data, whole.data, ref.len)));
        for (size_t k = 0; k < nsec; k++)
            if (strlen(sec[k]) > 3 && whole.len)
                FZ_ASSERT(!memmem(whole.data, whole.len, sec[k], strlen(sec[k])));
        wpd_buf_free(&ref);
    }
    wpd_buf_free(&whole);
    wpd_masker_free(m);
    for (size_t i = 0; i < nsec; i++)
        free(sec[i]);
    return 0;
}
