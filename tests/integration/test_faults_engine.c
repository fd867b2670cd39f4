/* test_faults_engine.c - the engine goes away in the middle of a step, on
 * a private dockerd and a private Podman service (both at once):
 *   - it crashes (SIGKILL) and stays down: wpdock ends within a bounded
 *     time, with a non-zero exit and an error naming the engine, and says
 *     which `wpdock cleanup --workflow ID` to run; once the engine is back,
 *     `wpdock cleanup` leaves nothing of wpdock's on it;
 *   - it restarts (SIGTERM, then started again at once): wpdock ends within
 *     a bounded time, never with a success that lost output; cleanup
 *     afterwards leaves nothing;
 *   - its socket disappears while it keeps running (renamed away, put back
 *     after wpdock ended): the same.
 * Prints "figure:" lines with the measured times. */
#define _GNU_SOURCE
#include "faults_fixtures.h"

/* how long wpdock may take to end after the fault */
#define END_BOUND_MS 30000

/* Start the same workflow on every private engine and wait until its
 * step "work" printed line-`k` on each. */
static void start_all(tu_exec *x, const char *wf, int k)
{
    EACH_ENGINE(i)
    {
        tu_pe_reset(&engines[i]);
        const char *args[] = {"exec", "--log-format", "json", wf, NULL};
        tu_exec_start(&x[i], args, NULL);
    }
    char line[32];
    snprintf(line, sizeof line, "line-%d", k);
    EACH_ENGINE(i)
    {
        tu_pe_use(&engines[i]);
        tu_exec_wait_log(&x[i], "work", line, 60000);
    }
}

/* Read the runs' output until each ended or END_BOUND_MS passed since
 * `since`; every run must have ended. Returns via ended_ms. */
static void wait_ended(tu_exec *x, long long since, long long *ended_ms, const char *fault)
{
    for (;;) {
        bool all = true;
        EACH_ENGINE(i)
        {
            if (!ended_ms[i] && tu_proc_pump(&x[i].proc, 20))
                ended_ms[i] = tu_mono_ms();
            all = all && ended_ms[i];
        }
        if (all || tu_mono_ms() - since > END_BOUND_MS)
            break;
    }
    EACH_ENGINE(i)
    {
        ck_assert_msg(ended_ms[i] != 0, "%s: wpdock still runs %d s after %s; stderr: %.2000s",
                      engines[i].kind, END_BOUND_MS / 1000, fault, x[i].proc.err);
        tu_pe_use(&engines[i]);
        tu_exec_finish(&x[i], 10000);
        assert_no_crash(&x[i], engines[i].kind);
    }
}

/* The lines of step "work" are line-1 .. line-K in order, nothing twice,
 * nothing skipped; returns K. */
static int counted_prefix(const tu_exec *x, const char *engine)
{
    int next = 1;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind != TU_EV_LOG || strcmp(e->step, "work") != 0 || strncmp(e->line, "line-", 5))
            continue;
        ck_assert_msg(atoi(e->line + 5) == next, "%s: \"%s\" where line-%d was due", engine,
                      e->line, next);
        next++;
    }
    return next - 1;
}

/* The outcome of a run whose engine went away and may have come back: a
 * success only with every line and exit code 0; otherwise a non-zero exit,
 * the lines that arrived a gap-free prefix, and a connection error naming
 * the engine (`must_name`: always, as when it stayed down). */
static void assert_outcome(const tu_exec *x, const tu_pe *pe, int lines, bool must_name)
{
    const char *k = pe->kind;
    int got = counted_prefix(x, k);
    const tu_event *e = final_step(x, k, "work");
    if (x->status == 0) {
        ck_assert_msg(got == lines, "%s: a success with %d of %d lines", k, got, lines);
        ck_assert_msg(e->has_exit_code && e->exit_code == 0, "%s: success without exit 0", k);
        return;
    }
    ck_assert_msg(strcmp(tu_exec_workflow(x)->status, "success") != 0,
                  "%s: exit %d with a successful workflow", k, x->status);
    if (must_name)
        ck_assert_msg(names_engine(x, pe), "%s: no error names the engine (%s); stderr: %.2000s", k,
                      pe->host, x->proc.err);
}

START_TEST(test_engine_crash)
{
    const char *names[] = {"work"};
    const int lines[] = {300}, codes[] = {0}; /* 30 s */
    char *wf = counter_workflow(1, names, lines, 100, codes);
    tu_exec x[2];
    start_all(x, wf, 3);
    EACH_ENGINE(i)
    tu_pe_signal(&engines[i], "KILL");
    long long killed = tu_mono_ms();
    long long ended[2] = {0, 0};
    wait_ended(x, killed, ended, "the engine crashed");
    EACH_ENGINE(i)
    {
        const char *k = engines[i].kind;
        ck_assert_msg(x[i].status != 0, "%s: exit 0 after the engine crashed", k);
        assert_outcome(&x[i], &engines[i], lines[0], true);
        ck_assert_contains(x[i].proc.err, "wpdock cleanup --workflow ");
        figure("%s: engine crashed (SIGKILL) mid-step: wpdock ended %.1f s later", k,
               (double)(ended[i] - killed) / 1000.0);
        tu_pe_up(&engines[i]);
        cleanup_leaves_nothing(&engines[i], "after the crash");
        tu_exec_free(&x[i]);
    }
    unlink(wf);
    free(wf);
}
END_TEST

START_TEST(test_engine_restart)
{
    /* Docker kills the step on shutdown (after its 10 s stop timeout: the
     * step's shell is PID 1 and ignores SIGTERM); Podman's containers
     * outlive the service */
    const char *names[] = {"work"};
    const int lines[] = {300}, codes[] = {0}; /* 30 s */
    char *wf = counter_workflow(1, names, lines, 100, codes);
    tu_exec x[2];
    start_all(x, wf, 5);
    EACH_ENGINE(i)
    tu_pe_down(&engines[i]);
    EACH_ENGINE(i)
    tu_pe_up(&engines[i]);
    long long back = tu_mono_ms();
    long long ended[2] = {0, 0};
    wait_ended(x, back, ended, "the engine restarted");
    EACH_ENGINE(i)
    {
        const char *k = engines[i].kind;
        assert_outcome(&x[i], &engines[i], lines[0], false);
        figure(x[i].status == 0 ? "%s: engine restarted mid-step: the run succeeded, %.1f s "
                                  "after the engine was back"
                                : "%s: engine restarted mid-step: the run failed, %.1f s after "
                                  "the engine was back",
               k, (double)(ended[i] - back) / 1000.0);
        cleanup_leaves_nothing(&engines[i], "after the restart");
        tu_exec_free(&x[i]);
    }
    unlink(wf);
    free(wf);
}
END_TEST

START_TEST(test_socket_vanishes)
{
    const char *names[] = {"work"};
    const int lines[] = {40}, codes[] = {0}; /* 4 s */
    char *wf = counter_workflow(1, names, lines, 100, codes);
    tu_exec x[2];
    start_all(x, wf, 5);
    EACH_ENGINE(i)
    tu_pe_hide_socket(&engines[i]);
    long long hidden = tu_mono_ms();
    long long ended[2] = {0, 0};
    wait_ended(x, hidden, ended, "the socket disappeared");
    EACH_ENGINE(i)
    {
        const char *k = engines[i].kind;
        assert_outcome(&x[i], &engines[i], lines[0], true);
        figure(x[i].status == 0 ? "%s: socket gone mid-step: the run succeeded (open "
                                  "connections), ended %.1f s later"
                                : "%s: socket gone mid-step: the run failed, ended %.1f s later",
               k, (double)(ended[i] - hidden) / 1000.0);
        tu_pe_show_socket(&engines[i]);
        cleanup_leaves_nothing(&engines[i], "after the socket came back");
        tu_exec_free(&x[i]);
    }
    unlink(wf);
    free(wf);
}
END_TEST

static Suite *faults_engine_suite(void)
{
    Suite *s = suite_create("faults_engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_engine_crash);
    tcase_add_test(tc, test_engine_restart);
    tcase_add_test(tc, test_socket_vanishes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return faults_main(faults_engine_suite(), true);
}
