/* test_lines.c - line splitting (spec 5.7.1, 7.9) and secret masking
 * (spec 5.7.4, 7.8), including secrets that straddle network reads and
 * M-byte boundaries, checked against a naive reference. */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/lines.h"
#include "testutil.h"

#define MIB ((size_t)1 << 20)

/* ---- capturing emitted chunks */

typedef struct chunks {
    wpd_buf joined; /* chunks separated by '|' (for readable vectors) */
    wpd_buf framed; /* [8-byte length][bytes] per chunk (exact) */
    size_t n;
} chunks;

static void on_chunk(void *arg, const char *line, size_t len)
{
    chunks *c = arg;
    wpd_buf_append(&c->joined, line, len);
    wpd_buf_putc(&c->joined, '|');
    uint64_t l = len;
    wpd_buf_append(&c->framed, &l, sizeof l);
    wpd_buf_append(&c->framed, line, len);
    c->n++;
}

static void chunks_free(chunks *c)
{
    wpd_buf_free(&c->joined);
    wpd_buf_free(&c->framed);
}

static void assert_same(const chunks *a, const chunks *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->framed.len, b->framed.len);
    if (a->framed.len)
        ck_assert(memcmp(a->framed.data, b->framed.data, a->framed.len) == 0);
}

/* Feed pieces (NULL-terminated list) and finish. */
static void run_pieces(size_t max, const wpd_masker *m, int keep_nl, const char *const *pieces,
                       chunks *out)
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
static void run_cuts(size_t max, const wpd_masker *m, int keep_nl, const char *data, size_t len,
                     const size_t *cuts, size_t ncuts, chunks *out)
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

static void run_bytewise(size_t max, const wpd_masker *m, int keep_nl, const char *data, size_t len,
                         chunks *out)
{
    wpd_lines l;
    wpd_lines_init(&l, max, m, on_chunk, out);
    l.keep_newline = keep_nl;
    for (size_t i = 0; i < len; i++)
        wpd_lines_feed(&l, data + i, 1);
    wpd_lines_finish(&l);
    wpd_lines_free(&l);
}

/* ---- spec 7.9 */

typedef struct split_row {
    size_t max;
    const char *pieces[4];
    const char *want; /* chunks exactly as cut, each followed by '|' */
} split_row;

static const split_row split_rows[] = {
    {1024, {"123\n4567\n890", NULL}, "123\n|4567\n|890|"},
    {1024, {"1234", "5\n678\n90", NULL}, "12345\n|678\n|90|"},
    {4, {"12345", "67\n89", NULL}, "1234|567\n|89|"},
    {4, {"123\n45678", "\n123\n45678", NULL}, "123\n|4567|8\n|123\n|4567|8|"},
    {10, {"this is a very long line\n", NULL}, "this is a |very long |line\n|"},
    {8,
     {"12345678901234567890\nshort\nabcdefghijklmnop\n", NULL},
     "12345678|90123456|7890\n|short\n|abcdefgh|ijklmnop|\n|"},
};

/* The same chunks with one trailing '\n' removed per chunk. */
static char *strip_expect(const char *want)
{
    wpd_buf b = WPD_BUF_INIT;
    for (const char *p = want; *p; p++) {
        if (*p == '\n' && p[1] == '|')
            continue;
        wpd_buf_putc(&b, *p);
    }
    return wpd_buf_steal(&b);
}

/* Maskers whose patterns never occur in the 7.9 inputs but share prefixes
 * with them, so the masked path has to wait for more bytes. */
static const char *const nomatch_secrets[] = {"12349", "this is a very long lineX", "abcdefghX",
                                              "short!", "4567\t8"};

START_TEST(split_vectors)
{
    wpd_masker *one = wpd_masker_new(nomatch_secrets, 1);
    wpd_masker *many = wpd_masker_new(nomatch_secrets, 5);
    ck_assert_uint_eq(wpd_masker_count(many), 5);
    const wpd_masker *maskers[] = {NULL, one, many};
    for (size_t i = 0; i < sizeof split_rows / sizeof split_rows[0]; i++) {
        const split_row *r = &split_rows[i];
        char *stripped = strip_expect(r->want);
        wpd_buf all = WPD_BUF_INIT;
        for (size_t k = 0; r->pieces[k]; k++)
            wpd_buf_puts(&all, r->pieces[k]);
        for (size_t mi = 0; mi < 3; mi++) {
            chunks c = {0};
            run_pieces(r->max, maskers[mi], 1, r->pieces, &c);
            ck_assert_msg(strcmp(wpd_buf_cstr(&c.joined), r->want) == 0,
                          "row %zu masker %zu: got [%s]", i, mi, wpd_buf_cstr(&c.joined));
            chunks_free(&c);

            chunks s = {0};
            run_pieces(r->max, maskers[mi], 0, r->pieces, &s);
            ck_assert_str_eq(wpd_buf_cstr(&s.joined), stripped);
            chunks_free(&s);

            /* cut on complete lines and M bytes: arrival does not matter */
            chunks b = {0};
            run_bytewise(r->max, maskers[mi], 1, all.data, all.len, &b);
            ck_assert_str_eq(wpd_buf_cstr(&b.joined), r->want);
            chunks_free(&b);
        }
        free(stripped);
        wpd_buf_free(&all);
    }
    wpd_masker_free(one);
    wpd_masker_free(many);
}
END_TEST

/* Chunks leave as soon as they are complete; the remainder waits for EOF. */
START_TEST(split_timing)
{
    chunks c = {0};
    wpd_lines l;
    wpd_lines_init(&l, 1024, NULL, on_chunk, &c);
    l.keep_newline = 1;
    wpd_lines_feed(&l, "1234", 4);
    ck_assert_uint_eq(c.n, 0);
    wpd_lines_feed(&l, "5\n678\n90", 8);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined), "12345\n|678\n|");
    wpd_lines_finish(&l);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined), "12345\n|678\n|90|");
    /* nothing pending: finish emits nothing */
    wpd_lines_finish(&l);
    ck_assert_uint_eq(c.n, 3);
    wpd_lines_free(&l);
    chunks_free(&c);

    chunks d = {0};
    wpd_lines_init(&l, 4, NULL, on_chunk, &d);
    wpd_lines_feed(&l, "12345", 5);
    ck_assert_str_eq(wpd_buf_cstr(&d.joined), "1234|");
    wpd_lines_feed(&l, "\n\n", 2);
    /* a chunk that is just "\n" is an empty entry */
    ck_assert_str_eq(wpd_buf_cstr(&d.joined), "1234|5||");
    wpd_lines_finish(&l);
    ck_assert_uint_eq(d.n, 3);
    wpd_lines_free(&l);
    chunks_free(&d);
}
END_TEST

START_TEST(only_one_newline_removed)
{
    const char *in[] = {"a\r\n", "\n", "b\r", NULL};
    chunks c = {0};
    run_pieces(0, NULL, 0, in, &c);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined), "a\r||b\r|");
    chunks_free(&c);
}
END_TEST

/* ---- spec 7.8 */

static char *mask_all(const char *const *secrets, size_t n, const char *log)
{
    wpd_masker *m = wpd_masker_new(secrets, n);
    wpd_buf out = WPD_BUF_INIT;
    wpd_masker_apply(m, log, strlen(log), &out);
    wpd_masker_free(m);
    return wpd_buf_steal(&out);
}

/* Through the line splitter, byte by byte; entries joined with '\n'. */
static char *mask_lines(const char *const *secrets, size_t n, const char *log)
{
    wpd_masker *m = wpd_masker_new(secrets, n);
    chunks c = {0};
    run_bytewise(0, m, 1, log, strlen(log), &c);
    wpd_masker_free(m);
    wpd_buf out = WPD_BUF_INIT;
    /* framed -> concatenation of the chunks (they keep their '\n') */
    for (size_t at = 0; at < c.framed.len;) {
        uint64_t l;
        memcpy(&l, c.framed.data + at, sizeof l);
        wpd_buf_append(&out, c.framed.data + at + sizeof l, (size_t)l);
        at += sizeof l + (size_t)l;
    }
    chunks_free(&c);
    return wpd_buf_steal(&out);
}

typedef struct mask_row {
    const char *log;
    const char *secrets[3];
    size_t nsecrets;
    size_t npatterns;
    const char *want;
} mask_row;

#define LOG3 "start log\ndone\nnow\nan\nmulti line secret!! ;)"
static const mask_row mask_rows[] = {
    {"start log\ndone", {"", "d", "art"}, 3, 0, "start log\ndone"},
    {"this IS secret: password", {"password", " IS "}, 2, 1, "this IS secret: ********"},
    {LOG3, {"an\nmulti line secret!!"}, 1, 2, "start log\ndone\nnow\n********\n******** ;)"},
    {LOG3, {"Test\nwith\n\ntwo new lines"}, 1, 3, LOG3},
    {LOG3 "\nwith\ntwo\n\nnewlines",
     {"an\nmulti line secret!!", "two\n\nnewlines"},
     2,
     4,
     "start log\ndone\nnow\n********\n******** ;)\nwith\n********\n\n********"},
};

START_TEST(mask_vectors)
{
    for (size_t i = 0; i < sizeof mask_rows / sizeof mask_rows[0]; i++) {
        const mask_row *r = &mask_rows[i];
        wpd_masker *m = wpd_masker_new(r->secrets, r->nsecrets);
        ck_assert_uint_eq(wpd_masker_count(m), r->npatterns);
        wpd_masker_free(m);
        char *got = mask_all(r->secrets, r->nsecrets, r->log);
        ck_assert_str_eq(got, r->want);
        free(got);
        got = mask_lines(r->secrets, r->nsecrets, r->log);
        ck_assert_str_eq(got, r->want);
        free(got);
    }
}
END_TEST

START_TEST(line_writer_vector)
{
    const char *secrets[] = {"world"};
    wpd_masker *m = wpd_masker_new(secrets, 1);
    const char *in[] = {"hello world\n", "the previous line had no newline at the end", NULL};
    chunks c = {0};
    run_pieces(0, m, 0, in, &c);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined),
                     "hello ********|the previous line had no newline at the end|");
    chunks_free(&c);
    wpd_masker_free(m);
}
END_TEST

START_TEST(secret_across_feeds)
{
    const char *secrets[] = {"password"};
    wpd_masker *m = wpd_masker_new(secrets, 1);
    const char *a[] = {"pass", "word\n", NULL};
    chunks c = {0};
    run_pieces(0, m, 0, a, &c);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined), "********|");
    chunks_free(&c);

    const char *b[] = {"xxpa", "ss", "wo", "rdyy pass", "wor", "d", NULL};
    chunks d = {0};
    run_pieces(0, m, 0, b, &d);
    ck_assert_str_eq(wpd_buf_cstr(&d.joined), "xx********yy ********|");
    chunks_free(&d);

    /* a prefix that does not complete is passed on unchanged */
    const char *e[] = {"pass", "wore\npasswor", NULL};
    chunks f = {0};
    run_pieces(0, m, 0, e, &f);
    ck_assert_str_eq(wpd_buf_cstr(&f.joined), "passwore|passwor|");
    chunks_free(&f);
    wpd_masker_free(m);
}
END_TEST

START_TEST(longest_first)
{
    const char *secrets[] = {"abcd", "abcdef", "cdefgh"};
    char *got = mask_all(secrets, 3, "abcdefgh abcdx cdefghi");
    ck_assert_str_eq(got, "********gh ********x ********i");
    free(got);

    /* the longer secret is still undecided at the edge of a read */
    wpd_masker *m = wpd_masker_new(secrets, 2);
    const char *a[] = {"abcd", "ef\n", "abcd", "eX\n", "abcd", NULL};
    chunks c = {0};
    run_pieces(0, m, 0, a, &c);
    ck_assert_str_eq(wpd_buf_cstr(&c.joined), "********|********eX|********|");
    chunks_free(&c);
    wpd_masker_free(m);
}
END_TEST

START_TEST(masker_building)
{
    /* Unicode white space is trimmed like Go's strings.TrimSpace */
    const char *a[] = {"\xc2\xa0"
                       "abc\xe2\x80\x83",
                       "\xe3\x80\x80"
                       "abcd\t",
                       " \r\n  ",
                       NULL,
                       "abcd",
                       "x\nabcd",
                       "\xc2\x85y\n\nz"};
    wpd_masker *m = wpd_masker_new(a, 7);
    /* patterns: abcd, x, y, z */
    ck_assert_uint_eq(wpd_masker_count(m), 4);
    wpd_buf out = WPD_BUF_INIT;
    const char *log = "\xe3\x80\x80"
                      "abcd abc xyz";
    wpd_masker_apply(m, log, strlen(log), &out);
    ck_assert_str_eq(wpd_buf_cstr(&out), "\xe3\x80\x80"
                                         "******** abc ************************");
    wpd_masker_free(m);
    wpd_buf_free(&out);

    wpd_masker *none = wpd_masker_new(NULL, 0);
    ck_assert_uint_eq(wpd_masker_count(none), 0);
    wpd_buf o2 = WPD_BUF_INIT;
    wpd_masker_apply(none, "abc", 3, &o2);
    wpd_masker_apply(NULL, "def", 3, &o2);
    ck_assert_str_eq(wpd_buf_cstr(&o2), "abcdef");
    wpd_buf_free(&o2);
    wpd_masker_free(none);
    wpd_masker_free(NULL);
}
END_TEST

/* ---- reference implementation for the larger tests */

/* patterns must be in priority order (longest first) */
static void ref_mask(const char *const *pats, size_t np, const char *s, size_t len, wpd_buf *out)
{
    size_t i = 0;
    while (i < len) {
        size_t k;
        for (k = 0; k < np; k++) {
            size_t pl = strlen(pats[k]);
            if (pl <= len - i && memcmp(s + i, pats[k], pl) == 0)
                break;
        }
        if (k < np) {
            wpd_buf_puts(out, WPD_MASK);
            i += strlen(pats[k]);
        } else {
            wpd_buf_putc(out, s[i++]);
        }
    }
}

/* Split into lines, mask each line, cut it into max-byte pieces. */
static void ref_run(size_t max, const char *const *pats, size_t np, const char *s, size_t len,
                    chunks *out)
{
    size_t at = 0;
    wpd_buf line = WPD_BUF_INIT;
    while (at < len) {
        const char *nl = memchr(s + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - s) : len;
        wpd_buf_reset(&line);
        ref_mask(pats, np, s + at, end - at, &line);
        if (nl)
            wpd_buf_putc(&line, '\n');
        size_t off = 0;
        while (line.len - off > max) {
            on_chunk(out, line.data + off, max);
            off += max;
        }
        if (line.len > off)
            on_chunk(out, line.data + off, line.len - off);
        at = nl ? end + 1 : len;
    }
    wpd_buf_free(&line);
}

static uint32_t rng_state = 4242;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Random cut points: mostly small pieces, sometimes large ones. */
static size_t random_cuts(size_t len, size_t **cuts)
{
    size_t cap = 1024, n = 0, at = 0;
    *cuts = malloc(cap * sizeof **cuts);
    for (;;) {
        size_t step = rnd() % 512 == 0 ? 1 + rnd() % 70000 : 1 + rnd() % 64;
        at += step;
        if (at >= len)
            break;
        if (n == cap) {
            cap *= 2;
            *cuts = realloc(*cuts, cap * sizeof **cuts);
        }
        (*cuts)[n++] = at;
    }
    return n;
}

START_TEST(long_line_secret_on_boundary)
{
    const char *secrets[] = {"supersecretvalue"};
    const char *pats[] = {"supersecretvalue"};
    wpd_masker *m = wpd_masker_new(secrets, 1);
    size_t len = 3 * MIB + 1;
    char *s = malloc(len);
    memset(s, 'a', len);
    /* one secret across the 1 MiB boundary, one across 2 MiB, one at the end */
    memcpy(s + MIB - 5, "supersecretvalue", 16);
    memcpy(s + 2 * MIB - 20, "supersecretvalue", 16);
    memcpy(s + 3 * MIB - 16, "supersecretvalue", 16);
    s[len - 1] = '\n';

    chunks want = {0};
    ref_run(MIB, pats, 1, s, len, &want);
    ck_assert_uint_eq(want.n, 3);

    chunks one = {0};
    run_cuts(0, m, 1, s, len, NULL, 0, &one);
    assert_same(&one, &want);

    /* cut in the middle of each secret */
    size_t cuts[] = {MIB - 1, MIB + 3, 2 * MIB - 12, 3 * MIB - 2};
    chunks split = {0};
    run_cuts(0, m, 1, s, len, cuts, 4, &split);
    assert_same(&split, &want);

    size_t *rc;
    size_t nrc = random_cuts(len, &rc);
    chunks rnd_chunks = {0};
    run_cuts(0, m, 1, s, len, rc, nrc, &rnd_chunks);
    assert_same(&rnd_chunks, &want);
    free(rc);

    /* and the secret never survives */
    ck_assert_ptr_null(memmem(want.framed.data, want.framed.len, "secret", 6));

    chunks_free(&want);
    chunks_free(&one);
    chunks_free(&split);
    chunks_free(&rnd_chunks);
    wpd_masker_free(m);
    free(s);
}
END_TEST

/* A 1 MB log with lines of all lengths and secrets sprinkled in. */
static char *make_log(size_t len, const char *const *plant, size_t nplant)
{
    char *s = malloc(len);
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789 pswrd";
    size_t i = 0;
    while (i < len) {
        uint32_t r = rnd() % 5000;
        if (r < 150) {
            s[i++] = '\n';
        } else if (r < 300) {
            const char *p = plant[rnd() % nplant];
            size_t pl = strlen(p);
            if (pl > len - i)
                pl = len - i;
            memcpy(s + i, p, pl);
            i += pl;
        } else if (r == 300) {
            /* a long run without newline */
            size_t run = 1 + rnd() % 150000;
            for (size_t k = 0; k < run && i < len; k++)
                s[i++] = alpha[rnd() % (sizeof alpha - 1)];
        } else {
            s[i++] = alpha[rnd() % (sizeof alpha - 1)];
        }
    }
    return s;
}

static void stress(const char *const *secrets, size_t nsecrets, const char *const *pats,
                   size_t npats, size_t max)
{
    rng_state = 4242; /* same data whether or not tests run in one process */
    wpd_masker *m = wpd_masker_new(secrets, nsecrets);
    ck_assert_uint_eq(wpd_masker_count(m), npats);
    size_t len = 1000000;
    char *s = make_log(len, pats, npats);

    chunks want = {0};
    ref_run(max ? max : MIB, pats, npats, s, len, &want);
    ck_assert_uint_gt(want.n, 1000);
    ck_assert_uint_gt(tu_count(wpd_buf_cstr(&want.joined), WPD_MASK), 500);
    chunks one = {0};
    run_cuts(max, m, 1, s, len, NULL, 0, &one);
    assert_same(&one, &want);
    for (int round = 0; round < 3; round++) {
        size_t *rc;
        size_t nrc = random_cuts(len, &rc);
        chunks c = {0};
        run_cuts(max, m, 1, s, len, rc, nrc, &c);
        assert_same(&c, &want);
        chunks_free(&c);
        free(rc);
    }
    chunks_free(&want);
    chunks_free(&one);
    wpd_masker_free(m);
    free(s);
}

START_TEST(stress_single_secret)
{
    const char *secrets[] = {"password"};
    stress(secrets, 1, secrets, 1, 0);
    stress(secrets, 1, secrets, 1, 4096);
}
END_TEST

START_TEST(stress_few_secrets)
{
    /* shared prefixes, a multi-line secret, two-byte pieces */
    const char *secrets[] = {"password", "passwordpassword", "pass", "swr\nd9"};
    const char *pats[] = {"passwordpassword", "password", "pass", "swr", "d9"};
    stress(secrets, 4, pats, 5, 0);
    stress(secrets, 4, pats, 5, 1000);
}
END_TEST

START_TEST(stress_many_secrets)
{
    /* more distinct first bytes than the memchr path handles */
    const char *secrets[] = {"alpha1",  "bravo22", "charlie", "delta ", "echo9",
                             "foxtrot", "golf",    "hotel7",  "india"};
    const char *pats[] = {"charlie", "foxtrot", "bravo22", "alpha1", "delta",
                          "hotel7",  "echo9",   "india",   "golf"};
    stress(secrets, 9, pats, 9, 0);
    stress(secrets, 9, pats, 9, 777);
}
END_TEST

START_TEST(plain_random_chunking)
{
    rng_state = 4242;
    size_t len = 1000000;
    const char *none[] = {"x"};
    char *s = make_log(len, none, 1);
    for (size_t max = 1; max <= MIB; max *= 64) {
        chunks want = {0};
        ref_run(max, NULL, 0, s, len, &want);
        chunks one = {0};
        run_cuts(max, NULL, 1, s, len, NULL, 0, &one);
        assert_same(&one, &want);
        size_t *rc;
        size_t nrc = random_cuts(len, &rc);
        chunks c = {0};
        run_cuts(max, NULL, 1, s, len, rc, nrc, &c);
        assert_same(&c, &want);
        chunks_free(&want);
        chunks_free(&one);
        chunks_free(&c);
        free(rc);
    }
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lines");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, split_vectors);
    tcase_add_test(tc, split_timing);
    tcase_add_test(tc, only_one_newline_removed);
    tcase_add_test(tc, mask_vectors);
    tcase_add_test(tc, line_writer_vector);
    tcase_add_test(tc, secret_across_feeds);
    tcase_add_test(tc, longest_first);
    tcase_add_test(tc, masker_building);
    tcase_add_test(tc, long_line_secret_on_boundary);
    tcase_add_test(tc, stress_single_secret);
    tcase_add_test(tc, stress_few_secrets);
    tcase_add_test(tc, stress_many_secrets);
    tcase_add_test(tc, plain_random_chunking);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
