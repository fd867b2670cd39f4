/* foundation_fixtures.h - what the foundation tests share: the engines
 * under test ($WPDOCK_DOCKER_HOST, $WPDOCK_PODMAN_HOST), the build tree's
 * plugin directory, this machine's platform, what an engine says about
 * itself (asked directly with libcurl), and the library on one reactor
 * (an engine connected through the plugins, running the loop, a blocking
 * call). */
#ifndef WPDOCK_TEST_FOUNDATION_FIXTURES_H
#define WPDOCK_TEST_FOUNDATION_FIXTURES_H

#include <check.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include <wpdock/endpoint.h>

#include "engine/engine.h"
#include "io/http.h"
#include "util/buf.h"
#include "util/json.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

static inline const char *docker_host(void)
{
    return tu_env("WPDOCK_DOCKER_HOST", "unix:///var/run/docker.sock");
}

static inline const char *podman_host(void)
{
    return tu_env("WPDOCK_PODMAN_HOST", NULL);
}

/* The build tree's plugin directory: next to the CLI binary. */
static inline void transports_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", WPDOCK_CLI);
    char *slash = strrchr(out, '/');
    ck_assert_ptr_nonnull(slash);
    snprintf(slash, n - (size_t)(slash - out), "/transports");
}

/* Platform of this machine, spelled as the engine reports it. */
static inline void local_platform(char *out, size_t n)
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

static inline size_t facts_header(char *buf, size_t size, size_t n, void *arg)
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

static inline size_t facts_body(char *buf, size_t size, size_t n, void *arg)
{
    wpd_buf_append(arg, buf, size * n);
    return size * n;
}

static inline void engine_facts(const char *host, struct engine_facts *f)
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
static inline const char *expected_api(const struct engine_facts *f)
{
    return wpd_version_cmp(f->api, WPD_API_VERSION_MAX) < 0 ? f->api : WPD_API_VERSION_MAX;
}

/* ---- the library on one reactor ---- */

struct harness {
    wpd_reactor *r;
    wpd_plugin_registry *reg;
    wpd_engine *e;
};

static inline const char *no_config(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static inline void harness_open(struct harness *h, const char *host)
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

static inline void harness_close(struct harness *h)
{
    ck_assert_uint_eq(wpd_engine_in_flight(h->e), 0);
    wpd_engine_free(h->e);
    wpd_plugins_free(h->reg);
    wpd_reactor_free(h->r);
}

static inline void on_flag(void *arg)
{
    *(bool *)arg = true;
}

/* Run the loop for `ms` more milliseconds (to catch late callbacks). */
static inline void settle(wpd_reactor *r, long ms)
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

static inline void on_sync_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct sync_call *s = arg;
    s->status = res ? res->status : 0;
    if (err) {
        s->failed = 1;
        s->err = *err;
    }
    s->done = true;
}

static inline long call_sync(struct harness *h, const char *method, const char *path,
                             const char *body)
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

#endif
