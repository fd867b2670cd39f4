/* test_cli_parsers.c - the pure parsers behind `wpdock agent`'s options:
 * .env files (godotenv's rules, and loading without overriding), Go
 * durations (time.ParseDuration, overflow limits included), Go booleans
 * (strconv.ParseBool), integers and the agent's label lists. */
#define _GNU_SOURCE
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dotenv.h"
#include "govalues.h"
#include "util/buf.h"
#include "testutil.h"

/* ------------------------------------------------------------ .env */

typedef struct parsed {
    dotenv_entry *v;
    size_t n, err_line;
    int rc;
    char msg[256];
} parsed;

static parsed parse(const char *text)
{
    parsed p = {0};
    p.rc = dotenv_parse(text, strlen(text), &p.v, &p.n, &p.err_line, p.msg, sizeof p.msg);
    return p;
}

static void assert_entry(const parsed *p, size_t i, const char *key, const char *value)
{
    ck_assert_msg(i < p->n, "only %zu entries, wanted entry %zu (%s)", p->n, i, key);
    ck_assert_str_eq(p->v[i].key, key);
    ck_assert_msg(strcmp(p->v[i].value, value) == 0, "%s: value \"%s\", expected \"%s\"", key,
                  p->v[i].value, value);
}

START_TEST(test_dotenv_basic)
{
    parsed p = parse("# a comment\n"
                     "\n"
                     "A=1\n"
                     "  B = two words  \n"
                     "export C=3\n"
                     "export\tD=4\n"
                     "E=\n"
                     "F=x # comment\n"
                     "G=x#not-a-comment\n"
                     "H: yaml\n"
                     "I.J_k9=dots\n"
                     "exported=5\n"
                     "   # indented comment\n"
                     "K=#kept\n");
    ck_assert_msg(p.rc == 0, "%s at line %zu", p.msg, p.err_line);
    ck_assert_uint_eq(p.n, 11);
    assert_entry(&p, 0, "A", "1");
    assert_entry(&p, 1, "B", "two words");
    assert_entry(&p, 2, "C", "3");
    assert_entry(&p, 3, "D", "4");
    assert_entry(&p, 4, "E", "");
    assert_entry(&p, 5, "F", "x");
    assert_entry(&p, 6, "G", "x#not-a-comment");
    assert_entry(&p, 7, "H", "yaml");
    assert_entry(&p, 8, "I.J_k9", "dots");
    assert_entry(&p, 9, "exported", "5");
    assert_entry(&p, 10, "K", "#kept");
    ck_assert_uint_eq(p.v[0].line, 3);
    ck_assert_uint_eq(p.v[10].line, 14);
    dotenv_free(p.v, p.n);
}
END_TEST

START_TEST(test_dotenv_quotes)
{
    parsed p = parse("S='single \\n $X # not a comment'\n"
                     "D=\"a\\nb\\\"c\\\\d\\re\\$f\\qg\"\n"
                     "T=\"x\"   # trailing comment\n"
                     "M=\"line one\n"
                     "line two\"\n"
                     "AFTER=after\n"
                     "Q='it\\'s'\n"
                     "E=\"\"\n"
                     "CR=\"crlf\"\r\n"
                     "P=plain\r\n");
    ck_assert_msg(p.rc == 0, "%s at line %zu", p.msg, p.err_line);
    ck_assert_uint_eq(p.n, 9);
    assert_entry(&p, 0, "S", "single \\n $X # not a comment");
    assert_entry(&p, 1, "D", "a\nb\"c\\d\re\\$fqg");
    assert_entry(&p, 2, "T", "x");
    assert_entry(&p, 3, "M", "line one\nline two");
    assert_entry(&p, 4, "AFTER", "after");
    ck_assert_uint_eq(p.v[4].line, 6); /* the multi-line value counted its lines */
    assert_entry(&p, 5, "Q", "it\\'s");
    assert_entry(&p, 6, "E", "");
    assert_entry(&p, 7, "CR", "crlf");
    assert_entry(&p, 8, "P", "plain");
    dotenv_free(p.v, p.n);

    p = parse("\xef\xbb\xbf"
              "BOM=1\n");
    ck_assert_int_eq(p.rc, 0);
    assert_entry(&p, 0, "BOM", "1");
    dotenv_free(p.v, p.n);
    p = parse("");
    ck_assert_int_eq(p.rc, 0);
    ck_assert_uint_eq(p.n, 0);
    p = parse("\n\n# only comments\n   \n");
    ck_assert_int_eq(p.rc, 0);
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

static void assert_malformed(const char *text, size_t line, const char *msg)
{
    parsed p = parse(text);
    ck_assert_msg(p.rc == -1, "\"%s\" was accepted", text);
    ck_assert_ptr_null(p.v);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_msg(p.err_line == line, "\"%s\": error at line %zu, expected %zu (%s)", text,
                  p.err_line, line, p.msg);
    ck_assert_msg(strstr(p.msg, msg) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", text, p.msg,
                  msg);
}

START_TEST(test_dotenv_malformed)
{
    assert_malformed("A=1\nJUSTAWORD\n", 2, "\"JUSTAWORD\" is not KEY=VALUE");
    assert_malformed("A=1\n\n\nB=\"open\n", 4, "unterminated quoted value");
    assert_malformed("A='x\nB=2\n", 1, "unterminated quoted value");
    assert_malformed("A=\"x\" y\n", 1, "unexpected text after the closing quote");
    assert_malformed("MY KEY=1\n", 1, "unexpected character 'K'");
    assert_malformed("A-B=1\n", 1, "unexpected character '-'");
    assert_malformed("=value\n", 1, "a variable name is missing");
    assert_malformed("export\n", 1, "\"export\" is not KEY=VALUE");
    char nul[] = "A=1\nB=2\0x\n";
    parsed p;
    p.rc = dotenv_parse(nul, sizeof nul - 1, &p.v, &p.n, &p.err_line, p.msg, sizeof p.msg);
    ck_assert_int_eq(p.rc, -1);
    ck_assert_uint_eq(p.err_line, 2);
    ck_assert_str_eq(p.msg, "contains a NUL byte");
}
END_TEST

START_TEST(test_dotenv_load)
{
    char *dir = tu_mkdtemp();
    char *path = wpd_xasprintf("%s/.env", dir);
    char msg[512];
    ck_assert_int_eq(dotenv_load(path, msg, sizeof msg), 1); /* no file */
    const char *text = "TD_NEW=from-file\n"
                       "TD_SET=from-file\n"
                       "TD_EMPTY=from-file\n"
                       "TD_TWICE=first\n"
                       "TD_TWICE=second\n"
                       "export TD_Q=\"a b\"\n";
    tu_write_file(path, text, strlen(text));
    setenv("TD_SET", "from-env", 1);
    setenv("TD_EMPTY", "", 1);
    unsetenv("TD_NEW");
    unsetenv("TD_TWICE");
    ck_assert_int_eq(dotenv_load(path, msg, sizeof msg), 0);
    ck_assert_str_eq(getenv("TD_NEW"), "from-file");
    ck_assert_str_eq(getenv("TD_SET"), "from-env");
    ck_assert_str_eq(getenv("TD_EMPTY"), "");
    ck_assert_str_eq(getenv("TD_TWICE"), "second");
    ck_assert_str_eq(getenv("TD_Q"), "a b");

    text = "TD_OK=1\nTD_BAD\n";
    tu_write_file(path, text, strlen(text));
    unsetenv("TD_OK");
    ck_assert_int_eq(dotenv_load(path, msg, sizeof msg), -1);
    char *want = wpd_xasprintf("%s:2: \"TD_BAD\" is not KEY=VALUE", path);
    ck_assert_str_eq(msg, want);
    ck_assert_ptr_null(getenv("TD_OK")); /* nothing of a malformed file is loaded */
    free(want);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------ durations */

static int64_t dur_ok(const char *s)
{
    int64_t ns = 12345;
    char why[128] = "";
    ck_assert_msg(go_parse_duration(s, &ns, why, sizeof why) == 0, "\"%s\" refused: %s", s, why);
    return ns;
}

static void dur_bad(const char *s, const char *why_expected)
{
    int64_t ns = 12345;
    char why[128] = "";
    ck_assert_msg(go_parse_duration(s, &ns, why, sizeof why) == -1, "\"%s\" accepted: %lld", s,
                  (long long)ns);
    ck_assert_int_eq(ns, 12345);
    ck_assert_msg(strcmp(why, why_expected) == 0, "\"%s\": \"%s\", expected \"%s\"", s, why,
                  why_expected);
}

#define SEC 1000000000LL

START_TEST(test_duration)
{
    ck_assert_int_eq(dur_ok("0"), 0);
    ck_assert_int_eq(dur_ok("+0"), 0);
    ck_assert_int_eq(dur_ok("-0"), 0);
    ck_assert_int_eq(dur_ok("0s"), 0);
    ck_assert_int_eq(dur_ok("2m"), 120 * SEC);
    ck_assert_int_eq(dur_ok("2s"), 2 * SEC);
    ck_assert_int_eq(dur_ok("500ms"), 500000000LL);
    ck_assert_int_eq(dur_ok("1h2m3.5s"), 3723 * SEC + SEC / 2);
    ck_assert_int_eq(dur_ok("1.5h"), 5400 * SEC);
    ck_assert_int_eq(dur_ok("-1.5h"), -5400 * SEC);
    ck_assert_int_eq(dur_ok(".5s"), SEC / 2);
    ck_assert_int_eq(dur_ok("1.s"), SEC);
    ck_assert_int_eq(dur_ok("3ns"), 3);
    ck_assert_int_eq(dur_ok("7us"), 7000);
    ck_assert_int_eq(dur_ok("7\xc2\xb5s"), 7000);
    ck_assert_int_eq(dur_ok("7\xce\xbcs"), 7000);
    ck_assert_int_eq(dur_ok("1m1m"), 120 * SEC);
    ck_assert_int_eq(dur_ok("1.0000000001s"), SEC); /* below a nanosecond: dropped */
    ck_assert_int_eq(dur_ok("0.333333333333333333333333333s"), 333333333);
    ck_assert_int_eq(dur_ok("9223372036854775807ns"), INT64_MAX);
    ck_assert_int_eq(dur_ok("-9223372036854775808ns"), INT64_MIN);
    ck_assert_int_eq(dur_ok("2562047h"), 2562047LL * 3600 * SEC);

    dur_bad("", "invalid duration");
    dur_bad("-", "invalid duration");
    dur_bad(".", "invalid duration");
    dur_bad(".s", "invalid duration");
    dur_bad("s", "invalid duration");
    dur_bad("1", "missing unit in duration");
    dur_bad("1h2", "missing unit in duration");
    dur_bad("5x", "unknown unit \"x\" in duration");
    dur_bad("1h 2m", "unknown unit \"h \" in duration");
    dur_bad("1e3s", "unknown unit \"e\" in duration");
    dur_bad("1S", "unknown unit \"S\" in duration");
    dur_bad(" 1s", "invalid duration");
    dur_bad("9223372036854775808ns", "invalid duration");
    dur_bad("2562048h", "invalid duration");
    dur_bad("99999999999999999999s", "invalid duration");
}
END_TEST

/* ------------------------------------------------------------ booleans, integers */

START_TEST(test_bool)
{
    const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        bool b = false;
        ck_assert_int_eq(go_parse_bool(yes[i], &b), 0);
        ck_assert_msg(b, "%s", yes[i]);
        ck_assert_int_eq(go_parse_bool(no[i], &b), 0);
        ck_assert_msg(!b, "%s", no[i]);
    }
    const char *bad[] = {"", "yes", "no", "on", "TRue", " true", "true ", "2", "tRUE", "FaLse"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool b = true;
        ck_assert_msg(go_parse_bool(bad[i], &b) == -1, "\"%s\" accepted", bad[i]);
        ck_assert(b);
    }
}
END_TEST

START_TEST(test_int)
{
    long v = 0;
    ck_assert_int_eq(go_parse_int("5", &v), 0);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(go_parse_int("-3", &v), 0);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(go_parse_int("+7", &v), 0);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(go_parse_int("0010", &v), 0);
    ck_assert_int_eq(v, 10);
    const char *bad[] = {"",
                         "-",
                         "+",
                         "1.0",
                         "0x10",
                         " 1",
                         "1 ",
                         "1e3",
                         "abc",
                         "5workflows",
                         "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42;
        ck_assert_msg(go_parse_int(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
        ck_assert_int_eq(v, 42);
    }
}
END_TEST

/* ------------------------------------------------------------ labels */

static void labels_ok(const char *s, const char *const *want)
{
    char **v = NULL, why[128] = "";
    size_t n = 0;
    ck_assert_msg(go_parse_labels(s, &v, &n, why, sizeof why) == 0, "\"%s\": %s", s, why);
    size_t k = 0;
    for (; want[k]; k++) {
        ck_assert_msg(k < n, "\"%s\": %zu labels, expected more", s, n);
        ck_assert_str_eq(v[k], want[k]);
    }
    ck_assert_uint_eq(n, k);
    ck_assert_ptr_null(n ? v[n] : NULL);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void labels_bad(const char *s, const char *why_expected)
{
    char **v = NULL, why[128] = "";
    size_t n = 0;
    ck_assert_msg(go_parse_labels(s, &v, &n, why, sizeof why) == -1, "\"%s\" accepted", s);
    ck_assert_str_eq(why, why_expected);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

START_TEST(test_labels)
{
    labels_ok("a=b,c=d", (const char *const[]){"a=b", "c=d", NULL});
    labels_ok("a=b=c", (const char *const[]){"a=b=c", NULL});
    labels_ok(" a=b , c=d ", (const char *const[]){"a=b", "c=d", NULL});
    labels_ok("!platform=linux/*,repo=*",
              (const char *const[]){"!platform=linux/*", "repo=*", NULL});
    labels_ok("", (const char *const[]){NULL});
    labels_ok("  ", (const char *const[]){NULL});
    labels_bad("a=b,,c=d", "empty string in slice");
    labels_bad("a=b,", "empty string in slice");
    labels_bad(",a=b", "empty string in slice");
    labels_bad("a=b, ,c=d", "empty string in slice");
    labels_bad("a", "key 'a' does not have a value assigned");
    labels_bad("a=b,key=", "key 'key' does not have a value assigned");
    labels_bad("=b", "key '' does not have a value assigned");

    /* appending to what is there (one --labels flag after another) */
    char **v = NULL, why[128];
    size_t n = 0;
    ck_assert_int_eq(go_parse_labels("a=1", &v, &n, why, sizeof why), 0);
    ck_assert_int_eq(go_parse_labels("b=2,c=3", &v, &n, why, sizeof why), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(v[2], "c=3");
    ck_assert_ptr_null(v[3]);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
END_TEST

static Suite *cli_parsers_suite(void)
{
    Suite *s = suite_create("cli-parsers");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, test_dotenv_basic);
    tcase_add_test(tc, test_dotenv_quotes);
    tcase_add_test(tc, test_dotenv_malformed);
    tcase_add_test(tc, test_dotenv_load);
    tcase_add_test(tc, test_duration);
    tcase_add_test(tc, test_bool);
    tcase_add_test(tc, test_int);
    tcase_add_test(tc, test_labels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_parsers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
