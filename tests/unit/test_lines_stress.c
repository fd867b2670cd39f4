/* test_lines_stress.c - line splitting and secret masking on large
 * inputs, checked against a naive reference: secrets that straddle network
 * reads and M-byte boundaries, 1 MB logs with secrets sprinkled in, cut at
 * random points. */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/lines.h"
#include "testutil.h"
#include "lines_fixtures.h"

#define MIB ((size_t)1 << 20)

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
    Suite *s = suite_create("lines_stress");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
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
