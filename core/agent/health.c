/* health.c - the agent's health endpoint (spec 7) with libevent's evhttp
 * on the reactor: GET /healthz (200 while connected to the server and no
 * workflow overran its timeout by an hour, else 500), /varz (the running
 * workflows, JSON) and /version; anything else 404. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_private.h"
#include "io/reactor.h"
#include "util/buf.h"
#include "util/jsonw.h"

struct agent_health {
    wpd_agent *a;
    struct evhttp *http;
};

static bool healthy(wpd_agent *a)
{
    if (!agent_connected(a))
        return false;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < a->n_engines; i++)
        for (size_t k = 0; k < a->engines[i].n_slots; k++) {
            agent_workflow *w = a->engines[i].slots[k].wf;
            if (w && now - agent_workflow_started(w) > agent_workflow_timeout_s(w) + 3600)
                return false;
        }
    return true;
}

static void reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (body)
        evbuffer_add(b, body, strlen(body));
    if (type)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Error", b);
    evbuffer_free(b);
}

static void varz(struct agent_health *h, struct evhttp_request *req)
{
    wpd_agent *a = h->a;
    wpd_buf out = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &out);
    wpd_jw_obj_begin(&w);
    size_t running = agent_running_count(a);
    wpd_jw_kint(&w, "polling_count", (int64_t)(agent_capacity(a) - running));
    wpd_jw_kint(&w, "running_count", (int64_t)running);
    wpd_jw_key(&w, "running");
    wpd_jw_obj_begin(&w);
    for (size_t i = 0; i < a->n_engines; i++)
        for (size_t k = 0; k < a->engines[i].n_slots; k++) {
            agent_workflow *wf = a->engines[i].slots[k].wf;
            if (!wf)
                continue;
            wpd_jw_key(&w, agent_workflow_id(wf));
            wpd_jw_obj_begin(&w);
            wpd_jw_kstr(&w, "id", agent_workflow_id(wf));
            wpd_jw_kstr(&w, "repository", agent_workflow_repo(wf));
            wpd_jw_kstr(&w, "pipeline_number", agent_workflow_pipeline_number(wf));
            char ts[32];
            time_t t = (time_t)agent_workflow_started(wf);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
            wpd_jw_kstr(&w, "pipeline_started", ts);
            wpd_jw_kint(&w, "pipeline_timeout", agent_workflow_timeout_s(wf) * 1000000000LL);
            if (a->engines[i].name)
                wpd_jw_kstr(&w, "engine", a->engines[i].name);
            /* beyond the Go agent: the reports not yet sent (back-pressure) */
            agent_backlog bl;
            agent_workflow_backlog(wf, &bl);
            wpd_jw_kint(&w, "log_backlog_bytes", (int64_t)bl.bytes);
            wpd_jw_kint(&w, "log_backlog_peak_bytes", (int64_t)bl.peak);
            wpd_jw_kint(&w, "log_output_pauses", (int64_t)bl.pauses);
            wpd_jw_kbool(&w, "log_output_paused", bl.paused);
            wpd_jw_obj_end(&w);
        }
    wpd_jw_obj_end(&w);
    wpd_jw_obj_end(&w);
    reply(req, healthy(a) ? 200 : 500, "application/json", wpd_buf_cstr(&out));
    wpd_buf_free(&out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct agent_health *h = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
        evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
        reply(req, 405, NULL, NULL);
        return;
    }
    if (path && strcmp(path, "/healthz") == 0) {
        reply(req, healthy(h->a) ? 200 : 500, NULL, NULL);
    } else if (path && strcmp(path, "/varz") == 0) {
        varz(h, req);
    } else if (path && strcmp(path, "/version") == 0) {
        wpd_buf out = WPD_BUF_INIT;
        wpd_jsonw w;
        wpd_jw_init(&w, &out);
        wpd_jw_obj_begin(&w);
        wpd_jw_kstr(&w, "version", h->a->version);
        wpd_jw_kstr(&w, "source", "https://github.com/woodpecker-ci/woodpecker");
        wpd_jw_obj_end(&w);
        reply(req, 200, "application/json", wpd_buf_cstr(&out));
        wpd_buf_free(&out);
    } else {
        reply(req, 404, "text/plain", "404 page not found\n");
    }
}

struct agent_health *agent_health_new(wpd_agent *a, const char *addr, wpd_error *err)
{
    const char *colon = strrchr(addr, ':');
    char host[256];
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || !colon[1] || *end || port < 0 || port > 65535 ||
        (size_t)(colon - addr) >= sizeof host) {
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "health check address \"%s\" is not [HOST]:PORT (e.g. :3000)", addr);
        return NULL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct agent_health *h = wpd_xcalloc(1, sizeof *h);
    h->a = a;
    h->http = evhttp_new(wpd_reactor_base(a->r));
    if (!h->http ||
        !evhttp_bind_socket_with_handle(h->http, host[0] ? host : "0.0.0.0", (ev_uint16_t)port)) {
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "cannot serve the health check on %s (address in use, or not this host's)",
                      addr);
        agent_health_free(h);
        return NULL;
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_gencb(h->http, on_request, h);
    return h;
}

void agent_health_free(struct agent_health *h)
{
    if (!h)
        return;
    if (h->http)
        evhttp_free(h->http);
    free(h);
}
