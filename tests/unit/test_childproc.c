/* test_childproc.c - unit tests for core/io/childproc.c on a real
 * reactor: stdin, stdout, stderr and the exit status of a child, large
 * input and the output cap, the timeout that kills the child's process
 * group, a spawn failure reported asynchronously, cancel and abort. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "io/childproc.h"
#include "childproc_fixtures.h"

/* Has pid ended (gone, or a zombie waiting for its new parent)? Waits up
 * to 2 s. */
static bool process_gone(int pid)
{
    for (int i = 0; i < 200; i++) {
        char path[64], state = 0;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        int rc = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        if (rc == 1 && (state == 'Z' || state == 'X'))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

typedef struct child_out {
    bool done;
    int calls;
    bool have_res;
    wpd_child_result res; /* pointers replaced by copies */
    char *out, *err;
    bool failed;
    wpd_error error;
    long long at_ms;
} child_out;

static void child_cb(void *arg, const wpd_child_result *res, const wpd_error *err)
{
    child_out *o = arg;
    o->calls++;
    o->done = true;
    o->at_ms = now_ms();
    if (res) {
        o->have_res = true;
        o->res = *res;
        o->out = wpd_xstrndup(res->out, res->out_len);
        o->err = wpd_xstrndup(res->err, res->err_len);
        ck_assert_int_eq(res->out[res->out_len], '\0');
    }
    if (err) {
        o->failed = true;
        o->error = *err;
    }
}

static void child_out_free(child_out *o)
{
    free(o->out);
    free(o->err);
}

static void run_child(const char *path, const char *const *argv, const char *input,
                      size_t input_len, long timeout_ms, child_out *o)
{
    wpd_reactor *r = new_reactor();
    memset(o, 0, sizeof *o);
    wpd_child_spec spec = {.path = path,
                           .argv = argv,
                           .input = input,
                           .input_len = input_len,
                           .timeout_ms = timeout_ms,
                           .done = child_cb,
                           .arg = o};
    wpd_child *c = wpd_child_start(r, &spec);
    ck_assert_ptr_nonnull(c);
    ck_assert(!o->done); /* never from inside the start call */
    ck_assert_int_eq(wpd_reactor_run_until(r, &o->done), 0);
    ck_assert_int_eq(o->calls, 1);
    wpd_reactor_free(r);
}

START_TEST(child_echo_stdin_and_status)
{
    int fds = count_fds();
    child_out o;
    const char *cat[] = {"cat", NULL};
    run_child("/bin/cat", cat, "https://index.docker.io/v1/", 27, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(o.res.exited);
    ck_assert_int_eq(o.res.exit_code, 0);
    ck_assert_str_eq(o.out, "https://index.docker.io/v1/");
    ck_assert_str_eq(o.err, "");
    child_out_free(&o);

    const char *sh[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
    run_child("/bin/sh", sh, NULL, 0, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(o.res.exited);
    ck_assert_int_eq(o.res.exit_code, 7);
    ck_assert_str_eq(o.out, "out\n");
    ck_assert_str_eq(o.err, "err\n");
    child_out_free(&o);

    const char *killself[] = {"sh", "-c", "kill -TERM $$", NULL};
    run_child("/bin/sh", killself, NULL, 0, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(!o.res.exited);
    ck_assert_int_eq(o.res.exit_code, -1);
    ck_assert_int_eq(o.res.term_signal, SIGTERM);
    child_out_free(&o);

    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_large_input_and_output_cap)
{
    int fds = count_fds();
    size_t n = 1024 * 1024;
    char *big = wpd_xmalloc(n);
    memset(big, 'x', n);
    child_out o;
    const char *wc[] = {"sh", "-c", "wc -c", NULL};
    run_child("/bin/sh", wc, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(atol(o.out), (long)n);
    child_out_free(&o);

    /* 1 MiB back on stdout: 64 KiB kept, the rest drained and dropped */
    const char *cat[] = {"cat", NULL};
    run_child("/bin/cat", cat, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(o.res.exit_code, 0);
    ck_assert_uint_eq(o.res.out_len, WPD_CHILD_MAX_OUTPUT);
    ck_assert(o.res.out_truncated);
    ck_assert(!o.res.err_truncated);
    child_out_free(&o);
    free(big);

    /* a child that does not read its stdin */
    const char *tru[] = {"true", NULL};
    big = wpd_xmalloc(n);
    memset(big, 'y', n);
    run_child("/bin/true", tru, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(o.res.exit_code, 0);
    child_out_free(&o);
    free(big);

    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_timeout_kills_group)
{
    int fds = count_fds();
    child_out o;
    /* the grandchild sleep holds stdout open: only a group kill ends it */
    const char *sh[] = {"sh", "-c", "sleep 30 & echo $!; sleep 30", NULL};
    long long t0 = now_ms();
    run_child("/bin/sh", sh, NULL, 0, 300, &o);
    long long took = now_ms() - t0;
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_TIMEOUT);
    ck_assert_str_eq(o.error.message, "timed out after 0.3 s");
    ck_assert(o.have_res);
    int grandchild = atoi(o.out);
    ck_assert_int_gt(grandchild, 1);
    ck_assert_msg(process_gone(grandchild), "the grandchild %d still runs", grandchild);
    ck_assert_int_eq(o.res.term_signal, SIGKILL);
    ck_assert_msg(took >= 300 && took < 5000, "took %lld ms", took);
    child_out_free(&o);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_spawn_failure_is_async)
{
    int fds = count_fds();
    child_out o;
    run_child("/nonexistent/docker-credential-x", NULL, "x", 1, 1000, &o);
    ck_assert(o.failed);
    ck_assert(!o.have_res);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    ck_assert_str_eq(o.error.message,
                     "cannot run /nonexistent/docker-credential-x: No such file or directory");
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

static void cancel_child_cb(void *arg)
{
    wpd_child_cancel(arg);
}

START_TEST(child_cancel_and_abort)
{
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    child_out o = {0};
    const char *argv[] = {"sleep", "30", NULL};
    wpd_child_spec spec = {
        .path = "/bin/sleep", .argv = argv, .timeout_ms = 20000, .done = child_cb, .arg = &o};
    wpd_child *c = wpd_child_start(r, &spec);
    ck_assert_int_gt(wpd_child_pid(c), 0);
    wpd_timer *t = wpd_timer_new(r, cancel_child_cb, c);
    wpd_timer_start(t, 50);
    long long t0 = now_ms();
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_msg(now_ms() - t0 < 5000, "cancel took too long");
    ck_assert_int_eq(o.calls, 1);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_CANCELED);
    child_out_free(&o);
    wpd_timer_free(t);

    /* abort: no callback at all, the child is gone at once */
    memset(&o, 0, sizeof o);
    c = wpd_child_start(r, &spec);
    pid_t pid = wpd_child_pid(c);
    wpd_child_abort(c);
    errno = 0;
    ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    wpd_reactor_run_until(r, &o.done); /* nothing left: returns */
    ck_assert_int_eq(o.calls, 0);

    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *childproc_suite(void)
{
    Suite *s = suite_create("childproc");
    TCase *child = tcase_create("childproc");
    tcase_set_timeout(child, 60);
    tcase_add_test(child, child_echo_stdin_and_status);
    tcase_add_test(child, child_large_input_and_output_cap);
    tcase_add_test(child, child_timeout_kills_group);
    tcase_add_test(child, child_spawn_failure_is_async);
    tcase_add_test(child, child_cancel_and_abort);
    suite_add_tcase(s, child);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(childproc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
