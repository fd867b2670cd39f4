/* fuzz_engine_resp.c - readers of Engine API answers (core/engine/parse.c
 * wpd_resp_*, container_info.c, containers.c, images.c, exec.c,
 * networks.c, volumes.c; error bodies in engine.c, classified by
 * dialect.c; /_ping headers and API version negotiation).
 *
 * Input: [selector][answer]. The selector picks the reader: container
 * inspect, wait, list; image inspect; exec create, inspect; network list;
 * volume list; an HTTP error body (with its status and Content-Type from
 * two more bytes) then every dialect classification of the error; or
 * /_ping response headers ("Name: value" lines) and the negotiation of
 * the API version they announce.
 *
 * Asserts: a refused answer is a WPD_ERR_PROTOCOL error with a message; an
 * accepted one has every string set, every array as long as it says and
 * port numbers of 0-65535;
 * an error body always becomes a WPD_ERR_ENGINE error with the status and
 * a non-empty message; a negotiated version has the form N.N, and unless
 * pinned lies between wpdock's minimum and maximum. */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "engine/containers.h"
#include "engine/dialect.h"
#include "engine/engine.h"
#include "engine/exec.h"
#include "engine/images.h"
#include "engine/networks.h"
#include "engine/parse.h"
#include "engine/volumes.h"
#include "io/http.h"

static void check_pairs(const wpd_pair *p, size_t n)
{
    FZ_ASSERT(n == 0 || p);
    for (size_t i = 0; i < n; i++)
        FZ_ASSERT(p[i].key && p[i].value);
}

static void check_strings(const char *const *v, size_t n)
{
    FZ_ASSERT(n == 0 || v);
    for (size_t i = 0; i < n; i++)
        FZ_ASSERT(v[i]);
}

static void refused(int rc, const wpd_error *err)
{
    FZ_ASSERT(rc == -1 && err->kind == WPD_ERR_PROTOCOL && err->message[0]);
}

static void ctr_info(const char *b, size_t n, wpd_arena *a)
{
    wpd_ctr_info i;
    wpd_error err;
    int rc = wpd_ctr_info_parse(b, n, a, &i, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(i.id && i.name && i.image && i.status && i.error && i.started_at);
    FZ_ASSERT(i.finished_at && i.health);
    check_pairs(i.labels, i.n_labels);
    FZ_ASSERT(i.n_ports == 0 || i.ports);
    for (size_t k = 0; k < i.n_ports; k++) {
        FZ_ASSERT(i.ports[k].proto && i.ports[k].host_ip);
        FZ_ASSERT(i.ports[k].container_port >= 0 && i.ports[k].container_port <= 65535);
        FZ_ASSERT(i.ports[k].host_port >= 0 && i.ports[k].host_port <= 65535);
    }
    FZ_ASSERT(i.n_networks == 0 || i.networks);
    for (size_t k = 0; k < i.n_networks; k++) {
        FZ_ASSERT(i.networks[k].name && i.networks[k].ip);
        check_strings(i.networks[k].aliases, i.networks[k].n_aliases);
    }
}

static void ctr_wait(const char *b, size_t n, wpd_arena *a)
{
    wpd_ctr_waited w;
    wpd_error err;
    int rc = wpd_ctr_wait_parse(b, n, a, &w, &err);
    FZ_ASSERT(w.error);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(w.status_known || w.status_code == 0);
}

static void ctr_list(const char *b, size_t n, wpd_arena *a)
{
    wpd_ctr_summary *v;
    size_t cnt;
    wpd_error err;
    int rc = wpd_ctr_list_parse(b, n, a, &v, &cnt, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(cnt == 0 || v);
    for (size_t k = 0; k < cnt; k++) {
        FZ_ASSERT(v[k].id && v[k].id[0] && v[k].name && v[k].image && v[k].state);
        check_pairs(v[k].labels, v[k].n_labels);
    }
}

static void image_info(const char *b, size_t n, wpd_arena *a)
{
    wpd_image_info i;
    wpd_error err;
    int rc = wpd_image_info_parse(b, n, a, &i, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(i.id && i.os && i.arch);
    check_strings(i.repo_tags, i.n_repo_tags);
}

static void exec_create(const char *b, size_t n, wpd_arena *a)
{
    const char *id = NULL;
    wpd_error err;
    int rc = wpd_exec_create_parse(b, n, a, &id, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(id && id[0]);
}

static void exec_info(const char *b, size_t n, wpd_arena *a)
{
    wpd_exec_info i;
    wpd_error err;
    int rc = wpd_exec_info_parse(b, n, a, &i, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(i.id && i.container_id);
    FZ_ASSERT(i.has_exit_code || i.exit_code == 0);
}

static void net_list(const char *b, size_t n, wpd_arena *a)
{
    wpd_net_summary *v;
    size_t cnt;
    wpd_error err;
    int rc = wpd_net_list_parse(b, n, a, &v, &cnt, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(cnt == 0 || v);
    for (size_t k = 0; k < cnt; k++) {
        FZ_ASSERT(v[k].id && v[k].name && v[k].driver);
        check_pairs(v[k].labels, v[k].n_labels);
    }
}

static void vol_list(const char *b, size_t n, wpd_arena *a)
{
    wpd_vol_summary *v;
    size_t cnt;
    wpd_error err;
    int rc = wpd_vol_list_parse(b, n, a, &v, &cnt, &err);
    if (rc != 0)
        return refused(rc, &err);
    FZ_ASSERT(cnt == 0 || v);
    for (size_t k = 0; k < cnt; k++) {
        FZ_ASSERT(v[k].name && v[k].driver && v[k].mountpoint);
        check_pairs(v[k].labels, v[k].n_labels);
    }
}

static void error_body(fz_in *in)
{
    static const long statuses[] = {304, 400, 404, 409, 500, 503};
    static const char *const types[] = {NULL, "application/json", "text/plain; charset=utf-8"};
    long status = statuses[fz_byte(in) % 6];
    const char *ct = types[fz_byte(in) % 3];
    wpd_error err;
    wpd_engine_error_from_body(status, ct, (const char *)in->p, in->n, &err);
    FZ_ASSERT(err.kind == WPD_ERR_ENGINE && err.status == status);
    FZ_ASSERT(err.message[0] && strlen(err.message) < WPD_ERROR_MAX);
    static const wpd_change_op ops[] = {WPD_CHANGE_OP_START,          WPD_CHANGE_OP_STOP,
                                        WPD_CHANGE_OP_KILL,           WPD_CHANGE_OP_REMOVE,
                                        WPD_CHANGE_OP_REMOVE_NETWORK, WPD_CHANGE_OP_REMOVE_VOLUME};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        wpd_change out = WPD_CHANGE_DONE;
        if (wpd_dialect_harmless(ops[i], &err, &out))
            FZ_ASSERT(out == WPD_CHANGE_ALREADY || out == WPD_CHANGE_NOT_FOUND);
        else
            FZ_ASSERT(out == WPD_CHANGE_DONE);
    }
    (void)wpd_dialect_in_use(&err);
    (void)wpd_dialect_exec_not_running(&err);
    (void)wpd_dialect_name_conflict(&err);
}

static int version_form(const char *v)
{
    const char *p = v;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

/* Header lines as the HTTP layer stores them: name lower-cased, value
 * trimmed; the status line and lines without ':' are skipped. */
static void ping_headers(const char *b, size_t n)
{
    wpd_http_header hs[32];
    size_t nh = 0;
    size_t pos = 0;
    while (pos < n && nh < 32) {
        const char *line = b + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        pos += len + (nl ? 1 : 0);
        const char *colon = memchr(line, ':', len);
        if (!colon || (len >= 5 && memcmp(line, "HTTP/", 5) == 0))
            continue;
        const char *v = colon + 1, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == ' '))
            end--;
        hs[nh].name = wpd_xstrndup(line, (size_t)(colon - line));
        for (char *p = hs[nh].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        hs[nh].value = wpd_xstrndup(v, (size_t)(end - v));
        nh++;
    }
    wpd_http_response res = {.status = 200, .headers = hs, .n_headers = nh};
    const char *api = wpd_http_header_get(&res, "api-version");
    const char *pinned = wpd_http_header_get(&res, "x-pinned-version");
    (void)wpd_http_header_get(&res, "libpod-api-version");
    (void)wpd_http_header_get(&res, "server");
    char out[32];
    wpd_error err;
    if (wpd_api_negotiate(pinned, api ? api : "", WPD_API_VERSION_MAX, WPD_API_VERSION_MIN, out,
                          sizeof out, &err) == 0) {
        if (pinned && *pinned) { /* the pinned version as given, without a 'v' */
            const char *want = pinned[0] == 'v' ? pinned + 1 : pinned;
            FZ_ASSERT(strncmp(out, want, sizeof out - 1) == 0);
            FZ_ASSERT(strlen(want) >= sizeof out || version_form(out));
        } else {
            FZ_ASSERT(version_form(out));
        }
        if (!(pinned && *pinned)) {
            FZ_ASSERT(wpd_version_cmp(out, WPD_API_VERSION_MIN) >= 0);
            FZ_ASSERT(wpd_version_cmp(out, WPD_API_VERSION_MAX) <= 0);
        }
    } else {
        FZ_ASSERT(err.message[0]);
    }
    if (api && pinned)
        FZ_ASSERT(wpd_version_cmp(api, pinned) == -wpd_version_cmp(pinned, api));
    for (size_t i = 0; i < nh; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned sel = fz_byte(&in) % 10;
    const char *b = (const char *)in.p;
    size_t n = in.n;
    wpd_arena *a = wpd_arena_new();
    switch (sel) {
    case 0: ctr_info(b, n, a); break;
    case 1: ctr_wait(b, n, a); break;
    case 2: ctr_list(b, n, a); break;
    case 3: image_info(b, n, a); break;
    case 4: exec_create(b, n, a); break;
    case 5: exec_info(b, n, a); break;
    case 6: net_list(b, n, a); break;
    case 7: vol_list(b, n, a); break;
    case 8: error_body(&in); break;
    default: ping_headers(b, n); break;
    }
    wpd_arena_free(a);
    return 0;
}
