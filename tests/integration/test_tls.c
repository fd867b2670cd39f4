/* test_tls.c - the tcptls transport against the real Docker TLS endpoint
 * ($WPDOCK_DOCKER_TLS_HOST with the client certs of engines-up): `wpdock
 * info` with the right client certificate, one from another CA, a CA the
 * engine's certificate does not come from, a host name the certificate does
 * not list, no certificates at all, verification switched off, plain HTTP
 * against the TLS port and TLS against plain HTTP servers (small fake
 * servers started here), a port nobody listens on; and `wpdock exec` of a
 * workflow over TLS. The tests fail when the engines environment is
 * missing (source the engines.env that scripts/engines-up prints); they
 * need the openssl command, as engines-up does. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wpdock/endpoint.h>

#include "util/buf.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

/* A variable of the engines environment; its absence fails the test. */
static const char *need(const char *name)
{
    const char *v = tu_env(name, NULL);
    ck_assert_msg(v != NULL,
                  "%s is not set: start the engines with scripts/engines-up and source the "
                  "engines.env it prints (e.g. /tmp/wpdock-engines/engines.env)",
                  name);
    return v;
}

static const char *tls_host(void)
{
    return need("WPDOCK_DOCKER_TLS_HOST");
}

static const char *good_certs(void)
{
    return need("WPDOCK_DOCKER_CERT_PATH");
}

static const char *bad_certs(void)
{
    return need("WPDOCK_DOCKER_BAD_CERT_PATH");
}

/* Host and port of the TLS endpoint. */
static void tls_host_port(char *host, size_t hostlen, int *port)
{
    wpd_endpoint ep;
    char perr[256];
    ck_assert_msg(wpd_endpoint_parse(tls_host(), &ep, perr, sizeof perr) == 0, "%s", perr);
    snprintf(host, hostlen, "%s", ep.host);
    *port = ep.port ? ep.port : 2376;
}

/* ---- running wpdock ---- */

typedef struct cli_result {
    int rc;
    char *out, *err;
} cli_result;

static void env_add(const char ***env, size_t *n, const char *entry)
{
    *env = wpd_xrealloc(*env, (*n + 2) * sizeof **env);
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
}

/* Run `wpdock ARGS...` (NULL-terminated) with no DOCKER_* / WOODPECKER_*
 * variables but the "K=V" entries of vars (NULL-terminated). */
static cli_result run_wpdock(const char *const *args, const char *const *vars)
{
    extern char **environ;
    const char **env = NULL, **argv = NULL;
    size_t n_env = 0, n_argv = 0;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "DOCKER_", 7) != 0 && strncmp(*e, "WOODPECKER_", 11) != 0 &&
            strncmp(*e, "WPDOCK_PLUGIN_PATH=", 19) != 0)
            env_add(&env, &n_env, *e);
    for (size_t i = 0; vars && vars[i]; i++)
        env_add(&env, &n_env, vars[i]);
    env_add(&argv, &n_argv, WPDOCK_CLI);
    for (size_t i = 0; args[i]; i++)
        env_add(&argv, &n_argv, args[i]);
    tu_proc p;
    ck_assert_int_eq(tu_proc_start(&p, argv, env), 0);
    cli_result r;
    r.rc = tu_proc_finish(&p, 120000);
    r.out = wpd_xstrdup(p.out ? p.out : "");
    r.err = wpd_xstrdup(p.err ? p.err : "");
    tu_proc_free(&p);
    free(env);
    free(argv);
    ck_assert_msg(r.rc >= 0, "wpdock did not finish in time: %s", r.err);
    ck_assert_msg(!strstr(r.err, "Sanitizer"), "wpdock: %s", r.err);
    return r;
}

static void cli_free(cli_result *r)
{
    free(r->out);
    free(r->err);
}

/* `wpdock info -H host` with DOCKER_CERT_PATH=certs (NULL: unset) and
 * DOCKER_TLS_VERIFY=verify (NULL: unset). */
static cli_result info(const char *host, const char *certs, const char *verify)
{
    char *cp = certs ? wpd_xasprintf("DOCKER_CERT_PATH=%s", certs) : NULL;
    char *tv = verify ? wpd_xasprintf("DOCKER_TLS_VERIFY=%s", verify) : NULL;
    const char *vars[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (cp)
        vars[n++] = cp;
    if (tv)
        vars[n++] = tv;
    cli_result r = run_wpdock((const char *const[]){"info", "-H", host, NULL}, vars);
    free(cp);
    free(tv);
    return r;
}

/* A connection failure: exit 3, nothing on stdout, the endpoint named. */
static void expect_connect_failure(const cli_result *r, const char *host)
{
    ck_assert_msg(r->rc == 3, "exit %d, want 3; stderr: %s", r->rc, r->err);
    ck_assert_str_eq(r->out, "");
    char *label = wpd_xasprintf("engine at %s", host);
    ck_assert_contains(r->err, label);
    free(label);
}

/* A copy of the good client files with ca.pem replaced by a CA made here
 * (which did not sign the engine's certificate). Returns the directory. */
static char *dir_with_foreign_ca(void)
{
    const char *good = good_certs();
    char *dir = tu_mkdtemp();
    char *cmd = wpd_xasprintf(
        "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout other-ca-key.pem -out ca.pem -subj /CN=wpdock-throwaway-ca -days 2 && "
        "cp '%s/cert.pem' '%s/key.pem' .",
        dir, good, good);
    char *out;
    int rc = tu_run(cmd, 1, &out);
    ck_assert_msg(rc == 0, "%s: %s", cmd, out);
    free(out);
    free(cmd);
    return dir;
}

/* ---- small fake servers on 127.0.0.1 ---- */

typedef struct fake_server {
    pid_t pid;
    int port;
} fake_server;

/* Listen on a free port; a child process answers every connection with
 * `reply` after reading the first bytes of the request, then closes. */
static void fake_server_start(fake_server *s, const char *reply)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    s->port = ntohs(sin.sin_port);
    fflush(NULL);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(300);
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                continue;
            struct timeval tv = {.tv_sec = 2};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            char buf[4096];
            if (read(c, buf, sizeof buf) > 0 && write(c, reply, strlen(reply)) < 0)
                (void)0;
            shutdown(c, SHUT_WR);
            while (read(c, buf, sizeof buf) > 0)
                ;
            close(c);
        }
    }
    close(fd);
}

static void fake_server_stop(fake_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* A port on 127.0.0.1 nobody listens on (free a moment ago). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* ---- the tests ---- */

START_TEST(good_client_cert)
{
    cli_result r = info(tls_host(), good_certs(), NULL);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
    char *line = wpd_xasprintf("endpoint:     %s\n", tls_host());
    ck_assert_contains(r.out, line);
    free(line);
    ck_assert_contains(r.out, "transport:    tcptls 1.0.0 (");
    ck_assert_contains(r.out, "/wpdock-tcptls.so)\n");
    ck_assert_contains(r.out, "engine:       docker ");
    ck_assert_str_eq(r.err, "");
    cli_free(&r);

    /* JSON, with the WOODPECKER_BACKEND_ variables and verification on */
    char *cp = wpd_xasprintf("WOODPECKER_BACKEND_DOCKER_CERT_PATH=%s", good_certs());
    char *host = wpd_xasprintf("WOODPECKER_BACKEND_DOCKER_HOST=%s", tls_host());
    r = run_wpdock((const char *const[]){"info", "--format", "json", NULL},
                   (const char *const[]){host, cp, "WOODPECKER_BACKEND_DOCKER_TLS_VERIFY=true",
                                         "DOCKER_CERT_PATH=/nonexistent", NULL});
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
    ck_assert_contains(r.out, "\"transport\":\"tcptls\"");
    ck_assert_contains(r.out, "\"engine\":\"docker\"");
    ck_assert_str_eq(r.err, "");
    cli_free(&r);
    free(cp);
    free(host);
}
END_TEST

START_TEST(host_name_in_certificate)
{
    /* the engine's certificate lists DNS:localhost */
    char host[256];
    int port;
    tls_host_port(host, sizeof host, &port);
    char *ep = wpd_xasprintf("tcp://localhost:%d", port);
    cli_result r = info(ep, good_certs(), NULL);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
    ck_assert_contains(r.out, "engine:       docker ");
    cli_free(&r);
    free(ep);
}
END_TEST

START_TEST(client_cert_from_another_ca)
{
    /* The refusal reaches us as an alert or, when it loses the race against
     * our request, as a reset: both must read the same. */
    char *cert = wpd_xasprintf("%s/cert.pem", bad_certs());
    for (int i = 0; i < 5; i++) {
        cli_result r = info(tls_host(), bad_certs(), NULL);
        expect_connect_failure(&r, tls_host());
        ck_assert_contains(r.err, "refused our client certificate");
        ck_assert_contains(r.err, cert);
        cli_free(&r);
    }
    free(cert);
}
END_TEST

START_TEST(server_cert_from_unknown_ca)
{
    (void)tls_host();
    char *dir = dir_with_foreign_ca();
    cli_result r = info(tls_host(), dir, NULL);
    expect_connect_failure(&r, tls_host());
    char *want =
        wpd_xasprintf("the engine's certificate is not signed by the CA in %s/ca.pem", dir);
    ck_assert_contains(r.err, want);
    free(want);
    cli_free(&r);

    /* verification off: connects, with a warning */
    r = info(tls_host(), dir, "0");
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
    ck_assert_contains(r.out, "transport:    tcptls");
    ck_assert_contains(r.err, "TLS verification is off: the engine's identity is not checked");
    cli_free(&r);
    tu_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(host_name_mismatch)
{
    /* the same address spelled as an IPv4-mapped IPv6 address: it reaches
     * the engine, but the certificate lists only IP:127.0.0.1 */
    char host[256];
    int port;
    tls_host_port(host, sizeof host, &port);
    struct in_addr a;
    ck_assert_msg(inet_pton(AF_INET, host, &a) == 1,
                  "WPDOCK_DOCKER_TLS_HOST should name an IPv4 address, not %s", host);
    char *ep = wpd_xasprintf("tcp://[::ffff:%s]:%d", host, port);
    cli_result r = info(ep, good_certs(), NULL);
    expect_connect_failure(&r, ep);
    char *want = wpd_xasprintf(
        "the engine's certificate is not valid for the host name \"::ffff:%s\"", host);
    ck_assert_contains(r.err, want);
    free(want);
    cli_free(&r);

    /* verification off: connects, with a warning */
    r = info(ep, good_certs(), "false");
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, r.err);
    ck_assert_contains(r.err, "TLS verification is off");
    cli_free(&r);
    free(ep);
}
END_TEST

START_TEST(no_cert_path)
{
    cli_result r = info(tls_host(), NULL, NULL);
    expect_connect_failure(&r, tls_host());
    ck_assert_contains(r.err, "needs TLS but no client certificate is configured");
    ck_assert_contains(r.err, "set DOCKER_CERT_PATH");
    ck_assert_contains(r.err, "DOCKER_TLS_VERIFY=0");
    cli_free(&r);

    r = info(tls_host(), NULL, "1");
    expect_connect_failure(&r, tls_host());
    ck_assert_contains(r.err, "set DOCKER_CERT_PATH");
    cli_free(&r);
}
END_TEST

START_TEST(cert_dir_missing_key)
{
    const char *good = good_certs();
    (void)tls_host();
    char *dir = tu_mkdtemp();
    char *cmd = wpd_xasprintf("cp '%s/ca.pem' '%s/cert.pem' '%s'", good, good, dir);
    ck_assert_int_eq(tu_run(cmd, 1, NULL), 0);
    free(cmd);
    cli_result r = info(tls_host(), dir, NULL);
    expect_connect_failure(&r, tls_host());
    char *want = wpd_xasprintf("the TLS directory %s (DOCKER_CERT_PATH) has no key.pem", dir);
    ck_assert_contains(r.err, want);
    free(want);
    cli_free(&r);
    tu_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(plain_http_against_tls_port)
{
    cli_result r = info(tls_host(), NULL, "0");
    expect_connect_failure(&r, tls_host());
    /* dockerd answers 400, a TLS proxy resets: both say the same */
    ck_assert_contains(r.err, "does not speak plain HTTP");
    ck_assert_contains(r.err, "set DOCKER_CERT_PATH");
    cli_free(&r);
}
END_TEST

START_TEST(plain_http_against_go_tls_server)
{
    /* what Go's TLS listener (dockerd) sends to a plain HTTP request */
    fake_server s;
    fake_server_start(&s, "HTTP/1.0 400 Bad Request\r\n\r\n"
                          "Client sent an HTTP request to an HTTPS server.\n");
    char *ep = wpd_xasprintf("tcp://127.0.0.1:%d", s.port);
    cli_result r = info(ep, NULL, "no");
    fake_server_stop(&s);
    expect_connect_failure(&r, ep);
    ck_assert_contains(r.err, "Client sent an HTTP request to an HTTPS server.");
    ck_assert_contains(r.err, "does not speak plain HTTP on this port: it expects TLS");
    ck_assert_contains(r.err, "set DOCKER_CERT_PATH");
    cli_free(&r);
    free(ep);
}
END_TEST

START_TEST(tls_against_plain_http_server)
{
    fake_server s;
    fake_server_start(&s, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                          "\r\nOK");
    char *ep = wpd_xasprintf("tcp://127.0.0.1:%d", s.port);
    cli_result r = info(ep, good_certs(), NULL);
    fake_server_stop(&s);
    expect_connect_failure(&r, ep);
    char *want =
        wpd_xasprintf("the engine does not speak TLS on 127.0.0.1:%d (plain HTTP?)", s.port);
    ck_assert_contains(r.err, want);
    free(want);
    cli_free(&r);
    free(ep);
}
END_TEST

START_TEST(nothing_listens)
{
    int port = closed_port();
    char *ep = wpd_xasprintf("tcp://127.0.0.1:%d", port);
    cli_result r = info(ep, good_certs(), NULL);
    expect_connect_failure(&r, ep);
    char *want = wpd_xasprintf("nothing listens on 127.0.0.1:%d", port);
    ck_assert_contains(r.err, want);
    free(want);
    cli_free(&r);
    free(ep);
}
END_TEST

START_TEST(exec_over_tls)
{
    setenv("WPDOCK_TEST_ENGINE_HOST", tls_host(), 1);
    setenv("WPDOCK_TEST_ENGINE_CERT_PATH", good_certs(), 1);
    setenv("WPDOCK_TEST_IMAGE", need("WPDOCK_TEST_IMAGE"), 1);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "hello", 0,
               (const char *const[]){"echo \"hello over $TRANSPORT\"", "echo to-stderr >&2", NULL});
    tu_wf_env(b, (const char *const[]){"TRANSPORT", "tls", NULL});
    char *path = tu_wf_save(b);
    tu_exec x;
    int rc = tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", path, NULL},
                         NULL, 300000);
    ck_assert_msg(rc == 0, "exit %d; stderr: %s", rc, x.proc.err);
    const tu_event *e = tu_exec_step(&x, "hello");
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e->status, "success");
    ck_assert_uint_eq(tu_exec_count_lines(&x, "hello", "stdout", "hello over tls"), 1);
    ck_assert_uint_eq(tu_exec_count_lines(&x, "hello", "stderr", "to-stderr"), 1);
    ck_assert_str_eq(tu_exec_workflow(&x)->status, "success");
    tu_exec_assert_clean(&x);
    tu_exec_free(&x);
    unlink(path);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("info");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, good_client_cert);
    tcase_add_test(tc, host_name_in_certificate);
    tcase_add_test(tc, client_cert_from_another_ca);
    tcase_add_test(tc, server_cert_from_unknown_ca);
    tcase_add_test(tc, host_name_mismatch);
    tcase_add_test(tc, no_cert_path);
    tcase_add_test(tc, cert_dir_missing_key);
    tcase_add_test(tc, plain_http_against_tls_port);
    tcase_add_test(tc, plain_http_against_go_tls_server);
    tcase_add_test(tc, tls_against_plain_http_server);
    tcase_add_test(tc, nothing_listens);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("exec");
    tcase_set_timeout(te, 600);
    tcase_add_test(te, exec_over_tls);
    suite_add_tcase(s, te);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
