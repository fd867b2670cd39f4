/* test_engine_api_events.c - the event stream of the Engine API layer,
 * without an engine: event lines recorded from Docker 20.10 and Podman 4.3
 * (tests/data/api/; Podman's action names mapped to Docker's),
 * old-style and hand-written shapes, lines that are no events, and the
 * events paths with their since/until and filters for both engines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine_api_fixtures.h"

/* ---- events --------------------------------------------------------------- */

static int event_line(const char *file, int n, wpd_arena *a, wpd_engine_event *ev)
{
    char *l = data_line(file, n);
    wpd_error err = {0};
    int rc = wpd_engine_event_parse(l, strlen(l), a, ev, &err);
    ck_assert_msg(rc == 1, "%s:%d: %s", file, n, err.message);
    free(l);
    return rc;
}

START_TEST(events_docker)
{
    wpd_arena *a = wpd_arena_new();
    wpd_engine_event ev;
    const char *actions[] = {"create", "start", "die", "destroy"};
    const int64_t nanos[] = {1796171855639269774LL, 1796171856086281220LL, 1796171856144695665LL,
                             1796171856251908563LL};
    for (int i = 0; i < 4; i++) {
        event_line("docker-events.jsonl", i, a, &ev);
        ck_assert_str_eq(ev.type, "container");
        ck_assert_str_eq(ev.action, actions[i]);
        ck_assert_str_eq(ev.raw_action, actions[i]);
        ck_assert_str_eq(ev.actor_id,
                         "10bcbad21780ad19072aeeee9b27d47769aafbe3888477c0438406466a0d054f");
        ck_assert_str_eq(ev.scope, "local");
        ck_assert_int_eq(ev.time_nano, nanos[i]);
        ck_assert_int_eq(ev.time, nanos[i] / 1000000000);
        ck_assert_str_eq(wpd_engine_event_attr(&ev, "name"), "wp_apitest_ev_docker");
        ck_assert_str_eq(wpd_engine_event_attr(&ev, "wp_apitest_ev"), "docker");
        ck_assert_str_eq(wpd_engine_event_attr(&ev, "image"), "localhost/wpdock/busybox:latest");
        if (i == 2)
            ck_assert_str_eq(wpd_engine_event_attr(&ev, "exitCode"), "3");
        else
            ck_assert_ptr_null(wpd_engine_event_attr(&ev, "exitCode"));
    }
    /* network and volume events: no "status", "id" or "from" */
    event_line("docker-volume-network-events.jsonl", 0, a, &ev);
    ck_assert_str_eq(ev.type, "network");
    ck_assert_str_eq(ev.action, "disconnect");
    ck_assert_str_eq(ev.actor_id,
                     "0c68dae9dcee2e5af6b7a67d4becaa5c19d3d2b5de06904b2fc7e70d3d640efa");
    ck_assert_str_eq(wpd_engine_event_attr(&ev, "type"), "bridge");
    event_line("docker-volume-network-events.jsonl", 2, a, &ev);
    ck_assert_str_eq(ev.type, "volume");
    ck_assert_str_eq(ev.action, "mount");
    ck_assert_str_eq(ev.actor_id, "wp_01m8t3p98fyrzvb4gvxndz4ttd_default");
    ck_assert_str_eq(wpd_engine_event_attr(&ev, "destination"), "/woodpecker");
    wpd_arena_free(a);
}
END_TEST

START_TEST(events_podman)
{
    wpd_arena *a = wpd_arena_new();
    wpd_engine_event ev;
    /* Podman adds init and cleanup, and calls the removal "remove" */
    const char *raw[] = {"create", "init", "start", "die", "cleanup", "remove"};
    const char *actions[] = {"create", "init", "start", "die", "cleanup", "destroy"};
    for (int i = 0; i < 6; i++) {
        event_line("podman-events.jsonl", i, a, &ev);
        ck_assert_str_eq(ev.type, "container");
        ck_assert_str_eq(ev.action, actions[i]);
        ck_assert_str_eq(ev.raw_action, raw[i]);
        ck_assert_str_eq(ev.actor_id,
                         "c449fd0a1f2f366dc86f023cac8c55b640728be57879bff422a93f5b61d11bba");
        ck_assert_str_eq(wpd_engine_event_attr(&ev, "name"), "wp_apitest_ev_podman");
        ck_assert_str_eq(wpd_engine_event_attr(&ev, "wp_apitest_ev"), "podman");
    }
    event_line("podman-events.jsonl", 3, a, &ev);
    ck_assert_str_eq(wpd_engine_event_attr(&ev, "exitCode"), "3");
    ck_assert_int_eq(ev.time_nano, 1796171861163703779LL);
    ck_assert_int_eq(ev.time, 1796171861);
    /* volumes: the ID is empty, the name is an attribute */
    event_line("podman-volume-events.jsonl", 0, a, &ev);
    ck_assert_str_eq(ev.type, "volume");
    ck_assert_str_eq(ev.action, "create");
    ck_assert_str_eq(ev.actor_id, "wp_apitest_probe_vol");
    event_line("podman-volume-events.jsonl", 1, a, &ev);
    ck_assert_str_eq(ev.action, "destroy");
    ck_assert_str_eq(ev.raw_action, "remove");
    wpd_arena_free(a);
}
END_TEST

START_TEST(events_shapes)
{
    wpd_arena *a = wpd_arena_new();
    wpd_engine_event ev;
    wpd_error err = {0};
    /* blank lines (keep-alive newlines, CRLF) */
    const char *blank[] = {"", "\n", "\r\n", "  \t"};
    for (size_t k = 0; k < 4; k++)
        ck_assert_int_eq(wpd_engine_event_parse(blank[k], strlen(blank[k]), a, &ev, &err), 0);
    /* an old-style event: status, id, from; no Type, no timeNano */
    const char *old = "{\"status\":\"die\",\"id\":\"abc\",\"from\":\"busybox\",\"time\":100}\r\n";
    ck_assert_int_eq(wpd_engine_event_parse(old, strlen(old), a, &ev, &err), 1);
    ck_assert_str_eq(ev.type, "container");
    ck_assert_str_eq(ev.action, "die");
    ck_assert_str_eq(ev.actor_id, "abc");
    ck_assert_int_eq(ev.time, 100);
    ck_assert_int_eq(ev.time_nano, 100000000000LL);
    ck_assert_uint_eq(ev.n_attributes, 0);
    ck_assert_str_eq(ev.scope, "");
    /* only timeNano; a health status; an image "remove" is not renamed */
    const char *h = "{\"Type\":\"container\",\"Action\":\"health_status: healthy\",\"Actor\":"
                    "{\"ID\":\"c\",\"Attributes\":null},\"timeNano\":2500000000}";
    ck_assert_int_eq(wpd_engine_event_parse(h, strlen(h), a, &ev, &err), 1);
    ck_assert_str_eq(ev.action, "health_status: healthy");
    ck_assert_int_eq(ev.time, 2);
    ck_assert_uint_eq(ev.n_attributes, 0);
    ck_assert_ptr_null(wpd_engine_event_attr(&ev, "name"));
    const char *img = "{\"Type\":\"image\",\"Action\":\"remove\",\"Actor\":{\"ID\":\"sha256:1\"}}";
    ck_assert_int_eq(wpd_engine_event_parse(img, strlen(img), a, &ev, &err), 1);
    ck_assert_str_eq(ev.action, "remove");
    /* escaped strings */
    const char *esc = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"x\","
                      "\"Attributes\":{\"k\\\"1\":\"v\\u00e9\\n\"}}}";
    ck_assert_int_eq(wpd_engine_event_parse(esc, strlen(esc), a, &ev, &err), 1);
    ck_assert_str_eq(wpd_engine_event_attr(&ev, "k\"1"), "v\xc3\xa9\n");
    /* not events */
    const char *bad[] = {"garbage",
                         "{",
                         "[]",
                         "42",
                         "{}",
                         "{\"Type\":\"container\"}",
                         "{\"Action\":\"\"}",
                         "{\"Action\":3}",
                         "{\"Action\":\"x\"} {}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_msg(wpd_engine_event_parse(bad[k], strlen(bad[k]), a, &ev, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_contains(err.message, "event");
    }
    wpd_arena_free(a);
}
END_TEST

START_TEST(events_paths)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_events_path(WPD_ENGINE_DOCKER, NULL, 0, 0, 0, &p);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/events");
    wpd_buf_reset(&p);
    wpd_events_path(WPD_ENGINE_DOCKER, NULL, 0, 1700000000, 0, &p);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/events?since=1700000000");
    wpd_buf_reset(&p);
    wpd_events_path(WPD_ENGINE_DOCKER, NULL, 0, 0, 1700000009, &p);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/events?until=1700000009");
    wpd_buf_reset(&p);
    wpd_pair f[] = {
        {"type", "container"}, {"event", "die"}, {"event", "destroy"}, {"label", "a=b"}};
    wpd_events_path(WPD_ENGINE_DOCKER, f, 4, 5, 9, &p);
    char *want = wpd_filters_json(f, 4);
    ck_assert_str_eq(want, "{\"type\":[\"container\"],\"event\":[\"die\",\"destroy\"],\"label\":"
                           "[\"a=b\"]}");
    wpd_buf w = WPD_BUF_INIT;
    wpd_buf_puts(&w, "/events?since=5&until=9&filters=");
    wpd_path_escape(&w, want);
    ck_assert_str_eq(wpd_buf_cstr(&p), wpd_buf_cstr(&w));
    free(want);
    /* Podman's event filter speaks libpod: died, remove */
    wpd_buf_reset(&p);
    wpd_buf_reset(&w);
    wpd_events_path(WPD_ENGINE_PODMAN, f, 4, 0, 0, &p);
    wpd_pair pf[] = {
        {"type", "container"}, {"event", "died"}, {"event", "remove"}, {"label", "a=b"}};
    want = wpd_filters_json(pf, 4);
    wpd_buf_puts(&w, "/events?filters=");
    wpd_path_escape(&w, want);
    ck_assert_str_eq(wpd_buf_cstr(&p), wpd_buf_cstr(&w));
    free(want);
    /* only the "event" key is translated */
    wpd_buf_reset(&p);
    wpd_buf_reset(&w);
    wpd_pair other[] = {{"label", "die"}, {"event", "start"}};
    wpd_events_path(WPD_ENGINE_PODMAN, other, 2, 0, 0, &p);
    want = wpd_filters_json(other, 2);
    wpd_buf_puts(&w, "/events?filters=");
    wpd_path_escape(&w, want);
    ck_assert_str_eq(wpd_buf_cstr(&p), wpd_buf_cstr(&w));
    free(want);
    wpd_buf_free(&w);
    wpd_buf_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_api_events");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, events_docker);
    tcase_add_test(tc, events_podman);
    tcase_add_test(tc, events_shapes);
    tcase_add_test(tc, events_paths);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
