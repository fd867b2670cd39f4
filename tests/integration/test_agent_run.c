/* test_agent_run.c - `wpdock agent` against the project's Woodpecker test
 * server (tests/helpers/wp-test-server) on a real engine: workflows queued
 * on the server run on the engine and come back as the server's step and
 * workflow states (derived by the server's own rules from the Updates and
 * Done the agent sent) and its stored log lines. Woodpecker's end-to-end
 * expectations: success, step failure, failure: ignore, on_failure,
 * services, parallel steps, OOM; server cancel; an invalid payload; the
 * log entries' numbering, masking and order; nothing left on the engine.
 * Runs once per engine (label "exec"). */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "testutil_wpserver.h"
#include "util/buf.h"
#include "util/jsonw.h"

/* ---------------------------------------------------------------- payloads */

/* A step with uuid "<name>-<tag>". */
static void step(tu_wf *b, tu_agent *r, const char *name, unsigned flags, const char *const *cmds)
{
    tu_wf_step(b, name, flags, cmds);
    char uuid[96];
    snprintf(uuid, sizeof uuid, "%s-%s", name, r->tag);
    wpd_jw_kstr(tu_wf_json(b), "uuid", uuid);
}

static char *uuid_of(tu_agent *r, const char *name)
{
    return wpd_xasprintf("%s-%s", name, r->tag);
}

/* steps.<uuid>.<field> of a workflow document */
static char *step_field(const char *doc, tu_agent *r, const char *name, const char *field)
{
    char *uuid = uuid_of(r, name);
    char *path = wpd_xasprintf("steps.%s.%s", uuid, field);
    char *v = tu_json_str(doc, path);
    free(path);
    free(uuid);
    return v;
}

static void assert_step_state(const char *doc, tu_agent *r, const char *name, const char *state,
                              int exit_code)
{
    char *s = step_field(doc, r, name, "state");
    ck_assert_msg(s && strcmp(s, state) == 0, "step %s: state %s, expected %s; workflow: %.3000s",
                  name, s ? s : "(none)", state, doc);
    free(s);
    if (exit_code >= 0) {
        char *c = step_field(doc, r, name, "exit_code");
        ck_assert_msg(c && atoi(c) == exit_code, "step %s: exit code %s, expected %d", name,
                      c ? c : "(none)", exit_code);
        free(c);
    }
}

/* The log lines the server stored for a step, each followed by '\n'. */
static char *log_text(const char *doc, tu_agent *r, const char *name)
{
    char *uuid = uuid_of(r, name);
    char *path = wpd_xasprintf("logs.%s", uuid);
    int n = tu_json_len(doc, path);
    wpd_buf out = WPD_BUF_INIT;
    for (int i = 0; i < n; i++) {
        char *p = wpd_xasprintf("%s.%d.data", path, i);
        char *line = tu_json_str(doc, p);
        char *p2 = wpd_xasprintf("%s.%d.line", path, i);
        long long no = tu_json_int(doc, p2, -1);
        ck_assert_msg(no == i, "step %s: entry %d has line number %lld", name, i, no);
        wpd_buf_printf(&out, "%s\n", line ? line : "");
        free(line);
        free(p);
        free(p2);
    }
    free(path);
    free(uuid);
    return out.data ? wpd_buf_steal(&out) : strdup("");
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_success_logs_states)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_wf *b = tu_wf_new();
    step(b, &r, "greet", 0,
         (const char *const[]){"echo hello", "echo the s3cr3t-value here", "echo to stderr >&2",
                               "echo $CI_MACHINE", NULL});
    tu_wf_stage(b);
    step(b, &r, "second", 0, (const char *const[]){"printf 'no newline'", NULL});
    tu_wf_end_pipeline(b);
    wpd_jsonw *w = tu_wf_json(b);
    wpd_jw_key(w, "secrets");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", "token");
    wpd_jw_kstr(w, "value", "s3cr3t-value");
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    char *payload = tu_wf_payload(b);
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "agent exit %d: %s", rc, r.x.proc.err);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    assert_step_state(doc, &r, "greet", "success", 0);
    assert_step_state(doc, &r, "second", "success", 0);
    /* stdout and stderr are one stream, as the Go agent sends them; their
     * relative order is the engine's: take the stderr line out */
    char *text = log_text(doc, &r, "greet");
    char *err_line = strstr(text, "to stderr\n");
    ck_assert_msg(err_line && tu_count(text, "to stderr\n") == 1, "log: %s", text);
    memmove(err_line, err_line + 10, strlen(err_line + 10) + 1);
    char *want = wpd_xasprintf("+ echo hello\nhello\n+ echo the ******** here\nthe ******** "
                               "here\n+ echo to stderr >&2\n+ echo $CI_MACHINE\n%s\n",
                               r.host);
    ck_assert_str_eq(text, want);
    free(text);
    free(want);
    text = log_text(doc, &r, "second");
    ck_assert_str_eq(text, "+ printf 'no newline'\nno newline\n");
    free(text);
    /* the Updates as the Go agent's tracer makes them: a "started" one with
     * started 0, then the final one with the container's times and exited */
    char *uuid = uuid_of(&r, "greet");
    char *p = wpd_xasprintf("steps.%s.updates", uuid);
    ck_assert_int_eq(tu_json_len(doc, p), 2);
    free(p);
    p = wpd_xasprintf("steps.%s.updates.0.started", uuid);
    ck_assert_int_eq(tu_json_int(doc, p, 0), 0);
    free(p);
    p = wpd_xasprintf("steps.%s.updates.1.exited", uuid);
    char *ex = tu_json_str(doc, p);
    ck_assert_msg(ex && strcmp(ex, "true") == 0, "final update not exited: %s", doc);
    free(ex);
    free(p);
    p = wpd_xasprintf("steps.%s.updates.1.started", uuid);
    ck_assert_msg(tu_json_int(doc, p, 0) > 0, "final update without started: %s", doc);
    free(p);
    free(uuid);
    ck_assert_int_eq(tu_json_int(doc, "done_count", 0), 1);
    ck_assert_int_eq(tu_json_int(doc, "log_duplicates", 0), 0);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_failure_rules)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    /* a failing step; a later step without on_failure is skipped, one with
     * it runs; failure: ignore does not fail the workflow */
    tu_wf *b = tu_wf_new();
    step(b, &r, "ignored", 0, (const char *const[]){"exit 1", NULL});
    wpd_jw_kstr(tu_wf_json(b), "failure", "ignore");
    step(b, &r, "bad", 0, (const char *const[]){"echo failing", "exit 3", NULL});
    tu_wf_stage(b);
    step(b, &r, "later", 0, (const char *const[]){"echo never", NULL});
    step(b, &r, "notify", TU_ON_FAILURE, (const char *const[]){"echo $CI_PIPELINE_STATUS", NULL});
    char *payload = tu_wf_payload(b);
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);

    tu_wf *b2 = tu_wf_new();
    step(b2, &r, "lint", 0, (const char *const[]){"exit 1", NULL});
    wpd_jw_kstr(tu_wf_json(b2), "failure", "ignore");
    tu_wf_stage(b2);
    step(b2, &r, "build", 0, (const char *const[]){"echo built", NULL});
    char *payload2 = tu_wf_payload(b2);
    char *id2 = tu_wps_queue(&r.srv, payload2, NULL, 10);

    tu_agent_start(&r, NULL, NULL);
    char *doc = tu_wps_wait_done(&r.srv, id, 120);
    char *doc2 = tu_wps_wait_done(&r.srv, id2, 120);
    tu_proc_signal(&r.x.proc, SIGTERM);
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "agent exit %d after SIGTERM: %s", rc, r.x.proc.err);

    tu_assert_workflow_state(doc, "failure");
    assert_step_state(doc, &r, "ignored", "failure", 1);
    assert_step_state(doc, &r, "bad", "failure", 3);
    assert_step_state(doc, &r, "later", "skipped", -1);
    assert_step_state(doc, &r, "notify", "success", 0);
    char *text = log_text(doc, &r, "notify");
    ck_assert_str_eq(text, "+ echo $CI_PIPELINE_STATUS\nfailure\n");
    free(text);
    char *err = tu_json_str(doc, "error");
    ck_assert_msg(!err || !*err, "a step failure is not a runtime error: %s", err);
    free(err);
    /* the e2e fixture 03_failure_ignore: pipeline success, lint failure 1 */
    tu_assert_workflow_state(doc2, "success");
    assert_step_state(doc2, &r, "lint", "failure", 1);
    assert_step_state(doc2, &r, "build", "success", 0);
    tu_agent_assert_clean(&r);
    free(doc);
    free(doc2);
    free(id);
    free(id2);
    free(payload);
    free(payload2);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_services_parallel_oom)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_wf *b = tu_wf_new();
    step(b, &r, "db", TU_SERVICE, (const char *const[]){"echo serving", "sleep 300", NULL});
    step(b, &r, "left", 0, (const char *const[]){"sleep 1", "echo left", NULL});
    step(b, &r, "right", 0, (const char *const[]){"sleep 1", "echo right", NULL});
    tu_wf_stage(b);
    step(b, &r, "hog", 0, (const char *const[]){"head -c 100000000 /dev/zero | tail", NULL});
    char *payload = tu_wf_payload(b);
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true",
                                         "WOODPECKER_BACKEND_DOCKER_LIMIT_MEM=8388608",
                                         "WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP=8388608", NULL});
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "agent exit %d: %s", rc, r.x.proc.err);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "failure");
    assert_step_state(doc, &r, "db", "success", -1);
    assert_step_state(doc, &r, "left", "success", 0);
    assert_step_state(doc, &r, "right", "success", 0);
    /* an OOM kill is the exit code (137), no flag */
    assert_step_state(doc, &r, "hog", "failure", 137);
    char *text = log_text(doc, &r, "db");
    ck_assert_msg(strstr(text, "serving\n") != NULL, "service log: %s", text);
    free(text);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_server_cancel)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_wf *b = tu_wf_new();
    step(b, &r, "long", 0, (const char *const[]){"echo started", "sleep 120", NULL});
    tu_wf_stage(b);
    step(b, &r, "after", 0, (const char *const[]){"echo never", NULL});
    char *payload = tu_wf_payload(b);
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    /* wait until the step's first line reached the server */
    long long deadline = tu_now_ms() + 60000;
    for (;;) {
        char *doc = tu_wps_workflow(&r.srv, id);
        char *text = log_text(doc, &r, "long");
        bool seen = strstr(text, "started\n") != NULL;
        free(text);
        free(doc);
        if (seen)
            break;
        ck_assert_msg(tu_now_ms() < deadline, "the step's log never arrived: %s", r.x.proc.err);
        usleep(200000);
    }
    long long t0 = tu_now_ms();
    char *path = wpd_xasprintf("/workflows/%s/cancel", id);
    ck_assert_int_eq(tu_wps_request(&r.srv, "POST", path, "{}", NULL), 200);
    free(path);
    char *doc = tu_wps_wait_done(&r.srv, id, 60);
    long long took = tu_now_ms() - t0;
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "agent exit %d: %s", rc, r.x.proc.err);
    tu_assert_workflow_state(doc, "killed");
    assert_step_state(doc, &r, "long", "killed", -1);
    char *canceled = tu_json_str(doc, "canceled");
    ck_assert_msg(canceled && strcmp(canceled, "true") == 0, "Done not canceled: %s", doc);
    free(canceled);
    /* containers are killed at once, no stop grace */
    ck_assert_msg(took < 15000, "cancel took %lld ms", took);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_invalid_payload_then_next)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    /* the server queues it (a string payload goes out byte for byte); the
     * agent's parser refuses a step image that is not a string */
    char *bad = tu_wps_queue(
        &r.srv,
        "\"{\\\"pipeline\\\":[{\\\"steps\\\":[{\\\"name\\\":\\\"x\\\",\\\"uuid\\\":\\\"bad-x\\\","
        "\\\"image\\\":5}]}]}\"",
        NULL, 10);
    tu_wf *b = tu_wf_new();
    step(b, &r, "ok", 0, (const char *const[]){"echo fine", NULL});
    char *payload = tu_wf_payload(b);
    char *good = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, NULL);
    char *doc = tu_wps_wait_done(&r.srv, bad, 60);
    tu_assert_workflow_state(doc, "failure");
    char *err = tu_json_str(doc, "error");
    ck_assert_msg(err && strstr(err, "image"), "Done error does not name the problem: %s", doc);
    free(err);
    free(doc);
    doc = tu_wps_wait_done(&r.srv, good, 120);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    tu_proc_signal(&r.x.proc, SIGTERM);
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "agent exit %d: %s", rc, r.x.proc.err);
    tu_agent_assert_clean(&r);
    free(bad);
    free(good);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

/* one case per test, so CK_RUN_CASE=test_name runs just that one */
#define ADD(s, t)                                                                                  \
    do {                                                                                           \
        TCase *tc = tcase_create(#t);                                                              \
        tcase_set_timeout(tc, 300);                                                                \
        tcase_add_test(tc, t);                                                                     \
        suite_add_tcase(s, tc);                                                                    \
    } while (0)

static Suite *suite(void)
{
    Suite *s = suite_create("agent_run");
    ADD(s, test_success_logs_states);
    ADD(s, test_failure_rules);
    ADD(s, test_services_parallel_oom);
    ADD(s, test_server_cancel);
    ADD(s, test_invalid_payload_then_next);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
