/* test_foundation_reactor.c - the library on one reactor against a real
 * engine: connecting negotiates the API version, and 500 concurrent
 * requests complete, each exactly once. Docker at $WPDOCK_DOCKER_HOST
 * (default unix:///var/run/docker.sock) must answer, or the tests fail;
 * the Podman service at $WPDOCK_PODMAN_HOST is tested too when that is
 * set. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "io/http.h"
#include "foundation_fixtures.h"

#define N_PINGS 500

/* -- 500 concurrent pings -- */

struct pings {
    int calls[N_PINGS];
    long status[N_PINGS];
    int body_ok[N_PINGS];
    int completed;
    int failures;
    char first_failure[WPD_ERROR_MAX];
    bool all_done;
};

struct ping_slot {
    struct pings *p;
    int i;
};

static void on_ping_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct ping_slot *s = arg;
    struct pings *p = s->p;
    p->calls[s->i]++;
    if (err) {
        if (!p->failures++)
            snprintf(p->first_failure, sizeof p->first_failure, "%s", err->message);
    } else {
        p->status[s->i] = res->status;
        p->body_ok[s->i] = res->body.len == 2 && memcmp(res->body.data, "OK", 2) == 0;
    }
    if (++p->completed == N_PINGS)
        p->all_done = true;
}

static void concurrent_pings(const char *host)
{
    struct harness h;
    harness_open(&h, host);
    struct pings *p = calloc(1, sizeof *p);
    struct ping_slot *slots = calloc(N_PINGS, sizeof *slots);
    for (int i = 0; i < N_PINGS; i++) {
        slots[i] = (struct ping_slot){p, i};
        wpd_engine_call c = {.method = "GET",
                             .path = "/_ping",
                             .unversioned = 1,
                             .on_done = on_ping_done,
                             .arg = &slots[i]};
        ck_assert_ptr_nonnull(wpd_engine_call_start(h.e, &c));
    }
    /* nothing completes inside the start calls */
    ck_assert_int_eq(p->completed, 0);
    ck_assert_uint_eq(wpd_engine_in_flight(h.e), N_PINGS);
    ck_assert_int_eq(wpd_reactor_run_until(h.r, &p->all_done), 0);
    settle(h.r, 200);
    ck_assert_msg(p->failures == 0, "%d of %d pings failed, first: %s", p->failures, N_PINGS,
                  p->first_failure);
    ck_assert_int_eq(p->completed, N_PINGS);
    for (int i = 0; i < N_PINGS; i++) {
        ck_assert_msg(p->calls[i] == 1, "ping %d: %d callbacks", i, p->calls[i]);
        ck_assert_msg(p->status[i] == 200, "ping %d: status %ld", i, p->status[i]);
        ck_assert_msg(p->body_ok[i], "ping %d: body is not \"OK\"", i);
    }
    free(slots);
    free(p);
    harness_close(&h);
}

START_TEST(pings_docker)
{
    concurrent_pings(docker_host());
}
END_TEST

START_TEST(pings_podman)
{
    const char *host = podman_host();
    if (!host)
        return; /* WPDOCK_PODMAN_HOST not set: this machine runs Docker only */
    concurrent_pings(host);
}
END_TEST

START_TEST(connect_negotiates)
{
    struct engine_facts f;
    engine_facts(docker_host(), &f);
    struct harness h;
    harness_open(&h, docker_host());
    const wpd_engine_info *i = wpd_engine_get_info(h.e);
    ck_assert_str_eq(i->kind_name, "docker");
    ck_assert_int_eq(i->kind, WPD_ENGINE_DOCKER);
    ck_assert_str_eq(i->engine_version, f.version);
    ck_assert_str_eq(i->engine_api_version, f.api);
    ck_assert_str_eq(i->api_version, expected_api(&f));
    ck_assert_int_eq(i->api_pinned, 0);
    ck_assert_str_eq(i->plugin_name, "unix");
    char platform[128];
    local_platform(platform, sizeof platform);
    ck_assert_str_eq(i->platform, platform);
    /* a versioned call goes to /v<negotiated>/...: an unknown container is a 404 with
     * Docker's own message */
    struct sync_call s = {0};
    wpd_engine_call c = {.method = "GET",
                         .path = "/containers/wpdock-no-such-container-xyz/json",
                         .on_done = on_sync_done,
                         .arg = &s};
    wpd_engine_call_start(h.e, &c);
    ck_assert_int_eq(wpd_reactor_run_until(h.r, &s.done), 0);
    ck_assert_int_eq(s.failed, 1);
    ck_assert_int_eq(s.err.kind, WPD_ERR_ENGINE);
    ck_assert_int_eq(s.err.status, 404);
    ck_assert_str_eq(s.err.message, "No such container: wpdock-no-such-container-xyz");
    harness_close(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("foundation_reactor");
    TCase *tr = tcase_create("reactor");
    tcase_set_timeout(tr, 300);
    tcase_add_test(tr, connect_negotiates);
    tcase_add_test(tr, pings_docker);
    tcase_add_test(tr, pings_podman);
    suite_add_tcase(s, tr);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
