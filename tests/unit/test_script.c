/* test_script.c - POSIX step script, quoting rule Q and CI_SCRIPT
 * (spec 3.1-3.3, 7.4, 7.5). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "woodpecker/script.h"

/* Spec 7.4 A/B and 7.5: expected CI_SCRIPT values. */
static const char VEC_74A[] =
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwpt"
    "YWNoaW5lICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lf"
    "TkVUUkNfUEFTU1dPUkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VT"
    "RVJOQU1FCnVuc2V0IENJX05FVFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAiIgpjZCAi"
    "IgoKZWNobyArICdnbyB0ZXN0JwpnbyB0ZXN0Cg==";

static const char VEC_74B[] =
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwpt"
    "YWNoaW5lICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lf"
    "TkVUUkNfUEFTU1dPUkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VT"
    "RVJOQU1FCnVuc2V0IENJX05FVFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAiL3NyYy9h"
    "YmMiCmNkICIvc3JjL2FiYyIKCmVjaG8gKyAnZ28gdGVzdCcKZ28gdGVzdAoKZWNobyArICdnbyB2ZXQgLi8u"
    "Li4nCmdvIHZldCAuLy4uLgo=";

static const char VEC_75_1[] =
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwpt"
    "YWNoaW5lICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lf"
    "TkVUUkNfUEFTU1dPUkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VT"
    "RVJOQU1FCnVuc2V0IENJX05FVFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAiL3dvb2Rw"
    "ZWNrZXIvc29tZSIKY2QgIi93b29kcGVja2VyL3NvbWUiCgplY2hvICsgJ2VjaG8gaGVsbG8gd29ybGQnCmVj"
    "aG8gaGVsbG8gd29ybGQK";

static const char VEC_75_2[] =
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwpt"
    "YWNoaW5lICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lf"
    "TkVUUkNfUEFTU1dPUkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VT"
    "RVJOQU1FCnVuc2V0IENJX05FVFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAiL3dvb2Rw"
    "ZWNrZXIvc3JjL2dpdGh1Yi5jb20vby9yIgpjZCAiL3dvb2RwZWNrZXIvc3JjL2dpdGh1Yi5jb20vby9yIgoK"
    "ZWNobyArICdlY2hvICJoZWxsbyB3b3JsZCInCmVjaG8gImhlbGxvIHdvcmxkIgoKZWNobyArIGxzCmxzCg==";

#define HEADER                                                                                     \
    "\n"                                                                                           \
    "if [ -n \"$CI_NETRC_MACHINE\" ]; then\n"                                                      \
    "cat <<EOF > $HOME/.netrc\n"                                                                   \
    "machine $CI_NETRC_MACHINE\n"                                                                  \
    "login $CI_NETRC_USERNAME\n"                                                                   \
    "password $CI_NETRC_PASSWORD\n"                                                                \
    "EOF\n"                                                                                        \
    "chmod 0600 $HOME/.netrc\n"                                                                    \
    "fi\n"                                                                                         \
    "unset CI_NETRC_USERNAME\n"                                                                    \
    "unset CI_NETRC_PASSWORD\n"                                                                    \
    "unset CI_SCRIPT\n"

static char *quote(const char *s)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_shell_quote(&b, s);
    return wpd_buf_steal(&b);
}

/* Spec 3.2 table: command -> text after "echo + " on the trace line. */
static const char *const quote_rows[][2] = {
    {"ls", "ls"},
    {"a=b", "a=b"},
    {"go build", "'go build'"},
    {"echo ${PATH}", "'echo ${PATH}'"},
    {"echo $HOME", "'echo $HOME'"},
    {"echo \"hello world\"", "'echo \"hello world\"'"},
    {"echo it's", "'echo it'\"'\"'s'"},
    {"echo 'hi'", "'echo '\"'\"'hi'\"'\"''"},
    {"echo a:b,c@d%e+f=g", "'echo a:b,c@d%e+f=g'"},
    {"x|y", "'x|y'"},
    {"\xc3\xbc"
     "n\xc3\xaf"
     "code",
     "'\xc3\xbc"
     "n\xc3\xaf"
     "code'"},
    {"", "''"},
    {"echo one\necho two", "'echo one\necho two'"},
};

START_TEST(quote_table)
{
    for (size_t i = 0; i < sizeof quote_rows / sizeof quote_rows[0]; i++) {
        char *q = quote(quote_rows[i][0]);
        ck_assert_str_eq(q, quote_rows[i][1]);
        free(q);

        /* and the same text on the trace line of a generated script */
        const char *cmd = quote_rows[i][0];
        char *script = wpd_script_posix(&cmd, 1, "/w");
        char *want = wpd_xasprintf(HEADER "mkdir -p \"/w\"\ncd \"/w\"\n\necho + %s\n%s\n",
                                   quote_rows[i][1], cmd);
        ck_assert_str_eq(script, want);
        free(script);
        free(want);
    }
}
END_TEST

START_TEST(quote_safe_set)
{
    const char *safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";
    char *q = quote(safe);
    ck_assert_str_eq(q, safe);
    free(q);
    /* every other printable ASCII byte forces quoting */
    for (int c = 1; c < 256; c++) {
        if (strchr(safe, c))
            continue;
        char in[3] = {'a', (char)c, '\0'};
        q = quote(in);
        if (c == '\'')
            ck_assert_str_eq(q, "'a'\"'\"''");
        else {
            ck_assert_uint_eq(strlen(q), 4);
            ck_assert_int_eq(q[0], '\'');
            ck_assert_int_eq(q[3], '\'');
            ck_assert_mem_eq(q + 1, in, 2);
        }
        free(q);
    }
    /* appends, does not replace */
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_puts(&b, "echo + ");
    wpd_shell_quote(&b, "it's");
    ck_assert_str_eq(wpd_buf_cstr(&b), "echo + 'it'\"'\"'s'");
    wpd_buf_free(&b);
}
END_TEST

START_TEST(ci_script_vectors)
{
    const char *c1[] = {"echo hello world"};
    char *s = wpd_script_ci_script(c1, 1, "/woodpecker/some");
    ck_assert_str_eq(s, VEC_75_1);
    free(s);

    const char *c2[] = {"echo \"hello world\"", "ls"};
    s = wpd_script_ci_script(c2, 2, "/woodpecker/src/github.com/o/r");
    ck_assert_str_eq(s, VEC_75_2);
    free(s);

    const char *ca[] = {"go test"};
    s = wpd_script_ci_script(ca, 1, "");
    ck_assert_str_eq(s, VEC_74A);
    free(s);
    s = wpd_script_ci_script(ca, 1, NULL);
    ck_assert_str_eq(s, VEC_74A);
    free(s);

    const char *cb[] = {"go test", "go vet ./..."};
    s = wpd_script_ci_script(cb, 2, "/src/abc");
    ck_assert_str_eq(s, VEC_74B);
    free(s);
}
END_TEST

START_TEST(ci_script_is_base64_of_script)
{
    const char *cb[] = {"go test", "go vet ./..."};
    char *script = wpd_script_posix(cb, 2, "/src/abc");
    char *enc = wpd_script_ci_script(cb, 2, "/src/abc");
    wpd_buf dec = WPD_BUF_INIT;
    ck_assert_int_eq(wpd_base64_decode(enc, strlen(enc), &dec), 0);
    ck_assert_str_eq(wpd_buf_cstr(&dec), script);
    ck_assert_str_eq(script, HEADER "mkdir -p \"/src/abc\"\ncd \"/src/abc\"\n"
                                    "\necho + 'go test'\ngo test\n"
                                    "\necho + 'go vet ./...'\ngo vet ./...\n");
    wpd_buf_free(&dec);
    free(script);
    free(enc);
}
END_TEST

START_TEST(plain_text_vector)
{
    const char *c[] = {"echo ${PATH}", "go build", "go test"};
    char *s = wpd_script_posix(c, 3, "/woodpecker/some");
    ck_assert_str_eq(s, HEADER "mkdir -p \"/woodpecker/some\"\n"
                               "cd \"/woodpecker/some\"\n"
                               "\n"
                               "echo + 'echo ${PATH}'\n"
                               "echo ${PATH}\n"
                               "\n"
                               "echo + 'go build'\n"
                               "go build\n"
                               "\n"
                               "echo + 'go test'\n"
                               "go test\n");
    ck_assert_int_eq(s[0], '\n');
    free(s);
}
END_TEST

START_TEST(no_commands_and_verbatim_dir)
{
    char *s = wpd_script_posix(NULL, 0, "/a b/$X");
    ck_assert_str_eq(s, HEADER "mkdir -p \"/a b/$X\"\ncd \"/a b/$X\"\n");
    free(s);
}
END_TEST

START_TEST(entrypoint)
{
    ck_assert_str_eq(WPD_SCRIPT_ENTRYPOINT_SHELL, "/bin/sh");
    ck_assert_str_eq(wpd_script_entrypoint[0], "/bin/sh");
    ck_assert_str_eq(wpd_script_entrypoint[1], "-c");
    ck_assert_str_eq(wpd_script_entrypoint[2], "echo $CI_SCRIPT | base64 -d | /bin/sh -e");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, quote_table);
    tcase_add_test(tc, quote_safe_set);
    tcase_add_test(tc, ci_script_vectors);
    tcase_add_test(tc, ci_script_is_base64_of_script);
    tcase_add_test(tc, plain_text_vector);
    tcase_add_test(tc, no_commands_and_verbatim_dir);
    tcase_add_test(tc, entrypoint);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
