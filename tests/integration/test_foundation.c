/* test_foundation.c - the foundation against a real engine: `wpdock info`
 * (text and JSON, pinned API version, unreachable and malformed
 * endpoints), 500 concurrent requests through one reactor, and
 * cancellation of in-flight requests (from a timer, right after start,
 * from inside a streaming callback, by the data callback, by a timeout,
 * by freeing the engine). Docker at $WPDOCK_DOCKER_HOST (default
 * unix:///var/run/docker.sock) must answer, or the tests fail; the Podman
 * service at $WPDOCK_PODMAN_HOST is tested too when that is set. */
#define _GNU_SOURCE
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <wpdock/endpoint.h>

#include "engine/engine.h"
#include "io/http.h"
#include "util/json.h"
#include "testutil.h"

#define N_PINGS 500

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

static const char *docker_host(void)
{
    return tu_env("WPDOCK_DOCKER_HOST", "unix:///var/run/docker.sock");
}

static const char *podman_host(void)
{
    return tu_env("WPDOCK_PODMAN_HOST", NULL);
}

/* The build tree's plugin directory: next to the CLI binary. */
static void transports_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", WPDOCK_CLI);
    char *slash = strrchr(out, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash, n - (size_t)(slash - out), "/transports");
}

/* Platform of this machine, spelled as the engine reports it. */
static void local_platform(char *out, size_t n)
{
    struct utsname u;
    ck_assert_int_eq(uname(&u), 0);
    const char *arch = u.machine;
    if (strcmp(arch, "x86_64") == 0)
        arch = "amd64";
    else if (strcmp(arch, "aarch64") == 0)
        arch = "arm64";
    snprintf(out, n, "linux/%s", arch);
}

/* ---- what the engine says about itself, asked directly with libcurl ---- */

struct engine_facts {
    char api[32];     /* Api-Version header of /_ping */
    char libpod[32];  /* Libpod-Api-Version header, "" for Docker */
    char version[64]; /* "Version" of /version */
};

static size_t facts_header(char *buf, size_t size, size_t n, void *arg)
{
    struct engine_facts *f = arg;
    size_t len = size * n;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)len, buf);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Api-Version: ", 13) == 0)
        snprintf(f->api, sizeof f->api, "%.31s", line + 13);
    else if (strncasecmp(line, "Libpod-Api-Version: ", 20) == 0)
        snprintf(f->libpod, sizeof f->libpod, "%.31s", line + 20);
    return len;
}

static size_t facts_body(char *buf, size_t size, size_t n, void *arg)
{
    wpd_buf_append(arg, buf, size * n);
    return size * n;
}

static void engine_facts(const char *host, struct engine_facts *f)
{
    memset(f, 0, sizeof *f);
    wpd_endpoint ep;
    char perr[256];
    ck_assert_msg(wpd_endpoint_parse(host, &ep, perr, sizeof perr) == 0, "%s", perr);
    ck_assert_msg(strcmp(ep.scheme, "unix") == 0, "tests expect a unix:// engine, not %s", host);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    wpd_buf body = WPD_BUF_INIT;
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ep.path);
    curl_easy_setopt(c, CURLOPT_URL, "http://localhost/_ping");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, facts_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, facts_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    ck_assert_msg(rc == CURLE_OK, "engine at %s does not answer /_ping: %s", host,
                  curl_easy_strerror(rc));
    ck_assert_msg(f->api[0], "engine at %s sent no Api-Version", host);
    wpd_buf_reset(&body);
    curl_easy_setopt(c, CURLOPT_URL, "http://localhost/version");
    rc = curl_easy_perform(c);
    ck_assert_msg(rc == CURLE_OK, "GET /version: %s", curl_easy_strerror(rc));
    wpd_json j;
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&j, body.data, body.len, &err) == 0, "%s", err.message);
    char *v = wpd_json_get_str(&j, 0, "Version");
    ck_assert_ptr_nonnull(v);
    snprintf(f->version, sizeof f->version, "%s", v);
    free(v);
    wpd_json_free(&j);
    wpd_buf_free(&body);
    curl_easy_cleanup(c);
}

/* The API version wpdock must negotiate with an engine that speaks `api`. */
static const char *expected_api(const struct engine_facts *f)
{
    return wpd_version_cmp(f->api, WPD_API_VERSION_MAX) < 0 ? f->api : WPD_API_VERSION_MAX;
}

/* ---- running the CLI ---- */

/* Environment for one CLI run: the engine to use and nothing else. */
static void cli_env(const char *host)
{
    unsetenv("WOODPECKER_BACKEND_DOCKER_HOST");
    unsetenv("WOODPECKER_BACKEND_DOCKER_API_VERSION");
    unsetenv("DOCKER_API_VERSION");
    unsetenv("WPDOCK_PLUGIN_PATH");
    if (host)
        setenv("DOCKER_HOST", host, 1);
    else
        unsetenv("DOCKER_HOST");
}

/* Run `wpdock ARGS`; returns the exit status, *out = stdout, *err = stderr. */
static int run_cli(const char *args, char **out, char **err)
{
    char errfile[] = "/tmp/wpdock-foundation-err-XXXXXX";
    int fd = mkstemp(errfile);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *cmd = wpd_xasprintf("'%s' %s 2>'%s'", WPDOCK_CLI, args, errfile);
    int rc = tu_run(cmd, 0, out);
    free(cmd);
    char *e = tu_read_file(errfile, NULL);
    unlink(errfile);
    ck_assert_ptr_nonnull(e);
    /* a sanitizer report is always a failure */
    ck_assert_msg(!strstr(e, "Sanitizer"), "wpdock %s: %s", args, e);
    if (err)
        *err = e;
    else
        free(e);
    return rc;
}

static void check_info_text(const char *host, const char *kind)
{
    struct engine_facts f;
    engine_facts(host, &f);
    char tdir[4096], plugin_file[4200], platform[128], line[4400];
    transports_dir(tdir, sizeof tdir);
    snprintf(plugin_file, sizeof plugin_file, "%s/wpdock-unix.so", tdir);
    local_platform(platform, sizeof platform);

    cli_env(host);
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_msg(rc == 0, "wpdock info exited %d: %s", rc, err);
    snprintf(line, sizeof line, "endpoint:     %s\n", host);
    ck_assert_contains(out, line);
    ck_assert_contains(out, "unix");
    snprintf(line, sizeof line, "transport:    unix 1.0.0 (%s)\n", plugin_file);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "engine:       %s %s", kind, f.version);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "api version:  %s (negotiated: engine up to %s, wpdock up to %s)",
             expected_api(&f), f.api, WPD_API_VERSION_MAX);
    ck_assert_contains(out, line);
    snprintf(line, sizeof line, "platform:     %s\n", platform);
    ck_assert_contains(out, line);
    if (f.libpod[0]) {
        snprintf(line, sizeof line, "(libpod API %s)", f.libpod);
        ck_assert_contains(out, line);
    } else {
        ck_assert_ptr_null(strstr(out, "libpod"));
    }
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}

static void check_info_json(const char *host, const char *kind)
{
    struct engine_facts f;
    engine_facts(host, &f);
    char tdir[4096], plugin_file[4200], platform[128];
    transports_dir(tdir, sizeof tdir);
    snprintf(plugin_file, sizeof plugin_file, "%s/wpdock-unix.so", tdir);
    local_platform(platform, sizeof platform);

    cli_env(host);
    char *out, *err;
    int rc = run_cli("info --format json", &out, &err);
    ck_assert_msg(rc == 0, "wpdock info exited %d: %s", rc, err);
    wpd_json j;
    wpd_error perr;
    ck_assert_msg(wpd_json_parse(&j, out, strlen(out), &perr) == 0, "%s: %s", perr.message, out);
    struct {
        const char *key, *want;
    } fields[] = {
        {"endpoint", host},
        {"transport", "unix"},
        {"transport_version", "1.0.0"},
        {"transport_file", plugin_file},
        {"engine", kind},
        {"engine_version", f.version},
        {"engine_api_version", f.api},
        {"api_version", expected_api(&f)},
        {"libpod_api_version", f.libpod},
        {"platform", platform},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char *v = wpd_json_get_str(&j, 0, fields[i].key);
        ck_assert_msg(v != NULL, "no \"%s\" in %s", fields[i].key, out);
        ck_assert_msg(strcmp(v, fields[i].want) == 0, "%s: \"%s\", want \"%s\"", fields[i].key, v,
                      fields[i].want);
        free(v);
    }
    bool pinned = true;
    ck_assert_int_eq(wpd_json_get_bool(&j, 0, "api_pinned", &pinned), 0);
    ck_assert(!pinned);
    wpd_json_free(&j);
    ck_assert_str_eq(err, "");
    free(out);
    free(err);
}

START_TEST(info_docker_text)
{
    check_info_text(docker_host(), "docker");
}
END_TEST

START_TEST(info_docker_json)
{
    check_info_json(docker_host(), "docker");
}
END_TEST

START_TEST(info_host_option_and_pinned_version)
{
    /* -H wins over DOCKER_HOST; DOCKER_API_VERSION pins the version */
    cli_env("unix:///tmp/not-this-one.sock");
    setenv("DOCKER_API_VERSION", "1.40", 1);
    char *args = wpd_xasprintf("info -H '%s'", docker_host());
    char *out, *err;
    int rc = run_cli(args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_contains(out, "api version:  1.40 (pinned");
    free(out);
    free(err);
    free(args);

    args = wpd_xasprintf("info --format json --host '%s'", docker_host());
    rc = run_cli(args, &out, &err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_contains(out, "\"api_version\":\"1.40\"");
    ck_assert_contains(out, "\"api_pinned\":true");
    free(out);
    free(err);
    free(args);
}
END_TEST

START_TEST(info_podman)
{
    const char *host = podman_host();
    if (!host)
        return; /* WPDOCK_PODMAN_HOST not set: this machine runs Docker only */
    check_info_text(host, "podman");
    check_info_json(host, "podman");
}
END_TEST

START_TEST(info_missing_socket)
{
    const char *path = "/tmp/definitely-missing.sock";
    ck_assert_msg(access(path, F_OK) != 0, "%s exists; remove it", path);
    cli_env("unix:///tmp/definitely-missing.sock");
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, path);
    ck_assert_contains(err, "does not exist");
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    /* the same through -H, with JSON output requested */
    cli_env(NULL);
    rc = run_cli("info --format json -H unix:///tmp/definitely-missing.sock", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, path);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
}
END_TEST

START_TEST(info_refused_connection)
{
    /* a socket file nobody listens on */
    char dir[] = "/tmp/wpdock-refused-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/dead.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    close(fd);
    char host[256];
    snprintf(host, sizeof host, "unix://%s", sun.sun_path);
    cli_env(host);
    char *out, *err;
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, host);
    ck_assert_contains(err, "is the engine running");
    free(out);
    free(err);
    unlink(sun.sun_path);
    rmdir(dir);
}
END_TEST

START_TEST(info_bad_endpoints)
{
    char *out, *err;
    cli_env("garbage");
    int rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "\"garbage\"");
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    /* a scheme no plugin serves */
    cli_env("ftp:///x");
    rc = run_cli("info", &out, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_contains(err, "ftp://");
    ck_assert_contains(err, "wpdock plugins");
    free(out);
    free(err);

    cli_env(docker_host());
    rc = run_cli("info --format yaml", &out, &err);
    ck_assert_int_eq(rc, 2);
    ck_assert_contains(err, "yaml");
    free(out);
    free(err);

    rc = run_cli("info extra", &out, &err);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
}
END_TEST

/* ---- the library on one reactor ---- */

struct harness {
    wpd_reactor *r;
    wpd_plugin_registry *reg;
    wpd_engine *e;
};

static const char *no_config(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void harness_open(struct harness *h, const char *host)
{
    wpd_error err;
    wpd_error_clear(&err);
    h->r = wpd_reactor_new(&err);
    ck_assert_msg(h->r != NULL, "%s", err.message);
    char dir[4096];
    transports_dir(dir, sizeof dir);
    h->reg = wpd_plugins_load((const char *[]){dir, NULL});
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(h->reg, "unix"));
    h->e = wpd_engine_new(h->r, h->reg, "test", host, no_config, NULL, &err);
    ck_assert_msg(h->e != NULL, "%s", err.message);
    ck_assert_msg(wpd_engine_connect_sync(h->e, &err) == 0, "engine at %s unreachable: %s", host,
                  err.message);
    ck_assert(wpd_engine_connected(h->e));
}

static void harness_close(struct harness *h)
{
    ck_assert_uint_eq(wpd_engine_in_flight(h->e), 0);
    wpd_engine_free(h->e);
    wpd_plugins_free(h->reg);
    wpd_reactor_free(h->r);
}

static void on_flag(void *arg)
{
    *(bool *)arg = true;
}

/* Run the loop for `ms` more milliseconds (to catch late callbacks). */
static void settle(wpd_reactor *r, long ms)
{
    bool fired = false;
    wpd_timer *t = wpd_timer_new(r, on_flag, &fired);
    wpd_timer_start(t, ms);
    ck_assert_int_eq(wpd_reactor_run_until(r, &fired), 0);
    wpd_timer_free(t);
}

/* A blocking engine call for setup and cleanup steps. */
struct sync_call {
    bool done;
    long status;
    int failed;
    wpd_error err;
};

static void on_sync_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct sync_call *s = arg;
    s->status = res ? res->status : 0;
    if (err) {
        s->failed = 1;
        s->err = *err;
    }
    s->done = true;
}

static long call_sync(struct harness *h, const char *method, const char *path, const char *body)
{
    struct sync_call s = {0};
    wpd_engine_call c = {
        .method = method, .path = path, .body = body, .on_done = on_sync_done, .arg = &s};
    wpd_engine_call_start(h->e, &c);
    ck_assert_int_eq(wpd_reactor_run_until(h->r, &s.done), 0);
    ck_assert_msg(!s.failed || s.err.kind == WPD_ERR_ENGINE, "%s %s: %s", method, path,
                  s.err.message);
    return s.status;
}

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
    Suite *s = suite_create("foundation");
    TCase *ti = tcase_create("info");
    tcase_set_timeout(ti, 300);
    tcase_add_test(ti, info_docker_text);
    tcase_add_test(ti, info_docker_json);
    tcase_add_test(ti, info_host_option_and_pinned_version);
    tcase_add_test(ti, info_podman);
    tcase_add_test(ti, info_missing_socket);
    tcase_add_test(ti, info_refused_connection);
    tcase_add_test(ti, info_bad_endpoints);
    suite_add_tcase(s, ti);
    TCase *tr = tcase_create("reactor");
    tcase_set_timeout(tr, 300);
    tcase_add_test(tr, connect_negotiates);
    tcase_add_test(tr, pings_docker);
    tcase_add_test(tr, pings_podman);
    suite_add_tcase(s, tr);
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
