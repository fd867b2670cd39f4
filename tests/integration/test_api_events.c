/* test_api_events.c - the event stream and cancellation in the typed
 * Engine API layer against the real engine under test (see api_fixtures.h;
 * scripts/test runs it on Docker, Podman and Docker over TLS): a container's
 * events with and without an event filter, a stream the engine ends itself
 * (until), and the cancellation of waits, event streams, followed logs and
 * calls that fail early or have completed: one callback each. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/events.h"
#include "engine/exec.h"
#include "testutil.h"
#include "api_fixtures.h"
#include "api_ctr_fixtures.h"

/* ---- events --------------------------------------------------------------- */

typedef struct ev_out {
    out o;
    bool ready;
    wpd_buf actions; /* "create,start,die,destroy," */
    char exit_code[16];
    char name[160]; /* attribute "name" of the first event */
    char actor[80];
    bool bad_time;
    const char *stop_at; /* cancel the watch on this action */
    wpd_call *call;
    int after_stop; /* events delivered after the cancel */
    bool stopped;
} ev_out;

static void on_ev_ready(void *arg)
{
    ((ev_out *)arg)->ready = true;
}

static void on_event(void *arg, const wpd_engine_event *ev)
{
    ev_out *r = arg;
    if (r->stopped) {
        r->after_stop++;
        return;
    }
    wpd_buf_printf(&r->actions, "%s,", ev->action);
    if (strcmp(ev->action, "die") == 0) {
        const char *c = wpd_engine_event_attr(ev, "exitCode");
        snprintf(r->exit_code, sizeof r->exit_code, "%s", c ? c : "?");
    }
    if (!r->name[0]) {
        const char *n = wpd_engine_event_attr(ev, "name");
        snprintf(r->name, sizeof r->name, "%s", n ? n : "");
        snprintf(r->actor, sizeof r->actor, "%s", ev->actor_id);
    }
    long long now = tu_now_ms() / 1000;
    if (ev->time < now - 600 || ev->time > now + 600 || ev->time_nano / 1000000000 != ev->time)
        r->bad_time = true;
    if (r->stop_at && strcmp(ev->action, r->stop_at) == 0 && r->call) {
        r->stopped = true;
        wpd_call_cancel(r->call);
    }
}

static void on_ev_done(void *arg, const wpd_error *err)
{
    got(&((ev_out *)arg)->o, err);
}

static wpd_call *watch(ev_out *r, const wpd_pair *f, size_t n, int64_t since, int64_t until)
{
    wpd_events_cbs cbs = {.ready = on_ev_ready, .event = on_event, .done = on_ev_done, .arg = r};
    r->call = wpd_events_watch(E, f, n, since, until, &cbs);
    return r->call;
}

/* Whether the actions in list appear in this order in got (others may be
 * between them: Podman adds init and cleanup). */
static bool in_order(const char *got_list, const char *const *want, size_t n)
{
    const char *p = got_list;
    for (size_t i = 0; i < n; i++) {
        char *needle = wpd_xasprintf("%s,", want[i]);
        const char *hit = p;
        /* a whole item: at the start or after a comma */
        while ((hit = strstr(hit, needle)) && hit != got_list && hit[-1] != ',')
            hit++;
        free(needle);
        if (!hit)
            return false;
        p = hit + strlen(want[i]) + 1;
    }
    return true;
}

START_TEST(events)
{
    char *name = nm("events");
    char *label = wpd_xasprintf("wp_apitest_kind=events-%s", RUN);
    wpd_pair f[] = {{"type", "container"}, {"label", label}};
    /* since: a second back, in case the engine subscribes just after it
     * answered; the label is this test's alone */
    int64_t since = (int64_t)time(NULL) - 1;
    ev_out all = {.stop_at = "destroy"};
    watch(&all, f, 2, since, 0);
    /* the same with an event filter: Podman knows die and destroy by
     * other names (died, remove) */
    wpd_pair fe[] = {
        {"type", "container"}, {"label", label}, {"event", "die"}, {"event", "destroy"}};
    ev_out some = {.stop_at = "destroy"};
    watch(&some, fe, 4, since, 0);
    ck_assert_msg(run_until(&all.ready, CALL_MS) && run_until(&some.ready, CALL_MS),
                  "the event streams did not start");

    char *kind = wpd_xasprintf("events-%s", RUN);
    char *body = ctr_body(NULL, "exit 4", 0, kind);
    char *id = create_ctr(name, body);
    start_ctr(name);
    ck_assert_int_eq(wait_ctr(name, WPD_WAIT_NOT_RUNNING), 4);
    remove_ctr(name, WPD_CHANGE_DONE);

    await(&all.o, "events (all)");
    ck_assert_msg(all.o.failed && all.o.err.kind == WPD_ERR_CANCELED, "the watch ended with %s",
                  all.o.failed ? all.o.err.message : "success");
    const char *want[] = {"create", "start", "die", "destroy"};
    ck_assert_msg(in_order(wpd_buf_cstr(&all.actions), want, 4), "actions: %s",
                  wpd_buf_cstr(&all.actions));
    ck_assert_str_eq(all.exit_code, "4");
    ck_assert_str_eq(all.name, name);
    ck_assert_str_eq(all.actor, id);
    ck_assert(!all.bad_time);
    ck_assert_int_eq(all.after_stop, 0);
    await(&some.o, "events (die, destroy)");
    ck_assert_msg(some.o.failed && some.o.err.kind == WPD_ERR_CANCELED, "%s", some.o.err.message);
    ck_assert_str_eq(wpd_buf_cstr(&some.actions), "die,destroy,");
    ck_assert_str_eq(some.exit_code, "4");
    settle(100);
    ck_assert_int_eq(all.o.calls, 1);
    ck_assert_int_eq(some.o.calls, 1);

    /* until: the engine ends the stream itself, a success (with since:
     * without it Docker replays the events it keeps); nothing matches */
    int64_t t0 = tu_now_ms();
    ev_out until = {0};
    char *nothing = wpd_xasprintf("wp_apitest_kind=nothing-%s", RUN);
    wpd_pair fn[] = {{"type", "container"}, {"label", nothing}};
    watch(&until, fn, 2, (int64_t)time(NULL), (int64_t)time(NULL) + 2);
    await(&until.o, "events until");
    expect_ok(&until.o, "events until");
    ck_assert_msg(tu_now_ms() - t0 >= 900, "ended after %lld ms", tu_now_ms() - t0);
    ck_assert_str_eq(wpd_buf_cstr(&until.actions), "");

    free(nothing);
    wpd_buf_free(&until.actions);
    wpd_buf_free(&some.actions);
    wpd_buf_free(&all.actions);
    free(id);
    free(body);
    free(kind);
    free(label);
    free(name);
}
END_TEST

/* ---- cancellation --------------------------------------------------------- */

static void cancel_cb(void *arg)
{
    wpd_call_cancel(arg);
}

static void expect_canceled_once(out *o, const char *what)
{
    await(o, what);
    ck_assert_msg(o->failed && o->err.kind == WPD_ERR_CANCELED, "%s: %s", what,
                  o->failed ? o->err.message : "succeeded");
    settle(100);
    ck_assert_msg(o->calls == 1, "%s: callback ran %d times", what, o->calls);
}

START_TEST(cancel)
{
    char *name = nm("cancel");
    char *body = ctr_body(NULL, "while true; do sleep 0.1; done", 0, "cancel");
    free(create_ctr(name, body));
    start_ctr(name);

    /* a wait that would last as long as the container: canceled later */
    out w = {0};
    wpd_call *c = wpd_ctr_wait(E, name, WPD_WAIT_NOT_RUNNING, on_waited, &w);
    wpd_timer *t = wpd_timer_new(R, cancel_cb, c);
    wpd_timer_start(t, 300);
    expect_canceled_once(&w, "canceled wait");
    wpd_timer_free(t);
    out_free(&w);

    /* right away, and twice: still once */
    c = wpd_ctr_wait(E, name, WPD_WAIT_NEXT_EXIT, on_waited, &w);
    wpd_call_cancel(c);
    wpd_call_cancel(c);
    expect_canceled_once(&w, "wait canceled at once");
    out_free(&w);

    /* an event stream, from a timer */
    ev_out ev = {0};
    wpd_pair f[] = {{"type", "container"}, {"label", "wp_apitest_kind=nothing-ever"}};
    c = watch(&ev, f, 2, 0, 0);
    ck_assert(run_until(&ev.ready, CALL_MS));
    t = wpd_timer_new(R, cancel_cb, c);
    wpd_timer_start(t, 200);
    expect_canceled_once(&ev.o, "canceled event stream");
    wpd_timer_free(t);
    wpd_buf_free(&ev.actions);

    /* a followed log of a container that prints nothing (Podman sends no
     * headers before the first byte: the stream may not be ready yet) */
    stream_out so = {0};
    wpd_output_cbs cbs = stream_cbs(&so);
    wpd_logs_opts fo = {.follow = true};
    c = wpd_ctr_logs(E, name, &fo, &cbs);
    settle(300);
    ck_assert_msg(!so.o.done, "a followed log ended: %s", so.o.err.message);
    wpd_call_cancel(c);
    expect_canceled_once(&so.o, "canceled followed logs");
    stream_free(&so);

    /* a call that fails before sending (an exec without a command) */
    out e = {0};
    wpd_exec_spec empty = {0};
    c = wpd_exec_create(E, name, &empty, on_str, &e);
    wpd_call_cancel(c);
    expect_canceled_once(&e, "canceled early failure");
    out_free(&e);
    /* and NULL is ignored */
    wpd_call_cancel(NULL);

    /* a cancel after the completion changes nothing */
    out s = {0};
    c = wpd_ctr_start(E, name, on_change, &s);
    await(&s, "start (running)");
    expect_change(&s, WPD_CHANGE_ALREADY, "start (running)");
    settle(50);
    ck_assert_int_eq(s.calls, 1);

    remove_ctr(name, WPD_CHANGE_DONE);
    free(body);
    free(name);
}
END_TEST

int main(void)
{
    const api_case cases[] = {
        {"events", {events, cancel, NULL}},
    };
    return api_run("api_events", cases, sizeof cases / sizeof *cases);
}
