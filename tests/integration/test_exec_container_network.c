/* test_exec_container_network.c - the networks of the steps that `wpdock
 * exec` runs, as the engine holds them: a service's aliases on a network
 * the workflow names itself, reached by another step through an alias,
 * and the global --network every step also joins. Engine selection as in
 * testutil.h; an unreachable engine fails the tests. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "testutil.h"
#include "exec_container_fixtures.h"

/* ------------------------------------------------------------------ tests */

/* A service with two aliases on a network the workflow names itself (as
 * Woodpecker's compiler does), reached by another step through an alias. */
START_TEST(test_network_aliases)
{
    held h;
    held_init(&h);
    char id[27];
    tu_ulid_lower(id);
    char *net = wpd_xasprintf("wp_%s_default", id);
    char *vol_bind = wpd_xasprintf("%s:/woodpecker", net);
    tu_wf *b = tu_wf_new();
    struct wpd_jsonw *w = tu_wf_json(b);
    tu_wf_step(b, "svc", TU_SERVICE,
               (const char *const[]){"mkdir -p /srv && echo reached through an alias > "
                                     "/srv/index.html",
                                     "httpd -f -p 8080 -h /srv", NULL});
    wpd_jw_kstr(w, "workspace_base", "/woodpecker");
    wpd_jw_kstr(w, "working_dir", "/woodpecker");
    wpd_jw_key(w, "volumes");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, vol_bind);
    wpd_jw_arr_end(w);
    wpd_jw_key(w, "networks");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", net);
    wpd_jw_key(w, "aliases");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "svc");
    wpd_jw_str(w, "database-alias");
    wpd_jw_arr_end(w);
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    tu_wf_stage(b);
    tu_wf_step(b, "client", 0,
               (const char *const[]){"echo ready", HOLD_CMD,
                                     "nslookup database-alias >/dev/null && echo resolved",
                                     "for i in $(seq 1 40); do wget -q -O - "
                                     "http://database-alias:8080/ && exit 0; sleep 0.25; done; "
                                     "exit 1",
                                     NULL});
    wpd_jw_kstr(w, "workspace_base", "/woodpecker");
    wpd_jw_kstr(w, "working_dir", "/woodpecker");
    bind_ctl(w, h.ctl, (const char *const[]){vol_bind, NULL});
    wpd_jw_key(w, "networks");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", net);
    wpd_jw_key(w, "aliases");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "client");
    wpd_jw_arr_end(w);
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    tu_wf_end_pipeline(b);
    wpd_jw_kstr(w, "network", net);
    wpd_jw_kstr(w, "volume", net);
    h.path = tu_wf_save(b);
    hold(&h, "client", (const char *const[]){"--stop-timeout", "2", NULL});
    tu_exec_watch_name(&h.x, net);
    /* inspect the service, not the held client */
    wpd_json_free(&h.j);
    free(h.body);
    h.body = NULL;
    inspect(&h, tu_exec_step_started(&h.x, "svc")->uuid);
    char *aliases = wpd_xasprintf("NetworkSettings.Networks.%s.Aliases", net);
    ck_assert_msg(jarr_has(&h, aliases, "database-alias"), "the service has no alias on %s", net);
    ck_assert_msg(jarr_has(&h, aliases, "svc"), "the service has no alias svc on %s", net);
    free(aliases);
    int rc = release(&h);
    assert_success(&h, rc, "client");
    assert_line(&h, "client", "resolved");
    assert_line(&h, "client", "reached through an alias");
    free(vol_bind);
    free(net);
    held_free(&h);
}
END_TEST

/* --network NAME: an existing network every step also joins. It is made
 * (and removed) outside the forked test, so it goes even when a test
 * fails. */
static char global_net[64];

static void global_net_setup(void)
{
    char id[27];
    tu_ulid_lower(id);
    snprintf(global_net, sizeof global_net, "wpdock-test-%s", id);
    char *body = wpd_xasprintf("{\"Name\":\"%s\",\"Driver\":\"bridge\"}", global_net);
    char *res = NULL;
    long st = tu_engine_request("POST", "/networks/create", body, &res);
    if (st != 201)
        fprintf(stderr, "creating network %s: %ld %s\n", global_net, st, res);
    free(body);
    free(res);
}

static void global_net_teardown(void)
{
    char *url = wpd_xasprintf("/networks/%s", global_net);
    tu_engine_request("DELETE", url, NULL, NULL);
    free(url);
}

START_TEST(test_global_network)
{
    char *url = wpd_xasprintf("/networks/%s", global_net);
    long st = tu_engine_request("GET", url, NULL, NULL);
    ck_assert_msg(st == 200, "network %s was not created (%ld)", global_net, st);
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "joined", 0, (const char *const[]){"echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "joined", (const char *const[]){"--network", global_net, NULL});
    char *key = wpd_xasprintf("NetworkSettings.Networks.%s.NetworkID", global_net);
    char *v = jstr(&h, key);
    free(v);
    free(key);
    /* and still on the workflow's own network */
    bool own = false;
    int nets = wpd_json_path(&h.j, 0, "NetworkSettings.Networks");
    for (int k = 0, tok = nets + 1; nets >= 0 && k < h.j.toks[nets].size; k++) {
        char *name = wpd_json_str(&h.j, tok);
        if (name && strncmp(name, "wp_", 3) == 0)
            own = true;
        free(name);
        tok = wpd_json_skip(&h.j, tok);
    }
    ck_assert_msg(own, "the step is not on its workflow network");
    /* what the network itself lists */
    char *body = NULL;
    st = tu_engine_request("GET", url, NULL, &body);
    ck_assert_int_eq(st, 200);
    char *cid = jstr(&h, "Id");
    ck_assert_contains(body, cid);
    free(cid);
    free(body);
    assert_success(&h, release(&h), "joined");
    /* the network is the operator's: wpdock leaves it in place */
    ck_assert_int_eq(tu_engine_request("GET", url, NULL, NULL), 200);
    free(url);
    held_free(&h);
}
END_TEST

static Suite *exec_container_network_suite(void)
{
    Suite *s = suite_create("exec-container-network");
    TCase *tc = tcase_create("container");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_network_aliases);
    suite_add_tcase(s, tc);
    TCase *net = tcase_create("global-network");
    tcase_set_timeout(net, 300);
    tcase_add_unchecked_fixture(net, global_net_setup, global_net_teardown);
    tcase_add_test(net, test_global_network);
    suite_add_tcase(s, net);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_container_network_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
