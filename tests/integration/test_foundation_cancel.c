/* test_foundation_cancel.c - cancellation of in-flight requests against a
 * real engine: from a timer, right after start, from inside a streaming
 * callback, by the data callback, inside the done callback, by a timeout,
 * and by freeing the engine. Docker at $WPDOCK_DOCKER_HOST (default
 * unix:///var/run/docker.sock) must answer, or the tests fail. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "io/http.h"
#include "util/buf.h"
#include "foundation_fixtures.h"

/* -- cancellation -- */

struct cancel_case {
    struct harness *h;
    wpd_http_request *req;
    wpd_timer *timer;
    int headers, data_calls, data_after_cancel, done_calls;
    int canceled;
    long status_at_headers;
    wpd_errkind kind;
    char message[WPD_ERROR_MAX];
    bool done;
    /* stream_and_cancel_in_data: the volume whose creation we wait for */
    const char *volume;
    struct sync_call create;
    int saw_volume;
};

static void cancel_from_timer(void *arg)
{
    struct cancel_case *cc = arg;
    cc->canceled = 1;
    wpd_http_cancel(cc->req);
}

static void cc_headers(wpd_http_request *req, const wpd_http_response *res, void *arg)
{
    struct cancel_case *cc = arg;
    ck_assert_ptr_eq(req, cc->req);
    cc->headers++;
    cc->status_at_headers = res->status;
    if (cc->timer)
        wpd_timer_start(cc->timer, 100);
}

static int cc_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    (void)data;
    (void)len;
    struct cancel_case *cc = arg;
    cc->data_calls++;
    if (cc->canceled)
        cc->data_after_cancel++;
    return 0;
}

static void cc_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    (void)res;
    struct cancel_case *cc = arg;
    cc->done_calls++;
    cc->kind = err ? err->kind : WPD_OK;
    snprintf(cc->message, sizeof cc->message, "%s", err ? err->message : "");
    cc->done = true;
}

static wpd_http_request *start_stream(struct cancel_case *cc, const char *path)
{
    wpd_engine_call c = {.method = "GET",
                         .path = path,
                         .on_headers = cc_headers,
                         .on_data = cc_data,
                         .on_done = cc_done,
                         .arg = cc};
    cc->req = wpd_engine_call_start(cc->h->e, &c);
    ck_assert_ptr_nonnull(cc->req);
    return cc->req;
}

static void expect_canceled_once(struct cancel_case *cc)
{
    ck_assert_int_eq(wpd_reactor_run_until(cc->h->r, &cc->done), 0);
    settle(cc->h->r, 200);
    ck_assert_int_eq(cc->done_calls, 1);
    ck_assert_msg(cc->kind == WPD_ERR_CANCELED, "ended with %s: %s", wpd_errkind_name(cc->kind),
                  cc->message);
    ck_assert_int_eq(cc->data_after_cancel, 0);
    ck_assert_uint_eq(wpd_engine_in_flight(cc->h->e), 0);
}

START_TEST(cancel_stream_from_timer)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    cc.timer = wpd_timer_new(h.r, cancel_from_timer, &cc);
    start_stream(&cc, "/events");
    expect_canceled_once(&cc);
    /* the stream was established before it was cancelled */
    ck_assert_int_eq(cc.headers, 1);
    ck_assert_int_eq(cc.status_at_headers, 200);
    ck_assert_int_eq(cc.canceled, 1);
    wpd_timer_free(cc.timer);
    harness_close(&h);
}
END_TEST

START_TEST(cancel_right_after_start)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    start_stream(&cc, "/events");
    cc.canceled = 1;
    wpd_http_cancel(cc.req);
    wpd_http_cancel(cc.req);            /* twice is harmless */
    ck_assert_int_eq(cc.done_calls, 0); /* never from inside cancel */
    expect_canceled_once(&cc);
    ck_assert_int_eq(cc.headers, 0);
    ck_assert_int_eq(cc.data_calls, 0);

    /* a short buffered request too */
    struct cancel_case c2 = {.h = &h};
    wpd_engine_call c = {
        .method = "GET", .path = "/_ping", .unversioned = 1, .on_done = cc_done, .arg = &c2};
    c2.req = wpd_engine_call_start(h.e, &c);
    wpd_http_cancel(c2.req);
    expect_canceled_once(&c2);
    harness_close(&h);
}
END_TEST

/* The volume was created (or not: then stop waiting for its event). */
static void create_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct cancel_case *cc = arg;
    on_sync_done(res, err, &cc->create);
    if (cc->create.failed && !cc->canceled) {
        cc->canceled = 1;
        wpd_http_cancel(cc->req);
    }
}

static void stream_headers_start_create(wpd_http_request *req, const wpd_http_response *res,
                                        void *arg)
{
    struct cancel_case *cc = arg;
    cc_headers(req, res, arg);
    /* the event stream is open: make the event it waits for */
    char *body =
        wpd_xasprintf("{\"Name\":\"%s\",\"Labels\":{\"wpdock.test\":\"foundation\"}}", cc->volume);
    wpd_engine_call c = {.method = "POST",
                         .path = "/volumes/create",
                         .body = body,
                         .on_done = create_done,
                         .arg = cc};
    wpd_engine_call_start(cc->h->e, &c);
    free(body);
}

static int stream_data_cancel(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    struct cancel_case *cc = arg;
    cc->data_calls++;
    if (cc->canceled) {
        cc->data_after_cancel++;
        return 0;
    }
    if (memmem(data, len, cc->volume, strlen(cc->volume)))
        cc->saw_volume = 1;
    cc->canceled = 1;
    wpd_http_cancel(req);
    ck_assert_int_eq(cc->done_calls, 0); /* never from inside cancel */
    return 0;
}

START_TEST(cancel_inside_stream_data)
{
    struct harness h;
    harness_open(&h, docker_host());
    char volume[64];
    snprintf(volume, sizeof volume, "wpdock-found-%ld-%ld", (long)getpid(), (long)time(NULL));
    struct cancel_case cc = {.h = &h, .volume = volume};
    char *path = wpd_xasprintf("/events?filters=%%7B%%22type%%22%%3A%%5B%%22volume%%22%%5D%%2C%%"
                               "22volume%%22%%3A%%5B%%22%s%%22%%5D%%7D",
                               volume);
    wpd_engine_call c = {.method = "GET",
                         .path = path,
                         .on_headers = stream_headers_start_create,
                         .on_data = stream_data_cancel,
                         .on_done = cc_done,
                         .arg = &cc};
    cc.req = wpd_engine_call_start(h.e, &c);
    free(path);
    expect_canceled_once(&cc);
    ck_assert_int_eq(cc.headers, 1);
    /* the request started from inside the headers callback worked */
    ck_assert_msg(cc.create.done && !cc.create.failed, "volume create: %s", cc.create.err.message);
    ck_assert_int_eq(cc.create.status, 201);
    ck_assert_int_eq(cc.data_calls, 1);
    ck_assert_int_eq(cc.saw_volume, 1);
    char *del = wpd_xasprintf("/volumes/%s", volume);
    ck_assert_int_eq(call_sync(&h, "DELETE", del, NULL), 204);
    free(del);
    harness_close(&h);
}
END_TEST

static int data_cancel(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    struct cancel_case *cc = arg;
    cc->data_calls++;
    if (cc->canceled) {
        cc->data_after_cancel++;
        return 0;
    }
    cc->canceled = 1;
    wpd_http_cancel(req);
    return 0;
}

START_TEST(cancel_inside_data_of_complete_response)
{
    /* the whole response is likely in the same read as the first data
     * chunk, so curl finishes the transfer right after the callback: the
     * cancellation must still win */
    struct harness h;
    harness_open(&h, docker_host());
    const char *paths[] = {"/_ping", "/info", "/version"};
    for (size_t i = 0; i < 3; i++) {
        struct cancel_case cc = {.h = &h};
        wpd_engine_call c = {.method = "GET",
                             .path = paths[i],
                             .unversioned = i == 0,
                             .on_data = data_cancel,
                             .on_done = cc_done,
                             .arg = &cc};
        cc.req = wpd_engine_call_start(h.e, &c);
        expect_canceled_once(&cc);
        ck_assert_int_eq(cc.data_calls, 1);
    }
    harness_close(&h);
}
END_TEST

static int data_refuse(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    (void)data;
    (void)len;
    struct cancel_case *cc = arg;
    if (cc->canceled)
        cc->data_after_cancel++;
    cc->data_calls++;
    cc->canceled = 1;
    return 1;
}

START_TEST(data_callback_aborts)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    wpd_engine_call c = {
        .method = "GET", .path = "/info", .on_data = data_refuse, .on_done = cc_done, .arg = &cc};
    cc.req = wpd_engine_call_start(h.e, &c);
    expect_canceled_once(&cc);
    ck_assert_int_eq(cc.data_calls, 1);
    harness_close(&h);
}
END_TEST

static void done_then_cancel(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct cancel_case *cc = arg;
    cc_done(res, err, arg);
    wpd_http_cancel(cc->req); /* already completing: no effect */
}

START_TEST(cancel_inside_done_is_noop)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    wpd_engine_call c = {.method = "GET",
                         .path = "/_ping",
                         .unversioned = 1,
                         .on_done = done_then_cancel,
                         .arg = &cc};
    cc.req = wpd_engine_call_start(h.e, &c);
    ck_assert_int_eq(wpd_reactor_run_until(h.r, &cc.done), 0);
    settle(h.r, 200);
    ck_assert_int_eq(cc.done_calls, 1);
    ck_assert_int_eq(cc.kind, WPD_OK);
    harness_close(&h);
}
END_TEST

START_TEST(stream_timeout)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    wpd_engine_call c = {.method = "GET",
                         .path = "/events",
                         .timeout_ms = 300,
                         .on_headers = cc_headers,
                         .on_data = cc_data,
                         .on_done = cc_done,
                         .arg = &cc};
    cc.req = wpd_engine_call_start(h.e, &c);
    ck_assert_int_eq(wpd_reactor_run_until(h.r, &cc.done), 0);
    settle(h.r, 200);
    ck_assert_int_eq(cc.done_calls, 1);
    ck_assert_msg(cc.kind == WPD_ERR_TIMEOUT, "ended with %s: %s", wpd_errkind_name(cc.kind),
                  cc.message);
    ck_assert_int_eq(cc.headers, 1);
    /* it did connect: the message must not claim otherwise */
    ck_assert_msg(!strstr(cc.message, "cannot connect"), "%s", cc.message);
    harness_close(&h);
}
END_TEST

START_TEST(free_engine_with_stream_in_flight)
{
    struct harness h;
    harness_open(&h, docker_host());
    struct cancel_case cc = {.h = &h};
    bool opened = false;
    cc.timer = wpd_timer_new(h.r, on_flag, &opened);
    start_stream(&cc, "/events");
    /* wait until the stream is established (the headers callback arms the timer) */
    ck_assert_int_eq(wpd_reactor_run_until(h.r, &opened), 0);
    ck_assert_int_eq(cc.headers, 1);
    ck_assert_uint_eq(wpd_engine_in_flight(h.e), 1);
    wpd_timer_free(cc.timer);
    wpd_engine_free(h.e);
    ck_assert_int_eq(cc.done_calls, 0);
    wpd_plugins_free(h.reg);
    wpd_reactor_free(h.r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("foundation_cancel");
    TCase *tc = tcase_create("cancel");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, cancel_stream_from_timer);
    tcase_add_test(tc, cancel_right_after_start);
    tcase_add_test(tc, cancel_inside_stream_data);
    tcase_add_test(tc, data_callback_aborts);
    tcase_add_test(tc, cancel_inside_data_of_complete_response);
    tcase_add_test(tc, cancel_inside_done_is_noop);
    tcase_add_test(tc, stream_timeout);
    tcase_add_test(tc, free_engine_with_stream_in_flight);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
