/* test_credentials_helpers.c - unit tests for
 * core/engine/credentials_helper.c without running a helper: finding
 * docker-credential-NAME on PATH, judging a helper's answer (ok, identity
 * token, "credentials not found", failure with redacted stderr, garbage)
 * and redacting secrets from text. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "engine/credentials.h"
#include "credentials_fixtures.h"

START_TEST(find_helper_on_path)
{
    make_bin_dir();
    char *want = wpd_xasprintf("%s/docker-credential-wpdtest", bin_dir);
    char *path = wpd_xasprintf("/nonexistent-dir::%s:/usr/bin", bin_dir);
    char *got = wpd_cred_find_helper("wpdtest", path);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
    ck_assert_ptr_null(wpd_cred_find_helper("nosuchhelper", path));
    /* not executable, or a directory: not a helper */
    char *plain = wpd_xasprintf("%s/docker-credential-plain", bin_dir);
    tu_write_file(plain, "#!/bin/sh\n", 10);
    chmod(plain, 0644);
    ck_assert_ptr_null(wpd_cred_find_helper("plain", path));
    char *dir = wpd_xasprintf("%s/docker-credential-dir", bin_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_ptr_null(wpd_cred_find_helper("dir", path));
    free(plain);
    free(dir);
    free(want);
    free(path);
    remove_bin_dir();
}
END_TEST

/* ---- helper answers (pure) ---------------------------------------------- */

static const char LABEL[] =
    "docker-credential-wpdtest (credential helper for helper.example.com configured in /c.json)";

static int answer(int code, const char *out, const char *errout, char **header, wpd_error *err)
{
    wpd_cred_helper_run run = {.exit_code = code,
                               .term_signal = code < 0 ? 9 : 0,
                               .out = out,
                               .out_len = strlen(out),
                               .err = errout,
                               .err_len = strlen(errout)};
    const char *secrets[] = {"step-password", NULL};
    wpd_error_clear(err);
    return wpd_cred_helper_answer(LABEL, "helper.example.com", &run, secrets, header, err);
}

START_TEST(helper_answer_cases)
{
    char *h = NULL;
    wpd_error err;
    ck_assert_int_eq(answer(0,
                            "{\"ServerURL\":\"helper.example.com\",\"Username\":\"wpdtest-user\","
                            "\"Secret\":\"" SECRET "\"}\n",
                            "", &h, &err),
                     0);
    ck_assert_str_eq(h, AUTH_HELPER_BASIC);
    free(h);

    ck_assert_int_eq(
        answer(0, "{\"Username\":\"<token>\",\"Secret\":\"" SECRET "\"}", "", &h, &err), 0);
    ck_assert_str_eq(h, AUTH_HELPER_TOKEN);
    free(h);

    /* "credentials not found" (exit 1 on stdout, as real helpers do): none */
    ck_assert_int_eq(answer(1, "credentials not found in native keychain\n", "", &h, &err), 0);
    ck_assert_ptr_null(h);
    /* an empty Secret: nothing stored */
    ck_assert_int_eq(answer(0, "{\"Username\":\"\",\"Secret\":\"\"}", "", &h, &err), 0);
    ck_assert_ptr_null(h);

    /* failure with stderr: quoted, secrets redacted (the step's password,
     * and the Secret the helper printed on stdout) */
    ck_assert_int_eq(answer(3, "{\"Username\":\"u\",\"Secret\":\"" SECRET "\"}",
                            "keyring locked\n  refusing " SECRET " / step-password\n", &h, &err),
                     -1);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(err.kind, WPD_ERR_IO);
    ck_assert_str_eq(err.message, "docker-credential-wpdtest (credential helper for "
                                  "helper.example.com configured in /c.json): exited with status "
                                  "3: keyring locked refusing ******** / ********");

    /* failure without stderr: stdout is quoted unless it is JSON */
    answer(1, "error getting credentials - err: exit status 1\n", "", &h, &err);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for helper.example.com "
                     "configured in /c.json): exited with status 1: error getting credentials - "
                     "err: exit status 1");
    answer(2, "{\"Secret\":\"" SECRET "\"}", "", &h, &err);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for "
                     "helper.example.com configured in /c.json): exited with status 2");

    answer(-1, "", "", &h, &err);
    ck_assert_contains(err.message, "killed by signal 9");

    ck_assert_int_eq(answer(0, "this is not json\n", "", &h, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_IO);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for "
                     "helper.example.com configured in /c.json): answered something "
                     "that is not credentials JSON (invalid JSON at line 1, column 1)");
    ck_assert_int_eq(answer(0, "", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered nothing on stdout");
    ck_assert_int_eq(answer(0, "[1,2]", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered a JSON array instead of an object");
    ck_assert_int_eq(answer(0, "{\"Secret\":\"" SECRET "\"}", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered a Secret without a Username");
    ck_assert_lacks(err.message, SECRET);
    ck_assert_int_eq(answer(0, "{\"Username\":\"u\",\"Secret\":7}", "", &h, &err), -1);
    ck_assert_contains(err.message, "is not a string");
}
END_TEST

START_TEST(redaction)
{
    const char *secrets[] = {"pw", "", "longer-secret", NULL};
    const char text[] = "pw=pw; longer-secret!pwlonger-secret";
    char *r = wpd_cred_redact(text, strlen(text), secrets);
    ck_assert_str_eq(r, "********=********; ********!****************");
    free(r);
    r = wpd_cred_redact("nothing here", 12, NULL);
    ck_assert_str_eq(r, "nothing here");
    free(r);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *credentials_helpers_suite(void)
{
    Suite *s = suite_create("credentials_helpers");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, find_helper_on_path);
    tcase_add_test(pure, helper_answer_cases);
    tcase_add_test(pure, redaction);
    suite_add_tcase(s, pure);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(credentials_helpers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
