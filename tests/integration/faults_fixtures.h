/* faults_fixtures.h - what the fault tests (test_faults_*.c) share: the
 * private engines each test program starts for itself (a dockerd and a
 * Podman service, tests/helpers/private-engine), counting steps whose every
 * output line can be checked, and the checks that wpdock ended on its own
 * terms (no signal, no sanitizer report) and left nothing behind. */
#ifndef WPDOCK_TEST_FAULTS_FIXTURES_H
#define WPDOCK_TEST_FAULTS_FIXTURES_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "testutil.h"
#include "testutil_private_engine.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%.1500s\" does not contain \"%s\"", (hay),   \
                  (needle))

/* The private engines of this program: [0] Docker, [1] Podman (when the
 * program asked for it). */
static tu_pe engines[2];
static size_t n_engines;

#define EACH_ENGINE(i) for (size_t i = 0; i < n_engines; i++)

/* A step that prints "line-1" .. "line-<n>" to stdout, one every `ms`
 * milliseconds, then exits with `code`. */
static inline char *counter_cmd(int n, int ms, int code)
{
    return wpd_xasprintf("i=0; while [ $i -lt %d ]; do i=$((i+1)); echo line-$i; usleep %d; done; "
                         "exit %d",
                         n, ms * 1000, code);
}

/* A one-stage workflow whose steps are counters (names[i]: n[i] lines). */
static inline char *counter_workflow(size_t n_steps, const char *const *names, const int *lines,
                                     int ms, const int *codes)
{
    tu_wf *b = tu_wf_new();
    tu_wf_stage(b);
    for (size_t i = 0; i < n_steps; i++) {
        char *cmd = counter_cmd(lines[i], ms, codes[i]);
        const char *cmds[] = {cmd, NULL};
        tu_wf_step(b, names[i], 0, cmds);
        free(cmd);
    }
    return tu_wf_save(b);
}

/* Every "line-K" of the step arrived exactly once, in order, K = 1..n. */
static inline void assert_counted(const tu_exec *x, const char *engine, const char *step, int n)
{
    int next = 1;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind != TU_EV_LOG || strcmp(e->step, step) != 0 || strncmp(e->line, "line-", 5))
            continue;
        ck_assert_msg(strcmp(e->stream, "stdout") == 0, "%s: step %s: %s on %s", engine, step,
                      e->line, e->stream);
        ck_assert_msg(atoi(e->line + 5) == next, "%s: step %s: \"%s\" where line-%d was due",
                      engine, step, e->line, next);
        next++;
    }
    ck_assert_msg(next == n + 1, "%s: step %s: %d of %d lines arrived", engine, step, next - 1, n);
}

/* wpdock ended by itself: an exit status (no signal) and no report of a
 * sanitizer on its stderr. 130 and 143 (which a death by SIGINT or SIGTERM
 * would also show as) count only when wpdock said it handled the signal. */
static inline void assert_no_crash(const tu_exec *x, const char *what)
{
    const char *err = x->proc.err ? x->proc.err : "";
    bool handled = (x->status == 130 && strstr(err, "wpdock: interrupted")) ||
                   (x->status == 143 && strstr(err, "wpdock: terminated"));
    ck_assert_msg(x->status >= 0 && (x->status < 128 || handled),
                  "%s: wpdock ended with status %d; stderr: %.2000s", what, x->status, err);
    ck_assert_msg(!strstr(err, "Sanitizer") && !strstr(err, "runtime error:"),
                  "%s: sanitizer report: %.3000s", what, err);
}

/* The final event of a step (fails when there is none). */
static inline const tu_event *final_step(const tu_exec *x, const char *engine, const char *step)
{
    const tu_event *e = tu_exec_step(x, step);
    ck_assert_msg(e != NULL, "%s: no final event of step %s; stdout: %.2000s stderr: %.2000s",
                  engine, step, x->proc.out, x->proc.err);
    return e;
}

/* `wpdock cleanup [args...]` against the engine under test; returns its
 * exit status, its output in *out (malloc'd, may be NULL). */
static inline int run_cleanup(const char *const *args, char **out)
{
    /* never on a shared engine: a plain cleanup removes every run's objects */
    ck_assert_msg(strstr(tu_engine_host(), "/wpdpe-") != NULL,
                  "wpdock cleanup against %s, which is not a private engine", tu_engine_host());
    const char *argv[8] = {"cleanup"};
    size_t n = 1;
    for (size_t i = 0; args && args[i] && n < 7; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    tu_exec x;
    int st = tu_exec_run(&x, argv, NULL, 60000);
    assert_no_crash(&x, "wpdock cleanup");
    if (out)
        *out = wpd_xasprintf("%s%s", x.proc.out, x.proc.err);
    tu_exec_free(&x);
    return st;
}

/* After a fault: `wpdock cleanup` removes what is left, and then nothing
 * of wpdock's is on the engine. */
static inline void cleanup_leaves_nothing(const tu_pe *pe, const char *when)
{
    tu_pe_use(pe);
    char *out = NULL;
    int st = run_cleanup(NULL, &out);
    ck_assert_msg(st == 0, "%s: %s: wpdock cleanup exited %d: %s", pe->kind, when, st, out);
    free(out);
    char *what = wpd_xasprintf("%s: %s, after wpdock cleanup", pe->kind, when);
    tu_pe_assert_empty(what);
    free(what);
}

/* Some text of the run (an event's error or stderr) names the engine:
 * its socket path, which every connection error and every "left on engine"
 * notice carries. */
static inline bool names_engine(const tu_exec *x, const tu_pe *pe)
{
    if (x->proc.err && strstr(x->proc.err, pe->dir))
        return true;
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].error && strstr(x->ev[i].error, pe->dir))
            return true;
    return false;
}

static inline void figure(const char *fmt, const char *engine, double v)
{
    fprintf(stderr, "figure: ");
    fprintf(stderr, fmt, engine, v);
    fputc('\n', stderr);
}

/* main() of a fault test program: start the private engines (a failure to
 * start fails the program), run the suite, stop them. */
static inline int faults_main(Suite *s, bool with_podman)
{
    static const char *const kinds[] = {"docker", "podman"};
    size_t want = with_podman ? 2 : 1;
    int rc = 0;
    for (size_t i = 0; i < want; i++) {
        if (tu_pe_start(&engines[i], kinds[i]) != 0) {
            fprintf(stderr, "FAILED: cannot start the private %s engine these tests need\n",
                    kinds[i]);
            rc = 1;
            break;
        }
        n_engines++;
    }
    if (rc == 0) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        rc = srunner_ntests_failed(sr) ? 1 : 0;
        srunner_free(sr);
    } else {
        srunner_free(srunner_create(s)); /* frees the suite */
    }
    EACH_ENGINE(i)
    tu_pe_stop(&engines[i]);
    return rc;
}

#endif
