/* test_lines_vectors.c - line splitting (spec 5.7.1, 7.9) and secret
 * masking (spec 5.7.4, 7.8) on the spec's vectors: cuts at newlines and
 * M bytes, when chunks leave, one newline removed, secrets across feeds,
 * longest secret first, building a masker. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/lines.h"
#include "lines_fixtures.h"

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

int main(void)
{
    Suite *s = suite_create("lines_vectors");
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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
