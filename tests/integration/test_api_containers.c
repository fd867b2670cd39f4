/* test_api_containers.c - the container calls of the typed Engine API
 * layer against the real engine under test (see api_fixtures.h; scripts/test
 * runs it on Docker, Podman and Docker over TLS): create errors (a taken
 * name, a missing image), the lifecycle of one container (attach, start,
 * inspect, list, logs, kill, wait, stop, remove, and every call on the
 * removed container), and a TTY attach. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "testutil.h"
#include "api_fixtures.h"
#include "api_ctr_fixtures.h"

/* ---- containers ----------------------------------------------------------- */

START_TEST(create_errors)
{
    char *name = nm("dup");
    char *body = ctr_body(NULL, "true", 0, "dup");
    free(create_ctr(name, body));
    out o = {0};
    wpd_ctr_create(E, name, body, on_created, &o);
    await(&o, "container create (duplicate name)");
    ck_assert_msg(o.failed, "a second container named %s", name);
    ck_assert_int_eq(o.err.kind, WPD_ERR_ENGINE);
    if (podman()) {
        /* Podman 4.3 answers a name conflict with 500, not Docker's 409 */
        ck_assert_msg(o.err.status == 500 || o.err.status == 409, "status %d: %s", o.err.status,
                      o.err.message);
        ck_assert_contains(o.err.message, "already in use");
    } else {
        expect_engine_error(&o, 409, "container create (duplicate name)");
        ck_assert_contains(o.err.message, "already in use");
    }
    out_free(&o);
    char *noimg_name = nm("noimg");
    char *missing = wpd_xasprintf("localhost/%s/no-such-image:latest", RUN);
    char *noimg = ctr_body(missing, "true", 0, "noimg");
    wpd_ctr_create(E, noimg_name, noimg, on_created, &o);
    await(&o, "container create (missing image)");
    expect_engine_error(&o, 404, "container create (missing image)");
    ck_assert_msg(strcasestr(o.err.message, "no such image") != NULL, "%s", o.err.message);
    out_free(&o);
    remove_ctr(name, WPD_CHANGE_DONE);
    free(noimg);
    free(missing);
    free(noimg_name);
    free(body);
    free(name);
}
END_TEST

typedef struct ctr_list_out {
    out o;
    size_t n;
    char names[8][160];
    char state[8][32];
} ctr_list_out;

static void on_ctr_list(void *arg, const wpd_ctr_summary *v, size_t n, const wpd_error *err)
{
    ctr_list_out *l = arg;
    got(&l->o, err);
    l->n = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(l->names[i], sizeof l->names[i], "%s", v[i].name);
        snprintf(l->state[i], sizeof l->state[i], "%s", v[i].state);
    }
}

static void list_ctrs(const char *kind, ctr_list_out *l)
{
    memset(l, 0, sizeof *l);
    char *run = wpd_xasprintf("wp_apitest_run=%s", RUN);
    char *k = wpd_xasprintf("wp_apitest_kind=%s", kind);
    /* two label filters: both must hold */
    wpd_pair f[] = {{"label", run}, {"label", k}};
    wpd_ctr_list(E, f, 2, on_ctr_list, l);
    await(&l->o, "container list");
    expect_ok(&l->o, "container list");
    free(k);
    free(run);
}

/* The lifecycle of one container: attach before start, start (twice),
 * inspect while running with its published port, list, logs (follow and
 * not, tail, one stream), a TERM the script traps to exit 3, wait
 * (next-exit armed before start, not-running after the end), stop and
 * kill of the stopped container, remove (twice), and every call on the
 * removed container. */
START_TEST(lifecycle)
{
    char *name = nm("life");
    char *body = ctr_body(NULL,
                          "trap 'echo out2; exit 3' TERM; echo out1; echo err1 >&2; "
                          "while true; do sleep 0.1; done",
                          C_PORT, "life");
    char *id = create_ctr(name, body);

    info_out info;
    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (created)");
    ck_assert_str_eq(info.status, "created");
    ck_assert(!info.running);

    /* the attach is in place before the start: its output is complete */
    stream_out att = {.want_out = "out1\n", .want_err = "err1\n"};
    wpd_output_cbs cbs = stream_cbs(&att);
    wpd_ctr_attach(E, name, false, &cbs);
    await_ready(&att, "attach");
    ck_assert_msg(att.ready == 1, "the attach was not confirmed (ready %d)", att.ready);
    out waited = {0};
    wpd_ctr_wait(E, name, WPD_WAIT_NEXT_EXIT, on_waited, &waited);

    start_ctr(name);
    out o = {0};
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "second start");
    expect_change(&o, WPD_CHANGE_ALREADY, "second start");
    out_free(&o);
    await_met(&att, "attach");
    /* stdout and stderr arrive apart */
    ck_assert_str_eq(wpd_buf_cstr(&att.out), "out1\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "err1\n");

    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (running)");
    ck_assert_str_eq(info.id, id);
    ck_assert_str_eq(info.name, name);
    ck_assert_str_eq(info.status, "running");
    ck_assert(info.running && !info.tty);
    ck_assert_int_gt(info.pid, 0);
    ck_assert_str_eq(info.kind, "life");
    ck_assert_str_eq(info.image, tu_test_image());
    ck_assert_msg(info.host_port > 0, "no host port for 8080/tcp: %s", info.ports);
    ck_assert_contains(info.ports, "8080/tcp=127.0.0.1:");

    ctr_list_out l;
    list_ctrs("life", &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.names[0], name);
    ck_assert_str_eq(l.state[0], "running");
    list_ctrs("nobody", &l);
    ck_assert_uint_eq(l.n, 0);

    /* logs while it runs: one read now, one followed to the end */
    stream_out now;
    wpd_logs_opts lo = {0};
    logs(name, &lo, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    stream_out follow = {0};
    wpd_output_cbs fcbs = stream_cbs(&follow);
    wpd_logs_opts fo = {.follow = true};
    wpd_ctr_logs(E, name, &fo, &fcbs);
    settle(200);
    ck_assert_msg(!follow.o.done, "a followed log ended while the container runs");

    /* the TERM the script traps: it prints out2 and exits 3 */
    wpd_ctr_kill(E, name, "TERM", on_change, &o);
    await(&o, "kill TERM");
    expect_change(&o, WPD_CHANGE_DONE, "kill TERM");
    out_free(&o);
    await(&waited, "wait next-exit");
    expect_ok(&waited, "wait next-exit");
    ck_assert_int_eq(waited.n, 3);
    ck_assert_str_eq(waited.msg, "");
    out_free(&waited);
    await(&att.o, "attach end");
    expect_ok(&att.o, "attach end");
    ck_assert(!att.truncated && !att.frame_error);
    ck_assert_str_eq(wpd_buf_cstr(&att.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "err1\n");
    await(&follow.o, "followed logs end");
    expect_ok(&follow.o, "followed logs");
    ck_assert_str_eq(wpd_buf_cstr(&follow.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&follow.err), "err1\n");
    stream_free(&follow);
    stream_free(&att);

    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 3);
    inspect_ctr(name, &info);
    expect_ok(&info.o, "inspect (exited)");
    ck_assert_str_eq(info.status, "exited");
    ck_assert(!info.running);
    ck_assert_int_eq(info.exit_code, 3);

    /* logs after the end: all, the last line, one stream */
    logs(name, &lo, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\nout2\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    wpd_logs_opts tail = {.tail = 1};
    logs(name, &tail, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out2\n");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "");
    stream_free(&now);
    wpd_logs_opts only_err = {.no_stdout = true};
    logs(name, &only_err, &now);
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "");
    ck_assert_str_eq(wpd_buf_cstr(&now.err), "err1\n");
    stream_free(&now);
    logs(name, &fo, &now); /* follow on a stopped container: the whole log, then the end */
    ck_assert_str_eq(wpd_buf_cstr(&now.out), "out1\nout2\n");
    stream_free(&now);

    /* nothing to do: stop and kill of a stopped container */
    wpd_ctr_stop(E, name, 1, on_change, &o);
    await(&o, "stop (stopped)");
    expect_change(&o, WPD_CHANGE_ALREADY, "stop (stopped)");
    out_free(&o);
    wpd_ctr_kill(E, name, NULL, on_change, &o);
    await(&o, "kill (stopped)");
    expect_change(&o, WPD_CHANGE_ALREADY, "kill (stopped)");
    out_free(&o);

    remove_ctr(name, WPD_CHANGE_DONE);
    remove_ctr(name, WPD_CHANGE_NOT_FOUND);
    inspect_ctr(name, &info);
    expect_engine_error(&info.o, 404, "inspect (removed)");
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "start (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "start (removed)");
    out_free(&o);
    wpd_ctr_stop(E, name, -1, on_change, &o);
    await(&o, "stop (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "stop (removed)");
    out_free(&o);
    wpd_ctr_kill(E, name, "9", on_change, &o);
    await(&o, "kill (removed)");
    expect_change(&o, WPD_CHANGE_NOT_FOUND, "kill (removed)");
    out_free(&o);
    wpd_ctr_wait(E, name, WPD_WAIT_NOT_RUNNING, on_waited, &o);
    await(&o, "wait (removed)");
    expect_engine_error(&o, 404, "wait (removed)");
    out_free(&o);
    memset(&now, 0, sizeof now);
    wpd_output_cbs ncbs = stream_cbs(&now);
    wpd_ctr_logs(E, name, &lo, &ncbs);
    await(&now.o, "logs (removed)");
    expect_engine_error(&now.o, 404, "logs (removed)");
    ck_assert_int_eq(now.ready, 0);
    stream_free(&now);
    list_ctrs("life", &l);
    ck_assert_uint_eq(l.n, 0);
    free(id);
    free(body);
    free(name);
}
END_TEST

/* A TTY container: one raw stream, all of it stdout. */
START_TEST(tty_attach)
{
    char *name = nm("tty");
    char *body = ctr_body(NULL, "sleep 0.5; echo to-out; echo to-err >&2", C_TTY, "tty");
    free(create_ctr(name, body));
    stream_out att = {.want_out = "to-err"};
    wpd_output_cbs cbs = stream_cbs(&att);
    wpd_ctr_attach(E, name, true, &cbs);
    await_ready(&att, "tty attach");
    ck_assert_int_eq(att.ready, 1);
    start_ctr(name);
    await(&att.o, "tty attach");
    expect_ok(&att.o, "tty attach");
    ck_assert_contains(wpd_buf_cstr(&att.out), "to-out\r\n");
    ck_assert_contains(wpd_buf_cstr(&att.out), "to-err\r\n");
    ck_assert_str_eq(wpd_buf_cstr(&att.err), "");
    ck_assert_int_eq(att.other_stream, 0);
    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 0);
    info_out info;
    inspect_ctr(name, &info);
    ck_assert(info.tty);
    stream_free(&att);
    remove_ctr(name, WPD_CHANGE_DONE);
    free(body);
    free(name);
}
END_TEST

int main(void)
{
    const api_case cases[] = {
        {"containers", {create_errors, lifecycle, tty_attach, NULL}},
    };
    return api_run("api_containers", cases, sizeof cases / sizeof *cases);
}
