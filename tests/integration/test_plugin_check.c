/* test_plugin_check.c - `wpdock plugins --check FILE.so [ENDPOINT]`, the
 * real command: the good fixture conforms (exit 0); each broken fixture
 * fails (exit 1) with the right item marked FAILED; the fixconn fixture
 * (ABI 1.1, dials itself) passes open, connect and /_ping against Docker
 * and Podman; the build tree's transports pass against Docker
 * ($WPDOCK_DOCKER_HOST), Podman ($WPDOCK_PODMAN_HOST) and Docker over TLS
 * ($WPDOCK_DOCKER_TLS_HOST); an unreachable endpoint and a loose file mode
 * fail; usage errors exit 2; `wpdock plugins` shows trust refusals. The
 * engines must be up (scripts/engines-up) or the tests fail. */
#define _GNU_SOURCE
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"

/* BUILD/tests/fixtures/SUB or BUILD/SUB, next to the wpdock binary */
static char *build_path(const char *sub)
{
    char *cli = wpd_xstrdup(WPDOCK_CLI);
    char *d = wpd_xasprintf("%s/%s", dirname(cli), sub);
    free(cli);
    return d;
}

static const char *need_env(const char *var)
{
    const char *v = getenv(var);
    ck_assert_msg(v && *v,
                  "%s is not set: start the engines (scripts/engines-up) and source "
                  "their engines.env",
                  var);
    return v;
}

/* The socket path of a unix:// endpoint in the environment. */
static const char *engine_socket(const char *var)
{
    const char *h = need_env(var);
    ck_assert_msg(strncmp(h, "unix://", 7) == 0, "%s must name a unix socket, not %s", var, h);
    return h + 7;
}

/* `wpdock plugins ARGS` (args already quoted) with a clean engine
 * environment and extra "K=V " assignments; exit status, *out (stdout and
 * stderr). */
static int run_plugins(const char *env, const char *args, char **out)
{
    char *cmd = wpd_xasprintf("env -u WOODPECKER_BACKEND_DOCKER_HOST -u DOCKER_HOST -u "
                              "DOCKER_CERT_PATH -u DOCKER_TLS_VERIFY -u WPDOCK_PLUGIN_PATH %s "
                              "'%s' plugins %s",
                              env ? env : "", WPDOCK_CLI, args);
    int rc = tu_run(cmd, 1, out);
    free(cmd);
    ck_assert_msg(!strstr(*out, "Sanitizer"), "sanitizer report: %s", *out);
    return rc;
}

/* --check FILE [ENDPOINT]: the exit status, output in *out */
static int check_file(const char *env, const char *file, const char *endpoint, char **out)
{
    char *args = wpd_xasprintf("--check '%s'%s%s%s", file, endpoint ? " '" : "",
                               endpoint ? endpoint : "", endpoint ? "'" : "");
    int rc = run_plugins(env, args, out);
    free(args);
    return rc;
}

/* The output has a line starting with MARK (padded) and "ITEM: " and
 * containing needle (NULL: any). */
static int has_line(const char *out, const char *mark, const char *item, const char *needle)
{
    char *prefix = wpd_xasprintf("%-7s %s: ", mark, item);
    int found = 0;
    for (const char *l = out; l && *l && !found;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len >= strlen(prefix) && strncmp(l, prefix, strlen(prefix)) == 0) {
            char *line = strndup(l, len);
            found = !needle || strstr(line, needle) != NULL;
            free(line);
        }
        l = nl ? nl + 1 : NULL;
    }
    free(prefix);
    return found;
}

#define ck_line(out, mark, item, needle)                                                           \
    ck_assert_msg(has_line((out), (mark), (item), (needle)), "no \"%s %s: ...%s\" line in:\n%s",   \
                  (mark), (item), (needle) ? (needle) : "", (out))

/* Nothing FAILED, the summary says so. */
static void ck_all_ok(const char *out)
{
    ck_assert_msg(!strstr(out, "\nFAILED "), "an item failed:\n%s", out);
    ck_assert_msg(strstr(out, "ok: every item holds"), "no ok summary:\n%s", out);
}

START_TEST(good_fixture_passes)
{
    char *so = build_path("tests/fixtures/good/wpdock-fixture.so");
    char *out = NULL;
    int rc = check_file(NULL, so, NULL, &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    ck_all_ok(out);
    const char *items[] = {"file",    "trust: file", "trust: directory", "exports", "dlopen",
                           "entry()", "abi_major",   "struct_size",      "name",    "version",
                           "open",    "schemes"};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        ck_line(out, "ok", items[i], NULL);
    ck_line(out, "ok", "exports", "exactly one dynamic symbol, wpdock_transport_entry");
    ck_line(out, "ok", "abi_major", "this wpdock speaks 1.1");
    free(out);
    free(so);
}
END_TEST

START_TEST(broken_fixtures_fail)
{
    struct {
        const char *file, *item, *needle;
    } cases[] = {
        {"abi-major/wpdock-abi2.so", "abi_major", "ABI major version 2"},
        {"too-small/wpdock-small.so", "struct_size", "too small"},
        {"no-symbol/wpdock-nosym.so", "exports", "wpdock_transport_entry is not exported"},
        {"no-symbol/wpdock-nosym.so", "entry symbol", "no entry symbol"},
        {"not-elf/notelf.so", "dlopen", "not a loadable shared object"},
        {"incomplete/wpdock-incomplete.so", "open", "no open function"},
        {"needs-newer/wpdock-needs9.so", "min_core_minor", "needs transport ABI 1.9 or later"},
        {"two-exports/wpdock-twoexp.so", "exports", "wpdock_fixture_extra_export"},
        {"unresolved/wpdock-unresolved.so", "dlopen", "wpdock_fixture_function_nobody_defines"},
        {"null-entry/wpdock-nullentry.so", "entry()", "returned NULL"},
        {"bad-scheme/wpdock-badscheme.so", "schemes", "\"FixCheck\" can never match"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *rel = wpd_xasprintf("tests/fixtures/%s", cases[i].file);
        char *so = build_path(rel);
        char *out = NULL;
        int rc = check_file(NULL, so, NULL, &out);
        ck_assert_msg(rc == 1, "%s: exit %d:\n%s", cases[i].file, rc, out);
        ck_line(out, "FAILED", cases[i].item, cases[i].needle);
        ck_assert_msg(strstr(out, "items failed"), "no FAILED summary:\n%s", out);
        free(out);
        free(so);
        free(rel);
    }
}
END_TEST

static void fixconn_against(const char *var, const char *kind)
{
    char *so = build_path("tests/fixtures/connect/wpdock-fixconn.so");
    char *ep = wpd_xasprintf("fixconn://%s", engine_socket(var));
    char *out = NULL;
    int rc = check_file(NULL, so, ep, &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    ck_all_ok(out);
    ck_line(out, "ok", "open()", "base_url http://fixconn.invalid");
    ck_line(out, "ok", "headers()", "X-Wpdock-Fixture: connect");
    char *peer = wpd_xasprintf("peer: unix socket %s", engine_socket(var));
    ck_line(out, "ok", "connect()", peer);
    char *k =
        wpd_xasprintf("/_ping answered through the engine path (then /version, /info): %s ", kind);
    ck_line(out, "ok", "ping", k);
    free(k);
    free(peer);
    free(out);
    free(ep);
    free(so);
}

START_TEST(fixconn_docker)
{
    fixconn_against("WPDOCK_DOCKER_HOST", "docker");
}
END_TEST

START_TEST(fixconn_podman)
{
    fixconn_against("WPDOCK_PODMAN_HOST", "podman");
}
END_TEST

/* A real transport of the build tree against an engine: every item ok,
 * and the ping names the engine kind. */
static void transport_against(const char *name, const char *env, const char *ep, const char *kind)
{
    char *rel = wpd_xasprintf("transports/wpdock-%s.so", name);
    char *so = build_path(rel);
    char *out = NULL;
    int rc = check_file(env, so, ep, &out);
    ck_assert_msg(rc == 0, "%s %s: exit %d:\n%s", name, ep, rc, out);
    ck_all_ok(out);
    ck_line(out, "ok", "open()", "base_url http");
    ck_line(out, "skip", "connect()", "the core dials");
    char *k = wpd_xasprintf("answered through the engine path (then /version, /info): %s ", kind);
    ck_line(out, "ok", "ping", k);
    free(k);
    free(out);
    free(so);
    free(rel);
}

START_TEST(unix_transport_docker_and_podman)
{
    transport_against("unix", NULL, need_env("WPDOCK_DOCKER_HOST"), "docker");
    transport_against("unix", NULL, need_env("WPDOCK_PODMAN_HOST"), "podman");
}
END_TEST

START_TEST(podman_transport)
{
    char *ep = wpd_xasprintf("podman://%s", engine_socket("WPDOCK_PODMAN_HOST"));
    transport_against("podman", NULL, ep, "podman");
    free(ep);
}
END_TEST

START_TEST(tcptls_transport)
{
    char *env = wpd_xasprintf("DOCKER_CERT_PATH='%s'", need_env("WPDOCK_DOCKER_CERT_PATH"));
    transport_against("tcptls", env, need_env("WPDOCK_DOCKER_TLS_HOST"), "docker");
    char *out = NULL;
    char *so = build_path("transports/wpdock-tcptls.so");
    /* the setup shows the TLS files */
    ck_assert_int_eq(check_file(env, so, need_env("WPDOCK_DOCKER_TLS_HOST"), &out), 0);
    ck_line(out, "ok", "open()", "cert.pem");
    free(out);
    free(so);
    free(env);
}
END_TEST

START_TEST(unreachable_endpoints_fail)
{
    /* open() accepts it, connect() cannot reach it */
    char *so = build_path("tests/fixtures/connect/wpdock-fixconn.so");
    char *out = NULL;
    int rc = check_file(NULL, so, "fixconn:///nonexistent/engine.sock", &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_line(out, "ok", "open()", NULL);
    ck_line(out, "FAILED", "connect()", "cannot connect to /nonexistent/engine.sock");
    ck_line(out, "FAILED", "ping", NULL);
    free(out);
    /* open() refuses a malformed endpoint */
    rc = check_file(NULL, so, "fixconn://relative", &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_line(out, "FAILED", "open()", "a malformed endpoint");
    ck_line(out, "skip", "ping", NULL);
    free(out);
    /* a scheme the plugin does not serve */
    rc = check_file(NULL, so, "unix:///var/run/docker.sock", &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_line(out, "FAILED", "endpoint", "not one the plugin serves");
    free(out);
    free(so);
    /* open() accepts a socket that is not there (the fixture does not look): the ping fails */
    so = build_path("tests/fixtures/good/wpdock-fixture.so");
    rc = check_file(NULL, so, "fixture:///nonexistent/engine.sock", &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_line(out, "ok", "open()", "unix_path /nonexistent/engine.sock");
    ck_line(out, "FAILED", "ping", "/nonexistent/engine.sock");
    free(out);
    free(so);
    /* the unix transport's open() checks the socket */
    so = build_path("transports/wpdock-unix.so");
    char *dir = tu_mkdtemp();
    char *ep = wpd_xasprintf("unix://%s/none.sock", dir);
    rc = check_file(NULL, so, ep, &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    ck_line(out, "FAILED", "open()", "does not exist");
    free(out);
    free(ep);
    tu_rm_rf(dir);
    free(dir);
    free(so);
}
END_TEST

START_TEST(loose_file_is_refused)
{
    char *dir = tu_mkdtemp();
    char *good = build_path("tests/fixtures/good/wpdock-fixture.so");
    char *so = wpd_xasprintf("%s/wpdock-fixture.so", dir);
    size_t len = 0;
    char *data = tu_read_file(good, &len);
    ck_assert_ptr_nonnull(data);
    tu_write_file(so, data, len);
    free(data);
    ck_assert_int_eq(chmod(so, 0757), 0);
    char *out = NULL;
    int rc = check_file(NULL, so, NULL, &out);
    ck_assert_msg(rc == 1, "exit %d:\n%s", rc, out);
    char *want = wpd_xasprintf("%s is writable by others", so);
    ck_line(out, "FAILED", "trust: file", want);
    ck_line(out, "skip", "dlopen", "an untrusted file is not loaded");
    free(out);
    /* the listing shows the same refusal */
    char *env = wpd_xasprintf("WPDOCK_PLUGIN_PATH='%s'", dir);
    rc = run_plugins(env, "", &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out); /* the build tree's plugins load */
    char *line = wpd_xasprintf("refused:\n  %s: %s", so, want);
    ck_assert_msg(strstr(out, line), "no \"%s\" in:\n%s", line, out);
    free(line);
    free(out);
    /* a loose directory: one refusal, naming the directory */
    ck_assert_int_eq(chmod(so, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0707), 0);
    rc = run_plugins(env, "", &out);
    ck_assert_msg(rc == 0, "exit %d:\n%s", rc, out);
    line = wpd_xasprintf("  %s: %s is writable by others", dir, dir);
    ck_assert_msg(strstr(out, line), "no \"%s\" in:\n%s", line, out);
    free(line);
    free(out);
    free(env);
    free(want);
    tu_rm_rf(dir);
    free(dir);
    free(so);
    free(good);
}
END_TEST

START_TEST(usage_errors)
{
    char *out = NULL;
    ck_assert_int_eq(run_plugins(NULL, "--check", &out), 2);
    ck_assert_msg(strstr(out, "--check needs a plugin file"), "%s", out);
    free(out);
    ck_assert_int_eq(run_plugins(NULL, "--check a.so unix:///x extra", &out), 2);
    ck_assert_msg(strstr(out, "unexpected argument \"extra\""), "%s", out);
    free(out);
    ck_assert_int_eq(run_plugins(NULL, "--bogus", &out), 2);
    free(out);
    ck_assert_int_eq(run_plugins(NULL, "--help", &out), 0);
    ck_assert_msg(strstr(out, "--check FILE.so [ENDPOINT]"), "%s", out);
    free(out);
    /* a missing file is a failed item, not a usage error */
    ck_assert_int_eq(run_plugins(NULL, "--check /nonexistent/plugin.so", &out), 1);
    ck_line(out, "FAILED", "file", "No such file or directory");
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_check");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, good_fixture_passes);
    tcase_add_test(tc, broken_fixtures_fail);
    tcase_add_test(tc, fixconn_docker);
    tcase_add_test(tc, fixconn_podman);
    tcase_add_test(tc, unix_transport_docker_and_podman);
    tcase_add_test(tc, podman_transport);
    tcase_add_test(tc, tcptls_transport);
    tcase_add_test(tc, unreachable_endpoints_fail);
    tcase_add_test(tc, loose_file_is_refused);
    tcase_add_test(tc, usage_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
