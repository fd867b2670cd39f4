/* test_engines.c - several engines in one run, an engine lost mid-run, and
 * Podman's log stream delivering a 100 MB log complete and in order.
 * Needs the engines of scripts/engines-up (engines.env sourced): Docker on
 * its unix socket and over TLS, and Podman. Fails when one is missing. */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"

static const char *need(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v && *v, "%s is not set: source the engines.env of scripts/engines-up", name);
    return v;
}

/* Containers labelled wp_uuid and networks/volumes labelled wp_workflow on
 * the engine behind `sock`, as one string of names ("" when none). */
static char *wp_objects(const char *sock)
{
    char *cmd = wpd_xasprintf(
        "for p in 'containers/json?all=1&filters=%%7B%%22label%%22%%3A%%5B%%22wp_uuid%%22%%5D%%7D' "
        "'networks?filters=%%7B%%22label%%22%%3A%%5B%%22wp_workflow%%22%%5D%%7D' "
        "'volumes?filters=%%7B%%22label%%22%%3A%%5B%%22wp_workflow%%22%%5D%%7D'; do "
        "curl -sf --unix-socket %s \"http://d/v1.41/$p\" | grep -o '\"Name[s]*\":[^,]*' ; done",
        sock);
    char *out = NULL;
    tu_run(cmd, 1, &out);
    free(cmd);
    return out;
}

/* A one-step workflow; with `unique` set, its network, volume and step
 * uuid are named by the test (wp_<unique>_n/_v, <unique>), else generated. */
static char *write_workflow(const char *dir, const char *name, const char *commands_json,
                            const char *unique)
{
    char *path = wpd_xasprintf("%s/%s.json", dir, name);
    char *names =
        unique ? wpd_xasprintf("\"network\":\"wp_%s_n\",\"volume\":\"wp_%s_v\",", unique, unique)
               : wpd_xstrdup("");
    /* like Woodpecker's payloads: the step joins the workflow's network and
     * mounts its volume */
    char *uuid = unique ? wpd_xasprintf("\"uuid\":\"%s\",\"networks\":[{\"name\":\"wp_%s_n\","
                                        "\"aliases\":[\"s\"]}],\"volumes\":[\"wp_%s_v:/w\"],",
                                        unique, unique, unique)
                        : wpd_xstrdup("");
    char *doc = wpd_xasprintf("{%s\"pipeline\":[{\"steps\":[{\"name\":\"s\",%s\"image\":\"%s\","
                              "\"workspace_base\":\"/w\",\"working_dir\":\"/w\","
                              "\"commands\":%s,\"on_success\":true}]}]}",
                              names, uuid, tu_test_image(), commands_json);
    free(names);
    free(uuid);
    tu_write_file(path, doc, strlen(doc));
    free(doc);
    return path;
}

/* The value of "key":"..." in a JSON line (malloc'd), or NULL. */
static char *field(const char *line, const char *key)
{
    char *pat = wpd_xasprintf("\"%s\":\"", key);
    const char *p = strstr(line, pat);
    char *v = NULL;
    if (p) {
        p += strlen(pat);
        const char *e = strchr(p, '"');
        v = wpd_xstrndup(p, e ? (size_t)(e - p) : strlen(p));
    }
    free(pat);
    return v;
}

START_TEST(test_mixed_six_workflows)
{
    const char *docker = need("WPDOCK_DOCKER_HOST");
    const char *podman = need("WPDOCK_PODMAN_HOST");
    const char *tls = need("WPDOCK_DOCKER_TLS_HOST");
    const char *certs = need("WPDOCK_DOCKER_CERT_PATH");
    char *dir = tu_mkdtemp();
    char *files[6];
    char ids[6][27];
    for (int i = 0; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof name, "w%d", i);
        tu_ulid_lower(ids[i]);
        files[i] = write_workflow(
            dir, name, "[\"echo engine-says-container=$container\",\"sleep 1\"]", ids[i]);
    }
    char *cmd = wpd_xasprintf(
        "env -u DOCKER_HOST -u WOODPECKER_BACKEND_DOCKER_HOST DOCKER_CERT_PATH=%s %s exec "
        "--log-format json --engine docker=%s --engine podman=%s --engine remote=%s "
        "%s %s %s %s %s %s",
        certs, WPDOCK_CLI, docker, podman, tls, files[0], files[1], files[2], files[3], files[4],
        files[5]);
    char *out = NULL;
    int rc = tu_run(cmd, 0, &out);
    ck_assert_msg(rc == 0, "exit status %d:\n%.3000s", rc, out);

    /* every event of a workflow names the same engine; two per engine */
    const char *names[3] = {"docker", "podman", "remote"};
    int per_engine[3] = {0, 0, 0};
    for (int i = 0; i < 6; i++) {
        char *engine = NULL;
        int saw_line = 0;
        char *save = NULL, *copy = wpd_xstrdup(out);
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char *wf = field(l, "workflow");
            if (wf && strcmp(wf, files[i]) == 0) {
                char *e = field(l, "engine");
                ck_assert_ptr_nonnull(e);
                if (!engine)
                    engine = wpd_xstrdup(e);
                ck_assert_msg(strcmp(engine, e) == 0, "%s ran on %s and %s", files[i], engine, e);
                char *line = field(l, "line");
                if (line && strncmp(line, "engine-says-container=", 22) == 0) {
                    saw_line = 1;
                    /* Podman marks its containers with container=podman */
                    ck_assert_str_eq(line + 22, strcmp(e, "podman") == 0 ? "podman" : "");
                }
                free(line);
                free(e);
            }
            free(wf);
        }
        free(copy);
        ck_assert_msg(engine && saw_line, "no events or output for %s", files[i]);
        for (int k = 0; k < 3; k++)
            per_engine[k] += strcmp(engine, names[k]) == 0;
        free(engine);
    }
    for (int k = 0; k < 3; k++)
        ck_assert_msg(per_engine[k] == 2, "engine %s ran %d workflows, expected 2", names[k],
                      per_engine[k]);
    ck_assert_int_eq(tu_count(out, "\"event\":\"workflow\""), 12);
    size_t ok = 0;
    for (const char *p = strstr(out, "{\"event\":\"workflow\""); p;
         p = strstr(p + 1, "{\"event\":\"workflow\"")) {
        const char *eol = strchr(p, '\n');
        char *l = wpd_xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));
        ok += strstr(l, "\"status\":\"success\"") != NULL;
        free(l);
    }
    ck_assert_int_eq(ok, 6);
    for (int e = 0; e < 2; e++) {
        char *left = wp_objects((e ? podman : docker) + strlen("unix://"));
        for (int i = 0; i < 6; i++)
            ck_assert_msg(strstr(left, ids[i]) == NULL, "workflow %s left on %s: %s", files[i],
                          e ? podman : docker, left);
        free(left);
    }
    free(out);
    free(cmd);
    for (int i = 0; i < 6; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    tu_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(test_podman_100mb_log)
{
    const char *podman = need("WPDOCK_PODMAN_HOST");
    char *dir = tu_mkdtemp();
    /* 14,000,000 numbered lines: 114,888,897 bytes */
    char *path = write_workflow(dir, "big", "[\"seq 1 14000000\"]", NULL);
    char *cmd = wpd_xasprintf(
        "set -o pipefail; %s exec -H %s --log-format text --color never %s | "
        "sed -n 's/^\\[s\\] //p' | grep -v -e '^+ ' -e '^--- ' | tee >(wc -l >&2) | md5sum",
        WPDOCK_CLI, podman, path);
    /* the command contains quotes of both kinds: run it from a script file */
    char *script = wpd_xasprintf("%s/run.sh", dir);
    tu_write_file(script, cmd, strlen(cmd));
    char *run = wpd_xasprintf("bash %s 2>&1", script);
    char *out = NULL, *want = NULL;
    int rc = tu_run(run, 0, &out);
    ck_assert_msg(rc == 0, "wpdock or the pipe failed (%d): %.2000s", rc, out);
    tu_run("seq 1 14000000 | md5sum", 0, &want);
    ck_assert_msg(strstr(out, "14000000\n") != NULL, "line count wrong: %s", out);
    ck_assert_msg(strstr(out, want) != NULL, "checksum differs: got %s want %s", out, want);
    free(out);
    free(want);
    free(run);
    free(script);
    free(cmd);
    free(path);
    tu_rm_rf(dir);
    free(dir);
}
END_TEST

/* A unix-socket proxy to the Docker socket that the test can "lose". */
static int proxy_start(const char *sock, const char *target)
{
    char *cmd = wpd_xasprintf("rm -f %s; setsid socat UNIX-LISTEN:%s,fork UNIX-CONNECT:%s "
                              ">/dev/null 2>&1 & echo $!; "
                              "for i in $(seq 50); do [ -S %s ] && break; sleep 0.1; done",
                              sock, sock, target, sock);
    char *out = NULL;
    tu_run(cmd, 0, &out);
    int pid = atoi(out);
    free(out);
    free(cmd);
    ck_assert_msg(pid > 0, "could not start socat (apt-get install socat)");
    return pid;
}

static void proxy_kill(int pid)
{
    kill(-pid, SIGKILL); /* socat and the children serving connections */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, WNOHANG);
}

START_TEST(test_engine_lost_mid_run)
{
    const char *docker = need("WPDOCK_DOCKER_HOST");
    const char *target = docker + strlen("unix://");
    char *dir = tu_mkdtemp();
    char *sock = wpd_xasprintf("%s/engine.sock", dir);
    char *host = wpd_xasprintf("unix://%s", sock);
    char unique[27];
    tu_ulid_lower(unique);
    char *path = write_workflow(dir, "lost", "[\"echo ready\",\"sleep 60\"]", unique);
    int proxy = proxy_start(sock, target);

    tu_exec x;
    const char *args[] = {"exec", "--log-format", "json", "-H", host, path, NULL};
    tu_exec_start(&x, args, NULL);
    tu_exec_wait_log(&x, "s", "ready", 120000);
    proxy_kill(proxy); /* the engine is gone */
    int rc = tu_exec_finish(&x, 120000);
    ck_assert_msg(rc == 1, "exit status %d; stderr: %s", rc, x.proc.err);
    const tu_event *st = tu_exec_step(&x, "s");
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(st->status, "error");
    ck_assert_msg(st->error && strstr(st->error, sock), "step error does not name the engine: %s",
                  st->error ? st->error : "(none)");
    const char *hint = strstr(x.proc.err, "wpdock cleanup --workflow ");
    ck_assert_msg(hint != NULL, "no hint to run wpdock cleanup: %s", x.proc.err);
    hint += strlen("wpdock cleanup --workflow ");
    char *id = wpd_xstrndup(hint, strcspn(hint, "` \n"));
    ck_assert_msg(strlen(id) == 26, "odd workflow id in the hint: %s", x.proc.err);
    tu_exec_free(&x);

    /* the engine is back: cleanup removes the container, volume and network */
    proxy = proxy_start(sock, target);
    char *cmd = wpd_xasprintf("%s cleanup -H %s --workflow %s", WPDOCK_CLI, host, id);
    free(id);
    char *out = NULL;
    rc = tu_run(cmd, 1, &out);
    proxy_kill(proxy);
    ck_assert_msg(rc == 0, "cleanup failed (%d): %s", rc, out);
    ck_assert_msg(strstr(out, "removed container wp_") && strstr(out, "removed network wp_") &&
                      strstr(out, "removed volume wp_"),
                  "cleanup output: %s", out);
    char *left = wp_objects(target);
    ck_assert_msg(strstr(left, unique) == NULL, "left behind: %s", left);
    free(left);
    free(out);
    free(cmd);
    free(path);
    free(host);
    free(sock);
    tu_rm_rf(dir);
    free(dir);
}
END_TEST

static Suite *engines_suite(void)
{
    Suite *s = suite_create("engines");
    TCase *tc = tcase_create("engines");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_mixed_six_workflows);
    tcase_add_test(tc, test_engine_lost_mid_run);
    tcase_add_test(tc, test_podman_100mb_log);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(engines_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
