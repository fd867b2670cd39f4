/* lines.c - line splitting of log output and secret masking across chunk
 * edges. */
#define _GNU_SOURCE /* memmem */
#include "woodpecker/lines.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MASK_LEN (sizeof WPD_MASK - 1)
/* Input is masked in slices of this size to bound memory. */
#define MASK_SLICE ((size_t)64 * 1024)

typedef struct pattern {
    char *s;
    size_t len;
} pattern;

struct wpd_masker {
    pattern *pat; /* grouped by first byte; longest first inside a group */
    size_t n;
    size_t maxlen; /* longest pattern */
    size_t minlen; /* shortest pattern: masking grows text at most MASK_LEN / minlen + 1 times */
    uint32_t bstart[256], bcount[256];
    unsigned char is_first[256];
    /* bit (a << 8 | b) is set when some pattern starts with bytes a b (or is
     * the single byte a): positions without a hit need no closer look */
    uint64_t bigram[65536 / 64];
};

/* ---- building the pattern list */

static int is_ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Length of a non-ASCII Unicode white-space character encoded at p (at most
 * avail bytes), 0 if there is none. */
static size_t uspace_at(const unsigned char *p, size_t avail)
{
    if (avail >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2; /* U+0085, U+00A0 */
    if (avail < 3)
        return 0;
    if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
        return 3; /* U+1680 */
    if (p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3; /* U+2000-200A, U+2028, U+2029, U+202F */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3; /* U+205F */
    if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
        return 3; /* U+3000 */
    return 0;
}

/* Trim white space like Go's strings.TrimSpace. */
static void trim_space(const char **s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t n = *len;
    for (;;) {
        size_t k = 0;
        if (n > 0 && is_ascii_space(p[0]))
            k = 1;
        else if (n > 0)
            k = uspace_at(p, n);
        if (!k)
            break;
        p += k;
        n -= k;
    }
    for (;;) {
        size_t k = 0;
        if (n > 0 && is_ascii_space(p[n - 1]))
            k = 1;
        else if (n >= 2 && uspace_at(p + n - 2, 2) == 2)
            k = 2;
        else if (n >= 3 && uspace_at(p + n - 3, 3) == 3)
            k = 3;
        if (!k)
            break;
        n -= k;
    }
    *s = (const char *)p;
    *len = n;
}

/* Priority order: longer first, then byte order. */
static int pattern_cmp(const void *a, const void *b)
{
    const pattern *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return memcmp(x->s, y->s, x->len);
}

wpd_masker *wpd_masker_new(const char *const *secrets, size_t n)
{
    wpd_masker *m = wpd_try_malloc(sizeof *m);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    /* while building, m->pat holds the patterns found so far and m->n counts
     * them, so that a failed allocation frees exactly what was made */
    wpd_oom_guard guard;
    wpd_oom_guard_push(&guard);
    if (setjmp(guard.env) != 0) {
        wpd_masker_free(m);
        return NULL;
    }
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (!secrets[i])
            continue;
        const char *v = secrets[i];
        size_t vlen = strlen(v);
        trim_space(&v, &vlen);
        if (vlen <= 3)
            continue;
        const char *end = v + vlen;
        for (;;) {
            const char *nl = memchr(v, '\n', (size_t)(end - v));
            const char *stop = nl ? nl : end;
            if (stop > v) {
                if (m->n == cap) {
                    cap = cap ? cap * 2 : 8;
                    m->pat = wpd_xrealloc(m->pat, cap * sizeof *m->pat);
                }
                m->pat[m->n].len = (size_t)(stop - v);
                m->pat[m->n].s = wpd_xstrndup(v, m->pat[m->n].len);
                m->n++;
            }
            if (!nl)
                break;
            v = nl + 1;
        }
    }
    if (m->n == 0) {
        wpd_oom_guard_pop(&guard);
        return m;
    }
    pattern *tmp = m->pat;
    size_t count = m->n;
    qsort(tmp, count, sizeof *tmp, pattern_cmp);
    size_t uniq = 0;
    for (size_t i = 0; i < count; i++) {
        if (uniq > 0 && pattern_cmp(&tmp[uniq - 1], &tmp[i]) == 0) {
            free(tmp[i].s);
            continue;
        }
        tmp[uniq++] = tmp[i];
    }
    m->n = uniq;
    /* Group by first byte, keeping the priority order inside each group
     * (patterns with different first bytes never compete at one position). */
    pattern *grouped = wpd_xmalloc(uniq * sizeof *grouped);
    wpd_oom_guard_pop(&guard);
    m->minlen = SIZE_MAX;
    for (size_t i = 0; i < uniq; i++) {
        unsigned char f = (unsigned char)tmp[i].s[0];
        m->bcount[f]++;
        if (tmp[i].len > m->maxlen)
            m->maxlen = tmp[i].len;
        if (tmp[i].len < m->minlen)
            m->minlen = tmp[i].len;
    }
    uint32_t at = 0;
    for (int f = 0; f < 256; f++) {
        m->bstart[f] = at;
        at += m->bcount[f];
        if (m->bcount[f])
            m->is_first[f] = 1;
    }
    uint32_t fill[256] = {0};
    for (size_t i = 0; i < uniq; i++) {
        unsigned char f = (unsigned char)tmp[i].s[0];
        grouped[m->bstart[f] + fill[f]++] = tmp[i];
        if (tmp[i].len == 1) {
            for (unsigned b = 0; b < 256; b++)
                m->bigram[(f << 8 | b) / 64] |= (uint64_t)1 << (b % 64);
        } else {
            unsigned bg = (unsigned)f << 8 | (unsigned char)tmp[i].s[1];
            m->bigram[bg / 64] |= (uint64_t)1 << (bg % 64);
        }
    }
    m->pat = grouped;
    free(tmp);
    return m;
}

void wpd_masker_free(wpd_masker *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->pat[i].s);
    free(m->pat);
    free(m);
}

size_t wpd_masker_count(const wpd_masker *m)
{
    return m ? m->n : 0;
}

/* ---- the masking scan */

/* Outcome at one position p with avail bytes known: 1 = pattern of *mlen
 * bytes matches, 0 = no pattern matches, -1 = undecided until more bytes are
 * known (a higher-priority pattern matches as far as the bytes go). */
static int match_at(const wpd_masker *m, const char *p, size_t avail, int final, size_t *mlen)
{
    unsigned char f = (unsigned char)p[0];
    const pattern *b = m->pat + m->bstart[f];
    for (uint32_t i = 0; i < m->bcount[f]; i++) {
        if (b[i].len <= avail) {
            if (memcmp(p, b[i].s, b[i].len) == 0) {
                *mlen = b[i].len;
                return 1;
            }
        } else if (!final && memcmp(p, b[i].s, avail) == 0) {
            return -1;
        }
    }
    return 0;
}

/* First position >= pos where some pattern could start (len if none). */
static size_t next_candidate(const wpd_masker *m, const char *s, size_t pos, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    while (pos + 1 < len) {
        unsigned bg = (unsigned)u[pos] << 8 | u[pos + 1];
        if (m->bigram[bg / 64] >> (bg % 64) & 1)
            return pos;
        pos++;
    }
    if (pos < len && m->is_first[u[pos]])
        return pos;
    return len;
}

/* One pattern: memmem does the work. */
static size_t mask_span_single(const wpd_masker *m, const char *s, size_t len, int final,
                               wpd_buf *out)
{
    const pattern *pt = &m->pat[0];
    size_t pos = 0;
    while (pos < len) {
        const char *r = memmem(s + pos, len - pos, pt->s, pt->len);
        if (!r)
            break;
        size_t at = (size_t)(r - s);
        wpd_buf_append(out, s + pos, at - pos);
        wpd_buf_append(out, WPD_MASK, MASK_LEN);
        pos = at + pt->len;
    }
    size_t stop = len;
    if (!final && pos < len) {
        /* Positions where the pattern does not fit yet: stop at the first
         * one where the known bytes are a prefix of it. */
        size_t c = len - pos >= pt->len ? len - pt->len + 1 : pos;
        while (c < len) {
            const char *r = memchr(s + c, pt->s[0], len - c);
            if (!r)
                break;
            c = (size_t)(r - s);
            if (memcmp(s + c, pt->s, len - c) == 0) {
                stop = c;
                break;
            }
            c++;
        }
    }
    wpd_buf_append(out, s + pos, stop - pos);
    return stop;
}

/* Mask s[0..len) into out. Unless final, stop at the first position whose
 * outcome depends on bytes after len. Returns the number of bytes consumed;
 * the rest (fewer than maxlen bytes) must be presented again with more. */
static size_t mask_span(const wpd_masker *m, const char *s, size_t len, int final, wpd_buf *out)
{
    if (m->n == 1)
        return mask_span_single(m, s, len, final, out);
    size_t pos = 0, lit = 0;
    while (pos < len) {
        size_t c = next_candidate(m, s, pos, len);
        if (c >= len) {
            pos = len;
            break;
        }
        size_t mlen = 0;
        int r = match_at(m, s + c, len - c, final, &mlen);
        if (r < 0) {
            pos = c;
            break;
        }
        if (r > 0) {
            wpd_buf_append(out, s + lit, c - lit);
            wpd_buf_append(out, WPD_MASK, MASK_LEN);
            pos = lit = c + mlen;
        } else {
            pos = c + 1;
        }
    }
    wpd_buf_append(out, s + lit, pos - lit);
    return pos;
}

void wpd_masker_apply(const wpd_masker *m, const char *s, size_t len, wpd_buf *out)
{
    if (!m || m->n == 0 || len == 0) {
        wpd_buf_append(out, s, len);
        return;
    }
    mask_span(m, s, len, 1, out);
}

/* ---- the line splitter */

void wpd_lines_init(wpd_lines *l, size_t max, const wpd_masker *m, wpd_line_cb cb, void *arg)
{
    memset(l, 0, sizeof *l);
    l->max = max ? max : WPD_LINES_DEFAULT_MAX;
    l->m = m && m->n > 0 ? m : NULL;
    l->cb = cb;
    l->arg = arg;
}

void wpd_lines_free(wpd_lines *l)
{
    wpd_buf_free(&l->pending);
    wpd_buf_free(&l->masked);
    wpd_buf_free(&l->hold);
}

static void emit(wpd_lines *l, const char *p, size_t n)
{
    if (!l->keep_newline && n > 0 && p[n - 1] == '\n')
        n--;
    l->cb(l->arg, p, n);
}

/* No masking: cut after each '\n' and after M bytes without one, handing
 * complete chunks straight from the caller's memory when possible. The
 * buffer is grown (fallibly) before each append: -1 when memory ran out. */
static int feed_plain(wpd_lines *l, const char *data, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        size_t need = l->max - l->pending.len; /* > 0: pending stays below M */
        size_t win = len - pos < need ? len - pos : need;
        const char *nl = memchr(data + pos, '\n', win);
        size_t k;
        if (nl)
            k = (size_t)(nl - (data + pos)) + 1;
        else if (win == need)
            k = need;
        else {
            if (wpd_buf_try_reserve(&l->pending, win) != 0)
                return -1;
            wpd_buf_append(&l->pending, data + pos, win);
            return 0;
        }
        if (l->pending.len == 0) {
            emit(l, data + pos, k);
        } else {
            if (wpd_buf_try_reserve(&l->pending, k) != 0)
                return -1;
            wpd_buf_append(&l->pending, data + pos, k);
            emit(l, l->pending.data, l->pending.len);
            wpd_buf_reset(&l->pending);
        }
        pos += k;
    }
    return 0;
}

/* Room in l->masked for the masked form of n input bytes. */
static int reserve_masked(wpd_lines *l, size_t n)
{
    size_t grow = MASK_LEN / l->m->minlen + 1;
    return wpd_buf_try_reserve(&l->masked, n * grow + MASK_LEN);
}

/* Mask data[0..len) and pass the masked bytes on to the splitter. Patterns
 * never contain '\n', so masking the stream is the same as masking each line
 * and line boundaries are unchanged. Bytes whose outcome depends on what
 * comes next (a possible start of a secret, never a '\n') wait in l->hold.
 * final: end of input. Every buffer is grown before it is written, so the
 * masking itself never allocates. */
static int feed_masked(wpd_lines *l, const char *data, size_t len, int final)
{
    const wpd_masker *m = l->m;
    size_t off = 0;
    do {
        size_t n = len - off < MASK_SLICE ? len - off : MASK_SLICE;
        const char *s = data + off;
        int fin = final && off + n == len;
        off += n;
        wpd_buf_reset(&l->masked);
        if (reserve_masked(l, l->hold.len + n) != 0 || wpd_buf_try_reserve(&l->hold, n) != 0)
            return -1;
        if (l->hold.len > 0) {
            /* Complete the held bytes with at most maxlen new ones: every
             * held position can then be decided. */
            size_t old = l->hold.len;
            size_t k = n < m->maxlen ? n : m->maxlen;
            wpd_buf_append(&l->hold, s, k);
            size_t d = mask_span(m, l->hold.data, l->hold.len, fin && k == n, &l->masked);
            if (d < old) { /* only when all n bytes went into hold */
                wpd_buf_consume(&l->hold, d);
                n = 0;
            } else {
                wpd_buf_reset(&l->hold);
                s += d - old;
                n -= d - old;
            }
        }
        if (n > 0) {
            size_t d = mask_span(m, s, n, fin, &l->masked);
            wpd_buf_append(&l->hold, s + d, n - d);
        }
        if (feed_plain(l, l->masked.data, l->masked.len) != 0)
            return -1;
    } while (off < len);
    return 0;
}

int wpd_lines_feed(wpd_lines *l, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (l->m)
        return feed_masked(l, data, len, 0);
    return feed_plain(l, data, len);
}

int wpd_lines_finish(wpd_lines *l)
{
    int rc = 0;
    if (l->m)
        rc = feed_masked(l, "", 0, 1);
    if (l->pending.len > 0) {
        emit(l, l->pending.data, l->pending.len);
        wpd_buf_reset(&l->pending);
    }
    return rc;
}
