/* test_exec_registry.c - `wpdock exec` pulling from the real registry of
 * scripts/engines-up (htpasswd auth): credentials from the step, from a
 * Docker config file's auths, credHelpers and credsStore; failing, hanging
 * and garbage helpers; pull: true re-pulls; a missing image is pulled on
 * demand; pull progress events; the password never appears in any output.
 * Runs against the engine under test (WPDOCK_TEST_ENGINE_*, testutil.h);
 * fails when the engines env or the registry is missing. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"

static const char *need(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "%s is not set: source the engines.env of scripts/engines-up", name);
    return v;
}

typedef struct reg_run {
    char *dir;
    char *out;  /* stdout */
    char *err;  /* stderr */
    int status; /* wpdock's exit status */
    char unique[27];
} reg_run;

/* Remove the registry image from the engine under test, so a pull is real. */
static void drop_image(void)
{
    char *esc = tu_url_escape(need("WPDOCK_REGISTRY_IMAGE"));
    char *path = wpd_xasprintf("/v1.41/images/%s?force=1", esc);
    tu_engine_request("DELETE", path, NULL, NULL);
    free(path);
    free(esc);
}

/* A one-step workflow using the registry image; `extra` adds step keys. */
static char *workflow(reg_run *r, const char *extra)
{
    char *path = wpd_xasprintf("%s/wf.json", r->dir);
    char *doc =
        wpd_xasprintf("{\"network\":\"wp_%s_n\",\"volume\":\"wp_%s_v\",\"pipeline\":[{\"steps\":[{"
                      "\"name\":\"pulled\",\"uuid\":\"%s\",\"image\":\"%s\",\"commands\":[\"echo "
                      "image-ran\"],\"workspace_base\":\"/w\",\"working_dir\":\"/"
                      "w\",\"on_success\":true%s%s}]}]}",
                      r->unique, r->unique, r->unique, need("WPDOCK_REGISTRY_IMAGE"),
                      extra ? "," : "", extra ? extra : "");
    tu_write_file(path, doc, strlen(doc));
    free(doc);
    return path;
}

static void setup_run(reg_run *r)
{
    memset(r, 0, sizeof *r);
    r->dir = tu_mkdtemp();
    tu_ulid_lower(r->unique);
    /* the fake credential helper, on a PATH of its own */
    char *bin = wpd_xasprintf("%s/bin", r->dir);
    mkdir(bin, 0755);
    char *src = tu_read_file(TEST_DATA_DIR "/../helpers/docker-credential-wpdtest", NULL);
    ck_assert_ptr_nonnull(src);
    char *dst = wpd_xasprintf("%s/docker-credential-wpdtest", bin);
    tu_write_file(dst, src, strlen(src));
    chmod(dst, 0755);
    free(src);
    free(dst);
    free(bin);
    drop_image();
}

/* A config.json in the run's directory; returns its path (malloc'd). */
static char *docker_config(reg_run *r, const char *json)
{
    char *path = wpd_xasprintf("%s/config.json", r->dir);
    tu_write_file(path, json, strlen(json));
    return path;
}

/* Run `wpdock exec --log-format json` on wf with extra "K=V ..." env. */
static void run(reg_run *r, const char *wf, const char *env)
{
    const char *cert = tu_engine_cert_path();
    char *certenv = cert ? wpd_xasprintf("DOCKER_CERT_PATH=%s", cert) : wpd_xstrdup("");
    char *errf = wpd_xasprintf("%s/stderr", r->dir);
    char *cmd = wpd_xasprintf(
        "env -u WOODPECKER_DOCKER_CONFIG -u DOCKER_CONFIG HOME=%s PATH=%s/bin:$PATH "
        "DOCKER_HOST=%s %s %s %s exec --log-format json %s 2>%s",
        r->dir, r->dir, tu_engine_host(), certenv, env ? env : "", WPDOCK_CLI, wf, errf);
    r->status = tu_run(cmd, 0, &r->out);
    r->err = tu_read_file(errf, NULL);
    if (!r->err)
        r->err = wpd_xstrdup("");
    free(cmd);
    free(errf);
    free(certenv);
}

/* The password, the user:password pair and its base64 never show up. */
static void assert_no_secret(const reg_run *r)
{
    const char *pass = need("WPDOCK_REGISTRY_PASS");
    const char *outs[2] = {r->out, r->err};
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(strstr(outs[i], pass) == NULL, "the password leaked: %s", outs[i]);
        ck_assert_msg(strstr(outs[i], "wpdtest-secret") == NULL, "a helper secret leaked: %s",
                      outs[i]);
    }
}

static void assert_clean(const reg_run *r)
{
    char *names = NULL;
    /* the step container and the workflow's network and volume are gone */
    char *esc = tu_url_escape("{\"label\":[\"wp_uuid\"]}");
    char *path = wpd_xasprintf("/v1.41/containers/json?all=1&filters=%s", esc);
    long st = tu_engine_request("GET", path, NULL, &names);
    ck_assert_int_eq(st, 200);
    ck_assert_msg(strstr(names, r->unique) == NULL, "container left: %s", names);
    free(names);
    free(path);
    free(esc);
    const char *kinds[2] = {"networks", "volumes"};
    for (int i = 0; i < 2; i++) {
        path = wpd_xasprintf("/v1.41/%s", kinds[i]);
        tu_engine_request("GET", path, NULL, &names);
        ck_assert_msg(strstr(names, r->unique) == NULL, "%s left: %.300s", kinds[i], names);
        free(names);
        free(path);
    }
}

static void finish_run(reg_run *r)
{
    assert_no_secret(r);
    assert_clean(r);
    drop_image();
    tu_rm_rf(r->dir);
    free(r->dir);
    free(r->out);
    free(r->err);
}

static void assert_success(const reg_run *r)
{
    ck_assert_msg(r->status == 0, "exit status %d\nstdout:\n%.3000s\nstderr:\n%.2000s", r->status,
                  r->out, r->err);
    ck_assert_msg(strstr(r->out, "\"line\":\"image-ran\"") != NULL, "the step did not run: %s",
                  r->out);
}

/* The step failed at start with an error containing `what`. */
static void assert_start_error(const reg_run *r, const char *what)
{
    ck_assert_msg(r->status == 1, "exit status %d\nstdout:\n%.3000s\nstderr:\n%.2000s", r->status,
                  r->out, r->err);
    const char *ev = strstr(r->out, "\"step\":\"pulled\"");
    const char *err = NULL;
    for (const char *p = r->out; (p = strstr(p, "{\"event\":\"step\"")); p++)
        if (strstr(p, "\"status\":\"error\"") &&
            strstr(p, "\"status\":\"error\"") < strchr(p, '\n'))
            err = p;
    ck_assert_msg(ev && err, "no step error event: %s", r->out);
    const char *eol = strchr(err, '\n');
    char *line = wpd_xstrndup(err, eol ? (size_t)(eol - err) : strlen(err));
    ck_assert_msg(strstr(line, what) != NULL, "step error lacks \"%s\": %s", what, line);
    ck_assert_msg(strstr(r->out, "image-ran") == NULL, "the step ran anyway");
    free(line);
}

START_TEST(test_auth_config_pull_with_progress)
{
    reg_run r;
    setup_run(&r);
    char *extra = wpd_xasprintf("\"pull\":true,\"auth_config\":{\"username\":\"%s\",\"password\":"
                                "\"%s\"}",
                                need("WPDOCK_REGISTRY_USER"), need("WPDOCK_REGISTRY_PASS"));
    char *wf = workflow(&r, extra);
    run(&r, wf, NULL);
    assert_success(&r);
    ck_assert_msg(strstr(r.out, "{\"event\":\"pull\"") != NULL, "no pull events: %s", r.out);
    ck_assert_msg(strstr(r.out, "\"step\":\"pulled\",\"image\":\"") != NULL, "pull event shape: %s",
                  r.out);
    free(extra);
    free(wf);
    finish_run(&r);
}
END_TEST

START_TEST(test_wrong_password)
{
    reg_run r;
    setup_run(&r);
    char *extra = wpd_xasprintf(
        "\"pull\":true,\"auth_config\":{\"username\":\"%s\",\"password\":\"wrong-%s\"}",
        need("WPDOCK_REGISTRY_USER"), need("WPDOCK_REGISTRY_PASS"));
    char *wf = workflow(&r, extra);
    run(&r, wf, NULL);
    assert_start_error(&r, "pulling image");
    ck_assert_msg(strstr(r.out, "unauthorized") || strstr(r.out, "authentication required"),
                  "no registry message: %s", r.out);
    ck_assert_msg(strstr(r.out, "wrong-") == NULL, "the wrong password leaked: %s", r.out);
    free(extra);
    free(wf);
    finish_run(&r);
}
END_TEST

START_TEST(test_config_auths)
{
    reg_run r;
    setup_run(&r);
    char *userpass =
        wpd_xasprintf("%s:%s", need("WPDOCK_REGISTRY_USER"), need("WPDOCK_REGISTRY_PASS"));
    char *b64 = NULL;
    char *cmd = wpd_xasprintf("printf %%s '%s' | base64 -w0", userpass);
    tu_run(cmd, 0, &b64);
    char *json =
        wpd_xasprintf("{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}", need("WPDOCK_REGISTRY"), b64);
    char *cfg = docker_config(&r, json);
    char *env = wpd_xasprintf("WOODPECKER_DOCKER_CONFIG=%s", cfg);
    char *wf = workflow(&r, "\"pull\":true");
    run(&r, wf, env);
    assert_success(&r);
    free(userpass);
    free(b64);
    free(cmd);
    free(json);
    free(cfg);
    free(env);
    free(wf);
    finish_run(&r);
}
END_TEST

/* credHelpers or credsStore naming the test helper, in a given mode. */
static void helper_case(reg_run *r, bool store, const char *mode)
{
    char *json =
        store ? wpd_xstrdup("{\"credsStore\":\"wpdtest\"}")
              : wpd_xasprintf("{\"credHelpers\":{\"%s\":\"wpdtest\"}}", need("WPDOCK_REGISTRY"));
    /* found via $HOME/.docker/config.json this time */
    char *dotdir = wpd_xasprintf("%s/.docker", r->dir);
    mkdir(dotdir, 0755);
    char *path = wpd_xasprintf("%s/config.json", dotdir);
    tu_write_file(path, json, strlen(json));
    char *env =
        wpd_xasprintf("WPDTEST_CRED_MODE=%s WPDTEST_CRED_USER=%s WPDTEST_CRED_SECRET=%s "
                      "WPDOCK_CREDENTIAL_HELPER_TIMEOUT=2",
                      mode, need("WPDOCK_REGISTRY_USER"),
                      strcmp(mode, "ok") == 0 ? need("WPDOCK_REGISTRY_PASS") : "wpdtest-secret");
    char *wf = workflow(r, "\"pull\":true");
    run(r, wf, env);
    free(json);
    free(dotdir);
    free(path);
    free(env);
    free(wf);
}

START_TEST(test_cred_helper)
{
    reg_run r;
    setup_run(&r);
    helper_case(&r, false, "ok");
    assert_success(&r);
    finish_run(&r);
}
END_TEST

START_TEST(test_creds_store)
{
    reg_run r;
    setup_run(&r);
    helper_case(&r, true, "ok");
    assert_success(&r);
    finish_run(&r);
}
END_TEST

START_TEST(test_helper_fails)
{
    reg_run r;
    setup_run(&r);
    helper_case(&r, false, "fail");
    assert_start_error(&r, "docker-credential-wpdtest");
    finish_run(&r);
}
END_TEST

START_TEST(test_helper_hangs)
{
    reg_run r;
    setup_run(&r);
    helper_case(&r, false, "hang");
    assert_start_error(&r, "timed out");
    finish_run(&r);
}
END_TEST

START_TEST(test_helper_garbage)
{
    reg_run r;
    setup_run(&r);
    helper_case(&r, true, "garbage");
    assert_start_error(&r, "docker-credential-wpdtest");
    finish_run(&r);
}
END_TEST

START_TEST(test_pull_true_repulls)
{
    reg_run r;
    setup_run(&r);
    char *extra = wpd_xasprintf("\"pull\":true,\"auth_config\":{\"username\":\"%s\",\"password\":"
                                "\"%s\"}",
                                need("WPDOCK_REGISTRY_USER"), need("WPDOCK_REGISTRY_PASS"));
    char *wf = workflow(&r, extra);
    run(&r, wf, NULL);
    assert_success(&r);
    free(r.out);
    free(r.err);
    /* the image is there now; pull: true still asks the registry */
    tu_ulid_lower(r.unique);
    free(wf);
    wf = workflow(&r, extra);
    run(&r, wf, NULL);
    assert_success(&r);
    ck_assert_msg(strstr(r.out, "{\"event\":\"pull\"") != NULL, "no second pull: %s", r.out);
    free(extra);
    free(wf);
    finish_run(&r);
}
END_TEST

START_TEST(test_missing_image_pulled_on_demand)
{
    reg_run r;
    setup_run(&r);
    /* no `pull`: create finds no image, wpdock pulls it and creates again */
    char *extra = wpd_xasprintf("\"auth_config\":{\"username\":\"%s\",\"password\":\"%s\"}",
                                need("WPDOCK_REGISTRY_USER"), need("WPDOCK_REGISTRY_PASS"));
    char *wf = workflow(&r, extra);
    run(&r, wf, NULL);
    assert_success(&r);
    ck_assert_msg(strstr(r.out, "{\"event\":\"pull\"") != NULL, "no pull events: %s", r.out);
    free(extra);
    free(wf);
    finish_run(&r);
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("exec-registry");
    TCase *tc = tcase_create("registry");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_auth_config_pull_with_progress);
    tcase_add_test(tc, test_wrong_password);
    tcase_add_test(tc, test_config_auths);
    tcase_add_test(tc, test_cred_helper);
    tcase_add_test(tc, test_creds_store);
    tcase_add_test(tc, test_helper_fails);
    tcase_add_test(tc, test_helper_hangs);
    tcase_add_test(tc, test_helper_garbage);
    tcase_add_test(tc, test_pull_true_repulls);
    tcase_add_test(tc, test_missing_image_pulled_on_demand);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(registry_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
