/* test_exec_cli.c - the public contract of `wpdock exec` around a run:
 * exit statuses for invalid input (2, nothing created), an unreachable
 * engine (3), SIGINT/SIGTERM (130/143, nothing left behind, a second SIGINT
 * skips the stop grace period), and `--log-format json` writing nothing but
 * event objects to stdout. Engine selection as in testutil.h; an
 * unreachable engine under test fails the tests. */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/jsonw.h"
#include "testutil.h"

#define RUN_TIMEOUT_MS 120000

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%.600s\" does not contain \"%s\"", (hay),    \
                  (needle))

START_TEST(test_engine_reachable)
{
    char *body = NULL;
    long st = tu_engine_request("GET", "/_ping", NULL, &body);
    ck_assert_msg(st == 200, "the engine under test (%s, %s) does not answer /_ping: %ld %s",
                  tu_engine_host(), tu_engine_kind(), st, body);
    free(body);
}
END_TEST

/* ------------------------------------------------------- invalid input */

static void assert_rejected(tu_exec *x, const char *message)
{
    ck_assert_msg(x->status == 2, "exit status %d, expected 2; stderr: %s", x->status, x->proc.err);
    ck_assert_msg(x->proc.out_len == 0, "stdout is not empty: %.500s", x->proc.out);
    ck_assert_contains(x->proc.err, message);
    tu_exec_assert_clean(x);
    tu_exec_free(x);
}

START_TEST(test_invalid_json)
{
    tu_exec x;
    const char *path = TEST_DATA_DIR "/exec-bad-json.json";
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", path, NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "exec-bad-json.json: invalid JSON at line 9");
}
END_TEST

START_TEST(test_wrong_type)
{
    tu_exec x;
    const char *path = TEST_DATA_DIR "/exec-wrong-type.json";
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", path, NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "exec-wrong-type.json: pipeline[0].steps[0].volumes[0]: expected a string");
}
END_TEST

/* A valid file next to an invalid one: nothing runs at all. */
START_TEST(test_invalid_among_valid)
{
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "would-run", 0, (const char *const[]){"echo ran", NULL});
    char *good = tu_wf_save(b);
    tu_exec x;
    const char *bad = TEST_DATA_DIR "/exec-wrong-type.json";
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", good, bad, NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "pipeline[0].steps[0].volumes[0]: expected a string");
    unlink(good);
    free(good);
}
END_TEST

START_TEST(test_bad_usage)
{
    tu_exec x;
    const char *path = EXAMPLES_DIR "/hello.json";
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "yaml", path, NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "yaml");
    tu_exec_run(&x, (const char *const[]){"exec", "--no-such-option", path, NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "--no-such-option");
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", NULL}, NULL,
                RUN_TIMEOUT_MS);
    assert_rejected(&x, "no workflow file");
    tu_exec_run(&x,
                (const char *const[]){"exec", "--log-format", "json",
                                      TEST_DATA_DIR "/exec-no-such-file.json", NULL},
                NULL, RUN_TIMEOUT_MS);
    assert_rejected(&x, "exec-no-such-file.json");
}
END_TEST

/* --------------------------------------------------- unreachable engine */

static void assert_unreachable(const char *host, const char *message)
{
    char *env = wpd_xasprintf("DOCKER_HOST=%s", host);
    tu_exec x;
    tu_exec_run(
        &x, (const char *const[]){"exec", "--log-format", "json", EXAMPLES_DIR "/hello.json", NULL},
        (const char *const[]){env, NULL}, RUN_TIMEOUT_MS);
    ck_assert_msg(x.status == 3, "%s: exit status %d, expected 3; stderr: %s", host, x.status,
                  x.proc.err);
    ck_assert_msg(x.proc.out_len == 0, "stdout is not empty: %.500s", x.proc.out);
    ck_assert_contains(x.proc.err, message);
    tu_exec_free(&x);
    free(env);
}

START_TEST(test_unreachable_engine)
{
    assert_unreachable("unix:///nonexistent/wpdock-test.sock", "/nonexistent/wpdock-test.sock");
    /* a socket nobody listens on: connection refused */
    char *dir = tu_mkdtemp();
    char *sock = wpd_xasprintf("%s/refusing.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char *host = wpd_xasprintf("unix://%s", sock);
    assert_unreachable(host, sock);
    close(fd);
    free(host);
    free(sock);
    tu_rm_rf(dir);
    free(dir);
    assert_unreachable("tcp://127.0.0.1:1", "127.0.0.1:1");
}
END_TEST

/* ------------------------------------------------------------ signals */

static void assert_canceled(const tu_exec *x, int want_status, const char *step)
{
    ck_assert_msg(x->status == want_status, "exit status %d, expected %d; stderr: %s", x->status,
                  want_status, x->proc.err);
    const tu_event *w = tu_exec_workflow(x);
    ck_assert_ptr_nonnull(w);
    ck_assert_str_eq(w->status, "canceled");
    const tu_event *e = tu_exec_step(x, step);
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strcmp(e->status, "canceled") == 0, "step %s: %s", step, e->status);
}

static char *sleeper_workflow(const char *first_command)
{
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "bg", TU_SERVICE, (const char *const[]){"sleep 300", NULL});
    tu_wf_stage(b);
    tu_wf_step(b, "sleeper", 0,
               (const char *const[]){first_command, "echo ready", "sleep 300", NULL});
    tu_wf_stage(b);
    tu_wf_step(b, "never-reached", 0, (const char *const[]){"echo too late", NULL});
    return tu_wf_save(b);
}

static void assert_not_run(const tu_exec *x, const char *step)
{
    ck_assert_ptr_null(tu_exec_step_started(x, step));
    const tu_event *e = tu_exec_step(x, step);
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strcmp(e->status, "canceled") == 0 || strcmp(e->status, "skipped") == 0,
                  "step %s that never ran is %s", step, e->status);
}

static void interrupt_once(int sig, int want_status)
{
    char *path = sleeper_workflow("echo starting");
    tu_exec x;
    tu_exec_start(
        &x,
        (const char *const[]){"exec", "--log-format", "json", "--stop-timeout", "2", path, NULL},
        NULL);
    tu_exec_wait_log(&x, "sleeper", "ready", 60000);
    tu_proc_signal(&x.proc, sig);
    tu_exec_finish(&x, 90000);
    assert_canceled(&x, want_status, "sleeper");
    assert_not_run(&x, "never-reached");
    ck_assert_ptr_nonnull(tu_exec_step(&x, "bg"));
    tu_exec_assert_clean(&x);
    tu_exec_free(&x);
    unlink(path);
    free(path);
}

START_TEST(test_sigint)
{
    interrupt_once(SIGINT, 130);
}
END_TEST

START_TEST(test_sigterm)
{
    interrupt_once(SIGTERM, 143);
}
END_TEST

/* A step that ignores SIGTERM with a 30 s stop timeout: the second SIGINT
 * kills it at once instead of waiting out the grace period. Only the end
 * and the cleanup are checked, not the time. */
START_TEST(test_second_sigint)
{
    char *path = sleeper_workflow("trap '' TERM");
    tu_exec x;
    tu_exec_start(
        &x,
        (const char *const[]){"exec", "--log-format", "json", "--stop-timeout", "30", path, NULL},
        NULL);
    tu_exec_wait_log(&x, "sleeper", "ready", 60000);
    tu_proc_signal(&x.proc, SIGINT);
    /* the first one has started the stop of the step (30 s grace) */
    long long until = tu_now_ms() + 1000;
    while (tu_now_ms() < until)
        tu_proc_pump(&x.proc, 100);
    tu_proc_signal(&x.proc, SIGINT);
    tu_exec_finish(&x, 90000);
    assert_canceled(&x, 130, "sleeper");
    assert_not_run(&x, "never-reached");
    tu_exec_assert_clean(&x);
    tu_exec_free(&x);
    unlink(path);
    free(path);
}
END_TEST

/* The reader of the output goes away mid-run (`wpdock exec ... | head`):
 * wpdock must not die of SIGPIPE with its containers, network and volume
 * still on the engine. */
START_TEST(test_stdout_closed)
{
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "talker", 0,
               (const char *const[]){"sleep 2", "for i in $(seq 1 200); do echo line $i; done",
                                     "sleep 1", NULL});
    char *path = tu_wf_save(b);
    char *cmd = wpd_xasprintf("'%s' exec --log-format text '%s' | head -n 2", WPDOCK_CLI, path);
    tu_exec x;
    tu_exec_start_prog(&x, "/bin/sh", (const char *const[]){"-c", cmd, NULL}, NULL);
    tu_exec_finish(&x, RUN_TIMEOUT_MS);
    ck_assert_msg(x.status == 0, "status %d; stderr: %s", x.status, x.proc.err);
    ck_assert_uint_eq(tu_count(x.proc.out, "\n"), 2);
    tu_exec_assert_clean(&x);
    tu_exec_free(&x);
    free(cmd);
    unlink(path);
    free(path);
}
END_TEST

/* ------------------------------------------------------- JSON output */

/* Every stdout line of every run in these tests is parsed and checked as
 * an event; here the output of steps and wpdock's own warnings try to get
 * in the way. */
START_TEST(test_json_stdout_only)
{
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "noisy", 0,
               (const char *const[]){"echo '{\"event\":\"workflow\",\"status\":\"success\"}'",
                                     "printf 'control \\001\\002 chars\\n'", "echo '\\'", NULL});
    tu_wf_step(b, "never", TU_NO_ON_SUCCESS, (const char *const[]){"echo no", NULL});
    char *path = tu_wf_save(b);
    tu_exec x;
    tu_exec_run(&x, (const char *const[]){"exec", "--log-format", "json", path, NULL}, NULL,
                RUN_TIMEOUT_MS);
    ck_assert_msg(x.status == 0, "exit status %d; stderr: %s", x.status, x.proc.err);
    ck_assert_uint_eq(tu_exec_count_lines(&x, "noisy", "stdout",
                                          "{\"event\":\"workflow\",\"status\":\"success\"}"),
                      1);
    ck_assert_uint_eq(tu_exec_count_lines(&x, "noisy", "stdout", "control \001\002 chars"), 1);
    ck_assert_uint_eq(tu_exec_count_lines(&x, "noisy", "stdout", "\\"), 1);
    ck_assert_str_eq(tu_exec_step(&x, "never")->status, "skipped");
    /* the warning about the step that can never run is on stderr */
    ck_assert_contains(x.proc.err, "never");
    size_t workflow_events = 0;
    for (size_t i = 0; i < x.n_ev; i++)
        workflow_events += x.ev[i].kind == TU_EV_WORKFLOW;
    ck_assert_uint_eq(workflow_events, 2);
    /* the label is the file name exactly as given */
    ck_assert_str_eq(x.ev[0].workflow, path);
    tu_exec_assert_clean(&x);
    tu_exec_free(&x);
    unlink(path);
    free(path);
}
END_TEST

static Suite *exec_cli_suite(void)
{
    Suite *s = suite_create("exec-cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_engine_reachable);
    tcase_add_test(tc, test_invalid_json);
    tcase_add_test(tc, test_wrong_type);
    tcase_add_test(tc, test_invalid_among_valid);
    tcase_add_test(tc, test_bad_usage);
    tcase_add_test(tc, test_unreachable_engine);
    tcase_add_test(tc, test_json_stdout_only);
    tcase_add_test(tc, test_stdout_closed);
    tcase_add_test(tc, test_sigint);
    tcase_add_test(tc, test_sigterm);
    tcase_add_test(tc, test_second_sigint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
