/* rpc.c - Woodpecker RPCs of one agent identity: metadata, Auth and token
 * refresh, retries with exponential backoff (10 ms -> 10 s, x1.5, +-50 %
 * jitter) inside the retry window counted from a call's first failure. */
#include "agent/rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wpdock/agent.h>

#include "util/buf.h"

#define AUTH_TIMEOUT_MS 5000L
#define REFRESH_MS (30L * 60 * 1000)
#define REFRESH_RETRY_MS 1000L

struct rpc_call {
    agent_peer *p;
    rpc_call *prev, *next; /* the peer's calls */
    char *method;          /* full path */
    wpd_buf req;           /* packed request */
    const ProtobufCMessageDescriptor *resp_desc;
    unsigned flags;
    long timeout_ms;
    double window; /* seconds, 0 = forever */
    rpc_done_fn done;
    void *arg;
    wpd_grpc_call *gc;
    wpd_timer *timer; /* backoff, or delivering a cancel */
    double first_failure;
    double backoff_ms;
    char *token_used;
    bool reauthed;
    bool waiting_auth;
    bool canceled;
    bool is_auth; /* the peer's own Auth */
    wpd_grpc_status last;
};

typedef struct auth_waiter {
    rpc_done_fn done;
    void *arg;
    struct auth_waiter *next;
} auth_waiter;

struct agent_peer {
    agent_peer_config cfg;
    char *secret, *hostname;
    char *token;
    int64_t agent_id;
    rpc_call *head;
    rpc_call *auth; /* in flight */
    auth_waiter *waiters;
    wpd_timer *refresh;
};

/* Replace st's message (which may be one of the arguments). */
static void set_message(wpd_grpc_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_message(wpd_grpc_status *st, const char *fmt, ...)
{
    char tmp[sizeof st->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(st->message, tmp, sizeof tmp);
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool rpc_code_retryable(int code)
{
    return code == WPD_GRPC_ABORTED || code == WPD_GRPC_DATA_LOSS ||
           code == WPD_GRPC_DEADLINE_EXCEEDED || code == WPD_GRPC_UNAUTHENTICATED ||
           code == WPD_GRPC_UNAVAILABLE;
}

static void on_refresh(void *arg);
static void send_call(rpc_call *c);
static void start_auth(agent_peer *p);

agent_peer *agent_peer_new(const agent_peer_config *cfg)
{
    agent_peer *p = wpd_xcalloc(1, sizeof *p);
    p->cfg = *cfg;
    p->secret = wpd_xstrdup(cfg->secret ? cfg->secret : "");
    p->hostname = wpd_xstrdup(cfg->hostname ? cfg->hostname : "");
    p->cfg.secret = p->secret;
    p->cfg.hostname = p->hostname;
    p->agent_id = cfg->agent_id;
    p->refresh = wpd_timer_new(cfg->r, on_refresh, p);
    return p;
}

int64_t agent_peer_id(const agent_peer *p)
{
    return p->agent_id;
}

bool agent_peer_authenticated(const agent_peer *p)
{
    return p->token != NULL;
}

static void unlink_call(rpc_call *c)
{
    agent_peer *p = c->p;
    if (c->prev)
        c->prev->next = c->next;
    else if (p->head == c)
        p->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void free_call(rpc_call *c)
{
    wpd_timer_free(c->timer);
    free(c->method);
    free(c->token_used);
    wpd_buf_free(&c->req);
    free(c);
}

void agent_peer_free(agent_peer *p)
{
    if (!p)
        return;
    while (p->head) {
        rpc_call *c = p->head;
        unlink_call(c);
        wpd_grpc_abandon(c->gc);
        free_call(c);
    }
    while (p->waiters) {
        auth_waiter *w = p->waiters;
        p->waiters = w->next;
        free(w);
    }
    wpd_timer_free(p->refresh);
    free(p->token);
    free(p->secret);
    free(p->hostname);
    free(p);
}

/* Hand the final outcome to the caller and free the call. */
static void deliver(rpc_call *c, const wpd_grpc_status *st, const uint8_t *msg, size_t len)
{
    unlink_call(c);
    ProtobufCMessage *resp = NULL;
    wpd_grpc_status out = *st;
    if (st->code == WPD_GRPC_OK && c->resp_desc) {
        resp = protobuf_c_message_unpack(c->resp_desc, NULL, len, msg);
        if (!resp) {
            out.code = WPD_GRPC_INTERNAL;
            snprintf(out.message, sizeof out.message, "cannot decode the server's %s answer",
                     c->resp_desc->short_name);
        }
    }
    c->done(c->arg, &out, resp);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    free_call(c);
}

static void on_timer(void *arg)
{
    rpc_call *c = arg;
    if (c->canceled) {
        wpd_grpc_status st = {.code = WPD_GRPC_CANCELLED, .local = true};
        snprintf(st.message, sizeof st.message, "canceled by the agent");
        deliver(c, &st, NULL, 0);
        return;
    }
    send_call(c);
}

static void retry_later(rpc_call *c)
{
    c->backoff_ms = c->backoff_ms <= 0 ? 10 : c->backoff_ms * 1.5;
    if (c->backoff_ms > 10000)
        c->backoff_ms = 10000;
    double jitter = 0.5 + (double)rand() / RAND_MAX; /* 0.5 .. 1.5 */
    long ms = (long)(c->backoff_ms * jitter);
    if (!c->timer)
        c->timer = wpd_timer_new(c->p->cfg.r, on_timer, c);
    wpd_timer_start(c->timer, ms < 1 ? 1 : ms);
}

static void on_grpc_done(wpd_grpc_call *gc, const wpd_grpc_status *st, const uint8_t *msg,
                         size_t len, void *arg)
{
    (void)gc;
    rpc_call *c = arg;
    agent_peer *p = c->p;
    c->gc = NULL;
    c->last = *st;
    if (st->local) {
        deliver(c, st, NULL, 0);
        return;
    }
    if (p->cfg.on_contact)
        p->cfg.on_contact(p->cfg.arg, !st->transport && st->code != WPD_GRPC_UNAVAILABLE);
    if (st->code == WPD_GRPC_OK) {
        deliver(c, st, msg, len);
        return;
    }
    if (st->code == WPD_GRPC_UNAUTHENTICATED && !(c->flags & RPC_NO_TOKEN)) {
        /* refresh only if nobody did since this token was rejected */
        if (p->token && c->token_used && strcmp(p->token, c->token_used) == 0) {
            free(p->token);
            p->token = NULL;
        }
        if (!(c->flags & RPC_RETRY) && !c->reauthed) {
            c->reauthed = true;
            send_call(c);
            return;
        }
    }
    if ((c->flags & RPC_RETRY) && rpc_code_retryable(st->code)) {
        double now = now_mono();
        if (c->first_failure == 0)
            c->first_failure = now;
        if (c->window == 0 || now - c->first_failure < c->window) {
            if (p->cfg.log)
                p->cfg.log(p->cfg.log_arg, WPD_AGENT_LOG_DEBUG, "%s: %s: %s; retrying", c->method,
                           wpd_grpc_code_name(st->code), st->message);
            retry_later(c);
            return;
        }
        wpd_grpc_status fin = *st;
        set_message(&fin, "%s (still failing after %.0f s of retries)", st->message,
                    now - c->first_failure);
        deliver(c, &fin, NULL, 0);
        return;
    }
    deliver(c, st, NULL, 0);
}

static void send_call(rpc_call *c)
{
    agent_peer *p = c->p;
    if (!(c->flags & RPC_NO_TOKEN) && !p->token) {
        c->waiting_auth = true;
        start_auth(p);
        return;
    }
    c->waiting_auth = false;
    char *tok = NULL, *host = NULL;
    const char *meta[4] = {NULL};
    size_t m = 0;
    free(c->token_used);
    c->token_used = NULL;
    if (!(c->flags & RPC_NO_TOKEN)) {
        c->token_used = wpd_xstrdup(p->token);
        tok = wpd_xasprintf("token: %s", p->token);
        meta[m++] = tok;
    }
    if (p->hostname[0]) {
        host = wpd_xasprintf("hostname: %s", p->hostname);
        meta[m++] = host;
    }
    meta[m++] = "proto-version: 16";
    c->gc = wpd_grpc_unary(p->cfg.ch, c->method, meta, (const uint8_t *)c->req.data, c->req.len,
                           c->timeout_ms, on_grpc_done, c);
    free(tok);
    free(host);
}

static rpc_call *new_call(agent_peer *p, const char *method, const ProtobufCMessage *req,
                          const uint8_t *packed, size_t packed_len,
                          const ProtobufCMessageDescriptor *resp_desc, unsigned flags,
                          long timeout_ms, long window_ms, rpc_done_fn done, void *arg)
{
    rpc_call *c = wpd_xcalloc(1, sizeof *c);
    c->p = p;
    c->method =
        method[0] == '/' ? wpd_xstrdup(method) : wpd_xasprintf("/proto.Woodpecker/%s", method);
    if (req) {
        size_t n = protobuf_c_message_get_packed_size(req);
        wpd_buf_reserve(&c->req, n + 1);
        protobuf_c_message_pack(req, (uint8_t *)c->req.data);
        c->req.len = n;
    } else if (packed_len) {
        wpd_buf_append(&c->req, packed, packed_len);
    }
    c->resp_desc = resp_desc;
    c->flags = flags;
    c->timeout_ms = timeout_ms;
    c->window = window_ms > 0 ? (double)window_ms / 1000 : p->cfg.retry_timeout;
    c->done = done;
    c->arg = arg;
    c->next = p->head;
    if (p->head)
        p->head->prev = c;
    p->head = c;
    return c;
}

rpc_call *rpc_start(agent_peer *p, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, unsigned flags, long timeout_ms,
                    long window_ms, rpc_done_fn done, void *arg)
{
    rpc_call *c =
        new_call(p, method, req, NULL, 0, resp_desc, flags, timeout_ms, window_ms, done, arg);
    send_call(c);
    return c;
}

rpc_call *rpc_start_packed(agent_peer *p, const char *method, const uint8_t *req, size_t len,
                           const ProtobufCMessageDescriptor *resp_desc, unsigned flags,
                           long timeout_ms, long window_ms, rpc_done_fn done, void *arg)
{
    rpc_call *c =
        new_call(p, method, NULL, req, len, resp_desc, flags, timeout_ms, window_ms, done, arg);
    send_call(c);
    return c;
}

void rpc_cancel(rpc_call *c)
{
    if (!c || c->canceled)
        return;
    c->canceled = true;
    if (c->gc) {
        wpd_grpc_cancel(c->gc);
        return;
    }
    /* in backoff or waiting for Auth: deliver the cancel from the loop */
    c->waiting_auth = false;
    if (!c->timer)
        c->timer = wpd_timer_new(c->p->cfg.r, on_timer, c);
    wpd_timer_start(c->timer, 0);
}

void rpc_abandon(rpc_call *c)
{
    if (!c)
        return;
    unlink_call(c);
    wpd_grpc_abandon(c->gc);
    free_call(c);
}

/* ------------------------------------------------------------ Auth */

static void auth_done(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    agent_peer *p = arg;
    p->auth = NULL;
    if (st->code == WPD_GRPC_OK) {
        Proto__AuthResponse *ar = (Proto__AuthResponse *)resp;
        free(p->token);
        p->token = wpd_xstrdup(ar->access_token ? ar->access_token : "");
        p->agent_id = ar->agent_id;
        if (p->cfg.on_auth)
            p->cfg.on_auth(p->cfg.arg, ar->agent_id);
        wpd_timer_start(p->refresh, REFRESH_MS);
    } else if (p->cfg.log) {
        p->cfg.log(p->cfg.log_arg, WPD_AGENT_LOG_WARN, "authenticating with %s: %s: %s",
                   wpd_grpc_channel_target(p->cfg.ch), wpd_grpc_code_name(st->code), st->message);
    }
    /* startup waiters */
    auth_waiter *w = p->waiters;
    p->waiters = NULL;
    while (w) {
        auth_waiter *next = w->next;
        w->done(w->arg, st, NULL);
        free(w);
        w = next;
    }
    /* calls waiting for a token: send them, or let them fail; one at a
     * time from the head, since a callback may start or drop calls */
    for (;;) {
        rpc_call *c = p->head;
        while (c && !c->waiting_auth)
            c = c->next;
        if (!c)
            break;
        c->waiting_auth = false;
        if (st->code == WPD_GRPC_OK) {
            send_call(c);
        } else {
            wpd_grpc_status fail = *st;
            set_message(&fail, "authenticating: %s", st->message);
            if ((c->flags & RPC_RETRY) && rpc_code_retryable(st->code)) {
                double now = now_mono();
                if (c->first_failure == 0)
                    c->first_failure = now;
                if (c->window == 0 || now - c->first_failure < c->window) {
                    retry_later(c);
                    continue;
                }
            }
            deliver(c, &fail, NULL, 0);
        }
    }
}

static void start_auth(agent_peer *p)
{
    if (p->auth)
        return;
    Proto__AuthRequest req = PROTO__AUTH_REQUEST__INIT;
    req.agent_token = p->secret;
    req.agent_id = p->agent_id;
    p->auth =
        new_call(p, "/proto.WoodpeckerAuth/Auth", &req.base, NULL, 0,
                 &proto__auth_response__descriptor, RPC_NO_TOKEN, AUTH_TIMEOUT_MS, 0, auth_done, p);
    p->auth->is_auth = true;
    send_call(p->auth);
}

void agent_peer_auth(agent_peer *p, rpc_done_fn done, void *arg)
{
    auth_waiter *w = wpd_xcalloc(1, sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = p->waiters;
    p->waiters = w;
    start_auth(p);
}

static void refresh_done(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_peer *p = arg;
    if (st->code != WPD_GRPC_OK)
        wpd_timer_start(p->refresh, REFRESH_RETRY_MS);
}

static void on_refresh(void *arg)
{
    agent_peer *p = arg;
    /* the old token stays in use until the new one arrives */
    agent_peer_auth(p, refresh_done, p);
}
