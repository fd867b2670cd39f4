/* test_engine_api_containers.c - the container answers the typed Engine
 * API layer reads, without an engine: inspect and list of real Docker 20.10
 * and Podman 4.3 containers (tests/data/api/), running and exited,
 * hand-written edge cases and malformed bodies (WPD_ERR_PROTOCOL), and the
 * wait answers of both engines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "engine_api_fixtures.h"

/* ---- helpers ------------------------------------------------------------ */

static const wpd_port_binding *port(const wpd_ctr_info *info, int cport, const char *proto)
{
    for (size_t i = 0; i < info->n_ports; i++)
        if (info->ports[i].container_port == cport && strcmp(info->ports[i].proto, proto) == 0)
            return &info->ports[i];
    return NULL;
}

/* ---- container inspect -------------------------------------------------- */

static void parse_info(const char *file, wpd_arena *a, wpd_ctr_info *info)
{
    size_t len;
    char *body = data_file(file, &len);
    wpd_error err = {0};
    ck_assert_msg(wpd_ctr_info_parse(body, len, a, info, &err) == 0, "%s: %s", file, err.message);
    free(body); /* every string is in the arena */
}

static void common_labels(const wpd_ctr_info *info)
{
    ck_assert_uint_eq(info->n_labels, 4);
    ck_assert_str_eq(label(info->labels, info->n_labels, "wp_uuid"), "apitest-capture");
    ck_assert_str_eq(label(info->labels, info->n_labels, "wp_step"), "cap");
    /* keys and values are unescaped */
    ck_assert_str_eq(label(info->labels, info->n_labels, "quote\"key"), "va\\lue");
    ck_assert_ptr_nonnull(label(info->labels, info->n_labels, "wpdock.rootfs"));
}

START_TEST(inspect_docker_running)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    parse_info("docker-inspect-running.json", a, &i);
    ck_assert_str_eq(i.id, "4ba25ed111b553b112ef9fda68fe92f2b74fc625331b2f27afca5655f9a02cc8");
    ck_assert_str_eq(i.name, "wp_apitest_capture_docker_ctr");
    ck_assert_str_eq(i.image, "localhost/wpdock/busybox:latest");
    ck_assert_str_eq(i.status, "running");
    ck_assert(i.running && !i.paused && !i.restarting && !i.dead && !i.oom_killed);
    ck_assert_int_eq(i.exit_code, 0);
    ck_assert_int_eq(i.pid, 9372);
    ck_assert_str_eq(i.error, "");
    ck_assert_str_eq(i.started_at, "2026-12-02T00:36:38.755342619Z");
    ck_assert_str_eq(i.finished_at, "0001-01-01T00:00:00Z");
    ck_assert_str_eq(i.health, "healthy");
    ck_assert(!i.tty);
    common_labels(&i);
    /* one published port, one exposed and not published */
    ck_assert_uint_eq(i.n_ports, 2);
    const wpd_port_binding *p = port(&i, 8080, "tcp");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->host_ip, "127.0.0.1");
    ck_assert_int_eq(p->host_port, 32768);
    p = port(&i, 9090, "udp");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->host_ip, "");
    ck_assert_int_eq(p->host_port, 0);
    ck_assert_uint_eq(i.n_networks, 1);
    ck_assert_str_eq(i.networks[0].name, "wp_apitest_capture_docker_net");
    ck_assert_str_eq(i.networks[0].ip, "192.168.224.2");
    ck_assert_uint_eq(i.networks[0].n_aliases, 2);
    ck_assert_str_eq(i.networks[0].aliases[0], "capalias");
    ck_assert_str_eq(i.networks[0].aliases[1], "4ba25ed111b5");
    wpd_arena_free(a);
}
END_TEST

START_TEST(inspect_docker_exited)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    parse_info("docker-inspect-exited.json", a, &i);
    ck_assert_str_eq(i.status, "exited");
    ck_assert(!i.running);
    ck_assert_int_eq(i.exit_code, 137);
    ck_assert_int_eq(i.pid, 0);
    ck_assert_str_eq(i.finished_at, "2026-12-02T00:36:43.087211146Z");
    ck_assert_str_eq(i.health, "unhealthy");
    common_labels(&i);
    /* Docker drops the port map of a stopped container ("Ports":{}) */
    ck_assert_uint_eq(i.n_ports, 0);
    /* and its address, keeping the endpoint */
    ck_assert_uint_eq(i.n_networks, 1);
    ck_assert_str_eq(i.networks[0].ip, "");
    wpd_arena_free(a);
}
END_TEST

START_TEST(inspect_podman_running)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    parse_info("podman-inspect-running.json", a, &i);
    ck_assert_str_eq(i.id, "be88b8470ae00193eb95fb87b49181074de8e0cc6024a3a7cf90a60417e95c72");
    ck_assert_str_eq(i.name, "wp_apitest_capture_podman_ctr");
    ck_assert_str_eq(i.image, "localhost/wpdock/busybox:latest");
    ck_assert_str_eq(i.status, "running");
    ck_assert(i.running);
    ck_assert_int_eq(i.pid, 10800);
    /* Podman's health checks need systemd timers: still "starting" */
    ck_assert_str_eq(i.health, "starting");
    common_labels(&i);
    ck_assert_uint_eq(i.n_ports, 2);
    const wpd_port_binding *p = port(&i, 8080, "tcp");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->host_ip, "127.0.0.1");
    ck_assert_int_eq(p->host_port, 43223);
    p = port(&i, 9090, "udp");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->host_port, 0);
    ck_assert_uint_eq(i.n_networks, 1);
    ck_assert_str_eq(i.networks[0].name, "wp_apitest_capture_podman_net");
    ck_assert_str_eq(i.networks[0].ip, "10.89.0.2");
    ck_assert_str_eq(i.networks[0].aliases[0], "capalias");
    wpd_arena_free(a);
}
END_TEST

START_TEST(inspect_podman_exited)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    parse_info("podman-inspect-exited.json", a, &i);
    ck_assert_str_eq(i.status, "exited");
    ck_assert(!i.running);
    ck_assert_int_eq(i.exit_code, 137);
    ck_assert_str_eq(i.finished_at, "2026-12-02T00:36:49.635476601Z");
    /* unlike Docker, Podman keeps the published ports of a stopped container */
    ck_assert_uint_eq(i.n_ports, 2);
    ck_assert_int_eq(port(&i, 8080, "tcp")->host_port, 43223);
    ck_assert_uint_eq(i.n_networks, 1);
    ck_assert_str_eq(i.networks[0].ip, "");
    wpd_arena_free(a);
}
END_TEST

START_TEST(inspect_edge_cases)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    wpd_error err = {0};
    /* the least an engine may say: absent strings read as "" */
    ck_assert_int_eq(wpd_ctr_info_parse("{}", 2, a, &i, &err), 0);
    ck_assert_str_eq(i.id, "");
    ck_assert_str_eq(i.name, "");
    ck_assert_str_eq(i.health, "");
    ck_assert_uint_eq(i.n_labels, 0);
    ck_assert_uint_eq(i.n_ports, 0);
    ck_assert_uint_eq(i.n_networks, 0);
    /* labels null, a TTY, an OOM kill, a port without protocol, ports null */
    const char *b = "{\"Id\":\"x\",\"Name\":\"noslash\",\"Config\":{\"Tty\":true,\"Labels\":null},"
                    "\"State\":{\"Status\":\"exited\",\"OOMKilled\":true,\"ExitCode\":4294967295,"
                    "\"Error\":\"boom\",\"Dead\":true},"
                    "\"NetworkSettings\":{\"Ports\":{\"53\":[{\"HostIp\":\"::\",\"HostPort\":"
                    "\"5353\"},{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"5353\"}]},"
                    "\"Networks\":{\"n\":{\"IPAddress\":\"10.0.0.2\",\"Aliases\":null}}}}";
    ck_assert_int_eq(wpd_ctr_info_parse(b, strlen(b), a, &i, &err), 0);
    ck_assert_str_eq(i.name, "noslash");
    ck_assert(i.tty && i.oom_killed && i.dead);
    ck_assert_int_eq(i.exit_code, 4294967295LL);
    ck_assert_str_eq(i.error, "boom");
    ck_assert_uint_eq(i.n_labels, 0);
    ck_assert_uint_eq(i.n_ports, 2);
    ck_assert_int_eq(i.ports[0].container_port, 53);
    ck_assert_str_eq(i.ports[0].proto, "tcp");
    ck_assert_str_eq(i.ports[0].host_ip, "::");
    ck_assert_str_eq(i.ports[1].host_ip, "0.0.0.0");
    ck_assert_uint_eq(i.networks[0].n_aliases, 0);
    wpd_arena_free(a);
}
END_TEST

START_TEST(inspect_malformed)
{
    const char *bad[] = {"",  "   ",  "{",         "[]",         "\"text\"",
                         "3", "null", "{\"Id\":}", "{\"a\":1}x", "<html>bad gateway</html>"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        wpd_arena *a = wpd_arena_new();
        wpd_ctr_info i;
        wpd_error err = {0};
        ck_assert_msg(wpd_ctr_info_parse(bad[k], strlen(bad[k]), a, &i, &err) == -1, "accepted %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_contains(err.message, "container inspect");
        wpd_arena_free(a);
    }
    /* a NULL body (no body at all) */
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info i;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_ctr_info_parse(NULL, 0, a, &i, &err), -1);
    protocol_error(&err, "NULL");
    wpd_arena_free(a);
}
END_TEST

/* ---- lists ---------------------------------------------------------------- */

START_TEST(ctr_list_real)
{
    const char *files[] = {"docker-ps.json", "podman-ps.json"};
    const char *ids[] = {"4ba25ed111b553b112ef9fda68fe92f2b74fc625331b2f27afca5655f9a02cc8",
                         "be88b8470ae00193eb95fb87b49181074de8e0cc6024a3a7cf90a60417e95c72"};
    const char *names[] = {"wp_apitest_capture_docker_ctr", "wp_apitest_capture_podman_ctr"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        wpd_ctr_summary *v;
        size_t n;
        wpd_error err = {0};
        ck_assert_msg(wpd_ctr_list_parse(body, len, a, &v, &n, &err) == 0, "%s", err.message);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(v[0].id, ids[k]);
        ck_assert_str_eq(v[0].name, names[k]);
        ck_assert_str_eq(v[0].image, "localhost/wpdock/busybox:latest");
        ck_assert_str_eq(v[0].state, "running");
        ck_assert_uint_eq(v[0].n_labels, 4);
        ck_assert_str_eq(label(v[0].labels, v[0].n_labels, "quote\"key"), "va\\lue");
        wpd_arena_free(a);
        free(body);
    }
}
END_TEST

START_TEST(ctr_list_edges)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_summary *v;
    size_t n;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_ctr_list_parse("[]", 2, a, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    /* an entry without an id is skipped; no names, labels null */
    const char *b = "[{\"Names\":[\"/ghost\"]},{\"Id\":\"abc\",\"Names\":null,\"Labels\":null,"
                    "\"State\":\"created\"},{\"Id\":\"def\",\"Names\":[\"/one\",\"/two\"]}]";
    ck_assert_int_eq(wpd_ctr_list_parse(b, strlen(b), a, &v, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(v[0].id, "abc");
    ck_assert_str_eq(v[0].name, "");
    ck_assert_str_eq(v[0].state, "created");
    ck_assert_uint_eq(v[0].n_labels, 0);
    ck_assert_str_eq(v[1].name, "one");
    const char *bad[] = {"", "{}", "{\"Containers\":[]}", "[", "null"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_msg(wpd_ctr_list_parse(bad[k], strlen(bad[k]), a, &v, &n, &err) == -1,
                      "accepted %s", bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_uint_eq(n, 0);
    }
    wpd_arena_free(a);
}
END_TEST

/* ---- wait ---------------------------------------------------------------- */

START_TEST(wait_bodies)
{
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_waited w;
    wpd_error err = {0};
    /* Docker's answer, both key orders seen (Docker, Podman's compat wait) */
    const char *d = "{\"Error\":null,\"StatusCode\":137}";
    ck_assert_int_eq(wpd_ctr_wait_parse(d, strlen(d), a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, 137);
    ck_assert(w.status_known);
    ck_assert_str_eq(w.error, "");
    const char *pc = "{\"StatusCode\":3,\"Error\":null}";
    ck_assert_int_eq(wpd_ctr_wait_parse(pc, strlen(pc), a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, 3);
    /* with an error of the daemon */
    const char *e = "{\"StatusCode\":0,\"Error\":{\"Message\":\"container removed \\\"x\\\"\"}}";
    ck_assert_int_eq(wpd_ctr_wait_parse(e, strlen(e), a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, 0);
    ck_assert_str_eq(w.error, "container removed \"x\"");
    const char *em = "{\"StatusCode\":1,\"Error\":{\"Message\":\"\"}}";
    ck_assert_int_eq(wpd_ctr_wait_parse(em, strlen(em), a, &w, &err), 0);
    ck_assert_str_eq(w.error, "");
    /* libpod: a bare number, with surrounding whitespace */
    ck_assert_int_eq(wpd_ctr_wait_parse("3", 1, a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, 3);
    ck_assert_int_eq(wpd_ctr_wait_parse(" 137\n", 5, a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, 137);
    ck_assert_int_eq(wpd_ctr_wait_parse("-1", 2, a, &w, &err), 0);
    ck_assert_int_eq(w.status_code, -1);
    ck_assert(w.status_known);
    /* an object without a status code: readable, the code unknown */
    ck_assert_int_eq(wpd_ctr_wait_parse("{}", 2, a, &w, &err), 0);
    ck_assert(!w.status_known);
    /* unreadable */
    const char *bad[] = {"", "{", "3x", "{\"StatusCode\":}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_msg(wpd_ctr_wait_parse(bad[k], strlen(bad[k]), a, &w, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_int_eq(w.status_code, 0);
        ck_assert(!w.status_known);
    }
    wpd_arena_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_api_containers");
    TCase *tc = tcase_create("containers");
    tcase_add_test(tc, inspect_docker_running);
    tcase_add_test(tc, inspect_docker_exited);
    tcase_add_test(tc, inspect_podman_running);
    tcase_add_test(tc, inspect_podman_exited);
    tcase_add_test(tc, inspect_edge_cases);
    tcase_add_test(tc, inspect_malformed);
    tcase_add_test(tc, ctr_list_real);
    tcase_add_test(tc, ctr_list_edges);
    tcase_add_test(tc, wait_bodies);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
