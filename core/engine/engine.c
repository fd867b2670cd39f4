/* engine.c - the engine client: picks the transport plugin for an
 * endpoint, negotiates the API version over /_ping, detects Docker vs
 * Podman, reads the platform from /info, and sends versioned Engine API
 * calls whose error responses become error values. */
#include "engine/engine.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wpdock/endpoint.h>

#include "util/buf.h"
#include "util/json.h"

struct wpd_engine {
    wpd_reactor *r;
    wpd_http_client *http;
    const wpd_plugin_info *plugin;
    wpd_conn_setup setup;
    char *name;
    char *endpoint;
    char *label;
    char pinned[32];
    char api_version[32];
    char engine_api[32];
    char engine_version[64];
    char libpod[32];
    char libpod_prefix[48];
    char os_type[32];
    char arch[64];
    char platform[96];
    wpd_engine_kind kind;
    wpd_engine_info info;
    int connected;
    int waits; /* exit waits in flight */
    wpd_engine_ready_fn ready_cb;
    void *ready_arg;
    int ping_fallback;
    struct call_ctx *calls; /* contexts of the calls in flight */
};

/* One call in flight: the caller's callbacks, freed when it completes (or
 * with the engine, whose HTTP client drops unfinished requests silently). */
struct call_ctx {
    wpd_engine *e;
    struct call_ctx *prev, *next;
    wpd_engine_done_fn done;
    wpd_http_headers_fn on_headers;
    wpd_http_data_fn on_data;
    void (*on_drop)(void *arg);
    void *arg;
    long status;        /* response status, once the headers are in */
    wpd_buf error_body; /* a streamed call's body when the status is an error */
};

static const char *env_lookup(void *ctx, const char *name)
{
    (void)ctx;
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *lookup2(wpd_lookup_fn lookup, void *ctx, const char *a, const char *b)
{
    const char *v = lookup(ctx, a);
    if (v && *v)
        return v;
    v = b ? lookup(ctx, b) : NULL;
    return v && *v ? v : NULL;
}

const char *wpd_endpoint_from_env(wpd_lookup_fn lookup, void *ctx)
{
    if (!lookup)
        lookup = env_lookup;
    const char *v = lookup2(lookup, ctx, "WOODPECKER_BACKEND_DOCKER_HOST", "DOCKER_HOST");
    return v ? v : WPD_DEFAULT_ENDPOINT;
}

int wpd_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10);
        long y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if ((!*a || !isdigit((unsigned char)*a)) && (!*b || !isdigit((unsigned char)*b)))
            break;
    }
    return 0;
}

static int valid_api_version(const char *v)
{
    const char *p = v;
    if (*p == 'v')
        p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p++ != '.')
        return 0;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

int wpd_api_negotiate(const char *pinned, const char *engine_max, const char *ours_max,
                      const char *ours_min, char *out, size_t outlen, wpd_error *err)
{
    if (pinned && *pinned) {
        if (!valid_api_version(pinned))
            return wpd_error_set(err, WPD_ERR_USAGE, 0,
                                 "API version \"%s\" (DOCKER_API_VERSION) is not of the form 1.41",
                                 pinned);
        snprintf(out, outlen, "%s", pinned[0] == 'v' ? pinned + 1 : pinned);
        return 0;
    }
    const char *engine = engine_max && *engine_max ? engine_max : ours_min;
    if (!valid_api_version(engine))
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "the engine reports API version \"%s\", which is not a version",
                             engine);
    if (engine[0] == 'v')
        engine++;
    if (wpd_version_cmp(engine, ours_min) < 0)
        return wpd_error_set(err, WPD_ERR_ENGINE, 0,
                             "the engine speaks Docker API %s at most, but wpdock needs %s or "
                             "newer: upgrade the engine (or pin a version with "
                             "DOCKER_API_VERSION at your own risk)",
                             engine, ours_min);
    snprintf(out, outlen, "%s", wpd_version_cmp(engine, ours_max) < 0 ? engine : ours_max);
    return 0;
}

void wpd_engine_error_from_body(long status, const char *content_type, const char *body, size_t len,
                                wpd_error *err)
{
    char *msg = NULL, *cause = NULL;
    int json_ct = content_type && strncmp(content_type, "application/json", 16) == 0;
    if (len && (json_ct || body[0] == '{')) {
        wpd_json j;
        if (wpd_json_parse(&j, body, len, NULL) == 0) {
            msg = wpd_json_get_str(&j, 0, "message");
            cause = wpd_json_get_str(&j, 0, "cause");
            wpd_json_free(&j);
        }
        if (msg && !*msg) { /* {"message":""}: fall back to the body text */
            free(msg);
            msg = NULL;
        }
    }
    if (!msg && len) {
        const char *s = body, *e = body + len;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (e > s)
            msg = wpd_xstrndup(s, (size_t)(e - s));
    }
    if (msg && *msg) {
        if (cause && *cause && !strstr(msg, cause))
            wpd_error_set(err, WPD_ERR_ENGINE, (int)status, "%s (%s)", msg, cause);
        else
            wpd_error_set(err, WPD_ERR_ENGINE, (int)status, "%s", msg);
    } else {
        wpd_error_set(err, WPD_ERR_ENGINE, (int)status,
                      "the engine answered HTTP %ld with an empty body (does it support the "
                      "requested API version?)",
                      status);
    }
    free(msg);
    free(cause);
}

const char *wpd_platform_arch(const char *arch)
{
    if (strcmp(arch, "x86_64") == 0)
        return "amd64";
    if (strcmp(arch, "aarch64") == 0)
        return "arm64";
    return arch;
}

static void refresh_info(wpd_engine *e)
{
    wpd_engine_info *i = &e->info;
    i->name = e->name;
    i->endpoint = e->endpoint;
    i->plugin_name = e->plugin->plugin->name;
    i->plugin_version = e->plugin->plugin->version;
    i->plugin_path = e->plugin->path;
    i->kind = e->kind;
    i->kind_name = e->kind == WPD_ENGINE_PODMAN   ? "podman"
                   : e->kind == WPD_ENGINE_DOCKER ? "docker"
                                                  : "unknown";
    i->engine_version = e->engine_version;
    i->engine_api_version = e->engine_api;
    i->api_version = e->api_version;
    i->api_pinned = e->pinned[0] != '\0';
    i->libpod_version = e->libpod;
    i->os_type = e->os_type;
    i->arch = e->arch;
    i->platform = e->platform;
    i->warning = e->setup.warning;
}

wpd_engine *wpd_engine_new(wpd_reactor *r, const wpd_plugin_registry *reg, const char *name,
                           const char *endpoint, wpd_lookup_fn lookup, void *ctx, wpd_error *err)
{
    if (!lookup)
        lookup = env_lookup;
    if (!endpoint || !*endpoint)
        endpoint = wpd_endpoint_from_env(lookup, ctx);
    /* only the scheme here: the plugin serving it validates the rest */
    char scheme[32];
    const char *sep = strstr(endpoint, "://");
    size_t sl = sep ? (size_t)(sep - endpoint) : 0;
    int ok = sl > 0 && sl < sizeof scheme;
    for (size_t i = 0; ok && i < sl; i++) {
        char c = (char)tolower((unsigned char)endpoint[i]);
        ok = isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
        scheme[i] = c;
    }
    if (!ok) {
        wpd_endpoint ep;
        char perr[256] = "";
        wpd_endpoint_parse(endpoint, &ep, perr, sizeof perr);
        wpd_error_set(err, WPD_ERR_USAGE, 0, "engine endpoint: %s", perr);
        return NULL;
    }
    scheme[sl] = '\0';
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, scheme);
    if (!pi) {
        wpd_buf served = WPD_BUF_INIT;
        for (size_t i = 0; i < wpd_plugins_count(reg); i++)
            for (const char *const *sc = wpd_plugins_get(reg, i)->plugin->schemes; *sc; sc++)
                wpd_buf_printf(&served, "%s%s://", served.len ? ", " : "", *sc);
        size_t refused = wpd_plugins_refused_count(reg);
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "engine endpoint %s: no transport plugin serves \"%s://\"; served: %s%s",
                      endpoint, scheme, served.len ? served.data : "none",
                      refused ? " (some plugin files were refused: `wpdock plugins` says why)"
                              : " (`wpdock plugins` lists the plugins found)");
        wpd_buf_free(&served);
        return NULL;
    }
    const char *pin =
        lookup2(lookup, ctx, "WOODPECKER_BACKEND_DOCKER_API_VERSION", "DOCKER_API_VERSION");
    if (pin && *pin && !valid_api_version(pin)) { /* before any request */
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "API version \"%s\" (DOCKER_API_VERSION) is not of the form 1.41", pin);
        return NULL;
    }
    wpd_engine *e = wpd_xcalloc(1, sizeof *e);
    e->r = r;
    e->plugin = pi;
    e->name = wpd_xstrdup(name ? name : "default");
    e->endpoint = wpd_xstrdup(endpoint);
    e->label = wpd_xasprintf("engine at %s", endpoint);
    if (pin)
        snprintf(e->pinned, sizeof e->pinned, "%s", pin);
    wpd_transport_options opts = {sizeof opts, lookup, ctx};
    char msg[WPD_TRANSPORT_MSG_MAX] = "";
    int orc = pi->plugin->open(endpoint, &opts, &e->setup, msg, sizeof msg);
    if (orc != 0) {
        /* WPD_TRANSPORT_BAD_ENDPOINT: the URI itself is wrong (a usage
         * error); anything else: the engine cannot be reached as set up */
        wpd_error_set(err, orc == WPD_TRANSPORT_BAD_ENDPOINT ? WPD_ERR_USAGE : WPD_ERR_CONNECT, 0,
                      "%s: %s", e->label,
                      msg[0] ? msg : "the transport plugin refused the endpoint");
        wpd_engine_free(e);
        return NULL;
    }
    e->setup.base_url[sizeof e->setup.base_url - 1] = '\0';
    e->setup.unix_path[sizeof e->setup.unix_path - 1] = '\0';
    e->setup.warning[sizeof e->setup.warning - 1] = '\0';
    if (strcmp(e->setup.engine_hint, "podman") == 0)
        e->kind = WPD_ENGINE_PODMAN;
    e->http = wpd_http_client_new(r, &e->setup);
    const wpd_transport_plugin *tp = pi->plugin;
    wpd_http_connect_fn conn = WPD_TRANSPORT_HAS(tp, connect) ? tp->connect : NULL;
    const char *const *hdrs =
        WPD_TRANSPORT_HAS(tp, headers) && tp->headers ? tp->headers(&e->setup) : NULL;
    if (conn || hdrs)
        wpd_http_client_set_transport(e->http, conn, hdrs);
    refresh_info(e);
    return e;
}

void wpd_engine_free(wpd_engine *e)
{
    if (!e)
        return;
    wpd_http_client_free(e->http);
    while (e->calls) {
        struct call_ctx *cc = e->calls;
        e->calls = cc->next;
        if (cc->on_drop)
            cc->on_drop(cc->arg);
        wpd_buf_free(&cc->error_body);
        free(cc);
    }
    if (e->plugin && e->plugin->plugin->close)
        e->plugin->plugin->close(&e->setup);
    free(e->name);
    free(e->endpoint);
    free(e->label);
    free(e);
}

const char *wpd_engine_label(const wpd_engine *e)
{
    return e->label;
}

wpd_engine_kind wpd_engine_get_kind(const wpd_engine *e)
{
    return e->kind;
}

const char *wpd_engine_libpod_prefix(const wpd_engine *e)
{
    return e->libpod_prefix;
}

int *wpd_engine_waits(wpd_engine *e)
{
    return &e->waits;
}

size_t wpd_engine_in_flight(const wpd_engine *e)
{
    return wpd_http_client_in_flight(e->http);
}

const wpd_engine_info *wpd_engine_get_info(const wpd_engine *e)
{
    return &e->info;
}

wpd_reactor *wpd_engine_reactor(const wpd_engine *e)
{
    return e->r;
}

int wpd_engine_connected(const wpd_engine *e)
{
    return e->connected;
}

/* ---- versioned calls ---- */

static void call_headers(wpd_http_request *req, const wpd_http_response *res, void *arg)
{
    struct call_ctx *cc = arg;
    cc->status = res->status;
    if (cc->on_headers && res->status < 400)
        cc->on_headers(req, res, cc->arg);
}

/* A streamed body goes to the caller unless the status is an error: then
 * it is the error message, kept for call_done. */
static int call_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    struct call_ctx *cc = arg;
    if (cc->status >= 400) {
        if (cc->error_body.len < 65536)
            wpd_buf_append(&cc->error_body, data, len);
        return 0;
    }
    return cc->on_data(req, data, len, cc->arg);
}

static void call_done(wpd_http_request *req, const wpd_http_response *res, const wpd_error *err,
                      void *arg)
{
    (void)req;
    struct call_ctx *cc = arg;
    if (cc->prev)
        cc->prev->next = cc->next;
    else
        cc->e->calls = cc->next;
    if (cc->next)
        cc->next->prev = cc->prev;
    wpd_error e2;
    if (err) {
        e2 = *err;
        /* a timeout after the response began is not a connection problem */
        if (err->kind == WPD_ERR_CONNECT || (err->kind == WPD_ERR_TIMEOUT && res->status == 0))
            wpd_error_prefix(&e2, "%s: cannot connect", cc->e->label);
        else if (err->kind == WPD_ERR_TIMEOUT)
            wpd_error_prefix(&e2, "%s", cc->e->label);
        cc->done(res, &e2, cc->arg);
    } else if (res->status >= 400) {
        const wpd_buf *body = cc->on_data ? &cc->error_body : &res->body;
        wpd_engine_error_from_body(res->status, wpd_http_header_get(res, "content-type"),
                                   body->data, body->len, &e2);
        cc->done(res, &e2, cc->arg);
    } else {
        cc->done(res, NULL, cc->arg);
    }
    wpd_buf_free(&cc->error_body);
    free(cc);
}

wpd_http_request *wpd_engine_call_start(wpd_engine *e, const wpd_engine_call *call)
{
    struct call_ctx *cc = wpd_xcalloc(1, sizeof *cc);
    cc->e = e;
    cc->done = call->on_done;
    cc->on_headers = call->on_headers;
    cc->on_data = call->on_data;
    cc->on_drop = call->on_drop;
    cc->arg = call->arg;
    cc->next = e->calls;
    if (e->calls)
        e->calls->prev = cc;
    e->calls = cc;
    char *path =
        call->unversioned
            ? wpd_xstrdup(call->path)
            : wpd_xasprintf("/v%s%s", e->api_version[0] ? e->api_version : WPD_API_VERSION_MIN,
                            call->path);
    wpd_http_spec spec = {
        .method = call->method,
        .path = path,
        .body = call->body,
        .body_len = call->body ? (call->body_len ? call->body_len : strlen(call->body)) : 0,
        .content_type = call->content_type,
        .headers = call->headers,
        .timeout_ms = call->timeout_ms,
        .on_headers = (call->on_headers || call->on_data) ? call_headers : NULL,
        .on_data = call->on_data ? call_data : NULL,
        .on_done = call_done,
        .arg = cc,
    };
    wpd_http_request *req = wpd_http_start(e->http, &spec);
    free(path);
    return req;
}

/* ---- connect: ping, negotiate, /version, /info ---- */

static void connect_finish(wpd_engine *e, const wpd_error *err)
{
    if (!err)
        e->connected = 1;
    refresh_info(e);
    e->ready_cb(e, err, e->ready_arg);
}

static void on_info(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    wpd_engine *e = arg;
    if (err) {
        wpd_error e2 = *err;
        if (err->kind != WPD_ERR_CONNECT)
            wpd_error_prefix(&e2, "%s: GET /info", e->label);
        connect_finish(e, &e2);
        return;
    }
    wpd_json j;
    wpd_error perr;
    if (wpd_json_parse(&j, res->body.data, res->body.len, &perr) != 0) {
        wpd_error_prefix(&perr, "%s: GET /info: unreadable answer", e->label);
        connect_finish(e, &perr);
        return;
    }
    char *os = wpd_json_get_str(&j, 0, "OSType");
    char *arch = wpd_json_get_str(&j, 0, "Architecture");
    snprintf(e->os_type, sizeof e->os_type, "%s", os && *os ? os : "linux");
    snprintf(e->arch, sizeof e->arch, "%s", arch ? arch : "");
    snprintf(e->platform, sizeof e->platform, "%s/%s", e->os_type, wpd_platform_arch(e->arch));
    if (!e->engine_version[0]) {
        char *v = wpd_json_get_str(&j, 0, "ServerVersion");
        if (v)
            snprintf(e->engine_version, sizeof e->engine_version, "%s", v);
        free(v);
    }
    free(os);
    free(arch);
    wpd_json_free(&j);
    connect_finish(e, NULL);
}

static void on_version(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    wpd_engine *e = arg;
    if (!err) {
        wpd_json j;
        if (wpd_json_parse(&j, res->body.data, res->body.len, NULL) == 0) {
            char *v = wpd_json_get_str(&j, 0, "Version");
            char *minv = wpd_json_get_str(&j, 0, "MinAPIVersion");
            if (v)
                snprintf(e->engine_version, sizeof e->engine_version, "%s", v);
            if (minv && !e->pinned[0] && wpd_version_cmp(e->api_version, minv) < 0) {
                wpd_error e2;
                wpd_error_set(&e2, WPD_ERR_ENGINE, 0,
                              "%s accepts API %s or newer only, but wpdock speaks %s at most",
                              e->label, minv, e->api_version);
                free(v);
                free(minv);
                wpd_json_free(&j);
                connect_finish(e, &e2);
                return;
            }
            free(v);
            free(minv);
            wpd_json_free(&j);
        }
    } else if (err->kind == WPD_ERR_CONNECT) {
        connect_finish(e, err);
        return;
    }
    wpd_engine_call c = {.method = "GET", .path = "/info", .on_done = on_info, .arg = e};
    wpd_engine_call_start(e, &c);
}

static void start_ping(wpd_engine *e, const char *method);

static void on_ping(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    wpd_engine *e = arg;
    if (err && (err->kind == WPD_ERR_CONNECT || err->kind == WPD_ERR_TIMEOUT)) {
        wpd_error e2 = *err;
        size_t n = strlen(e2.message);
        /* TLS problems are already explained; for the rest, a hint */
        if (!strstr(e2.message, "certificate") && !strstr(e2.message, "TLS"))
            snprintf(e2.message + n, sizeof e2.message - n,
                     " (is the engine running and is %s the right endpoint?)", e->endpoint);
        connect_finish(e, &e2);
        return;
    }
    long status = res ? res->status : 0;
    if ((err || (status != 200 && status != 500)) && !e->ping_fallback) {
        e->ping_fallback = 1;
        start_ping(e, "GET");
        return;
    }
    if (err && status != 500) {
        wpd_error e2 = *err;
        wpd_error_prefix(&e2, "%s: /_ping failed", e->label);
        if (status == 400 && strstr(err->message, "HTTP request to an HTTPS server")) {
            size_t n = strlen(e2.message);
            snprintf(e2.message + n, sizeof e2.message - n,
                     " (the engine does not speak plain HTTP on this port: it expects TLS, so "
                     "set DOCKER_CERT_PATH to a directory holding ca.pem, cert.pem and key.pem)");
        }
        connect_finish(e, &e2);
        return;
    }
    const char *api = wpd_http_header_get(res, "api-version");
    const char *libpod = wpd_http_header_get(res, "libpod-api-version");
    const char *server = wpd_http_header_get(res, "server");
    snprintf(e->engine_api, sizeof e->engine_api, "%s", api ? api : "");
    if (libpod || (server && strncmp(server, "Libpod", 6) == 0)) {
        e->kind = WPD_ENGINE_PODMAN;
        snprintf(e->libpod, sizeof e->libpod, "%s", libpod ? libpod : "");
        /* the libpod API is versioned by major release: /v4.0.0/libpod */
        snprintf(e->libpod_prefix, sizeof e->libpod_prefix, "/v%d.0.0/libpod",
                 libpod && atoi(libpod) > 0 ? atoi(libpod) : 4);
    } else {
        e->kind = WPD_ENGINE_DOCKER;
    }
    wpd_error nerr;
    if (wpd_api_negotiate(e->pinned, e->engine_api, WPD_API_VERSION_MAX, WPD_API_VERSION_MIN,
                          e->api_version, sizeof e->api_version, &nerr) != 0) {
        wpd_error_prefix(&nerr, "%s", e->label);
        connect_finish(e, &nerr);
        return;
    }
    wpd_engine_call c = {.method = "GET", .path = "/version", .on_done = on_version, .arg = e};
    wpd_engine_call_start(e, &c);
}

static void start_ping(wpd_engine *e, const char *method)
{
    wpd_engine_call c = {.method = method,
                         .path = "/_ping",
                         .unversioned = 1,
                         .timeout_ms = 30000,
                         .on_done = on_ping,
                         .arg = e};
    wpd_engine_call_start(e, &c);
}

void wpd_engine_connect(wpd_engine *e, wpd_engine_ready_fn cb, void *arg)
{
    e->ready_cb = cb;
    e->ready_arg = arg;
    e->ping_fallback = 0;
    e->connected = 0;
    start_ping(e, "HEAD");
}

struct sync_wait {
    bool done;
    wpd_error err;
    int failed;
};

static void on_sync_ready(wpd_engine *e, const wpd_error *err, void *arg)
{
    (void)e;
    struct sync_wait *w = arg;
    if (err) {
        w->failed = 1;
        w->err = *err;
    }
    w->done = true;
}

int wpd_engine_connect_sync(wpd_engine *e, wpd_error *err)
{
    struct sync_wait w = {0};
    wpd_engine_connect(e, on_sync_ready, &w);
    if (wpd_reactor_run_until(e->r, &w.done) != 0 && !w.done)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "%s: the event loop stopped early",
                             e->label);
    if (w.failed) {
        if (err)
            *err = w.err;
        return -1;
    }
    return 0;
}
