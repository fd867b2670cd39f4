/* test_faults_freeze.c - an engine that freezes, on a private dockerd and a
 * private Podman service (SIGSTOP of the daemon, SIGCONT later):
 *   - frozen for longer than any timeout wpdock has, then resumed: no step
 *     output line and no exit code is lost (a step that prints before,
 *     during and after the freeze, and one that ends during it);
 *   - frozen for good: interrupts still end wpdock within a bounded time
 *     (the teardown deadline: the stop timeout plus a margin after one
 *     SIGINT, a few seconds after the second, at once after the third),
 *     with exit 130, the list of what may be left and the `wpdock cleanup
 *     --workflow ID` command, which removes exactly that once the engine
 *     answers again.
 * Both engines are driven at once. Prints "figure:" lines with the
 * measured times. */
#define _GNU_SOURCE
#include <signal.h>

#include "faults_fixtures.h"

/* longer than any timeout wpdock has on a running step: connect 10 s, the
 * confirmation of a step's log attach 10 s */
#define FREEZE_MS 12000
#define STOP_TIMEOUT_S 1
/* the teardown deadline of core/woodpecker/runtime.c */
#define MARGIN_MS 10000
#define HURRY_MS 5000
/* what an end may take beyond its deadline on a loaded machine */
#define SLACK_MS 4000

/* Pump the runs' output until each ended (EOF on its pipes) or timeout_ms
 * passed; ended_ms[i] gets the time its end was seen (0: still running). */
static void pump_until_ended(tu_exec *x, long long *ended_ms, long timeout_ms)
{
    long long end = tu_mono_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        EACH_ENGINE(i)
        {
            if (ended_ms[i])
                continue;
            if (tu_proc_pump(&x[i].proc, 20))
                ended_ms[i] = tu_mono_ms();
            else
                all = false;
        }
        if (all || tu_mono_ms() >= end)
            return;
    }
}

/* Keep reading the runs' output for ms milliseconds; none may end. */
static void pump_for(tu_exec *x, long ms, const char *why)
{
    long long end = tu_mono_ms() + ms;
    while (tu_mono_ms() < end) {
        EACH_ENGINE(i)
        {
            bool ended = tu_proc_pump(&x[i].proc, 20);
            ck_assert_msg(!ended, "%s: wpdock ended %s; stderr: %.2000s", engines[i].kind, why,
                          x[i].proc.err);
        }
    }
}

START_TEST(test_freeze_loses_nothing)
{
    /* "long" prints before, during and after the freeze; "short" ends
     * during it: its exit code arrives only after the engine resumes */
    const char *names[] = {"long", "short"};
    const int lines[] = {75, 20}, codes[] = {3, 5};
    char *wf = counter_workflow(2, names, lines, 200, codes);
    tu_exec x[2];
    EACH_ENGINE(i)
    {
        tu_pe_reset(&engines[i]);
        const char *args[] = {"exec", "--log-format", "json", wf, NULL};
        tu_exec_start(&x[i], args, NULL);
    }
    EACH_ENGINE(i)
    {
        tu_pe_use(&engines[i]);
        tu_exec_wait_log(&x[i], "long", "line-3", 60000);
    }
    EACH_ENGINE(i)
    tu_pe_signal(&engines[i], "STOP");
    pump_for(x, FREEZE_MS, "while the engine was frozen");
    EACH_ENGINE(i)
    tu_pe_signal(&engines[i], "CONT");
    long long thawed = tu_mono_ms();
    long long ended[2] = {0, 0};
    pump_until_ended(x, ended, 90000);
    EACH_ENGINE(i)
    {
        const char *k = engines[i].kind;
        tu_pe_use(&engines[i]);
        int st = tu_exec_finish(&x[i], 10000);
        assert_no_crash(&x[i], k);
        ck_assert_msg(st == 1, "%s: exit %d (want 1: steps failed); stderr: %.2000s", k, st,
                      x[i].proc.err);
        for (size_t s = 0; s < 2; s++) {
            const tu_event *e = final_step(&x[i], k, names[s]);
            ck_assert_msg(strcmp(e->status, "failure") == 0 && e->has_exit_code &&
                              e->exit_code == codes[s],
                          "%s: step %s: %s exit %d (want failure, exit %d): %s", k, names[s],
                          e->status, e->exit_code, codes[s], e->error ? e->error : "");
            assert_counted(&x[i], k, names[s], lines[s]);
        }
        ck_assert_str_eq(tu_exec_workflow(&x[i])->status, "failure");
        if (ended[i])
            figure("%s: run ended %.1f s after the engine resumed from a 12 s freeze", k,
                   (double)(ended[i] - thawed) / 1000.0);
        tu_pe_assert_empty(k);
        tu_exec_free(&x[i]);
    }
    unlink(wf);
    free(wf);
}
END_TEST

/* A step runs, the engine freezes, wpdock gets n SIGINTs (500 ms apart). */
static void frozen_interrupts(int n)
{
    const char *names[] = {"hold"};
    const int lines[] = {600}, codes[] = {0}; /* 60 s */
    char *wf = counter_workflow(1, names, lines, 100, codes);
    char stop[16];
    snprintf(stop, sizeof stop, "%d", STOP_TIMEOUT_S);
    tu_exec x[2];
    EACH_ENGINE(i)
    {
        tu_pe_reset(&engines[i]);
        const char *args[] = {"exec", "--log-format", "json", "--stop-timeout", stop, wf, NULL};
        tu_exec_start(&x[i], args, NULL);
    }
    EACH_ENGINE(i)
    {
        tu_pe_use(&engines[i]);
        tu_exec_wait_log(&x[i], "hold", "line-2", 60000);
    }
    EACH_ENGINE(i)
    tu_pe_signal(&engines[i], "STOP");
    pump_for(x, 300, "before the interrupt");
    long long first = 0, last = 0;
    for (int k = 1; k <= n; k++) {
        EACH_ENGINE(i)
        tu_proc_signal(&x[i].proc, SIGINT);
        last = tu_mono_ms();
        if (k == 1)
            first = last;
        if (k < n)
            pump_for(x, 500, "between the interrupts");
    }
    long deadline = n == 1 ? STOP_TIMEOUT_S * 1000 + MARGIN_MS : n == 2 ? HURRY_MS : 0;
    long long ended[2] = {0, 0};
    pump_until_ended(x, ended, deadline + SLACK_MS);
    EACH_ENGINE(i)
    {
        const char *k = engines[i].kind;
        tu_pe_use(&engines[i]);
        ck_assert_msg(ended[i] != 0,
                      "%s: wpdock did not end within %ld ms of interrupt %d (engine frozen); "
                      "stderr: %.2000s",
                      k, deadline + SLACK_MS, n, x[i].proc.err);
        int st = tu_exec_finish(&x[i], 10000);
        assert_no_crash(&x[i], k);
        ck_assert_msg(st == 130, "%s: exit %d, want 130; stderr: %.2000s", k, st, x[i].proc.err);
        figure(n == 1   ? "%s: frozen engine, 1 SIGINT: ended %.1f s after it"
               : n == 2 ? "%s: frozen engine, 2 SIGINTs: ended %.1f s after the second"
                        : "%s: frozen engine, 3 SIGINTs: ended %.1f s after the third",
               k, (double)(ended[i] - last) / 1000.0);
        ck_assert_msg(ended[i] - first >= (n == 1 ? deadline - 1000 : 0),
                      "%s: gave up after %lld ms, before the deadline", k, ended[i] - first);
        /* what is left, and the command that removes it */
        const tu_event *e = final_step(&x[i], k, "hold");
        ck_assert_str_eq(e->status, "canceled");
        ck_assert_str_eq(tu_exec_workflow(&x[i])->status, "canceled");
        char *id = tu_pe_workflow_id(&x[i]);
        ck_assert_msg(id != NULL, "%s: no workflow id", k);
        char *cmd = wpd_xasprintf("`wpdock cleanup --workflow %s`", id);
        char *ctr = wpd_xasprintf("container wp_%s (step hold)", e->uuid);
        ck_assert_contains(x[i].proc.err, "gave up");
        ck_assert_contains(x[i].proc.err, engines[i].dir);
        ck_assert_contains(x[i].proc.err, ctr);
        ck_assert_contains(x[i].proc.err, cmd);
        tu_pe_signal(&engines[i], "CONT");
        const char *cargs[] = {"--workflow", id, NULL};
        char *out = NULL;
        int cst = run_cleanup(cargs, &out);
        ck_assert_msg(cst == 0, "%s: cleanup --workflow exited %d: %s", k, cst, out);
        char *removed = wpd_xasprintf("removed container wp_%s", e->uuid);
        ck_assert_contains(out, removed);
        tu_pe_assert_empty(k);
        free(removed);
        free(out);
        free(ctr);
        free(cmd);
        free(id);
        tu_exec_free(&x[i]);
    }
    unlink(wf);
    free(wf);
}

START_TEST(test_frozen_one_interrupt)
{
    frozen_interrupts(1);
}
END_TEST

START_TEST(test_frozen_two_interrupts)
{
    frozen_interrupts(2);
}
END_TEST

START_TEST(test_frozen_three_interrupts)
{
    frozen_interrupts(3);
}
END_TEST

static Suite *faults_freeze_suite(void)
{
    Suite *s = suite_create("faults_freeze");
    TCase *tc = tcase_create("freeze");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_freeze_loses_nothing);
    tcase_add_test(tc, test_frozen_one_interrupt);
    tcase_add_test(tc, test_frozen_two_interrupts);
    tcase_add_test(tc, test_frozen_three_interrupts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return faults_main(faults_freeze_suite(), true);
}
