/* test_registry.c - registry credentials end to end against the real
 * Docker engine and the real password-protected registry of the engines
 * environment ($WPDOCK_REGISTRY, $WPDOCK_REGISTRY_USER/PASS,
 * $WPDOCK_REGISTRY_IMAGE): the X-Registry-Auth value comes from
 * core/credentials (the step's auth_config, a config.json `auths` entry,
 * a credential helper named in credHelpers) and goes into
 * `POST /images/create`; a wrong password and no credentials must fail
 * with the registry's message, which never contains the password. Every
 * pulled image is removed again. The tests fail when the engines
 * environment is missing (source the engines.env scripts/engines-up
 * prints). Docker only: a Podman service started without the registry
 * marked insecure cannot pull from it. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>

#include <wpdock/engine.h>
#include <wpdock/plugins.h>
#include <wpdock/reactor.h>

#include "util/base64.h"
#include "util/buf.h"
#include "engine/credentials.h"
#include "engine/engine.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))
#define ck_assert_lacks(hay, needle)                                                               \
    ck_assert_msg(strstr((hay), (needle)) == NULL, "\"%s\" contains \"%s\"", (hay), (needle))

#define HELPER_SCRIPT TEST_DATA_DIR "/../helpers/docker-credential-wpdtest"

/* A variable of the engines environment; its absence fails the test. */
static const char *need(const char *name)
{
    const char *v = tu_env(name, NULL);
    ck_assert_msg(v != NULL && *v,
                  "%s is not set: start the engines with scripts/engines-up and source the "
                  "engines.env it prints (e.g. /tmp/wpdock-engines/engines.env)",
                  name);
    return v;
}

/* ---- fake environment for the credential lookup ------------------------- */

#define MAX_VARS 8
static const char *env_names[MAX_VARS];
static char *env_values[MAX_VARS];
static size_t env_n;

static void env_put(const char *name, const char *value)
{
    ck_assert_uint_lt(env_n, MAX_VARS);
    env_names[env_n] = name;
    env_values[env_n++] = wpd_xstrdup(value);
}

static void env_clear(void)
{
    for (size_t i = 0; i < env_n; i++)
        free(env_values[i]);
    env_n = 0;
}

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

/* ---- the engine --------------------------------------------------------- */

static wpd_reactor *reactor;
static wpd_plugin_registry *plugins;
static wpd_engine *engine;
static char *tmp_dir;

static const char *no_config(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void setup(void)
{
    const char *host = need("WPDOCK_DOCKER_HOST");
    need("WPDOCK_REGISTRY");
    need("WPDOCK_REGISTRY_USER");
    need("WPDOCK_REGISTRY_PASS");
    need("WPDOCK_REGISTRY_IMAGE");
    wpd_error err = {0};
    reactor = wpd_reactor_new(&err);
    ck_assert_msg(reactor != NULL, "%s", err.message);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", WPDOCK_CLI);
    char *slash = strrchr(dir, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash, sizeof dir - (size_t)(slash - dir), "/transports");
    plugins = wpd_plugins_load((const char *[]){dir, NULL});
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(plugins, "unix"));
    engine = wpd_engine_new(reactor, plugins, "test", host, no_config, NULL, &err);
    ck_assert_msg(engine != NULL, "%s", err.message);
    ck_assert_msg(wpd_engine_connect_sync(engine, &err) == 0, "engine at %s unreachable: %s", host,
                  err.message);
    ck_assert_msg(wpd_engine_get_kind(engine) == WPD_ENGINE_DOCKER,
                  "%s is not a Docker engine; these tests need Docker", host);
    tmp_dir = tu_mkdtemp();
    env_n = 0;
}

static void teardown(void)
{
    env_clear();
    if (engine)
        wpd_engine_free(engine);
    if (plugins)
        wpd_plugins_free(plugins);
    if (reactor)
        wpd_reactor_free(reactor);
    engine = NULL;
    plugins = NULL;
    reactor = NULL;
    if (tmp_dir)
        tu_rm_rf(tmp_dir);
    free(tmp_dir);
    tmp_dir = NULL;
}

typedef struct call_out {
    bool done;
    long status;
    char *body;
    bool failed;
    wpd_error err;
} call_out;

static void call_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    call_out *o = arg;
    o->done = true;
    o->status = res ? res->status : 0;
    o->body = wpd_xstrdup(res ? wpd_buf_cstr(&res->body) : "");
    if (err) {
        o->failed = true;
        o->err = *err;
    }
}

static void engine_call(const char *method, const char *path, const char *header, call_out *o)
{
    memset(o, 0, sizeof *o);
    const char *headers[2] = {header, NULL};
    wpd_engine_call c = {.method = method,
                         .path = path,
                         .headers = header ? headers : NULL,
                         .timeout_ms = 120000,
                         .on_done = call_done,
                         .arg = o};
    wpd_engine_call_start(engine, &c);
    ck_assert_int_eq(wpd_reactor_run_until(reactor, &o->done), 0);
}

/* The registry image by name and tag (WPDOCK_REGISTRY_IMAGE is name:tag). */
static void image_parts(char **name, char **tag)
{
    const char *img = need("WPDOCK_REGISTRY_IMAGE");
    const char *colon = strrchr(img, ':');
    const char *slash = strrchr(img, '/');
    if (colon && (!slash || colon > slash)) {
        *name = wpd_xstrndup(img, (size_t)(colon - img));
        *tag = wpd_xstrdup(colon + 1);
    } else {
        *name = wpd_xstrdup(img);
        *tag = wpd_xstrdup("latest");
    }
}

static void remove_image(void)
{
    char *name, *tag;
    image_parts(&name, &tag);
    char *path = wpd_xasprintf("/images/%s:%s", name, tag);
    call_out o;
    engine_call("DELETE", path, NULL, &o);
    ck_assert_msg(!o.failed || o.err.status == 404, "removing %s:%s: %s", name, tag, o.err.message);
    free(o.body);
    free(path);
    free(name);
    free(tag);
}

static bool image_present(void)
{
    char *name, *tag;
    image_parts(&name, &tag);
    char *path = wpd_xasprintf("/images/%s:%s/json", name, tag);
    call_out o;
    engine_call("GET", path, NULL, &o);
    bool present = !o.failed;
    ck_assert_msg(!o.failed || o.err.status == 404, "inspecting %s:%s: %s", name, tag,
                  o.err.message);
    free(o.body);
    free(path);
    free(name);
    free(tag);
    return present;
}

/* Pull the registry image with an optional X-Registry-Auth value. Returns
 * NULL on success, else the failure text (malloc'd): the HTTP error or the
 * errorDetail inside the progress stream. */
static char *pull(const char *x_registry_auth)
{
    char *name, *tag;
    image_parts(&name, &tag);
    char *ename = tu_url_escape(name), *etag = tu_url_escape(tag);
    char *path = wpd_xasprintf("/images/create?fromImage=%s&tag=%s", ename, etag);
    char *header = x_registry_auth ? wpd_xasprintf("X-Registry-Auth: %s", x_registry_auth) : NULL;
    call_out o;
    engine_call("POST", path, header, &o);
    char *result = NULL;
    if (o.failed)
        result = wpd_xstrdup(o.err.message);
    else if (strstr(o.body, "errorDetail"))
        result = wpd_xstrdup(o.body);
    else
        ck_assert_int_eq(o.status, 200);
    free(o.body);
    free(header);
    free(path);
    free(ename);
    free(etag);
    free(name);
    free(tag);
    return result;
}

/* ---- resolving through core/credentials --------------------------------- */

typedef struct cred_out {
    bool done;
    char *header;
    bool failed;
    wpd_error err;
} cred_out;

static void cred_done(void *arg, const char *h, const wpd_error *err)
{
    cred_out *o = arg;
    o->done = true;
    o->header = h ? wpd_xstrdup(h) : NULL;
    if (err) {
        o->failed = true;
        o->err = *err;
    }
}

/* The X-Registry-Auth value for the registry image (NULL = none). */
static char *resolve(const char *user, const char *password)
{
    cred_out o = {0};
    wpd_credentials_resolve(reactor, need("WPDOCK_REGISTRY_IMAGE"), user, password, fake_getenv,
                            cred_done, &o);
    ck_assert_int_eq(wpd_reactor_run_until(reactor, &o.done), 0);
    ck_assert_msg(!o.failed, "resolving credentials: %s", o.err.message);
    return o.header;
}

static void pull_ok(const char *header)
{
    remove_image();
    ck_assert_msg(!image_present(), "the image is still present before the pull");
    char *fail = pull(header);
    ck_assert_msg(fail == NULL, "pull failed: %s", fail);
    ck_assert_msg(image_present(), "the image is not present after the pull");
    remove_image();
    ck_assert(!image_present());
}

static void pull_refused(const char *header, const char *password)
{
    remove_image();
    char *fail = pull(header);
    ck_assert_msg(fail != NULL, "the pull succeeded");
    ck_assert_msg(strstr(fail, "unauthorized") || strstr(fail, "authentication required") ||
                      strstr(fail, "no basic auth credentials"),
                  "not the registry's refusal: %s", fail);
    if (password)
        ck_assert_lacks(fail, password);
    free(fail);
    ck_assert(!image_present());
}

START_TEST(pull_with_step_auth_config)
{
    const char *user = need("WPDOCK_REGISTRY_USER"), *pass = need("WPDOCK_REGISTRY_PASS");
    char *h = resolve(user, pass);
    ck_assert_ptr_nonnull(h);
    /* the same value engines-up computed for this registry */
    const char *want = tu_env("WPDOCK_REGISTRY_AUTH", NULL);
    if (want)
        ck_assert_str_eq(h, want);
    pull_ok(h);
    free(h);
}
END_TEST

START_TEST(pull_with_config_auths)
{
    const char *user = need("WPDOCK_REGISTRY_USER"), *pass = need("WPDOCK_REGISTRY_PASS");
    char *userpass = wpd_xasprintf("%s:%s", user, pass);
    char *b64 = wpd_base64_encode(userpass, strlen(userpass));
    char *json = wpd_xasprintf("{\"auths\":{\"http://%s/\":{\"auth\":\"%s\"}}}",
                               need("WPDOCK_REGISTRY"), b64);
    char *file = wpd_xasprintf("%s/docker.json", tmp_dir);
    tu_write_file(file, json, strlen(json));
    env_put("WOODPECKER_DOCKER_CONFIG", file);
    char *h = resolve(NULL, NULL);
    ck_assert_ptr_nonnull(h);
    pull_ok(h);
    free(h);
    free(file);
    free(json);
    free(b64);
    free(userpass);
}
END_TEST

START_TEST(pull_with_credential_helper)
{
    /* the test helper answers the registry's user and password */
    char *bin = wpd_xasprintf("%s/bin", tmp_dir);
    ck_assert_int_eq(mkdir(bin, 0755), 0);
    size_t len = 0;
    char *script = tu_read_file(HELPER_SCRIPT, &len);
    ck_assert_msg(script != NULL, "cannot read %s", HELPER_SCRIPT);
    char *dst = wpd_xasprintf("%s/docker-credential-wpdtest", bin);
    tu_write_file(dst, script, len);
    ck_assert_int_eq(chmod(dst, 0755), 0);
    char *log = wpd_xasprintf("%s/helper.log", tmp_dir);
    setenv("WPDTEST_CRED_MODE", "ok", 1);
    setenv("WPDTEST_CRED_USER", need("WPDOCK_REGISTRY_USER"), 1);
    setenv("WPDTEST_CRED_SECRET", need("WPDOCK_REGISTRY_PASS"), 1);
    setenv("WPDTEST_CRED_LOG", log, 1);

    char *json = wpd_xasprintf("{\"credHelpers\":{\"%s\":\"wpdtest\"}}", need("WPDOCK_REGISTRY"));
    char *cfgdir = wpd_xasprintf("%s/cfg", tmp_dir);
    ck_assert_int_eq(mkdir(cfgdir, 0755), 0);
    char *file = wpd_xasprintf("%s/config.json", cfgdir);
    tu_write_file(file, json, strlen(json));
    env_put("DOCKER_CONFIG", cfgdir);
    env_put("PATH", bin);

    char *h = resolve(NULL, NULL);
    ck_assert_ptr_nonnull(h);
    char *asked = tu_read_file(log, NULL);
    ck_assert_ptr_nonnull(asked);
    char *want = wpd_xasprintf("%s\n", need("WPDOCK_REGISTRY"));
    ck_assert_str_eq(asked, want);
    pull_ok(h);

    /* the helper knows nothing: no header, and the registry refuses */
    free(h);
    setenv("WPDTEST_CRED_MODE", "notfound", 1);
    h = resolve(NULL, NULL);
    ck_assert_ptr_null(h);
    pull_refused(NULL, NULL);

    free(want);
    free(asked);
    free(file);
    free(cfgdir);
    free(json);
    free(log);
    free(dst);
    free(script);
    free(bin);
}
END_TEST

START_TEST(pull_with_wrong_password)
{
    const char *user = need("WPDOCK_REGISTRY_USER");
    const char *wrong = "wrong-Pa55word-for-wpdock";
    char *h = resolve(user, wrong);
    ck_assert_ptr_nonnull(h);
    pull_refused(h, wrong);
    free(h);
}
END_TEST

START_TEST(pull_without_credentials)
{
    env_put("HOME", tmp_dir); /* no .docker/config.json there */
    char *h = resolve(NULL, NULL);
    ck_assert_ptr_null(h);
    pull_refused(NULL, NULL);
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("pull");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pull_with_step_auth_config);
    tcase_add_test(tc, pull_with_config_auths);
    tcase_add_test(tc, pull_with_credential_helper);
    tcase_add_test(tc, pull_with_wrong_password);
    tcase_add_test(tc, pull_without_credentials);
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
