/* test_faults_pressure.c - file-descriptor and memory pressure, on a
 * private dockerd (Docker 20.10 may keep a stale network after many
 * concurrent containers, moby#43286: the shared engine is left alone):
 *   - 50 workflows at once in one process (one `wpdock exec` with 50
 *     files);
 *   - 20 concurrent steps of one workflow under `ulimit -n 64` (and 40,
 *     twice what fits: the steps that get no descriptor fail saying so).
 * Each either succeeds or fails with a clear error per workflow or step;
 * never a crash (a signal, a sanitizer report) or anything left on the
 * engine. Prints "figure:" lines: wall time, peak descriptors, peak RSS. */
#define _GNU_SOURCE
#include <dirent.h>
#include <sys/resource.h>

#include "faults_fixtures.h"

#define RUN_TIMEOUT_MS 150000

typedef struct usage {
    int fds;     /* open descriptors, peak */
    long rss_kb; /* resident set, peak */
} usage;

static void sample(int pid, usage *u)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (d) {
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
            n += e->d_name[0] != '.';
        closedir(d);
        if (n > u->fds)
            u->fds = n;
    }
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    char *st = tu_read_file(path, NULL);
    const char *rss = st ? strstr(st, "VmRSS:") : NULL;
    if (rss && atol(rss + 6) > u->rss_kb)
        u->rss_kb = atol(rss + 6);
    free(st);
}

/* Read the run's output until it ends, sampling its descriptors and
 * memory; fails after timeout_ms. */
static void pump_sampling(tu_exec *x, usage *u, long timeout_ms)
{
    long long end = tu_mono_ms() + timeout_ms;
    while (!tu_proc_pump(&x->proc, 50)) {
        if (x->proc.pid > 0)
            sample(x->proc.pid, u);
        ck_assert_msg(tu_mono_ms() < end, "wpdock still runs after %ld ms; stderr: %.2000s",
                      timeout_ms, x->proc.err);
    }
}

/* The JSON line of the final event of workflow `label`; NULL when there
 * is none; malloc'd. */
static char *workflow_result(const char *out, const char *label)
{
    char *key = wpd_xasprintf("{\"event\":\"workflow\",\"workflow\":\"%s\"", label);
    char *found = NULL;
    for (const char *line = out; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, key, strlen(key)) == 0) {
            char *l = wpd_xstrndup(line, len);
            if (strstr(l, "\"status\":\"started\"")) {
                free(l);
            } else {
                free(found);
                found = l;
            }
        }
        line += len + (line[len] == '\n');
    }
    free(key);
    return found;
}

START_TEST(test_fifty_workflows_at_once)
{
    enum { N = 50 };
    const tu_pe *pe = &engines[0];
    tu_pe_reset(pe);
    char *files[N];
    const char *args[N + 4] = {"exec", "--log-format", "json"};
    for (int i = 0; i < N; i++) {
        tu_wf *b = tu_wf_new();
        tu_wf_stage(b);
        char *cmd = wpd_xasprintf("echo hello-%d; usleep 500000; echo bye-%d", i, i);
        const char *cmds[] = {cmd, NULL};
        tu_wf_step(b, "greet", 0, cmds);
        files[i] = tu_wf_save(b);
        free(cmd);
        args[3 + i] = files[i];
    }
    args[3 + N] = NULL;
    tu_exec x;
    usage u = {0, 0};
    long long t0 = tu_mono_ms();
    tu_exec_start(&x, args, NULL);
    pump_sampling(&x, &u, RUN_TIMEOUT_MS);
    /* not tu_exec_finish: its event checks are for one-file runs */
    x.status = tu_proc_finish(&x.proc, 10000);
    long long t1 = tu_mono_ms();
    assert_no_crash(&x, "50 workflows");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char *line = workflow_result(x.proc.out, files[i]);
        ck_assert_msg(line != NULL, "no result for workflow %s; stderr: %.2000s", files[i],
                      x.proc.err);
        if (strstr(line, "\"status\":\"success\""))
            ok++;
        else
            ck_assert_msg(strstr(line, "\"error\":\"") && !strstr(line, "\"error\":\"\""),
                          "a failed workflow without an error: %s", line);
        free(line);
    }
    ck_assert_msg(x.status == (ok == N ? 0 : 1) || (ok < N && x.status == 3),
                  "exit %d with %d of %d workflows successful", x.status, ok, N);
    figure("%s: 50 workflows in one process: %.1f s", pe->kind, (double)(t1 - t0) / 1000.0);
    fprintf(stderr,
            "figure: %s: 50 workflows in one process: %d succeeded, peak %d descriptors, "
            "peak RSS %ld KiB\n",
            pe->kind, ok, u.fds, u.rss_kb);
    tu_pe_assert_empty("after 50 workflows");
    tu_exec_free(&x);
    for (int i = 0; i < N; i++) {
        unlink(files[i]);
        free(files[i]);
    }
}
END_TEST

/* n concurrent steps of one workflow, wpdock limited to 64 descriptors: a
 * step that cannot get one fails saying so. */
static void steps_with_64_descriptors(int n)
{
    const tu_pe *pe = &engines[0];
    tu_pe_reset(pe);
    tu_wf *b = tu_wf_new();
    tu_wf_stage(b);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%02d", i);
        char *cmd = wpd_xasprintf("echo start-%d; usleep 2000000; echo end-%d", i, i);
        const char *cmds[] = {cmd, NULL};
        tu_wf_step(b, name, 0, cmds);
        free(cmd);
    }
    char *wf = tu_wf_save(b);
    /* setrlimit in the child before exec: the shell's ulimit */
    const char *args[] = {
        "-c", "ulimit -n 64 && exec \"$0\" \"$@\"", WPDOCK_CLI, "exec", "--log-format", "json", wf,
        NULL};
    tu_exec x;
    usage u = {0, 0};
    long long t0 = tu_mono_ms();
    tu_exec_start_prog(&x, "/bin/sh", args, NULL);
    pump_sampling(&x, &u, RUN_TIMEOUT_MS);
    int st = tu_exec_finish(&x, 10000);
    long long t1 = tu_mono_ms();
    char what[64];
    snprintf(what, sizeof what, "%d steps, 64 descriptors", n);
    assert_no_crash(&x, what);
    ck_assert_msg(u.fds <= 64, "%d descriptors open under a limit of 64", u.fds);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char name[16], start[16], end[16];
        snprintf(name, sizeof name, "s%02d", i);
        snprintf(start, sizeof start, "start-%d", i);
        snprintf(end, sizeof end, "end-%d", i);
        const tu_event *e = final_step(&x, pe->kind, name);
        if (strcmp(e->status, "success") == 0) {
            ok++;
            ck_assert_uint_eq(tu_exec_count_lines(&x, name, "stdout", start), 1);
            ck_assert_uint_eq(tu_exec_count_lines(&x, name, "stdout", end), 1);
        } else {
            ck_assert_msg(e->error && strstr(e->error, "out of file descriptors"),
                          "step %s: %s, and the error does not say why: %s", name, e->status,
                          e->error ? e->error : "(none)");
        }
    }
    ck_assert_msg(st == (ok == n ? 0 : 1), "exit %d with %d of %d steps successful", st, ok, n);
    fprintf(stderr,
            "figure: %s: %d concurrent steps under ulimit -n 64: %d succeeded in %.1f s, "
            "peak %d descriptors, peak RSS %ld KiB\n",
            pe->kind, n, ok, (double)(t1 - t0) / 1000.0, u.fds, u.rss_kb);
    tu_pe_assert_empty(what);
    tu_exec_free(&x);
    unlink(wf);
    free(wf);
}

START_TEST(test_twenty_steps_with_64_descriptors)
{
    steps_with_64_descriptors(20);
}
END_TEST

/* twice what fits: some steps fail, clearly, and nothing is left */
START_TEST(test_forty_steps_with_64_descriptors)
{
    steps_with_64_descriptors(40);
}
END_TEST

static Suite *faults_pressure_suite(void)
{
    Suite *s = suite_create("faults_pressure");
    TCase *tc = tcase_create("pressure");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_fifty_workflows_at_once);
    tcase_add_test(tc, test_twenty_steps_with_64_descriptors);
    tcase_add_test(tc, test_forty_steps_with_64_descriptors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return faults_main(faults_pressure_suite(), false);
}
