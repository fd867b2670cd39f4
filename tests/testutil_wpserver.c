/* testutil_wpserver.c - starting and driving tests/helpers/wp-test-server
 * (see testutil_wpserver.h). */
#include "testutil_wpserver.h"

#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/jsonw.h"

#ifndef WP_TEST_SERVER
#define WP_TEST_SERVER TEST_HELPERS_DIR "/wp-test-server"
#endif

/* the value of "key":"..." in a one-line JSON object (the ready line) */
static int ready_field(const char *line, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= len)
        return -1;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return 0;
}

void tu_wps_start(tu_wps *s, const char *const *extra_args)
{
    memset(s, 0, sizeof *s);
    char ulid[27];
    tu_ulid_lower(ulid);
    snprintf(s->secret, sizeof s->secret, "secret-%s", ulid);
    const char *argv[48] = {"/usr/bin/python3", WP_TEST_SERVER, "--secret", s->secret};
    size_t n = 4;
    for (size_t i = 0; extra_args && extra_args[i] && n < 46; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    ck_assert_msg(tu_proc_start(&s->proc, argv, NULL) == 0, "cannot start the test server");
    long long deadline = tu_now_ms() + 20000;
    for (;;) {
        char *nl = s->proc.out ? strchr(s->proc.out, '\n') : NULL;
        if (nl) {
            *nl = '\0';
            int ok = ready_field(s->proc.out, "grpc", s->grpc, sizeof s->grpc) == 0 &&
                     ready_field(s->proc.out, "control", s->control, sizeof s->control) == 0;
            ck_assert_msg(ok, "test server: unexpected ready line: %s", s->proc.out);
            *nl = '\n';
            return;
        }
        int eof = tu_proc_pump(&s->proc, 100);
        ck_assert_msg(!eof && tu_now_ms() < deadline, "the test server did not start: %s",
                      s->proc.err ? s->proc.err : "");
    }
}

void tu_wps_stop(tu_wps *s)
{
    tu_proc_pump(&s->proc, 0);
    int early = s->proc.pid == 0;
    tu_proc_signal(&s->proc, SIGTERM);
    int st = tu_proc_finish(&s->proc, 10000);
    if (getenv("WPDOCK_TEST_VERBOSE"))
        fprintf(stderr, "--- test server log\n%s\n", s->proc.err ? s->proc.err : "");
    char *err = s->proc.err ? strdup(s->proc.err) : NULL;
    tu_proc_free(&s->proc);
    ck_assert_msg(!early, "the test server had ended on its own (status %d): %s", st,
                  err ? err : "");
    free(err);
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
    wpd_buf_append(arg, data, size * n);
    return size * n;
}

long tu_wps_request(tu_wps *s, const char *method, const char *path, const char *json, char **body)
{
    static int curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_ALL);
        curl_ready = 1;
    }
    char url[512];
    snprintf(url, sizeof url, "http://%s%s", s->control, path);
    wpd_buf out = WPD_BUF_INIT;
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (json || strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "{}");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(json ? strlen(json) : 2));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    long code = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    if (body)
        *body = out.data ? wpd_buf_steal(&out) : strdup("");
    else
        wpd_buf_free(&out);
    return code;
}

char *tu_wps_queue(tu_wps *s, const char *payload, const char *labels, int timeout_min)
{
    char *req = wpd_xasprintf("{\"payload\":%s,\"labels\":%s,\"timeout\":%d}", payload,
                              labels ? labels : "{}", timeout_min);
    char *body = NULL;
    long code = tu_wps_request(s, "POST", "/workflows", req, &body);
    free(req);
    ck_assert_msg(code == 200, "queueing a workflow: HTTP %ld: %s", code, body);
    char *id = tu_json_str(body, "id");
    ck_assert_msg(id != NULL, "queueing a workflow: no id in %s", body);
    free(body);
    return id;
}

char *tu_wps_workflow(tu_wps *s, const char *id)
{
    char path[128], *body = NULL;
    snprintf(path, sizeof path, "/workflows/%s", id);
    long code = tu_wps_request(s, "GET", path, NULL, &body);
    ck_assert_msg(code == 200, "GET %s: HTTP %ld: %s", path, code, body);
    return body;
}

char *tu_wps_wait_done(tu_wps *s, const char *id, int timeout_s)
{
    char path[128], *body = NULL;
    snprintf(path, sizeof path, "/workflows/%s/wait?timeout=%d", id, timeout_s);
    long code = tu_wps_request(s, "GET", path, NULL, &body);
    ck_assert_msg(code == 200, "workflow %s not done within %d s (HTTP %ld): %s", id, timeout_s,
                  code, body);
    return body;
}

static int lookup(wpd_json *j, const char *doc, const char *path)
{
    wpd_error err;
    if (wpd_json_parse(j, doc, strlen(doc), &err) != 0)
        ck_abort_msg("not JSON (%s): %s", err.message, doc);
    return *path ? wpd_json_path(j, 0, path) : 0;
}

char *tu_json_str(const char *doc, const char *path)
{
    wpd_json j;
    int t = lookup(&j, doc, path);
    char *out = NULL;
    if (t >= 0) {
        int ty = wpd_json_type_of(&j, t);
        if (ty == WPD_JSON_STRING)
            out = wpd_json_str(&j, t);
        else if (ty != WPD_JSON_NULL) {
            const wpd_json_tok *tok = &j.toks[t];
            out = wpd_xstrndup(j.src + tok->start, (size_t)(tok->end - tok->start));
        }
    }
    wpd_json_free(&j);
    return out;
}

long long tu_json_int(const char *doc, const char *path, long long def)
{
    char *s = tu_json_str(doc, path);
    long long v = s ? strtoll(s, NULL, 10) : def;
    free(s);
    return v;
}

int tu_json_len(const char *doc, const char *path)
{
    wpd_json j;
    int t = lookup(&j, doc, path);
    int n = t >= 0 ? j.toks[t].size : -1;
    wpd_json_free(&j);
    return n;
}

char **tu_wps_agent_env(tu_wps *s, const char *dir, const char *const *extra)
{
    size_t n = 0;
    while (extra && extra[n])
        n++;
    char **env = calloc(n + 8, sizeof *env);
    size_t k = 0;
    env[k++] = wpd_xasprintf("WOODPECKER_SERVER=%s", s->grpc);
    env[k++] = wpd_xasprintf("WOODPECKER_AGENT_SECRET=%s", s->secret);
    env[k++] = dir ? wpd_xasprintf("WOODPECKER_AGENT_CONFIG_FILE=%s/agent.conf", dir)
                   : wpd_xstrdup("WOODPECKER_AGENT_CONFIG_FILE=");
    env[k++] = wpd_xstrdup("WOODPECKER_HEALTHCHECK=false");
    env[k++] = wpd_xstrdup("WOODPECKER_LOG_LEVEL=debug");
    for (size_t i = 0; i < n; i++)
        env[k++] = wpd_xstrdup(extra[i]);
    env[k] = NULL;
    return env;
}

void tu_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* ------------------------------------------------------------ tu_agent */

void tu_agent_setup(tu_agent *r, const char *const *server_args)
{
    memset(r, 0, sizeof *r);
    tu_ulid_lower(r->tag);
    snprintf(r->host, sizeof r->host, "agent-%.10s", r->tag + 16);
    r->dir = tu_mkdtemp();
    tu_wps_start(&r->srv, server_args);
}

void tu_agent_start(tu_agent *r, const char *const *args, const char *const *env)
{
    const char *argv[24] = {"agent"};
    size_t n = 1;
    for (size_t i = 0; args && args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char hostvar[96];
    snprintf(hostvar, sizeof hostvar, "WOODPECKER_HOSTNAME=%s", r->host);
    const char *extra[32] = {hostvar};
    size_t k = 1;
    for (size_t i = 0; env && env[i] && k < 31; i++)
        extra[k++] = env[i];
    extra[k] = NULL;
    char **full = tu_wps_agent_env(&r->srv, r->dir, extra);
    if (r->started)
        tu_exec_free(&r->x);
    tu_exec_start(&r->x, argv, (const char *const *)full);
    tu_env_free(full);
    r->started = 1;
}

int tu_agent_finish(tu_agent *r)
{
    int rc = tu_exec_finish(&r->x, 240000);
    if (getenv("WPDOCK_TEST_VERBOSE"))
        fprintf(stderr, "--- agent stderr\n%s\n", r->x.proc.err ? r->x.proc.err : "");
    return rc;
}

void tu_agent_teardown(tu_agent *r)
{
    if (r->started)
        tu_exec_free(&r->x);
    tu_wps_stop(&r->srv);
    if (r->dir) {
        tu_rm_rf(r->dir);
        free(r->dir);
    }
}

void tu_agent_assert_clean(tu_agent *r)
{
    const char *paths[] = {"/networks?filters=%7B%22label%22%3A%5B%22io.wpdock.agent%22%5D%7D",
                           "/volumes?filters=%7B%22label%22%3A%5B%22io.wpdock.agent%22%5D%7D"};
    char owner[96];
    snprintf(owner, sizeof owner, "\"%s/", r->host);
    for (size_t i = 0; i < 2; i++) {
        char *body = NULL;
        long code = tu_engine_request("GET", paths[i], NULL, &body);
        ck_assert_msg(code == 200, "listing: HTTP %ld: %s", code, body);
        ck_assert_msg(!strstr(body, owner), "left on the engine: %s", body);
        free(body);
    }
}

char *tu_wf_payload(struct tu_wf *b)
{
    char *path = tu_wf_save(b);
    char *json = tu_read_file(path, NULL);
    unlink(path);
    free(path);
    return json;
}

char *tu_agent_one_step(tu_agent *r, const char *name, const char *const *cmds)
{
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, name, 0, cmds);
    /* step uuids are unique on the server */
    snprintf(r->uuid, sizeof r->uuid, "%s-%d-%s", name, ++r->n_steps, r->tag);
    wpd_jw_kstr(tu_wf_json(b), "uuid", r->uuid);
    return tu_wf_payload(b);
}

void tu_assert_workflow_state(const char *doc, const char *state)
{
    char *s = tu_json_str(doc, "state");
    ck_assert_msg(s && strcmp(s, state) == 0, "workflow state %s, expected %s: %.3000s",
                  s ? s : "(none)", state, doc);
    free(s);
}
