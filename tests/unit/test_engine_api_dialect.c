/* test_engine_api_dialect.c - the request encoders of the Engine API layer
 * (path escaping, list filters, network/volume create and connect bodies)
 * and the Docker/Podman classification of dialect.c: which error answers
 * of a state change recorded from both engines (tests/data/api/) are
 * harmless, objects in use, name conflicts, and the wait paths. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/dialect.h"
#include "engine/engine.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "engine_api_fixtures.h"

/* ---- request encoders ------------------------------------------------------ */

START_TEST(path_escape)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_path_escape(&b, "Az09-_.~");
    ck_assert_str_eq(wpd_buf_cstr(&b), "Az09-_.~");
    wpd_buf_reset(&b);
    wpd_path_escape(&b, "a/b c?&=%#+:\"\xc3\xbc");
    ck_assert_str_eq(wpd_buf_cstr(&b), "a%2Fb%20c%3F%26%3D%25%23%2B%3A%22%C3%BC");
    wpd_buf_reset(&b);
    wpd_path_escape(&b, "");
    ck_assert_str_eq(wpd_buf_cstr(&b), "");
    wpd_buf_free(&b);
}
END_TEST

START_TEST(filters)
{
    ck_assert_ptr_null(wpd_filters_json(NULL, 0));
    wpd_pair one[] = {{"label", "wp_uuid"}};
    char *f = wpd_filters_json(one, 1);
    ck_assert_str_eq(f, "{\"label\":[\"wp_uuid\"]}");
    free(f);
    /* repeated keys grouped in order of first appearance */
    wpd_pair many[] = {{"label", "a=1"},
                       {"type", "container"},
                       {"label", "b"},
                       {"event", "die"},
                       {"type", "network"}};
    f = wpd_filters_json(many, 5);
    ck_assert_str_eq(f, "{\"label\":[\"a=1\",\"b\"],\"type\":[\"container\",\"network\"],"
                        "\"event\":[\"die\"]}");
    free(f);
    wpd_pair quoted[] = {{"label", "k=\"v\\\""}};
    f = wpd_filters_json(quoted, 1);
    ck_assert_str_eq(f, "{\"label\":[\"k=\\\"v\\\\\\\"\"]}");
    free(f);
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/json?all=1");
    wpd_path_filters(&p, '&', NULL, 0);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/json?all=1");
    wpd_path_filters(&p, '&', one, 1);
    ck_assert_str_eq(wpd_buf_cstr(&p),
                     "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22wp_uuid%22%5D%7D");
    wpd_buf_reset(&p);
    wpd_buf_puts(&p, "/networks");
    wpd_path_filters(&p, '?', one, 1);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/networks?filters=%7B%22label%22%3A%5B%22wp_uuid%22%5D%7D");
    wpd_buf_free(&p);
}
END_TEST

START_TEST(create_bodies)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_net_spec ns = {.name = "wp_1_default"};
    wpd_net_create_body(&ns, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b),
                     "{\"Name\":\"wp_1_default\",\"Driver\":\"bridge\",\"EnableIPv6\":false}");
    wpd_buf_reset(&b);
    wpd_pair labels[] = {{"wp_uuid", "u\"1"}, {"empty", ""}};
    wpd_net_spec ns2 = {.name = "n",
                        .driver = "macvlan",
                        .ipv6 = true,
                        .internal = true,
                        .labels = labels,
                        .n_labels = 2};
    wpd_net_create_body(&ns2, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Name\":\"n\",\"Driver\":\"macvlan\",\"EnableIPv6\":true,"
                                       "\"Internal\":true,\"Labels\":{\"wp_uuid\":\"u\\\"1\","
                                       "\"empty\":\"\"}}");
    wpd_buf_reset(&b);
    wpd_net_connect_body("ctr", NULL, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Container\":\"ctr\"}");
    wpd_buf_reset(&b);
    wpd_net_endpoint none = {0};
    wpd_net_connect_body("ctr", &none, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b),
                     "{\"Container\":\"ctr\",\"EndpointConfig\":{\"Aliases\":null}}");
    wpd_buf_reset(&b);
    const char *aliases[] = {"db", "database"};
    wpd_net_endpoint ep = {.aliases = aliases, .n_aliases = 2};
    wpd_net_connect_body("ctr", &ep, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Container\":\"ctr\",\"EndpointConfig\":{\"Aliases\":"
                                       "[\"db\",\"database\"]}}");
    wpd_buf_reset(&b);
    wpd_vol_spec vs = {.name = "wp_1_default"};
    wpd_vol_create_body(&vs, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Name\":\"wp_1_default\",\"Driver\":\"local\"}");
    wpd_buf_reset(&b);
    wpd_vol_spec vs2 = {.name = "v", .driver = "nfs", .labels = labels, .n_labels = 1};
    wpd_vol_create_body(&vs2, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b),
                     "{\"Name\":\"v\",\"Driver\":\"nfs\",\"Labels\":{\"wp_uuid\":\"u\\\"1\"}}");
    wpd_buf_free(&b);
}
END_TEST

/* ---- dialect ------------------------------------------------------------ */

static void engine_error(long status, const char *body, wpd_error *err)
{
    wpd_engine_error_from_body(status, "application/json", body, strlen(body), err);
}

typedef struct harmless_case {
    const char *answer; /* recorded answer (both engines) */
    wpd_change_op op;
    int outcome; /* -1 = an error, else the wpd_change */
} harmless_case;

START_TEST(harmless_recorded)
{
    static const harmless_case cases[] = {
        {"kill_created", WPD_CHANGE_OP_KILL, WPD_CHANGE_ALREADY},
        {"kill_exited", WPD_CHANGE_OP_KILL, WPD_CHANGE_ALREADY},
        {"start_missing", WPD_CHANGE_OP_START, WPD_CHANGE_NOT_FOUND},
        {"stop_missing", WPD_CHANGE_OP_STOP, WPD_CHANGE_NOT_FOUND},
        {"kill_missing", WPD_CHANGE_OP_KILL, WPD_CHANGE_NOT_FOUND},
        {"remove_missing", WPD_CHANGE_OP_REMOVE, WPD_CHANGE_NOT_FOUND},
        {"volume_remove_missing", WPD_CHANGE_OP_REMOVE_VOLUME, WPD_CHANGE_NOT_FOUND},
        {"network_remove_missing", WPD_CHANGE_OP_REMOVE_NETWORK, WPD_CHANGE_NOT_FOUND},
        {"volume_in_use", WPD_CHANGE_OP_REMOVE_VOLUME, -1},
        {"network_in_use", WPD_CHANGE_OP_REMOVE_NETWORK, -1},
        /* answers of other calls are no "nothing to do" of a state change */
        {"exec_exited", WPD_CHANGE_OP_START, -1},
        {"exec_exited", WPD_CHANGE_OP_REMOVE, -1},
        {"create_duplicate", WPD_CHANGE_OP_START, -1},
        {"create_duplicate", WPD_CHANGE_OP_REMOVE, -1},
        {"kill_exited", WPD_CHANGE_OP_START, -1},
        {"kill_exited", WPD_CHANGE_OP_REMOVE, -1},
        {"volume_in_use", WPD_CHANGE_OP_REMOVE, -1},
        {"network_in_use", WPD_CHANGE_OP_REMOVE, -1},
    };
    const char *engines[] = {"docker", "podman"};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            wpd_error err = {0};
            long st = recorded_error(engines[k], cases[i].answer, &err);
            ck_assert_int_ge(st, 400);
            wpd_change out = (wpd_change)99;
            bool h = wpd_dialect_harmless(cases[i].op, &err, &out);
            if (cases[i].outcome < 0) {
                ck_assert_msg(!h, "%s %s (op %d): harmless: %ld %s", engines[k], cases[i].answer,
                              cases[i].op, st, err.message);
            } else {
                ck_assert_msg(h, "%s %s (op %d): not harmless: %ld %s", engines[k], cases[i].answer,
                              cases[i].op, st, err.message);
                ck_assert_int_eq(out, cases[i].outcome);
            }
        }
    }
    /* the statuses differ: Docker 409 / Podman 500 for the kill of a stopped
     * container, 403 / 500 for a network in use */
    wpd_error err;
    ck_assert_int_eq(recorded_error("docker", "kill_exited", &err), 409);
    ck_assert_int_eq(recorded_error("podman", "kill_exited", &err), 500);
    ck_assert_contains(err.message, "container state improper");
    ck_assert_int_eq(recorded_error("docker", "network_in_use", &err), 403);
    ck_assert_int_eq(recorded_error("podman", "network_in_use", &err), 500);
    /* the "nothing to do" answers that are no errors at all */
    ck_assert_int_eq(recorded_error("docker", "start_running", &err), 304);
    ck_assert_int_eq(recorded_error("podman", "start_running", &err), 304);
    ck_assert_int_eq(recorded_error("docker", "stop_exited", &err), 304);
    ck_assert_int_eq(recorded_error("podman", "stop_exited", &err), 304);
    /* stopping a container that never ran: Docker 304, Podman 204 */
    ck_assert_int_eq(recorded_error("docker", "stop_created", &err), 304);
    ck_assert_int_eq(recorded_error("podman", "stop_created", &err), 204);
}
END_TEST

START_TEST(harmless_texts)
{
    wpd_change out;
    wpd_error err;
    const wpd_change_op all[] = {WPD_CHANGE_OP_START,          WPD_CHANGE_OP_STOP,
                                 WPD_CHANGE_OP_KILL,           WPD_CHANGE_OP_REMOVE,
                                 WPD_CHANGE_OP_REMOVE_NETWORK, WPD_CHANGE_OP_REMOVE_VOLUME};
    /* a 404 is harmless for every op, whatever the text */
    for (size_t i = 0; i < 6; i++) {
        engine_error(404, "{\"message\":\"page not found\"}", &err);
        ck_assert(wpd_dialect_harmless(all[i], &err, &out));
        ck_assert_int_eq(out, WPD_CHANGE_NOT_FOUND);
        /* no error, or one that is not the engine's answer: never */
        ck_assert(!wpd_dialect_harmless(all[i], NULL, &out));
        wpd_error_set(&err, WPD_ERR_CONNECT, 0, "no such container (connection refused)");
        ck_assert(!wpd_dialect_harmless(all[i], &err, &out));
        wpd_error_set(&err, WPD_ERR_CANCELED, 0, "Canceled");
        ck_assert(!wpd_dialect_harmless(all[i], &err, &out));
        /* a plain server error */
        engine_error(500, "{\"message\":\"driver failed\"}", &err);
        ck_assert(!wpd_dialect_harmless(all[i], &err, &out));
    }
    /* Podman's "no such container" under another status: containers only */
    engine_error(500,
                 "{\"cause\":\"no such container\",\"message\":\"no container with name or ID "
                 "\\\"x\\\" found: no such container\",\"response\":500}",
                 &err);
    for (size_t i = 0; i < 4; i++) {
        ck_assert(wpd_dialect_harmless(all[i], &err, &out));
        ck_assert_int_eq(out, WPD_CHANGE_NOT_FOUND);
    }
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE_NETWORK, &err, &out));
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE_VOLUME, &err, &out));
    /* stop: "is not running" */
    engine_error(409, "{\"message\":\"Container abc is not running\"}", &err);
    ck_assert(wpd_dialect_harmless(WPD_CHANGE_OP_STOP, &err, &out));
    ck_assert_int_eq(out, WPD_CHANGE_ALREADY);
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_START, &err, &out));
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE, &err, &out));
    /* kill: any 409; Podman's texts under 500 */
    engine_error(409, "{\"message\":\"Conflict\"}", &err);
    ck_assert(wpd_dialect_harmless(WPD_CHANGE_OP_KILL, &err, &out));
    ck_assert_int_eq(out, WPD_CHANGE_ALREADY);
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_STOP, &err, &out));
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE_VOLUME, &err, &out));
    engine_error(500, "{\"message\":\"can only kill running containers. x is in state stopped\"}",
                 &err);
    ck_assert(wpd_dialect_harmless(WPD_CHANGE_OP_KILL, &err, &out));
    ck_assert_int_eq(out, WPD_CHANGE_ALREADY);
    /* remove: already in progress (Docker 409) */
    engine_error(409, "{\"message\":\"removal of container 3f2a is already in progress\"}", &err);
    ck_assert(wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE, &err, &out));
    ck_assert_int_eq(out, WPD_CHANGE_ALREADY);
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_STOP, &err, &out));
    engine_error(409,
                 "{\"message\":\"You cannot remove a running container 3f2a. Stop the container "
                 "before attempting removal or force remove\"}",
                 &err);
    ck_assert(!wpd_dialect_harmless(WPD_CHANGE_OP_REMOVE, &err, &out));
}
END_TEST

START_TEST(in_use)
{
    const char *engines[] = {"docker", "podman"};
    for (int k = 0; k < 2; k++) {
        wpd_error err;
        recorded_error(engines[k], "volume_in_use", &err);
        ck_assert_msg(wpd_dialect_in_use(&err), "%s: %s", engines[k], err.message);
        recorded_error(engines[k], "network_in_use", &err);
        ck_assert_msg(wpd_dialect_in_use(&err), "%s: %s", engines[k], err.message);
        /* a missing object is no object in use */
        recorded_error(engines[k], "volume_remove_missing", &err);
        ck_assert(!wpd_dialect_in_use(&err));
        recorded_error(engines[k], "network_remove_missing", &err);
        ck_assert(!wpd_dialect_in_use(&err));
    }
    wpd_error err;
    ck_assert(!wpd_dialect_in_use(NULL));
    wpd_error_set(&err, WPD_ERR_CONNECT, 0, "address in use");
    ck_assert(!wpd_dialect_in_use(&err));
    engine_error(404, "{\"message\":\"volume in use\"}", &err);
    ck_assert(!wpd_dialect_in_use(&err));
}
END_TEST

START_TEST(name_conflict)
{
    const char *engines[] = {"docker", "podman"};
    for (int k = 0; k < 2; k++) {
        wpd_error err;
        recorded_error(engines[k], "create_duplicate", &err);
        ck_assert_msg(wpd_dialect_name_conflict(&err), "%s: %s", engines[k], err.message);
        recorded_error(engines[k], "create_missing_image", &err);
        ck_assert(!wpd_dialect_name_conflict(&err));
    }
    wpd_error err;
    ck_assert(!wpd_dialect_name_conflict(NULL));
    engine_error(500, "{\"message\":\"disk full\"}", &err);
    ck_assert(!wpd_dialect_name_conflict(&err));
}
END_TEST

START_TEST(wait_paths)
{
    wpd_buf p = WPD_BUF_INIT;
    bool unv = true;
    wpd_dialect_wait_path(WPD_ENGINE_DOCKER, "", "a b", WPD_WAIT_NOT_RUNNING, 1, &p, &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/a%20b/wait");
    ck_assert(!unv);
    wpd_buf_reset(&p);
    wpd_dialect_wait_path(WPD_ENGINE_DOCKER, "", "c", WPD_WAIT_NEXT_EXIT, 1, &p, &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/c/wait?condition=next-exit");
    ck_assert(!unv);
    wpd_buf_reset(&p);
    wpd_dialect_wait_path(WPD_ENGINE_DOCKER, "", "c", WPD_WAIT_REMOVED, 1, &p, &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/c/wait?condition=removed");
    wpd_buf_reset(&p);
    /* Podman: libpod's wait for not-running, compat for the others */
    wpd_dialect_wait_path(WPD_ENGINE_PODMAN, "/v4.3.1/libpod", "c/d", WPD_WAIT_NOT_RUNNING, 1, &p,
                          &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/v4.3.1/libpod/containers/c%2Fd/wait?condition=exited&"
                                       "condition=stopped&interval=20ms");
    ck_assert(unv);
    wpd_buf_reset(&p);
    wpd_dialect_wait_path(WPD_ENGINE_PODMAN, "/v4.3.1/libpod", "c", WPD_WAIT_NEXT_EXIT, 1, &p,
                          &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/c/wait?condition=next-exit");
    ck_assert(!unv);
    wpd_buf_reset(&p);
    wpd_dialect_wait_path(WPD_ENGINE_PODMAN, "/v4.3.1/libpod", "c", WPD_WAIT_REMOVED, 1, &p, &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/c/wait?condition=removed");
    ck_assert(!unv);
    wpd_buf_reset(&p);
    wpd_dialect_wait_path(WPD_ENGINE_UNKNOWN, "", "c", WPD_WAIT_NOT_RUNNING, 1, &p, &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/containers/c/wait");
    wpd_buf_reset(&p);
    /* libpod's polling is spaced by the waits in flight: 20 ms each, 250 at most */
    wpd_dialect_wait_path(WPD_ENGINE_PODMAN, "/v4.0.0/libpod", "c", WPD_WAIT_NOT_RUNNING, 8, &p,
                          &unv);
    ck_assert_str_eq(wpd_buf_cstr(&p), "/v4.0.0/libpod/containers/c/wait?condition=exited&"
                                       "condition=stopped&interval=160ms");
    ck_assert_int_eq(wpd_dialect_wait_interval(0), 20);
    ck_assert_int_eq(wpd_dialect_wait_interval(1), 20);
    ck_assert_int_eq(wpd_dialect_wait_interval(3), 60);
    ck_assert_int_eq(wpd_dialect_wait_interval(64), 250);
    wpd_buf_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_api_dialect");
    TCase *tc = tcase_create("encoders");
    tcase_add_test(tc, path_escape);
    tcase_add_test(tc, filters);
    tcase_add_test(tc, create_bodies);
    suite_add_tcase(s, tc);
    tc = tcase_create("dialect");
    tcase_add_test(tc, harmless_recorded);
    tcase_add_test(tc, harmless_texts);
    tcase_add_test(tc, in_use);
    tcase_add_test(tc, name_conflict);
    tcase_add_test(tc, wait_paths);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
