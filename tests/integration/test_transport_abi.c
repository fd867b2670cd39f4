/* test_transport_abi.c - transport ABI 1.1 against real engines: a plugin
 * that dials every connection itself (connect) and adds a header (headers),
 * the fixture tests/fixtures/fixture_connect.c, carries `wpdock info` and a
 * workflow to Docker at $WPDOCK_DOCKER_HOST and to Podman at
 * $WPDOCK_PODMAN_HOST; its header reaches the peer; a failing connect() is
 * reported in the plugin's words; a 1.0-sized descriptor is not read past
 * its end. The engines must be up (scripts/engines-up) or the tests fail. */
#define _GNU_SOURCE
#include <check.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"

/* build/tests/fixtures/CASE, next to the wpdock binary */
static char *fixture_dir(const char *name)
{
    char *cli = wpd_xstrdup(WPDOCK_CLI);
    char *d = wpd_xasprintf("%s/tests/fixtures/%s", dirname(cli), name);
    free(cli);
    return d;
}

/* The socket path of a unix:// endpoint in the environment. */
static const char *engine_socket(const char *var)
{
    const char *h = getenv(var);
    ck_assert_msg(h && strncmp(h, "unix://", 7) == 0,
                  "%s must name the engine's unix socket (scripts/engines-up)", var);
    return h + 7;
}

/* `wpdock ARGS` with the fixture plugins of `cases` (comma-separated) and
 * DOCKER_HOST=host; exit status, *out (stdout), *err (stderr). */
static int run_with(const char *cases, const char *host, const char *args, char **out, char **err)
{
    wpd_buf path = WPD_BUF_INIT;
    char *copy = wpd_xstrdup(cases), *save = NULL;
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        char *d = fixture_dir(c);
        wpd_buf_printf(&path, "%s%s", path.len ? ":" : "", d);
        free(d);
    }
    free(copy);
    char *env = wpd_xasprintf("WPDOCK_PLUGIN_PATH='%s' DOCKER_HOST='%s'", path.data, host);
    int rc = tu_cli(env, args, out, err);
    free(env);
    wpd_buf_free(&path);
    return rc;
}

static void info_through_connect(const char *var)
{
    char *host = wpd_xasprintf("fixconn://%s", engine_socket(var));
    char *out = NULL, *err = NULL;
    int rc = run_with("connect", host, "info", &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(out, "fixconn 1.1.0"), "info: %s", out);
    ck_assert_msg(strstr(out, "api version:"), "info: %s", out);
    free(out);
    free(err);
    free(host);
}

START_TEST(info_through_connect_docker)
{
    info_through_connect("WPDOCK_DOCKER_HOST");
}
END_TEST

START_TEST(info_through_connect_podman)
{
    info_through_connect("WPDOCK_PODMAN_HOST");
}
END_TEST

/* A workflow (attach streams, waits, removals) over the plugin's own
 * connections, on both engines. */
static void workflow_through_connect(const char *var)
{
    char *dir = tu_mkdtemp();
    char *wf = wpd_xasprintf("%s/wf.json", dir);
    FILE *f = fopen(wf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"type\":\"commands\",\"image\":\"%s\","
            "\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo first; seq 1 20000 | tail -n 1\"],"
            "\"on_success\":true},{\"name\":\"b\",\"type\":\"commands\",\"image\":\"%s\","
            "\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo second\"],\"on_success\":true}]}]}\n",
            tu_test_image(), tu_test_image());
    fclose(f);
    char *host = wpd_xasprintf("fixconn://%s", engine_socket(var));
    char *args = wpd_xasprintf("exec --color never '%s'", wf);
    char *out = NULL, *err = NULL;
    int rc = run_with("connect", host, args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s / %s", rc, out, err);
    ck_assert_msg(strstr(out, "first") && strstr(out, "20000") && strstr(out, "second"),
                  "output: %s", out);
    free(out);
    free(err);
    free(args);
    free(host);
    tu_rm_rf(dir);
    free(dir);
    free(wf);
}

START_TEST(workflow_through_connect_docker)
{
    workflow_through_connect("WPDOCK_DOCKER_HOST");
}
END_TEST

START_TEST(workflow_through_connect_podman)
{
    workflow_through_connect("WPDOCK_PODMAN_HOST");
}
END_TEST

/* The plugin's header reaches the peer: a recorder on a unix socket notes
 * the first request's head. */
START_TEST(plugin_headers_are_sent)
{
    char *dir = tu_mkdtemp();
    char *sock = wpd_xasprintf("%s/peer.sock", dir), *log = wpd_xasprintf("%s/head.txt", dir);
    char *peer = wpd_xasprintf(
        "/usr/bin/python3 -c 'import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)\n"
        "open(sys.argv[2]+\".ready\",\"w\").close()\n"
        "c,_=s.accept(); d=b\"\"\n"
        "while b\"\\r\\n\\r\\n\" not in d:\n"
        "  b=c.recv(4096)\n"
        "  if not b: break\n"
        "  d+=b\n"
        "open(sys.argv[2],\"wb\").write(d); c.close()' '%s' '%s' >/dev/null 2>&1 & "
        "for i in $(seq 1 100); do [ -e '%s.ready' ] && break; sleep 0.05; done",
        sock, log, log);
    char *o = NULL;
    ck_assert_int_eq(tu_run(peer, 1, &o), 0);
    free(o);
    char *host = wpd_xasprintf("fixconn://%s", sock);
    char *out = NULL, *err = NULL;
    int rc = run_with("connect", host, "info", &out, &err);
    ck_assert_int_ne(rc, 0); /* the recorder is no engine */
    char *head = NULL;
    for (int i = 0; i < 100 && !(head = tu_read_file(log, NULL)); i++)
        usleep(50000);
    ck_assert_msg(head, "the recorder got no request: %s", err);
    ck_assert_msg(strstr(head, "X-Wpdock-Fixture: connect\r\n"), "request head: %s", head);
    ck_assert_msg(strstr(head, "Host: fixconn.invalid\r\n"), "request head: %s", head);
    free(head);
    free(out);
    free(err);
    free(host);
    free(peer);
    tu_rm_rf(dir);
    free(dir);
    free(sock);
    free(log);
}
END_TEST

/* connect() failing: the plugin's own message, and nothing else tried */
START_TEST(connect_failure_in_the_plugins_words)
{
    char *out = NULL, *err = NULL;
    int rc = run_with("connect", "fixconn:///nonexistent/engine.sock", "info", &out, &err);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(err, "fixconn: cannot connect to /nonexistent/engine.sock: No such file"),
                  "stderr: %s", err);
    free(out);
    free(err);
    /* and a URI the plugin refuses is a usage error */
    rc = run_with("connect", "fixconn://relative", "info", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "not fixconn:///absolute/path"), "stderr: %s", err);
    free(out);
    free(err);
}
END_TEST

/* TLS over the plugin's own connection: the mutual-TLS endpoint of Docker,
 * dialled by the plugin, verified by the core. */
START_TEST(tls_over_the_plugins_connection)
{
    const char *tls = getenv("WPDOCK_DOCKER_TLS_HOST"), *certs = getenv("WPDOCK_DOCKER_CERT_PATH");
    ck_assert_msg(tls && strncmp(tls, "tcp://", 6) == 0 && certs && *certs,
                  "WPDOCK_DOCKER_TLS_HOST and WPDOCK_DOCKER_CERT_PATH must name the TLS endpoint "
                  "(scripts/engines-up)");
    char *host = wpd_xasprintf("fixtls://%s", tls + 6);
    char *d = fixture_dir("connect-tls");
    char *env = wpd_xasprintf("WPDOCK_PLUGIN_PATH='%s' DOCKER_HOST='%s' DOCKER_CERT_PATH='%s'", d,
                              host, certs);
    char *out = NULL, *err = NULL;
    int rc = tu_cli(env, "info", &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(out, "fixtls 1.1.0") && strstr(out, "engine:       docker"), "info: %s",
                  out);
    free(out);
    free(err);
    free(env);
    /* without the CA the core refuses the engine's certificate */
    env = wpd_xasprintf("WPDOCK_PLUGIN_PATH='%s' DOCKER_HOST='%s' DOCKER_CERT_PATH='%s'", d, host,
                        getenv("WPDOCK_DOCKER_BAD_CERT_PATH"));
    rc = tu_cli(env, "info", &out, &err);
    ck_assert_msg(rc != 0, "a foreign CA was accepted: %s", out);
    free(out);
    free(err);
    free(env);
    free(d);
    free(host);
}
END_TEST

/* A 1.0 descriptor (a trap where 1.1 has connect) works as before. */
START_TEST(abi_1_0_descriptor_still_works)
{
    char *host = wpd_xasprintf("abi10://%s", engine_socket("WPDOCK_DOCKER_HOST"));
    char *out = NULL, *err = NULL;
    int rc = run_with("abi10", host, "info", &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(out, "abi10 0.0.1"), "info: %s", out);
    free(out);
    free(err);
    free(host);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport_abi");
    TCase *tc = tcase_create("abi_1_1");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, info_through_connect_docker);
    tcase_add_test(tc, info_through_connect_podman);
    tcase_add_test(tc, workflow_through_connect_docker);
    tcase_add_test(tc, workflow_through_connect_podman);
    tcase_add_test(tc, plugin_headers_are_sent);
    tcase_add_test(tc, connect_failure_in_the_plugins_words);
    tcase_add_test(tc, abi_1_0_descriptor_still_works);
    tcase_add_test(tc, tls_over_the_plugins_connection);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
