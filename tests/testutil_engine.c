/* testutil_engine.c - the engine under test (endpoint, kind, certificates,
 * test image), direct requests to it, and the check that a wpdock exec run
 * left no container, network or volume behind. */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"
#include "testutil_private.h"

/* ------------------------------------------------------------------------
 * The engine under test */

const char *tu_engine_host(void)
{
    const char *h = tu_env("WPDOCK_TEST_ENGINE_HOST", NULL);
    return h ? h : tu_env("WPDOCK_DOCKER_HOST", "unix:///var/run/docker.sock");
}

const char *tu_engine_kind(void)
{
    return tu_env("WPDOCK_TEST_ENGINE_KIND", "docker");
}

int tu_engine_is_podman(void)
{
    return strcmp(tu_engine_kind(), "podman") == 0;
}

const char *tu_engine_cert_path(void)
{
    const char *c = tu_env("WPDOCK_TEST_ENGINE_CERT_PATH", NULL);
    if (c)
        return c;
    const char *tls = tu_env("WPDOCK_DOCKER_TLS_HOST", NULL);
    if (tls && strcmp(tls, tu_engine_host()) == 0)
        return tu_env("WPDOCK_DOCKER_CERT_PATH", NULL);
    return NULL;
}

const char *tu_test_image(void)
{
    return tu_env("WPDOCK_TEST_IMAGE", "localhost/wpdock/busybox:latest");
}

static size_t engine_write(char *data, size_t size, size_t n, void *arg)
{
    wpd_buf_append(arg, data, size * n);
    return size * n;
}

long tu_engine_request(const char *method, const char *path, const char *json_body, char **body)
{
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_ALL);
        curl_ready = 1;
    }
    /* an engine reached through a tunnel (ssh://) is inspected directly */
    const char *direct = getenv("WPDOCK_TEST_ENGINE_DIRECT");
    const char *host = direct && *direct ? direct : tu_engine_host();
    const char *certs = direct && *direct ? NULL : tu_engine_cert_path();
    wpd_buf out = WPD_BUF_INIT, url = WPD_BUF_INIT;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *c = curl_easy_init();
    char *files[3] = {NULL, NULL, NULL};
    if (strncmp(host, "unix://", 7) == 0) {
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, host + 7);
        wpd_buf_printf(&url, "http://localhost%s", path);
    } else if (strncmp(host, "tcp://", 6) == 0) {
        wpd_buf_printf(&url, "%s://%s%s", certs ? "https" : "http", host + 6, path);
        if (certs) {
            files[0] = wpd_xasprintf("%s/ca.pem", certs);
            files[1] = wpd_xasprintf("%s/cert.pem", certs);
            files[2] = wpd_xasprintf("%s/key.pem", certs);
            curl_easy_setopt(c, CURLOPT_CAINFO, files[0]);
            curl_easy_setopt(c, CURLOPT_SSLCERT, files[1]);
            curl_easy_setopt(c, CURLOPT_SSLKEY, files[2]);
        }
    } else {
        wpd_buf_printf(&url, "%s%s", host, path);
    }
    struct curl_slist *hdr = NULL;
    curl_easy_setopt(c, CURLOPT_URL, wpd_buf_cstr(&url));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (json_body || strcmp(method, "POST") == 0) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body ? json_body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(json_body ? strlen(json_body) : 0));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, engine_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    } else {
        wpd_buf_reset(&out);
        wpd_buf_printf(&out, "engine at %s: %s", host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    for (int i = 0; i < 3; i++)
        free(files[i]);
    wpd_buf_free(&url);
    if (body)
        *body = wpd_buf_steal(&out);
    else
        wpd_buf_free(&out);
    return status;
}

char *tu_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    wpd_buf b = WPD_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            wpd_buf_putc(&b, (char)*p);
        else
            wpd_buf_printf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return wpd_buf_steal(&b);
}

/* ------------------------------------------------------------------------
 * What a run left behind */

/* The window in which wpdock generated the ids of this run (ms since the
 * epoch). The workflow id and the uuids of steps without one are ULIDs made
 * in one go while the input is parsed: when the events show a generated
 * step uuid, the workflow id is from the same few milliseconds; otherwise
 * the window is the time between the start of wpdock and its first output. */
static void id_window(const tu_exec *x, long long *lo, long long *hi)
{
    *lo = x->t_spawn_ms - 2;
    *hi = x->t_first_ms + 2;
    long long first_uuid = -1;
    for (size_t i = 0; i < x->n_ev; i++) {
        if (x->ev[i].kind != TU_EV_STEP)
            continue;
        long long ms = tu_ulid_ms(x->ev[i].uuid);
        if (ms >= *lo && ms <= *hi && (first_uuid < 0 || ms < first_uuid))
            first_uuid = ms;
    }
    if (first_uuid >= 0) {
        *lo = first_uuid - 20;
        *hi = first_uuid;
    }
}

static bool run_owns_ulid(const tu_exec *x, const char *ulid)
{
    long long lo, hi, ms = tu_ulid_ms(ulid);
    id_window(x, &lo, &hi);
    return ms >= 0 && ms >= lo && ms <= hi;
}

/* A container is this run's when its step is in the events (a step is
 * created only after its "started" event) or, for text output or a run
 * without events, when its uuid was generated during the run. */
static bool run_owns_uuid(const tu_exec *x, const char *uuid)
{
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].uuid, uuid) == 0)
            return true;
    return (!x->json || x->n_ev == 0) && strlen(uuid) == 26 && run_owns_ulid(x, uuid);
}

static bool run_owns_name(const tu_exec *x, const char *name)
{
    for (size_t i = 0; i < x->n_names; i++)
        if (strcmp(x->names[i], name) == 0)
            return true;
    return strncmp(name, "wp_", 3) == 0 && strlen(name) >= 29 && run_owns_ulid(x, name + 3);
}

/* Docker 20.10 sometimes keeps a stale endpoint count on a network after
 * many containers on it were started and removed at the same time
 * (moby#43286, reproduced here with the docker CLI alone): the network then
 * has no container, the engine refuses to remove it ("has active
 * endpoints") and only a daemon restart frees it. A network in that state
 * that wpdock did try to remove (it says so on stderr) is the engine's
 * defect, not wpdock's: it is reported on stderr instead of failing. */
static bool stale_docker_network(const tu_exec *x, const char *name)
{
    if (tu_engine_is_podman())
        return false;
    char *said = wpd_xasprintf("could not remove network %s", name);
    bool tried =
        x->proc.err && strstr(x->proc.err, said) && strstr(x->proc.err, "active endpoints");
    free(said);
    if (!tried)
        return false;
    char *esc = tu_url_escape(name);
    char *url = wpd_xasprintf("/networks/%s", esc);
    char *body = NULL, *info = NULL;
    bool stale =
        tu_engine_request("DELETE", url, NULL, &body) >= 400 && strstr(body, "active endpoints") &&
        tu_engine_request("GET", url, NULL, &info) == 200 && strstr(info, "\"Containers\":{}");
    free(body);
    free(info);
    free(url);
    free(esc);
    if (stale)
        fprintf(stderr,
                "warning: network %s stays behind: Docker's stale endpoint count "
                "(moby#43286); no container is attached, only a daemon restart removes it\n",
                name);
    return stale;
}

/* Names (field `key` of each element of the array at `path` of the
 * response to GET `url`) that this run owns. */
static void collect_leftovers(const tu_exec *x, const char *url, const char *path, const char *key,
                              bool uuid_label, wpd_buf *found)
{
    char *body = NULL;
    long st = tu_engine_request("GET", url, NULL, &body);
    ck_assert_msg(st == 200, "GET %s: %ld %s", url, st, body);
    wpd_json j;
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&j, body, strlen(body), &err) == 0, "GET %s: %s", url,
                  err.message);
    int arr = path ? wpd_json_path(&j, 0, path) : 0;
    for (int i = 0;; i++) {
        int el = wpd_json_at(&j, arr, i);
        if (el < 0)
            break;
        char *name = wpd_json_get_str(&j, el, key);
        if (!name)
            continue;
        bool ours = uuid_label ? run_owns_uuid(x, name) : run_owns_name(x, name);
        if (ours && uuid_label) {
            char *step = wpd_json_get_str(&j, el, "Labels.wp_step");
            char *state = wpd_json_get_str(&j, el, "Status");
            wpd_buf_printf(found, " container wp_%s (step %s, %s);", name, step ? step : "?",
                           state ? state : "?");
            free(step);
            free(state);
        } else if (ours) {
            if (strcmp(url, "/networks") != 0 || !stale_docker_network(x, name))
                wpd_buf_printf(found, " %s %s;", url + 1, name);
        }
        free(name);
    }
    wpd_json_free(&j);
    free(body);
}

void tu_exec_assert_clean(const tu_exec *x)
{
    wpd_buf found = WPD_BUF_INIT;
    char *filters = tu_url_escape("{\"label\":[\"wp_uuid\"]}");
    char *url = wpd_xasprintf("/containers/json?all=1&filters=%s", filters);
    collect_leftovers(x, url, NULL, "Labels.wp_uuid", true, &found);
    free(url);
    free(filters);
    collect_leftovers(x, "/networks", NULL, "Name", false, &found);
    collect_leftovers(x, "/volumes", "Volumes", "Name", false, &found);
    char *err = tu_shorten(x->proc.err ? x->proc.err : "");
    ck_assert_msg(found.len == 0, "left behind on %s:%s (wpdock stderr: %s)", tu_engine_host(),
                  wpd_buf_cstr(&found), err);
    free(err);
    wpd_buf_free(&found);
}
