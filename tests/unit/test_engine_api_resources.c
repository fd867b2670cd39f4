/* test_engine_api_resources.c - the network, volume and image answers the
 * typed Engine API layer reads, without an engine: network and volume lists
 * and image inspects recorded from Docker 20.10 and Podman 4.3
 * (tests/data/api/), the lines of a pull stream (progress, errorDetail,
 * Podman's refusal inside a 200 stream), edge cases and malformed bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/images.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "engine_api_fixtures.h"

/* ---- lists ---------------------------------------------------------------- */

START_TEST(net_list)
{
    const char *files[] = {"docker-networks.json", "podman-networks.json"};
    const char *names[] = {"wp_apitest_capture_docker_net", "wp_apitest_capture_podman_net"};
    const char *ids[] = {"801ea42cae52f3960127c8c5b5c1fb7247a5498ace2c182bb079b9c212d9922a",
                         "519e62648192a6b9207d5c7df21a892a3462b34194dae7cbc144c446a6ba3e4c"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        wpd_net_summary *v;
        size_t n;
        wpd_error err = {0};
        ck_assert_msg(wpd_net_list_parse(body, len, a, &v, &n, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(v[0].name, names[k]);
        ck_assert_str_eq(v[0].id, ids[k]);
        ck_assert_str_eq(v[0].driver, "bridge");
        ck_assert_uint_eq(v[0].n_labels, 1);
        ck_assert_str_eq(v[0].labels[0].key, "wp_apitest");
        ck_assert_str_eq(v[0].labels[0].value, "capture");
        wpd_arena_free(a);
        free(body);
    }
    wpd_arena *a = wpd_arena_new();
    wpd_net_summary *v;
    size_t n;
    wpd_error err = {0};
    const char *b = "[{\"Driver\":\"x\"},{\"Name\":\"only-name\",\"Labels\":null}]";
    ck_assert_int_eq(wpd_net_list_parse(b, strlen(b), a, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].name, "only-name");
    ck_assert_str_eq(v[0].id, "");
    const char *bad[] = {"", "{}", "[1,", "true"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(wpd_net_list_parse(bad[k], strlen(bad[k]), a, &v, &n, &err), -1);
        protocol_error(&err, bad[k]);
    }
    wpd_arena_free(a);
}
END_TEST

START_TEST(vol_list)
{
    const char *files[] = {"docker-volumes.json", "podman-volumes.json"};
    const char *mounts[] = {"/var/lib/docker/volumes/wp_apitest_capture_vol/_data",
                            "/var/lib/containers/storage/volumes/wp_apitest_capture_vol/_data"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        wpd_vol_summary *v;
        size_t n;
        wpd_error err = {0};
        ck_assert_msg(wpd_vol_list_parse(body, len, a, &v, &n, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(v[0].name, "wp_apitest_capture_vol");
        ck_assert_str_eq(v[0].driver, "local");
        ck_assert_str_eq(v[0].mountpoint, mounts[k]);
        ck_assert_uint_eq(v[0].n_labels, 2);
        ck_assert_str_eq(label(v[0].labels, v[0].n_labels, "empty"), "");
        ck_assert_str_eq(label(v[0].labels, v[0].n_labels, "wp_apitest"), "capture");
        wpd_arena_free(a);
        free(body);
    }
    wpd_arena *a = wpd_arena_new();
    wpd_vol_summary *v;
    size_t n;
    wpd_error err = {0};
    /* none: Docker [] with Warnings null, Podman [] with [], old Docker null */
    const char *empty[] = {"{\"Volumes\":[],\"Warnings\":null}", "{\"Volumes\":[],\"Warnings\":[]}",
                           "{\"Volumes\":null,\"Warnings\":null}", "{}"};
    for (size_t k = 0; k < sizeof empty / sizeof *empty; k++) {
        ck_assert_msg(wpd_vol_list_parse(empty[k], strlen(empty[k]), a, &v, &n, &err) == 0,
                      "%s: %s", empty[k], err.message);
        ck_assert_uint_eq(n, 0);
    }
    const char *b = "{\"Volumes\":[{\"Driver\":\"local\"},{\"Name\":\"v\",\"Labels\":null}]}";
    ck_assert_int_eq(wpd_vol_list_parse(b, strlen(b), a, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0].name, "v");
    ck_assert_str_eq(v[0].mountpoint, "");
    const char *bad[] = {"", "[]", "{\"Volumes\":{}}", "{\"Volumes\":\"x\"}", "{\"Volumes\":["};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_msg(wpd_vol_list_parse(bad[k], strlen(bad[k]), a, &v, &n, &err) == -1,
                      "accepted %s", bad[k]);
        protocol_error(&err, bad[k]);
    }
    wpd_arena_free(a);
}
END_TEST

/* ---- images --------------------------------------------------------------- */

START_TEST(image_info)
{
    const char *files[] = {"docker-image.json", "podman-image.json"};
    const char *ids[] = {"sha256:f365b4871d2a1f8a350142c582e32e6eb3c3975050306a043c715eccc6a2f671",
                         "sha256:cb78303f148b117a0787a6fa85bcdf07f21379758e5885bdada6487db958575a"};
    const int64_t sizes[] = {1985631, 2141411};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        wpd_image_info info;
        wpd_error err = {0};
        ck_assert_msg(wpd_image_info_parse(body, len, a, &info, &err) == 0, "%s", err.message);
        ck_assert_str_eq(info.id, ids[k]);
        ck_assert_str_eq(info.os, "linux");
        ck_assert_str_eq(info.arch, "amd64");
        ck_assert_int_eq(info.size, sizes[k]);
        ck_assert_uint_eq(info.n_repo_tags, 1);
        ck_assert_str_eq(info.repo_tags[0], "localhost/wpdock/busybox:latest");
        wpd_arena_free(a);
        free(body);
    }
    wpd_arena *a = wpd_arena_new();
    wpd_image_info info;
    wpd_error err = {0};
    const char *b = "{\"Id\":\"sha256:1\",\"RepoTags\":null}";
    ck_assert_int_eq(wpd_image_info_parse(b, strlen(b), a, &info, &err), 0);
    ck_assert_uint_eq(info.n_repo_tags, 0);
    ck_assert_str_eq(info.os, "");
    const char *bad[] = {"", "[]", "{\"Id\"", "404 page not found"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(wpd_image_info_parse(bad[k], strlen(bad[k]), a, &info, &err), -1);
        protocol_error(&err, bad[k]);
    }
    wpd_arena_free(a);
}
END_TEST

START_TEST(pull_lines_real)
{
    /* Docker: image-level messages without progressDetail */
    char *l = data_line("docker-pull-ok.jsonl", 0);
    wpd_arena *a = wpd_arena_new();
    wpd_pull_progress p;
    char *error = NULL;
    ck_assert_int_eq(wpd_pull_line_parse(l, strlen(l), a, &p, &error), 1);
    ck_assert_str_eq(p.status, "Pulling from wpdock/busybox");
    ck_assert_str_eq(p.id, "latest");
    ck_assert_int_eq(p.current, 0);
    ck_assert_int_eq(p.total, 0);
    free(l);
    l = data_line("docker-pull-ok.jsonl", 2);
    ck_assert_int_eq(wpd_pull_line_parse(l, strlen(l), a, &p, &error), 1);
    ck_assert_str_eq(p.id, "");
    ck_assert_contains(p.status, "Downloaded newer image");
    free(l);
    /* Podman: layer lines with an empty progressDetail */
    l = data_line("podman-pull-ok.jsonl", 1);
    ck_assert_int_eq(wpd_pull_line_parse(l, strlen(l), a, &p, &error), 1);
    ck_assert_str_eq(p.status, "Pulling fs layer");
    ck_assert_str_eq(p.id, "f365b4871d2a");
    free(l);
    /* Podman reports a refused pull inside a 200 stream */
    l = data_line("podman-pull-unauthorized.jsonl", 0);
    ck_assert_int_eq(wpd_pull_line_parse(l, strlen(l), a, &p, &error), 2);
    ck_assert_ptr_nonnull(error);
    ck_assert_contains(error, "unauthorized: authentication required");
    ck_assert_contains(error, "initializing source docker://127.0.0.1:5000/wpdock/busybox");
    free(error);
    free(l);
    wpd_arena_free(a);
}
END_TEST

START_TEST(pull_lines_shapes)
{
    wpd_arena *a = wpd_arena_new();
    wpd_pull_progress p;
    char *error = NULL;
    const char *prog = "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":32768,"
                       "\"total\":772788},\"progress\":\"[=>  ]  32.77kB/772.8kB\","
                       "\"id\":\"a3ed95caeb02\"}\r\n";
    ck_assert_int_eq(wpd_pull_line_parse(prog, strlen(prog), a, &p, &error), 1);
    ck_assert_str_eq(p.status, "Downloading");
    ck_assert_str_eq(p.id, "a3ed95caeb02");
    ck_assert_int_eq(p.current, 32768);
    ck_assert_int_eq(p.total, 772788);
    /* errorDetail wins over error; error alone counts too */
    const char *both = "{\"errorDetail\":{\"message\":\"detail text\"},\"error\":\"short\"}";
    ck_assert_int_eq(wpd_pull_line_parse(both, strlen(both), a, &p, &error), 2);
    ck_assert_str_eq(error, "detail text");
    free(error);
    error = NULL;
    const char *only = "{\"error\":\"manifest unknown\"}";
    ck_assert_int_eq(wpd_pull_line_parse(only, strlen(only), a, &p, &error), 2);
    ck_assert_str_eq(error, "manifest unknown");
    free(error);
    error = NULL;
    /* an empty errorDetail message falls back to "error" */
    const char *empty = "{\"errorDetail\":{\"message\":\"\"},\"error\":\"fallback\"}";
    ck_assert_int_eq(wpd_pull_line_parse(empty, strlen(empty), a, &p, &error), 2);
    ck_assert_str_eq(error, "fallback");
    free(error);
    error = NULL;
    /* garbage, blank lines, non-objects: ignored */
    const char *junk[] = {
        "", "\n", "   \r\n", "not json", "{\"status\":", "[1,2]", "42", "\"status\""};
    for (size_t k = 0; k < sizeof junk / sizeof *junk; k++) {
        ck_assert_msg(wpd_pull_line_parse(junk[k], strlen(junk[k]), a, &p, &error) == 0, "took %s",
                      junk[k]);
        ck_assert_ptr_null(error);
    }
    wpd_arena_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_api_resources");
    TCase *tc = tcase_create("resources");
    tcase_add_test(tc, net_list);
    tcase_add_test(tc, vol_list);
    tcase_add_test(tc, image_info);
    tcase_add_test(tc, pull_lines_real);
    tcase_add_test(tc, pull_lines_shapes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
