/* test_faults_steps.c - faults around one run, on a private dockerd and a
 * private Podman service:
 *   - a step's container is removed from outside (DELETE ?force=1, as
 *     `docker rm -f` does) while it runs: the step fails with an error that
 *     says so, the workflow goes on (an on_failure step runs) and cleans up;
 *   - wpdock is SIGKILLed mid-run while another run goes on on the same
 *     engine: `wpdock cleanup --dry-run` shows what is left (every container
 *     with its name), `wpdock cleanup --workflow ID` removes exactly the
 *     killed run's container, volume and network and nothing of the live
 *     run, which then succeeds; a plain `wpdock cleanup` afterwards finds
 *     nothing.
 * Prints "figure:" lines with the measured times. */
#define _GNU_SOURCE
#include <signal.h>

#include "faults_fixtures.h"

#define RUN_TIMEOUT_MS 60000

static char *container_path(const char *uuid, const char *suffix)
{
    char *esc = tu_url_escape(uuid);
    char *p = wpd_xasprintf("/containers/wp_%s%s", esc, suffix);
    free(esc);
    return p;
}

static void removed_from_outside(const tu_pe *pe)
{
    const char *k = pe->kind;
    tu_pe_reset(pe);
    tu_wf *b = tu_wf_new();
    tu_wf_stage(b);
    char *count = counter_cmd(300, 100, 0); /* 30 s */
    const char *work[] = {count, NULL};
    tu_wf_step(b, "work", 0, work);
    tu_wf_stage(b);
    const char *report[] = {"echo reported", NULL};
    tu_wf_step(b, "report", TU_ON_FAILURE | TU_NO_ON_SUCCESS, report);
    char *wf = tu_wf_save(b);
    tu_exec x;
    const char *args[] = {"exec", "--log-format", "json", wf, NULL};
    tu_exec_start(&x, args, NULL);
    tu_exec_wait_log(&x, "work", "line-3", RUN_TIMEOUT_MS);
    const tu_event *started = tu_exec_step_started(&x, "work");
    ck_assert_ptr_nonnull(started);
    char *path = container_path(started->uuid, "?force=1&v=1");
    char *body = NULL;
    long st = tu_engine_request("DELETE", path, NULL, &body);
    ck_assert_msg(st == 204 || st == 200, "%s: DELETE %s: %ld %s", k, path, st, body);
    long long removed = tu_mono_ms();
    int rc = tu_exec_finish(&x, RUN_TIMEOUT_MS);
    long long ended = tu_mono_ms();
    assert_no_crash(&x, k);
    ck_assert_msg(rc == 1, "%s: exit %d, want 1; stderr: %.2000s", k, rc, x.proc.err);
    const tu_event *e = final_step(&x, k, "work");
    ck_assert_msg(strcmp(e->status, "error") == 0 || strcmp(e->status, "failure") == 0,
                  "%s: step work: %s", k, e->status);
    ck_assert_msg(e->error && strstr(e->error, "removed"),
                  "%s: the error does not say the container was removed: %s", k,
                  e->error ? e->error : "(none)");
    ck_assert_str_eq(final_step(&x, k, "report")->status, "success");
    ck_assert_uint_eq(tu_exec_count_lines(&x, "report", "stdout", "reported"), 1);
    ck_assert_str_eq(tu_exec_workflow(&x)->status, "failure");
    figure("%s: step container removed from outside: the run ended %.1f s later", k,
           (double)(ended - removed) / 1000.0);
    fprintf(stderr, "%s: the step's error: %s\n", k, e->error);
    tu_pe_assert_empty(k);
    free(body);
    free(path);
    tu_exec_free(&x);
    unlink(wf);
    free(wf);
    free(count);
}

START_TEST(test_container_removed_from_outside)
{
    EACH_ENGINE(i)
    removed_from_outside(&engines[i]);
}
END_TEST

/* Every "would remove container NAME" line of a dry run has a name. */
static void assert_named(const char *out, const char *k)
{
    static const char key[] = "would remove container";
    for (const char *p = strstr(out, key); p; p = strstr(p + 1, key)) {
        const char *name = p + sizeof key - 1;
        ck_assert_msg(*name == ' ' && name[1] && name[1] != '\n' && name[1] != ' ',
                      "%s: a container without a name in: %s", k, out);
    }
}

static size_t count_lines_with(const char *out, const char *needle)
{
    size_t n = 0;
    for (const char *line = out; *line;) {
        size_t len = strcspn(line, "\n");
        char *l = wpd_xstrndup(line, len);
        n += strstr(l, needle) != NULL;
        free(l);
        line += len + (line[len] == '\n');
    }
    return n;
}

static void killed_mid_run(const tu_pe *pe)
{
    const char *k = pe->kind;
    tu_pe_reset(pe);
    const char *names[] = {"work"};
    const int long_lines[] = {300}, short_lines[] = {80}, codes[] = {0};
    char *wf_dead = counter_workflow(1, names, long_lines, 100, codes);
    char *wf_live = counter_workflow(1, names, short_lines, 100, codes); /* 8 s */
    tu_exec dead, live;
    const char *dargs[] = {"exec", "--log-format", "json", wf_dead, NULL};
    const char *largs[] = {"exec", "--log-format", "json", wf_live, NULL};
    tu_exec_start(&dead, dargs, NULL);
    tu_exec_start(&live, largs, NULL);
    tu_exec_wait_log(&dead, "work", "line-3", RUN_TIMEOUT_MS);
    tu_exec_wait_log(&live, "work", "line-3", RUN_TIMEOUT_MS);
    tu_proc_signal(&dead.proc, SIGKILL);
    /* not tu_exec_finish: a killed run's events end in the middle */
    ck_assert_int_eq(tu_proc_finish(&dead.proc, 10000), 128 + SIGKILL);
    char *id = tu_pe_workflow_id(&dead);
    ck_assert_msg(id != NULL, "%s: no workflow id for the killed run", k);
    const char *dead_uuid = tu_exec_step_started(&dead, "work")->uuid;
    const char *live_uuid = tu_exec_step_started(&live, "work")->uuid;

    /* what is left: the killed run's container, volume and network */
    const char *dry[] = {"--dry-run", NULL};
    char *out = NULL;
    ck_assert_int_eq(run_cleanup(dry, &out), 0);
    assert_named(out, k);
    char *dead_ctr = wpd_xasprintf("would remove container wp_%s\n", dead_uuid);
    ck_assert_contains(out, dead_ctr);
    ck_assert_msg(count_lines_with(out, id) == 2,
                  "%s: dry run does not show the volume and "
                  "network of workflow %s: %s",
                  k, id, out);
    free(out);

    /* exactly the killed run's objects go */
    const char *only[] = {"--workflow", id, NULL};
    long long t0 = tu_mono_ms();
    ck_assert_int_eq(run_cleanup(only, &out), 0);
    long long t1 = tu_mono_ms();
    ck_assert_msg(count_lines_with(out, "removed ") == 3,
                  "%s: cleanup --workflow %s did not remove exactly 3 objects: %s", k, id, out);
    char *removed_ctr = wpd_xasprintf("removed container wp_%s\n", dead_uuid);
    ck_assert_contains(out, removed_ctr);
    ck_assert_msg(count_lines_with(out, id) == 2, "%s: %s", k, out);
    ck_assert_msg(!strstr(out, live_uuid), "%s: the live run's container was touched: %s", k, out);
    figure("%s: cleanup --workflow of a killed run took %.1f s", k, (double)(t1 - t0) / 1000.0);
    free(out);
    char *path = container_path(dead_uuid, "/json");
    char *body = NULL;
    ck_assert_int_eq(tu_engine_request("GET", path, NULL, &body), 404);
    free(body);
    free(path);

    /* the live run goes on and ends well */
    int rc = tu_exec_finish(&live, RUN_TIMEOUT_MS);
    assert_no_crash(&live, k);
    ck_assert_msg(rc == 0, "%s: the live run exited %d; stderr: %.2000s", k, rc, live.proc.err);
    assert_counted(&live, k, "work", short_lines[0]);
    ck_assert_str_eq(tu_exec_workflow(&live)->status, "success");

    /* and nothing is left for a plain cleanup */
    ck_assert_int_eq(run_cleanup(NULL, &out), 0);
    ck_assert_contains(out, "nothing to clean up");
    free(out);
    tu_pe_assert_empty(k);
    free(removed_ctr);
    free(dead_ctr);
    free(id);
    tu_exec_free(&dead);
    tu_exec_free(&live);
    unlink(wf_dead);
    unlink(wf_live);
    free(wf_dead);
    free(wf_live);
}

START_TEST(test_sigkill_then_cleanup)
{
    EACH_ENGINE(i)
    killed_mid_run(&engines[i]);
}
END_TEST

static Suite *faults_steps_suite(void)
{
    Suite *s = suite_create("faults_steps");
    TCase *tc = tcase_create("steps");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_container_removed_from_outside);
    tcase_add_test(tc, test_sigkill_then_cleanup);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return faults_main(faults_steps_suite(), true);
}
