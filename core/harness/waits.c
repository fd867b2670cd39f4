/* waits.c - wait strategies at run time: every leaf of a run's wait tree
 * runs at once (log lines from the follow; port: the listening check
 * inside the container, then a host connect; http: a GET; exec: polled;
 * health: inspect polled; exit: the run's exit watch), and a leaf that
 * holds or fails settles its ALL/ANY parents up to the root, which tells
 * the run. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "harness/harness_private.h"

static void leaf_start(wpd_wait *w);

static wpd_engine *eng(wpd_wait *w)
{
    return w->run->h.s->e;
}

static const char *cid(wpd_wait *w)
{
    return w->run->c->id;
}

static void leaf_stop(wpd_wait *w)
{
    if (w->call) {
        wpd_call_abandon(w->call);
        w->call = NULL;
    }
    if (w->probe) {
        hx_probe_cancel(w->probe);
        w->probe = NULL;
    }
    if (w->t)
        wpd_timer_stop(w->t);
}

void hx_waits_stop(wpd_wait *w)
{
    if (!w)
        return;
    leaf_stop(w);
    for (size_t i = 0; i < w->n_kids; i++)
        hx_waits_stop(w->kids[i]);
}

static void settle(wpd_wait *w)
{
    wpd_wait *p = w->parent;
    if (!p) {
        hx_run_wait_changed(w->run);
        return;
    }
    if (p->state != 0)
        return;
    size_t held = 0, failed = 0;
    const wpd_wait *first_fail = NULL;
    for (size_t i = 0; i < p->n_kids; i++) {
        if (p->kids[i]->state == 1)
            held++;
        else if (p->kids[i]->state == -1) {
            failed++;
            if (!first_fail)
                first_fail = p->kids[i];
        }
    }
    if (p->kind == HX_W_ALL) {
        if (failed)
            hx_wait_set(p, -1, first_fail->why);
        else if (held == p->n_kids)
            hx_wait_set(p, 1, NULL);
    } else {
        if (held)
            hx_wait_set(p, 1, NULL);
        else if (failed == p->n_kids)
            hx_wait_set(p, -1, first_fail->why);
    }
}

void hx_wait_set(wpd_wait *w, int state, const char *why)
{
    if (w->state != 0)
        return;
    w->state = state;
    free(w->why);
    w->why = why ? wpd_xstrdup(why) : NULL;
    hx_waits_stop(w); /* this node's and its children's activity */
    settle(w);
}

/* The next attempt: 10, 20, 40, 80 ms, then every interval (a service is
 * usually a few ms from listening when the first check misses it). */
static void retry(wpd_wait *w)
{
    if (w->state != 0 || !w->t)
        return;
    long ms = w->attempts < 4 ? 10L << w->attempts : w->interval_ms;
    w->attempts++;
    wpd_timer_start(w->t, ms < w->interval_ms ? ms : w->interval_ms);
}

/* ---- exec (exec waits and the port wait's listening check) ---------------- */

static void exec_result(wpd_wait *w, bool ran, int64_t code);

static void on_exec_inspect(void *arg, const wpd_exec_info *info, const wpd_error *err)
{
    wpd_wait *w = arg;
    w->call = NULL;
    if (err || !info) {
        exec_result(w, false, 0);
        return;
    }
    if ((info->running || !info->has_exit_code) && ++w->exec_tries < 50) {
        /* the stream ended a moment before the engine noted the exit */
        w->call = wpd_exec_inspect(eng(w), w->exec_id, on_exec_inspect, w);
        return;
    }
    exec_result(w, !info->running, info->exit_code);
}

static int on_exec_data(void *arg, int stream, const char *data, size_t len)
{
    wpd_wait *w = arg;
    if (stream == 1 && w->out.len < (1u << 20))
        wpd_buf_append(&w->out, data, len);
    return 0;
}

static void on_exec_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    wpd_wait *w = arg;
    (void)end;
    w->call = NULL;
    if (err) {
        exec_result(w, false, 0);
        return;
    }
    w->exec_tries = 0;
    w->call = wpd_exec_inspect(eng(w), w->exec_id, on_exec_inspect, w);
}

static void on_exec_created(void *arg, const char *id, const wpd_error *err)
{
    wpd_wait *w = arg;
    w->call = NULL;
    if (err || !id) {
        exec_result(w, false, 0);
        return;
    }
    free(w->exec_id);
    w->exec_id = wpd_xstrdup(id);
    wpd_output_cbs cbs = {.data = on_exec_data, .done = on_exec_done, .arg = w};
    w->call = wpd_exec_start(eng(w), id, false, &cbs);
}

static void exec_begin(wpd_wait *w, const char *const *argv, size_t argc)
{
    wpd_buf_reset(&w->out);
    wpd_exec_spec es = {.cmd = argv, .n_cmd = argc, .attach_stdout = true, .attach_stderr = true};
    w->call = wpd_exec_create(eng(w), cid(w), &es, on_exec_created, w);
}

/* ---- port ------------------------------------------------------------------- */

static int mapped(wpd_wait *w)
{
    int port = wpd_ctr_port(w->run->c, w->port);
    return port;
}

/* Is port listed as listening (tcp state 0A; udp: bound, state 07) in
 * /proc/net/{tcp,udp}{,6}? */
static bool listening(const char *table, int port, bool udp)
{
    char want[8];
    snprintf(want, sizeof want, ":%04X", port);
    for (const char *line = table; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char local[64], remote[64], st[8];
        int sl;
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < 511 ? len : 511), line);
        if (sscanf(buf, " %d: %63s %63s %7s", &sl, local, remote, st) == 4) {
            const char *colon = strrchr(local, ':');
            if (colon && strcmp(colon, want) == 0 && strcmp(st, udp ? "07" : "0A") == 0)
                return true;
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

static void on_connect(void *arg, int status, const char *body, size_t len, const char *why)
{
    wpd_wait *w = arg;
    (void)body;
    (void)len;
    (void)why;
    w->probe = NULL;
    if (status == 0) {
        hx_wait_set(w, 1, NULL);
        return;
    }
    w->step = 0; /* listening inside again first, then connect */
    retry(w);
}

static void port_connect(wpd_wait *w)
{
    int hp = mapped(w);
    if (strstr(w->port, "/udp")) {
        hx_wait_set(w, 1, NULL); /* nothing to connect to */
        return;
    }
    w->probe =
        hx_probe_start(w->run->h.s->r, wpd_ctr_host(w->run->c), hp, NULL, 1000, on_connect, w);
}

/* The direct check: a TCP handshake with the container's own address
 * (no docker-proxy in between) completes only when something listens
 * inside. Refused: not yet. Unreachable or no answer (a remote or rootless
 * engine): the exec check instead, from now on. */
static void on_direct(void *arg, int status, const char *body, size_t len, const char *why)
{
    wpd_wait *w = arg;
    (void)body;
    (void)len;
    w->probe = NULL;
    if (status == 0) {
        port_connect(w);
        return;
    }
    if (!why || !strstr(why, strerror(ECONNREFUSED))) {
        w->no_direct = true;
        leaf_start(w);
        return;
    }
    retry(w);
}

static void port_exec_result(wpd_wait *w, bool ran, int64_t code)
{
    int num = atoi(w->port);
    bool udp = strstr(w->port, "/udp") != NULL;
    if (ran && (code == 126 || code == 127) && !w->out.len) {
        w->skip_internal = true; /* no cat in the image: the host connect alone */
        port_connect(w);
        return;
    }
    if (ran && listening(wpd_buf_cstr(&w->out), num, udp)) {
        port_connect(w);
        return;
    }
    retry(w);
}

/* ---- http --------------------------------------------------------------------- */

static void on_http(void *arg, int status, const char *body, size_t len, const char *why)
{
    wpd_wait *w = arg;
    (void)why;
    w->probe = NULL;
    if (status >= w->lo && status <= w->hi &&
        (!w->body || (body && memmem(body, len, w->body, strlen(w->body))))) {
        hx_wait_set(w, 1, NULL);
        return;
    }
    retry(w);
}

/* ---- health ------------------------------------------------------------------- */

static void on_health(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    wpd_wait *w = arg;
    w->call = NULL;
    if (info && (!info->health || !*info->health)) {
        hx_wait_set(w, -1, "no health check defined (image HEALTHCHECK or wpd_spec_healthcheck)");
        return;
    }
    if (info && strcmp(info->health, "healthy") == 0) {
        hx_wait_set(w, 1, NULL);
        return;
    }
    (void)err;
    retry(w);
}

/* ---- leaves ---------------------------------------------------------------------- */

static void exec_result(wpd_wait *w, bool ran, int64_t code)
{
    if (w->kind == HX_W_PORT) {
        port_exec_result(w, ran, code);
        return;
    }
    if (ran && code == (w->kind == HX_W_HEALTH ? 0 : w->code)) {
        hx_wait_set(w, 1, NULL);
        return;
    }
    retry(w);
}

static void leaf_start(wpd_wait *w)
{
    if (w->state != 0 || w->run->failing)
        return;
    switch (w->kind) {
    case HX_W_PORT:
        if (mapped(w) <= 0) {
            hx_wait_set(w, -1, "the port is not published");
            return;
        }
        if (w->skip_internal) {
            port_connect(w);
            return;
        }
        if (!w->no_direct && w->run->c->ip[0] && !strstr(w->port, "/udp")) {
            w->probe = hx_probe_start(w->run->h.s->r, w->run->c->ip, atoi(w->port), NULL, 300,
                                      on_direct, w);
            return;
        }
        {
            bool udp = strstr(w->port, "/udp") != NULL;
            const char *tcp[] = {"cat", "/proc/net/tcp", "/proc/net/tcp6"};
            const char *udpv[] = {"cat", "/proc/net/udp", "/proc/net/udp6"};
            exec_begin(w, udp ? udpv : tcp, 3);
        }
        return;
    case HX_W_HTTP:
        if (mapped(w) <= 0) {
            hx_wait_set(w, -1, "the port is not published");
            return;
        }
        w->probe = hx_probe_start(w->run->h.s->r, wpd_ctr_host(w->run->c), mapped(w), w->text, 1000,
                                  on_http, w);
        return;
    case HX_W_EXEC: exec_begin(w, (const char *const *)w->argv, w->argc); return;
    case HX_W_HEALTH:
        /* Podman runs health checks from systemd timers: without systemd
         * they never run, so the spec's check is run here, as an exec */
        if (wpd_engine_get_kind(eng(w)) == WPD_ENGINE_PODMAN && w->run->sp->n_health) {
            exec_begin(w, (const char *const *)w->run->sp->health, w->run->sp->n_health);
            return;
        }
        w->call = wpd_ctr_inspect(eng(w), cid(w), on_health, w);
        return;
    default: return;
    }
}

static void on_leaf_timer(void *arg)
{
    leaf_start(arg);
}

static void start_tree(hx_run *r, wpd_wait *w)
{
    w->run = r;
    if (w->kind == HX_W_ALL || w->kind == HX_W_ANY) {
        if (!w->n_kids) {
            hx_wait_set(w, 1, NULL);
            return;
        }
        for (size_t i = 0; i < w->n_kids && w->state == 0; i++)
            start_tree(r, w->kids[i]);
        return;
    }
    if (!w->t)
        w->t = wpd_timer_new(r->h.s->r, on_leaf_timer, w);
    /* from the loop: never inside the step that started the waits */
    if (w->kind != HX_W_LOG && w->kind != HX_W_EXIT)
        wpd_timer_start(w->t, 0);
}

void hx_waits_start(hx_run *r)
{
    start_tree(r, r->root);
}

/* ---- log lines ------------------------------------------------------------------- */

static bool line_matches(wpd_wait *w, const char *line, size_t len)
{
    if (!w->regex)
        return !*w->text || memmem(line, len, w->text, strlen(w->text)) != NULL;
    if (!w->re_ok)
        return false;
    char *z = wpd_xstrndup(line, len);
    bool m = regexec(&w->re, z, 0, NULL, 0) == 0;
    free(z);
    return m;
}

static void feed(wpd_wait *w, const char *line, size_t len)
{
    if (!w || w->state != 0)
        return;
    if (w->kind == HX_W_LOG) {
        if (line_matches(w, line, len) && ++w->count >= w->times)
            hx_wait_set(w, 1, NULL);
        return;
    }
    for (size_t i = 0; i < w->n_kids && w->state == 0; i++)
        feed(w->kids[i], line, len);
}

void hx_waits_log_line(hx_run *r, const char *line, size_t len)
{
    /* lines before the waits run (from start on) count all the same */
    if (!r->failing && r->root)
        feed(r->root, line, len);
}

/* ---- the container ended ------------------------------------------------------------ */

static void exited(wpd_wait *w, int64_t code)
{
    if (!w || w->state != 0)
        return;
    if (w->kind == HX_W_ALL || w->kind == HX_W_ANY) {
        for (size_t i = 0; i < w->n_kids && w->state == 0; i++)
            exited(w->kids[i], code);
        return;
    }
    char why[128];
    if (w->kind == HX_W_EXIT) {
        if (w->code == WPD_ANY_EXIT || code == w->code) {
            hx_wait_set(w, 1, NULL);
            return;
        }
        snprintf(why, sizeof why, "exited with code %lld, expected %d", (long long)code, w->code);
    } else {
        snprintf(why, sizeof why, "the container exited (exit code %lld)", (long long)code);
    }
    hx_wait_set(w, -1, why);
}

void hx_waits_exited(hx_run *r, int64_t code)
{
    exited(r->root, code);
}

/* ---- a follow that ended while log waits are pending: read the whole log once
 * (Podman's follow can lose lines) and count again */

static void recount(wpd_wait *w, const char *log, size_t len)
{
    if (!w || w->state != 0)
        return;
    if (w->kind == HX_W_LOG) {
        w->count = 0;
        for (const char *p = log; p < log + len;) {
            const char *nl = memchr(p, '\n', (size_t)(log + len - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(log + len - p);
            if (line_matches(w, p, n))
                w->count++;
            p += n + 1;
        }
        if (w->count >= w->times)
            hx_wait_set(w, 1, NULL);
        return;
    }
    for (size_t i = 0; i < w->n_kids && w->state == 0; i++)
        recount(w->kids[i], log, len);
}

static int on_reread_data(void *arg, int stream, const char *data, size_t len)
{
    hx_run *r = arg;
    (void)stream;
    if (r->reread_buf.len < (16u << 20))
        wpd_buf_append(&r->reread_buf, data, len);
    return 0;
}

static void on_reread_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    hx_run *r = arg;
    (void)end;
    r->reread = NULL;
    if (!err && !r->failing)
        recount(r->root, r->reread_buf.data ? r->reread_buf.data : "", r->reread_buf.len);
    wpd_buf_reset(&r->reread_buf);
}

void hx_waits_follow_ended(hx_run *r)
{
    if (r->failing || !r->root || r->root->state != 0 || r->reread || !r->c || !r->c->id)
        return;
    wpd_logs_opts o = {0};
    wpd_output_cbs cbs = {.data = on_reread_data, .done = on_reread_done, .arg = r};
    r->reread = wpd_engine_ctr_logs(r->h.s->e, r->c->id, &o, &cbs);
}
