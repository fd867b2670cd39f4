/* test_credentials_resolve.c - unit tests for wpd_credentials_resolve()
 * on a real reactor with the test credential helper
 * tests/helpers/docker-credential-wpdtest: the step's auth_config first,
 * credHelpers, credsStore, auths, where config.json is looked for, invalid
 * files, helper failures and timeouts that do not block the loop, cancel
 * and abort, and several helpers at once. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "engine/credentials.h"
#include "childproc_fixtures.h"
#include "credentials_fixtures.h"

/* ---- resolution on a real reactor --------------------------------------- */

typedef struct cred_out {
    bool done;
    int calls;
    char *header;
    bool failed;
    wpd_error error;
    long long at_ms;
} cred_out;

static void cred_cb(void *arg, const char *h, const wpd_error *err)
{
    cred_out *o = arg;
    o->calls++;
    o->done = true;
    o->at_ms = now_ms();
    o->header = h ? wpd_xstrdup(h) : NULL;
    if (err) {
        ck_assert_ptr_null(h);
        o->failed = true;
        o->error = *err;
    }
}

static void resolve(const char *image, const char *user, const char *password, cred_out *o)
{
    memset(o, 0, sizeof *o);
    wpd_reactor *r = new_reactor();
    wpd_cred_request *q =
        wpd_credentials_resolve(r, image, user, password, fake_getenv, cred_cb, o);
    ck_assert_ptr_nonnull(q);
    ck_assert(!o->done); /* never from inside the resolve call */
    ck_assert_int_eq(wpd_reactor_run_until(r, &o->done), 0);
    ck_assert_int_eq(o->calls, 1);
    wpd_reactor_free(r);
}

static char *helper_log;

static void setup_helper_env(void)
{
    make_bin_dir();
    env_reset();
    env_put("PATH", bin_dir);
    env_put("HOME", "/nonexistent-home");
    helper_log = wpd_xasprintf("%s/helper.log", bin_dir);
    setenv("WPDTEST_CRED_LOG", helper_log, 1);
    setenv("WPDTEST_CRED_SECRET", SECRET, 1);
    setenv("WPDTEST_CRED_USER", "wpdtest-user", 1);
    setenv("WPDTEST_CRED_MODE", "ok", 1);
}

static void teardown_helper_env(void)
{
    free(helper_log);
    helper_log = NULL;
    remove_bin_dir();
}

static void use_fixture(const char *dir)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, dir);
    env_put("DOCKER_CONFIG", path);
}

static char *fixture_file(const char *dir)
{
    return wpd_xasprintf("%s/%s/config.json", TEST_DATA_DIR, dir);
}

START_TEST(resolve_step_auth_first)
{
    use_fixture("cred-helpers");
    cred_out o;
    resolve("127.0.0.1:5001/wpdock/busybox:latest", "wpdock", "wpdock-pass", &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_WPDOCK_5001);
    free(o.header);
    /* the helper was not asked */
    ck_assert_ptr_null(tu_read_file(helper_log, NULL));

    /* half an auth_config does not count */
    resolve("helper.example.com/a/b", "wpdock", "", &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HELPER_BASIC);
    free(o.header);
}
END_TEST

START_TEST(resolve_cred_helpers)
{
    use_fixture("cred-helpers");
    cred_out o;
    resolve("helper.example.com/team/app:1.0", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_str_eq(o.header, AUTH_HELPER_BASIC);
    free(o.header);

    /* spelled https://other.example.com/ in credHelpers; the helper gets
     * the bare host */
    resolve("other.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_nonnull(o.header);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"wpdtest-user\",\"password\":\"" SECRET
                           "\",\"serveraddress\":\"other.example.com\"}");
    free(json);
    free(o.header);

    /* Docker Hub: the helper gets https://index.docker.io/v1/ */
    resolve("alpine", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"wpdtest-user\",\"password\":\"" SECRET
                           "\",\"serveraddress\":\"https://index.docker.io/v1/\"}");
    free(json);
    free(o.header);

    char *log = tu_read_file(helper_log, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_str_eq(log, "helper.example.com\nother.example.com\nhttps://index.docker.io/v1/\n");
    free(log);

    /* a registry without a helper entry: auths */
    resolve("auths.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"exuser\",\"password\":\"ex:pass\",\"serveraddress\":"
                           "\"auths.example.com\"}");
    free(json);
    free(o.header);
    assert_no_children();
}
END_TEST

START_TEST(resolve_creds_store)
{
    use_fixture("cred-store");
    setenv("WPDTEST_CRED_MODE", "token", 1);
    cred_out o;
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HELPER_TOKEN);
    free(o.header);
    /* the store answers for registries listed in auths too */
    setenv("WPDTEST_CRED_MODE", "notfound", 1);
    resolve("store.example.com/x", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_ptr_null(o.header);
    char *log = tu_read_file(helper_log, NULL);
    ck_assert_str_eq(log, "helper.example.com\nstore.example.com\n");
    free(log);
    assert_no_children();
}
END_TEST

START_TEST(resolve_auths_file)
{
    use_fixture("cred-auths");
    cred_out o;
    resolve("busybox", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HUBUSER);
    free(o.header);

    resolve("127.0.0.1:5000/wpdock/busybox", NULL, NULL, &o);
    ck_assert(!o.failed);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json,
                     "{\"username\":\"wpdock\",\"password\":\"wpdock-pass\",\"serveraddress\":"
                     "\"127.0.0.1:5000\"}");
    free(json);
    free(o.header);

    resolve("token.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json,
                     "{\"identitytoken\":\"tok-123\",\"serveraddress\":\"token.example.com\"}");
    free(json);
    free(o.header);

    resolve("fields.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"fielduser\",\"password\":\"fieldpass\","
                           "\"serveraddress\":\"fields.example.com\"}");
    free(json);
    free(o.header);

    resolve("empty.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);
    resolve("unlisted.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    char *file = fixture_file("cred-auths");
    resolve("badbase64.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *want = wpd_xasprintf("%s: auths[\"badbase64.example.com\"].auth: not valid base64", file);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(file);
}
END_TEST

START_TEST(resolve_config_locations)
{
    cred_out o;
    /* $HOME/.docker/config.json */
    char *home = wpd_xasprintf("%s/cred-home", TEST_DATA_DIR);
    env_put("HOME", home);
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"homeuser\",\"password\":\"homepass\",\"serveraddress\":"
                           "\"registry.example.com\"}");
    free(json);
    free(o.header);

    /* DOCKER_CONFIG beats HOME */
    use_fixture("cred-auths");
    resolve("registry.example.com/x", NULL, NULL, &o);
    json = decode_header(o.header);
    ck_assert_contains(json, "\"username\":\"exuser\"");
    free(json);
    free(o.header);

    /* WOODPECKER_DOCKER_CONFIG (a file) beats both */
    char *file = fixture_file("cred-token");
    env_put("WOODPECKER_DOCKER_CONFIG", file);
    resolve("alpine:3.19", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_TOKEN_HUB);
    free(o.header);
    free(file);

    /* a missing file: no credentials, no error */
    env_put("WOODPECKER_DOCKER_CONFIG", "/nonexistent/dir/config.json");
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    /* nothing to locate a file with */
    env_reset();
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    /* an unreadable one (a directory): error naming it */
    env_put("WOODPECKER_DOCKER_CONFIG", home);
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *want = wpd_xasprintf("cannot read docker config file %s: Is a directory", home);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(home);
}
END_TEST

START_TEST(resolve_invalid_config)
{
    use_fixture("cred-invalid");
    cred_out o;
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *file = fixture_file("cred-invalid");
    char *want =
        wpd_xasprintf("%s: invalid JSON at line 6, column 1 (byte 104): expected a value", file);
    ck_assert_str_eq(o.error.message, want);
    ck_assert_lacks(o.error.message, "ZXh1c2VyOmV4OnBhc3MAAA");
    free(want);
    free(file);

    /* an invalid image reference fails before anything else */
    resolve("Invalid/Name", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    ck_assert_contains(o.error.message, "invalid image reference \"Invalid/Name\"");
}
END_TEST

START_TEST(resolve_helper_failures)
{
    use_fixture("cred-helpers");
    char *file = fixture_file("cred-helpers");
    cred_out o;

    setenv("WPDTEST_CRED_MODE", "notfound", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_ptr_null(o.header);

    setenv("WPDTEST_CRED_MODE", "fail", 1);
    resolve("helper.example.com/x", "", "step-pass", &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    char *want = wpd_xasprintf(
        "docker-credential-wpdtest (credential helper for helper.example.com configured in %s): "
        "exited with status 3: wpdtest: keyring locked; refusing to hand out ******** for "
        "helper.example.com",
        file);
    ck_assert_str_eq(o.error.message, want);
    ck_assert_lacks(o.error.message, SECRET);
    free(want);

    setenv("WPDTEST_CRED_MODE", "garbage", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    want = wpd_xasprintf("docker-credential-wpdtest (credential helper for helper.example.com "
                         "configured in %s): answered something that is not credentials JSON "
                         "(invalid JSON at line 1, column 1)",
                         file);
    ck_assert_str_eq(o.error.message, want);
    free(want);

    setenv("WPDTEST_CRED_MODE", "empty", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_contains(o.error.message, "answered nothing on stdout");

    /* a helper that is not on PATH */
    resolve("missing.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    want = wpd_xasprintf("docker-credential-nosuchhelper not found on PATH (credential helper for "
                         "missing.example.com configured in %s)",
                         file);
    ck_assert_str_eq(o.error.message, want);
    free(want);

    /* a bad timeout setting */
    setenv("WPDTEST_CRED_MODE", "ok", 1);
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "soon");
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_USAGE);
    ck_assert_contains(o.error.message, "WPDOCK_CREDENTIAL_HELPER_TIMEOUT=\"soon\"");

    free(file);
    assert_no_children();
}
END_TEST

static void tick(void *arg)
{
    long long *at = arg;
    *at = now_ms();
}

START_TEST(resolve_helper_timeout_does_not_block)
{
    use_fixture("cred-helpers");
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "0.5");
    setenv("WPDTEST_CRED_MODE", "hang", 1);
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    cred_out o = {0};
    long long t0 = now_ms(), ticked = 0;
    wpd_timer *t = wpd_timer_new(r, tick, &ticked);
    wpd_timer_start(t, 50);
    wpd_cred_request *q =
        wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    /* the loop kept running other work while the helper hung */
    ck_assert_msg(ticked != 0 && ticked < o.at_ms,
                  "the timer did not fire before the helper ended");
    ck_assert_msg(o.at_ms - t0 >= 500 && o.at_ms - t0 < 5000, "timeout after %lld ms",
                  o.at_ms - t0);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_TIMEOUT);
    char *file = fixture_file("cred-helpers");
    char *want = wpd_xasprintf("docker-credential-wpdtest (credential helper for "
                               "helper.example.com configured in %s): timed out after 0.5 s",
                               file);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(file);
    wpd_timer_free(t);
    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

static void cancel_req_cb(void *arg)
{
    wpd_credentials_cancel(arg);
}

START_TEST(resolve_cancel_and_abort)
{
    use_fixture("cred-helpers");
    setenv("WPDTEST_CRED_MODE", "hang", 1);
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    cred_out o = {0};
    wpd_cred_request *q =
        wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    wpd_timer *t = wpd_timer_new(r, cancel_req_cb, q);
    wpd_timer_start(t, 100);
    long long t0 = now_ms();
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_msg(now_ms() - t0 < 5000, "cancel took too long");
    ck_assert_int_eq(o.calls, 1);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_CANCELED);
    ck_assert_contains(o.error.message, "docker-credential-wpdtest");
    wpd_timer_free(t);

    /* cancel before anything ran (a file source) */
    use_fixture("cred-auths");
    memset(&o, 0, sizeof o);
    q = wpd_credentials_resolve(r, "busybox", NULL, NULL, fake_getenv, cred_cb, &o);
    wpd_credentials_cancel(q); /* the result was already fixed: delivered as is */
    ck_assert(!o.done);
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_int_eq(o.calls, 1);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HUBUSER);
    free(o.header);

    /* abort while the helper runs: no callback, no child left */
    use_fixture("cred-helpers");
    memset(&o, 0, sizeof o);
    q = wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    usleep(50 * 1000);
    wpd_credentials_abort(q);
    wpd_reactor_run_until(r, &o.done);
    ck_assert_int_eq(o.calls, 0);

    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(resolve_concurrent_helpers)
{
    use_fixture("cred-helpers");
    wpd_reactor *r = new_reactor();
    enum { N = 6 };
    cred_out o[N];
    memset(o, 0, sizeof o);
    for (int i = 0; i < N; i++)
        wpd_credentials_resolve(r, i % 2 ? "helper.example.com/x" : "alpine", NULL, NULL,
                                fake_getenv, cred_cb, &o[i]);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(wpd_reactor_run_until(r, &o[i].done), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        ck_assert_msg(!o[i].failed, "%s", o[i].error.message);
        char *json = decode_header(o[i].header);
        ck_assert_contains(json, i % 2 ? "\"serveraddress\":\"helper.example.com\""
                                       : "\"serveraddress\":\"https://index.docker.io/v1/\"");
        free(json);
        free(o[i].header);
    }
    wpd_reactor_free(r);
    assert_no_children();
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *credentials_resolve_suite(void)
{
    Suite *s = suite_create("credentials_resolve");
    TCase *res = tcase_create("resolve");
    tcase_set_timeout(res, 60);
    tcase_add_checked_fixture(res, setup_helper_env, teardown_helper_env);
    tcase_add_test(res, resolve_step_auth_first);
    tcase_add_test(res, resolve_cred_helpers);
    tcase_add_test(res, resolve_creds_store);
    tcase_add_test(res, resolve_auths_file);
    tcase_add_test(res, resolve_config_locations);
    tcase_add_test(res, resolve_invalid_config);
    tcase_add_test(res, resolve_helper_failures);
    tcase_add_test(res, resolve_helper_timeout_does_not_block);
    tcase_add_test(res, resolve_cancel_and_abort);
    tcase_add_test(res, resolve_concurrent_helpers);
    suite_add_tcase(s, res);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(credentials_resolve_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
