/* test_engine_api.c - every response shape the typed Engine API layer
 * reads, without an engine: real Docker 20.10 and Podman 4.3 answers
 * recorded in tests/data/api/ (inspect, list, image, exec, events, pull,
 * archive stat and tar, error bodies of every state change), hand-written
 * edge cases, malformed bodies (WPD_ERR_PROTOCOL), the request encoders
 * (filters, path escaping, create/connect bodies, events and wait paths),
 * the Docker/Podman classification of dialect.c and exec.h, and the tar
 * builder and reader of archive.h. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/archive.h"
#include "engine/call.h"
#include "engine/containers.h"
#include "engine/dialect.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "util/base64.h"
#include "util/json.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

/* ---- helpers ------------------------------------------------------------ */

static char *data_file(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/api/%s", TEST_DATA_DIR, name);
    char *s = tu_read_file(path, len);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    return s;
}

/* Line n (0-based) of a JSON-lines file, malloc'd. */
static char *data_line(const char *name, int n)
{
    char *all = data_file(name, NULL);
    char *p = all;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    ck_assert_msg(p && *p, "%s has no line %d", name, n);
    char *out = wpd_xstrndup(p, strcspn(p, "\n"));
    free(all);
    return out;
}

static const char *label(const wpd_pair *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return v[i].value;
    return NULL;
}

static const wpd_port_binding *port(const wpd_ctr_info *info, int cport, const char *proto)
{
    for (size_t i = 0; i < info->n_ports; i++)
        if (info->ports[i].container_port == cport && strcmp(info->ports[i].proto, proto) == 0)
            return &info->ports[i];
    return NULL;
}

static void protocol_error(const wpd_error *err, const char *what)
{
    ck_assert_msg(err->kind == WPD_ERR_PROTOCOL, "%s: kind %s (%s)", what,
                  wpd_errkind_name(err->kind), err->message);
    ck_assert_msg(err->message[0], "%s: empty message", what);
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

/* The recorded error answer `op` of an engine: status and error value. */
static long recorded_error(const char *engine, const char *op, wpd_error *err)
{
    char file[64];
    snprintf(file, sizeof file, "%s-errors.jsonl", engine);
    char *all = data_file(file, NULL);
    long status = -1;
    for (char *line = strtok(all, "\n"); line && status < 0; line = strtok(NULL, "\n")) {
        wpd_json j;
        wpd_error perr;
        ck_assert_msg(wpd_json_parse(&j, line, strlen(line), &perr) == 0, "%s: %s", file,
                      perr.message);
        char *name = wpd_json_get_str(&j, 0, "op");
        if (name && strcmp(name, op) == 0) {
            int64_t st = 0;
            ck_assert_int_eq(wpd_json_get_int64(&j, 0, "status", &st), 0);
            size_t blen = 0;
            char *body = wpd_json_strn(&j, wpd_json_get(&j, 0, "body"), &blen);
            status = (long)st;
            if (status >= 400)
                wpd_engine_error_from_body(status, "application/json", body, blen, err);
            free(body);
        }
        free(name);
        wpd_json_free(&j);
    }
    free(all);
    ck_assert_msg(status >= 0, "%s has no answer %s", file, op);
    return status;
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

/* ---- exec ---------------------------------------------------------------- */

START_TEST(exec_bodies)
{
    wpd_buf b = WPD_BUF_INIT;
    const char *cmd[] = {"sh", "-c", "echo \"$A\"; exit 3"};
    const char *env[] = {"A=b c", "EMPTY="};
    wpd_exec_spec s = {.cmd = cmd,
                       .n_cmd = 3,
                       .env = env,
                       .n_env = 2,
                       .user = "1000:1000",
                       .working_dir = "/tmp",
                       .attach_stdout = true,
                       .attach_stderr = true};
    wpd_exec_create_body(&s, &b);
    ck_assert_str_eq(
        wpd_buf_cstr(&b),
        "{\"AttachStdin\":false,\"AttachStdout\":true,\"AttachStderr\":true,"
        "\"Tty\":false,\"Cmd\":[\"sh\",\"-c\",\"echo \\\"$A\\\"; exit 3\"],"
        "\"Env\":[\"A=b c\",\"EMPTY=\"],\"User\":\"1000:1000\",\"WorkingDir\":\"/tmp\"}");
    wpd_buf_reset(&b);
    /* the container's user and directory, a TTY, privileged */
    wpd_exec_spec t = {.cmd = cmd, .n_cmd = 1, .user = "", .tty = true, .privileged = true};
    wpd_exec_create_body(&t, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b),
                     "{\"AttachStdin\":false,\"AttachStdout\":false,\"AttachStderr\":false,"
                     "\"Tty\":true,\"Cmd\":[\"sh\"],\"Privileged\":true}");
    wpd_buf_reset(&b);
    wpd_exec_start_body(false, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Detach\":false,\"Tty\":false}");
    wpd_buf_reset(&b);
    wpd_exec_start_body(true, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "{\"Detach\":false,\"Tty\":true}");
    wpd_buf_free(&b);
}
END_TEST

START_TEST(exec_create_answers)
{
    const char *files[] = {"docker-exec-create.json", "podman-exec-create.json"};
    const char *ids[] = {"cfe381b0f2b7fba593b42601b90c0578585202057ee6cb350aef19b08aefe904",
                         "11b3b5b92c9609c4a6c804022876c364aec9d97ab2e2777f08a8f97d5a605f5a"};
    wpd_arena *a = wpd_arena_new();
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *body = data_file(files[k], &len);
        const char *id;
        wpd_error err = {0};
        ck_assert_msg(wpd_exec_create_parse(body, len, a, &id, &err) == 0, "%s", err.message);
        ck_assert_str_eq(id, ids[k]);
        free(body);
    }
    /* an exec has no other name: an answer without an id is an error */
    const char *bad[] = {"", "{}", "{\"Id\":\"\"}", "{\"Id\":3}", "[\"x\"]", "{\"Id\":\"x\""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        const char *id;
        wpd_error err = {0};
        ck_assert_msg(wpd_exec_create_parse(bad[k], strlen(bad[k]), a, &id, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_str_eq(id, "");
    }
    wpd_arena_free(a);
}
END_TEST

static void exec_info(const char *file, wpd_arena *a, wpd_exec_info *info)
{
    size_t len;
    char *body = data_file(file, &len);
    wpd_error err = {0};
    ck_assert_msg(wpd_exec_info_parse(body, len, a, info, &err) == 0, "%s: %s", file, err.message);
    free(body);
}

START_TEST(exec_inspect_answers)
{
    wpd_arena *a = wpd_arena_new();
    wpd_exec_info i;
    /* Docker: no exit code before the end ("ExitCode":null), the pid kept */
    exec_info("docker-exec-created.json", a, &i);
    ck_assert_str_eq(i.id, "cfe381b0f2b7fba593b42601b90c0578585202057ee6cb350aef19b08aefe904");
    ck_assert_str_eq(i.container_id,
                     "81ce2941a69382a323e16eb038fcdd84e4993242b931b52818857189fc107a86");
    ck_assert(!i.running && !i.has_exit_code && !i.tty);
    ck_assert_int_eq(i.exit_code, 0);
    ck_assert_int_eq(i.pid, 0);
    exec_info("docker-exec-running.json", a, &i);
    ck_assert(i.running && !i.has_exit_code);
    ck_assert_int_eq(i.pid, 23729);
    exec_info("docker-exec-exited.json", a, &i);
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 3);
    ck_assert_int_eq(i.pid, 23729);
    /* Podman: 0 before the end, the pid cleared after it */
    exec_info("podman-exec-created.json", a, &i);
    ck_assert_str_eq(i.id, "11b3b5b92c9609c4a6c804022876c364aec9d97ab2e2777f08a8f97d5a605f5a");
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 0);
    exec_info("podman-exec-running.json", a, &i);
    ck_assert(i.running);
    ck_assert_int_eq(i.pid, 24292);
    exec_info("podman-exec-exited.json", a, &i);
    ck_assert(!i.running && i.has_exit_code);
    ck_assert_int_eq(i.exit_code, 3);
    ck_assert_int_eq(i.pid, 0);
    /* a TTY exec */
    const char *tty = "{\"ID\":\"e\",\"Running\":false,\"ExitCode\":0,\"ProcessConfig\":{\"tty\":"
                      "true}}";
    wpd_error err = {0};
    ck_assert_int_eq(wpd_exec_info_parse(tty, strlen(tty), a, &i, &err), 0);
    ck_assert(i.tty && i.has_exit_code);
    const char *bad[] = {"", "[]", "{\"ID\"", "null"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(wpd_exec_info_parse(bad[k], strlen(bad[k]), a, &i, &err), -1);
        protocol_error(&err, bad[k]);
    }
    wpd_arena_free(a);
}
END_TEST

START_TEST(exec_not_running)
{
    const char *engines[] = {"docker", "podman"};
    const long statuses[] = {409, 500};
    for (int k = 0; k < 2; k++) {
        wpd_error err;
        ck_assert_int_eq(recorded_error(engines[k], "exec_exited", &err), statuses[k]);
        ck_assert_msg(wpd_dialect_exec_not_running(&err), "%s: %s", engines[k], err.message);
        /* a missing container is no stopped one */
        recorded_error(engines[k], "start_missing", &err);
        ck_assert(!wpd_dialect_exec_not_running(&err));
        /* nor is a kill refused by Podman, or a name conflict */
        recorded_error(engines[k], "create_duplicate", &err);
        ck_assert(!wpd_dialect_exec_not_running(&err));
    }
    wpd_error err;
    recorded_error("podman", "kill_exited", &err);
    ck_assert_msg(!wpd_dialect_exec_not_running(&err), "%s", err.message);
    ck_assert(!wpd_dialect_exec_not_running(NULL));
    wpd_error_set(&err, WPD_ERR_CONNECT, 0, "is not running");
    ck_assert(!wpd_dialect_exec_not_running(&err));
}
END_TEST

/* ---- archive stat --------------------------------------------------------- */

/* The recorded stat header of path on an engine. */
static char *recorded_stat(const char *engine, const char *path)
{
    char file[64];
    snprintf(file, sizeof file, "%s-archive-stat.txt", engine);
    char *all = data_file(file, NULL);
    char *found = NULL;
    size_t pl = strlen(path);
    for (char *line = strtok(all, "\n"); line && !found; line = strtok(NULL, "\n"))
        if (strncmp(line, path, pl) == 0 && line[pl] == ' ')
            found = wpd_xstrdup(line + pl + 1);
    free(all);
    ck_assert_msg(found != NULL, "%s has no stat of %s", file, path);
    return found;
}

static void stat_of(const char *engine, const char *path, wpd_arena *a, wpd_path_stat *st)
{
    char *v = recorded_stat(engine, path);
    wpd_error err = {0};
    ck_assert_msg(wpd_path_stat_parse(v, strlen(v), a, st, &err) == 0, "%s %s: %s", engine, path,
                  err.message);
    free(v);
}

START_TEST(path_stats)
{
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    stat_of("docker", "/etc/hostname", a, &st);
    ck_assert_str_eq(st.name, "hostname");
    ck_assert_int_eq(st.size, 13);
    ck_assert_uint_eq(st.mode, 0644);
    ck_assert_uint_eq(st.perm, 0644);
    ck_assert(!st.is_dir && !st.is_symlink);
    ck_assert_str_eq(st.mtime, "2026-12-02T00:49:53.891500322Z");
    ck_assert_str_eq(st.link_target, "");
    /* a directory: Go's ModeDir | ModeSticky | 0777 */
    stat_of("docker", "/tmp", a, &st);
    ck_assert_str_eq(st.name, "tmp");
    ck_assert_uint_eq(st.mode, 2148532735u);
    ck_assert_uint_eq(st.perm, 0777);
    ck_assert(st.is_dir && !st.is_symlink);
    stat_of("docker", "/bin/sh", a, &st);
    ck_assert_str_eq(st.name, "sh");
    ck_assert(st.is_symlink && !st.is_dir);
    ck_assert_str_eq(st.link_target, "/bin/busybox");
    /* Podman: "isDir", and linkTarget is the resolved path of every file */
    stat_of("podman", "/etc/hostname", a, &st);
    ck_assert_str_eq(st.name, "hostname");
    ck_assert_int_eq(st.size, 12);
    ck_assert(!st.is_dir && !st.is_symlink);
    ck_assert_str_eq(st.link_target, "/etc/hostname");
    stat_of("podman", "/tmp", a, &st);
    ck_assert(st.is_dir);
    ck_assert_str_eq(st.link_target, "/tmp");
    stat_of("podman", "/bin/sh", a, &st);
    ck_assert_str_eq(st.name, "busybox"); /* the link's target, unlike Docker */
    ck_assert(st.is_symlink);
    /* "isDir" alone makes a directory */
    const char *dir = "{\"name\":\"d\",\"mode\":493,\"isDir\":true}";
    char *v = wpd_base64_encode(dir, strlen(dir));
    wpd_error err = {0};
    ck_assert_int_eq(wpd_path_stat_parse(v, strlen(v), a, &st, &err), 0);
    ck_assert(st.is_dir);
    ck_assert_uint_eq(st.perm, 0755);
    free(v);
    /* surrounding blanks of a header value are ignored */
    char *raw = recorded_stat("docker", "/tmp");
    char *padded = wpd_xasprintf("  %s \t", raw);
    ck_assert_int_eq(wpd_path_stat_parse(padded, strlen(padded), a, &st, &err), 0);
    ck_assert(st.is_dir);
    free(padded);
    free(raw);
    wpd_arena_free(a);
}
END_TEST

START_TEST(path_stats_malformed)
{
    wpd_arena *a = wpd_arena_new();
    wpd_path_stat st;
    char *not_json = wpd_base64_encode("name=x", 6);
    char *array = wpd_base64_encode("[1]", 3);
    char *cut = wpd_base64_encode("{\"name\":\"x\"", 11);
    const char *bad[] = {"", "   ", "!!!!", "eyJuYW1lIjo", not_json, array, cut};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        wpd_error err = {0};
        ck_assert_msg(wpd_path_stat_parse(bad[k], strlen(bad[k]), a, &st, &err) == -1, "took %s",
                      bad[k]);
        protocol_error(&err, bad[k]);
        ck_assert_str_eq(st.name, "");
    }
    free(not_json);
    free(array);
    free(cut);
    wpd_arena_free(a);
}
END_TEST

/* ---- tar ------------------------------------------------------------------ */

static int next_ok(const char *tar, size_t len, size_t *off, wpd_arena *a, wpd_tar_entry *e)
{
    wpd_error err = {0};
    int rc = wpd_tar_next(tar, len, off, a, e, &err);
    ck_assert_msg(rc >= 0, "tar_next at %zu: %s", *off, err.message);
    return rc;
}

START_TEST(tar_build_exact)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = "hello.txt",
                      .mode = 0640,
                      .uid = 1000,
                      .gid = 100,
                      .mtime = 1700000000,
                      .data = "hello archive",
                      .len = 13};
    wpd_error err = {0};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    ck_assert_uint_eq(b.len, 512 + 512 + 1024);
    const unsigned char *h = (const unsigned char *)b.data;
    ck_assert_str_eq((const char *)h, "hello.txt");
    ck_assert_str_eq((const char *)h + 100, "0000640");
    ck_assert_str_eq((const char *)h + 108, "0001750");
    ck_assert_str_eq((const char *)h + 116, "0000144");
    ck_assert_str_eq((const char *)h + 124, "00000000015");
    ck_assert_str_eq((const char *)h + 136, "14524770400");
    ck_assert_int_eq(h[156], '0');
    ck_assert_str_eq((const char *)h + 257, "ustar");
    ck_assert_int_eq(h[263], '0');
    ck_assert_int_eq(h[264], '0');
    /* checksum: six octal digits, NUL, space; over the header with the
     * field read as spaces */
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    char want[8];
    snprintf(want, sizeof want, "%06o", sum);
    ck_assert_int_eq(memcmp(h + 148, want, 6), 0);
    ck_assert_int_eq(h[154], '\0');
    ck_assert_int_eq(h[155], ' ');
    ck_assert_int_eq(memcmp(b.data + 512, "hello archive", 13), 0);
    for (size_t i = 512 + 13; i < b.len; i++)
        ck_assert_int_eq(b.data[i], 0);
    /* and it reads back */
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "hello.txt");
    ck_assert_int_eq(e.type, '0');
    ck_assert_uint_eq(e.mode, 0640);
    ck_assert_uint_eq(e.uid, 1000);
    ck_assert_uint_eq(e.gid, 100);
    ck_assert_int_eq(e.mtime, 1700000000);
    ck_assert_int_eq(e.size, 13);
    ck_assert_int_eq(memcmp(e.data, "hello archive", 13), 0);
    ck_assert_str_eq(e.link_name, "");
    ck_assert_uint_eq(off, 1024);
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 0);
    wpd_arena_free(a);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(tar_build_sizes_and_names)
{
    wpd_arena *a = wpd_arena_new();
    wpd_error err = {0};
    /* empty contents, exactly one block, one byte over */
    const size_t sizes[] = {0, 512, 513, 100000};
    for (size_t k = 0; k < 4; k++) {
        char *data = wpd_xmalloc(sizes[k] + 1);
        for (size_t i = 0; i < sizes[k]; i++)
            data[i] = (char)(i * 7 + k);
        wpd_buf b = WPD_BUF_INIT;
        wpd_tar_file f = {.name = "d/f.bin", .mode = 0755, .data = data, .len = sizes[k]};
        ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
        ck_assert_uint_eq(b.len, 512 + (sizes[k] + 511) / 512 * 512 + 1024);
        size_t off = 0;
        wpd_tar_entry e;
        ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
        ck_assert_str_eq(e.name, "d/f.bin");
        ck_assert_int_eq(e.size, (int64_t)sizes[k]);
        ck_assert_int_eq(memcmp(e.data, data, sizes[k]), 0);
        ck_assert_uint_eq(e.mode, 0755);
        ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 0);
        wpd_buf_free(&b);
        free(data);
    }
    /* a name over 100 bytes goes to the prefix field at a '/' */
    char name[256];
    memset(name, 'p', 120);
    name[120] = '/';
    memset(name + 121, 'n', 90);
    name[211] = '\0';
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = name, .mode = 0644, .data = "x", .len = 1};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    ck_assert_uint_eq(strnlen(b.data, 100), 90);
    ck_assert_uint_eq(strnlen(b.data + 345, 155), 120);
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(b.data, b.len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, name);
    wpd_buf_free(&b);
    /* names that do not fit, an empty name: refused, nothing written */
    char flat[160];
    memset(flat, 'z', 150);
    flat[150] = '\0';
    char deep[300];
    memset(deep, 'q', 299);
    deep[100] = '/';
    deep[299] = '\0';
    const char *refused[] = {"", flat, deep};
    for (size_t k = 0; k < 3; k++) {
        wpd_buf r = WPD_BUF_INIT;
        wpd_tar_file g = {.name = refused[k], .data = "x", .len = 1};
        ck_assert_int_eq(wpd_tar_one_file(&g, &r, &err), -1);
        ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
        ck_assert_uint_eq(r.len, 0);
        wpd_buf_free(&r);
    }
    wpd_tar_file nul = {.name = NULL};
    ck_assert_int_eq(wpd_tar_one_file(&nul, &b, &err), -1);
    wpd_arena_free(a);
}
END_TEST

START_TEST(tar_read_engines)
{
    /* what Docker and Podman answered to GET archive?path=/tmp/hello.txt */
    const char *files[] = {"docker-archive-hello.tar", "podman-archive-hello.tar"};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *tar = data_file(files[k], &len);
        wpd_arena *a = wpd_arena_new();
        size_t off = 0;
        wpd_tar_entry e;
        ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
        ck_assert_str_eq(e.name, "hello.txt");
        ck_assert_int_eq(e.type, '0');
        ck_assert_uint_eq(e.mode, 0640);
        ck_assert_int_eq(e.size, 13);
        ck_assert_int_eq(memcmp(e.data, "hello archive", 13), 0);
        ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
        wpd_arena_free(a);
        free(tar);
    }
}
END_TEST

START_TEST(tar_read_long_names)
{
    const char *longname = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/"
                           "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee/"
                           "ffffffffffffffffffffffffffffff.txt";
    /* GNU tar --format=gnu: an 'L' entry, a symlink, a directory */
    size_t len;
    char *tar = data_file("gnu-long.tar", &len);
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry e;
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, longname);
    ck_assert_int_eq(e.size, 19);
    ck_assert_int_eq(memcmp(e.data, "long name contents\n", 19), 0);
    ck_assert_int_eq(e.mtime, 1700000000);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "link");
    ck_assert_int_eq(e.type, '2');
    ck_assert_str_eq(e.link_name, "target.txt");
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "sub/");
    ck_assert_int_eq(e.type, '5');
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, "sub/x");
    ck_assert_int_eq(e.size, 1);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
    free(tar);
    /* --format=pax: an 'x' header with path= */
    tar = data_file("pax-long.tar", &len);
    off = 0;
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 1);
    ck_assert_str_eq(e.name, longname);
    ck_assert_int_eq(e.size, 19);
    ck_assert_int_eq(memcmp(e.data, "long name contents\n", 19), 0);
    ck_assert_int_eq(next_ok(tar, len, &off, a, &e), 0);
    free(tar);
    wpd_arena_free(a);
}
END_TEST

START_TEST(tar_read_malformed)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_tar_file f = {.name = "a", .mode = 0644, .data = "0123456789", .len = 10};
    wpd_error err = {0};
    ck_assert_int_eq(wpd_tar_one_file(&f, &b, &err), 0);
    wpd_arena *a = wpd_arena_new();
    wpd_tar_entry e;
    size_t off;
    /* nothing at all, or only the end blocks: the end */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 0, &off, a, &e, &err), 0);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data + 1024, 1024, &off, a, &e, &err), 0);
    /* a header cut short */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 300, &off, a, &e, &err), -1);
    protocol_error(&err, "short header");
    /* data cut short */
    off = 0;
    ck_assert_int_eq(wpd_tar_next(b.data, 515, &off, a, &e, &err), -1);
    protocol_error(&err, "short data");
    ck_assert_contains(err.message, "cut short");
    /* a flipped byte breaks the checksum */
    char *copy = wpd_xmalloc(b.len);
    memcpy(copy, b.data, b.len);
    copy[0] = 'b';
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "checksum");
    ck_assert_contains(err.message, "checksum");
    /* a size field that is not octal (checksum fixed up) */
    memcpy(copy, b.data, b.len);
    memcpy(copy + 124, "0000000001x", 11);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)copy[i];
    snprintf(copy + 148, 8, "%06o", sum);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "bad size");
    /* not a tar at all */
    memset(copy, 'x', b.len);
    off = 0;
    ck_assert_int_eq(wpd_tar_next(copy, b.len, &off, a, &e, &err), -1);
    protocol_error(&err, "garbage");
    free(copy);
    wpd_arena_free(a);
    wpd_buf_free(&b);
}
END_TEST

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
    Suite *s = suite_create("engine_api");
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
    TCase *tr = tcase_create("resources");
    tcase_add_test(tr, net_list);
    tcase_add_test(tr, vol_list);
    tcase_add_test(tr, image_info);
    tcase_add_test(tr, pull_lines_real);
    tcase_add_test(tr, pull_lines_shapes);
    suite_add_tcase(s, tr);
    TCase *te = tcase_create("encoders");
    tcase_add_test(te, path_escape);
    tcase_add_test(te, filters);
    tcase_add_test(te, create_bodies);
    suite_add_tcase(s, te);
    TCase *td = tcase_create("dialect");
    tcase_add_test(td, harmless_recorded);
    tcase_add_test(td, harmless_texts);
    tcase_add_test(td, in_use);
    tcase_add_test(td, name_conflict);
    tcase_add_test(td, wait_paths);
    suite_add_tcase(s, td);
    TCase *tx = tcase_create("exec");
    tcase_add_test(tx, exec_bodies);
    tcase_add_test(tx, exec_create_answers);
    tcase_add_test(tx, exec_inspect_answers);
    tcase_add_test(tx, exec_not_running);
    suite_add_tcase(s, tx);
    TCase *ta = tcase_create("archive");
    tcase_add_test(ta, path_stats);
    tcase_add_test(ta, path_stats_malformed);
    tcase_add_test(ta, tar_build_exact);
    tcase_add_test(ta, tar_build_sizes_and_names);
    tcase_add_test(ta, tar_read_engines);
    tcase_add_test(ta, tar_read_long_names);
    tcase_add_test(ta, tar_read_malformed);
    suite_add_tcase(s, ta);
    TCase *tv = tcase_create("events");
    tcase_add_test(tv, events_docker);
    tcase_add_test(tv, events_podman);
    tcase_add_test(tv, events_shapes);
    tcase_add_test(tv, events_paths);
    suite_add_tcase(s, tv);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
