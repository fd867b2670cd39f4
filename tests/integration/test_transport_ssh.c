/* test_transport_ssh.c - the ssh:// transport (transports/ssh) against the
 * sshd on loopback that scripts/engines-up starts ($WPDOCK_SSH_PORT, keys
 * and `ssh -F` config in $WPDOCK_SSH_DIR): Docker through `docker system
 * dial-stdio`, Podman through its socket, a 16-step stage on one SSH login,
 * the four distinct errors (unknown host key, refused authentication,
 * unreachable host, missing remote socket), malformed endpoints, and no ssh
 * process outliving wpdock, even when wpdock is killed. */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"

static const char *ssh_dir(void)
{
    const char *d = getenv("WPDOCK_SSH_DIR");
    ck_assert_msg(
        d && *d && getenv("WPDOCK_SSH_PORT"),
        "WPDOCK_SSH_DIR and WPDOCK_SSH_PORT must name the test sshd (scripts/engines-up)");
    return d;
}

/* ssh://root@127.0.0.1:PORT[path] */
static char *endpoint(const char *path)
{
    ssh_dir();
    return wpd_xasprintf("ssh://root@127.0.0.1:%s%s", getenv("WPDOCK_SSH_PORT"), path ? path : "");
}

static const char *extra_env = ""; /* more assignments for run_ssh */

/* `wpdock ARGS` with DOCKER_HOST=host and WPDOCK_SSH_COMMAND = `ssh -F
 * the test config` plus extra ssh options. */
static int run_ssh(const char *host, const char *ssh_opts, const char *args, char **out, char **err)
{
    char *env = wpd_xasprintf("DOCKER_HOST='%s' WPDOCK_SSH_COMMAND='ssh -F %s/config %s' %s", host,
                              ssh_dir(), ssh_opts ? ssh_opts : "", extra_env);
    int rc = tu_cli(env, args, out, err);
    free(env);
    return rc;
}

/* No ssh client started by wpdock runs any more (they carry the private
 * ControlPath directory, wpdock-ssh-XXXXXX, in their command lines). */
static void assert_no_ssh_left(void)
{
    char *out = NULL;
    for (int i = 0; i < 50; i++) {
        free(out);
        out = NULL;
        if (tu_run("pgrep -f -- '[-]S /tmp/wpdock-ssh-' | wc -l", 0, &out) == 0 && atoi(out) == 0)
            break;
        usleep(100000);
    }
    ck_assert_msg(out && atoi(out) == 0, "%s ssh processes outlived wpdock", out ? out : "?");
    free(out);
}

/* sshd's count of accepted logins so far */
static int logins(void)
{
    char *cmd = wpd_xasprintf("grep -c 'Accepted publickey' '%s/logs/sshd.log'",
                              tu_env("WPDOCK_ENGINES_DIR", "/tmp/wpdock-engines"));
    char *out = NULL;
    tu_run(cmd, 0, &out);
    int n = atoi(out);
    free(out);
    free(cmd);
    return n;
}

static void info_over_ssh(const char *path, const char *kind)
{
    char *host = endpoint(path);
    char *out = NULL, *err = NULL;
    int rc = run_ssh(host, NULL, "info", &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(out, "transport:    ssh"), "info: %s", out);
    char *want = wpd_xasprintf("engine:       %s", kind);
    ck_assert_msg(strstr(out, want), "info: %s", out);
    free(want);
    free(out);
    free(err);
    free(host);
    assert_no_ssh_left();
}

START_TEST(docker_through_its_forwarded_socket)
{
    info_over_ssh(NULL, "docker");
}
END_TEST

static void stage_over_ssh(const char *path);

/* WPDOCK_SSH_DIAL_STDIO=1: every connection a `docker system dial-stdio`
 * session; a stage of 16 steps still logs in once */
START_TEST(docker_through_dial_stdio)
{
    extra_env = "WPDOCK_SSH_DIAL_STDIO=1";
    info_over_ssh(NULL, "docker");
    stage_over_ssh(NULL);
    extra_env = "";
}
END_TEST

START_TEST(podman_through_its_socket)
{
    const char *sock = getenv("WPDOCK_PODMAN_SOCK");
    ck_assert_msg(sock && *sock, "WPDOCK_PODMAN_SOCK must name the Podman socket");
    info_over_ssh(sock, "podman");
}
END_TEST

/* A stage of 16 parallel steps (and a second stage) on one SSH login. */
static void stage_over_ssh(const char *path)
{
    char *dir = tu_mkdtemp();
    char *wf = wpd_xasprintf("%s/wf.json", dir);
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_printf(&b, "{\"pipeline\":[{\"steps\":[");
    for (int i = 0; i < 16; i++)
        wpd_buf_printf(
            &b,
            "%s{\"name\":\"s%d\",\"type\":\"commands\",\"image\":\"%s\","
            "\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo step %d; seq 1 2000 | tail -n 1\"],"
            "\"on_success\":true}",
            i ? "," : "", i, tu_test_image(), i);
    wpd_buf_printf(&b,
                   "]},{\"steps\":[{\"name\":\"last\",\"type\":\"commands\",\"image\":\"%s\","
                   "\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo done\"],\"on_success\":true}]}]}\n",
                   tu_test_image());
    tu_write_file(wf, b.data, b.len);
    wpd_buf_free(&b);
    char *host = endpoint(path);
    char *args = wpd_xasprintf("exec --color never '%s'", wf);
    int before = logins();
    char *out = NULL, *err = NULL;
    int rc = run_ssh(host, NULL, args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s / %s", rc, out, err);
    for (int i = 0; i < 16; i++) {
        char line[32];
        snprintf(line, sizeof line, "step %d", i);
        ck_assert_msg(strstr(out, line), "no \"%s\" in %s", line, out);
    }
    ck_assert_msg(strstr(out, "done"), "output: %s", out);
    int n = logins() - before;
    ck_assert_msg(n == 1, "%d SSH logins for one run (one master connection expected)", n);
    free(out);
    free(err);
    free(args);
    free(host);
    tu_rm_rf(dir);
    free(dir);
    free(wf);
    assert_no_ssh_left();
}

START_TEST(stage_on_one_login_docker)
{
    stage_over_ssh(NULL);
}
END_TEST

START_TEST(stage_on_one_login_podman)
{
    const char *sock = getenv("WPDOCK_PODMAN_SOCK");
    ck_assert_msg(sock && *sock, "WPDOCK_PODMAN_SOCK must name the Podman socket");
    stage_over_ssh(sock);
}
END_TEST

/* `wpdock info` through ssh://USER@127.0.0.1:PORT[path] fails naming want. */
static void expect_error(const char *user, const char *port, const char *path, const char *ssh_opts,
                         const char *want)
{
    ssh_dir();
    char *host = wpd_xasprintf("ssh://%s@127.0.0.1:%s%s", user,
                               port ? port : getenv("WPDOCK_SSH_PORT"), path ? path : "");
    char *out = NULL, *err = NULL;
    int rc = run_ssh(host, ssh_opts, "info", &out, &err);
    ck_assert_msg(rc != 0, "exit 0 for %s: %s", host, out);
    ck_assert_msg(strstr(err, want), "no \"%s\" in: %s", want, err);
    free(out);
    free(err);
    free(host);
    assert_no_ssh_left();
}

START_TEST(errors_are_distinct)
{
    expect_error("root", NULL, NULL, "-o UserKnownHostsFile=/dev/null", "the host key of");
    /* a user without authorized keys */
    expect_error("nobody", NULL, NULL, NULL, "refused the authentication");
    expect_error("root", "1", NULL, NULL, "cannot reach root@127.0.0.1:1 over ssh");
    expect_error("root", NULL, "/nonexistent/engine.sock", NULL,
                 "there is no socket /nonexistent/engine.sock on root@127.0.0.1:");
}
END_TEST

START_TEST(malformed_endpoints_are_usage_errors)
{
    const char *bad[] = {"ssh://", "ssh://-oProxyCommand=x", "ssh://h:99999", "ssh://h/a;b",
                         "ssh://u;x@h"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = NULL, *err = NULL;
        int rc = run_ssh(bad[i], NULL, "info", &out, &err);
        ck_assert_msg(rc == 2, "%s: exit %d: %s", bad[i], rc, err);
        ck_assert_msg(strstr(err, bad[i]), "%s: %s", bad[i], err);
        free(out);
        free(err);
    }
    assert_no_ssh_left();
}
END_TEST

/* wpdock killed in the middle of a run: its ssh processes go with it. */
START_TEST(ssh_dies_with_wpdock)
{
    char *dir = tu_mkdtemp();
    char *wf = wpd_xasprintf("%s/wf.json", dir);
    char *doc =
        wpd_xasprintf("{\"pipeline\":[{\"steps\":[{\"name\":\"long\",\"type\":\"commands\","
                      "\"image\":\"%s\",\"entrypoint\":[\"/bin/sh\",\"-c\",\"echo up; sleep "
                      "30\"],\"on_success\":true}]}]}\n",
                      tu_test_image());
    tu_write_file(wf, doc, strlen(doc));
    char *host = endpoint(NULL);
    char *cmd = wpd_xasprintf(
        "cd '%s' || exit 1; env -u WOODPECKER_BACKEND_DOCKER_HOST DOCKER_HOST='%s' "
        "WPDOCK_SSH_COMMAND='ssh -F %s/config' '%s' exec --log-format json wf.json >out.txt "
        "2>&1 & pid=$!; for i in $(seq 1 100); do grep -q '\"line\":\"up\"' out.txt 2>/dev/null "
        "&& break; sleep 0.1; done; kill -9 $pid; wait $pid 2>/dev/null; "
        "grep -o '\"workflow_id\":\"[^\"]*\"' out.txt | head -n 1 | cut -d'\"' -f4",
        dir, host, ssh_dir(), WPDOCK_CLI);
    char *id = NULL;
    tu_run(cmd, 0, &id);
    id[strcspn(id, "\n")] = '\0';
    ck_assert_msg(*id, "the step never started");
    assert_no_ssh_left();
    /* what the killed run left (its container, network, volume), removed here */
    char *rm = wpd_xasprintf("cleanup --workflow '%s'", id);
    char *out = NULL, *err = NULL;
    int rc = run_ssh(host, NULL, rm, &out, &err);
    ck_assert_msg(rc == 0, "cleanup: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(rm);
    free(id);
    assert_no_ssh_left();
    free(cmd);
    free(host);
    free(doc);
    tu_rm_rf(dir);
    free(dir);
    free(wf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport_ssh");
    TCase *tc = tcase_create("ssh");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, docker_through_its_forwarded_socket);
    tcase_add_test(tc, docker_through_dial_stdio);
    tcase_add_test(tc, podman_through_its_socket);
    tcase_add_test(tc, stage_on_one_login_docker);
    tcase_add_test(tc, stage_on_one_login_podman);
    tcase_add_test(tc, errors_are_distinct);
    tcase_add_test(tc, malformed_endpoints_are_usage_errors);
    tcase_add_test(tc, ssh_dies_with_wpdock);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
