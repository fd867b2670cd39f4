/* client.c - gRPC unary calls as HTTP/2 POSTs through the HTTP layer: the
 * request framed, the response deframed as it streams in (bounded), the
 * status taken from the trailers (or a trailers-only answer, or the HTTP
 * status of a proxy). */
#include "grpc/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/http.h"
#include "util/buf.h"

struct wpd_grpc_channel {
    wpd_http_client *http;
    wpd_grpc_target target;
    char label[4200];
    wpd_grpc_call *head;
    size_t in_flight;
};

struct wpd_grpc_call {
    wpd_grpc_channel *ch;
    wpd_grpc_call *prev, *next;
    wpd_http_request *req;
    wpd_grpc_done_fn done;
    void *arg;
    wpd_grpc_deframer body;
    int body_code; /* a deframing error, 0 = none */
    char body_why[256];
    bool abandoned;
    bool local_cancel;
    /* the request, as issued */
    char *method;
    wpd_buf framed;
    char **headers;
    size_t n_headers;
    long timeout_ms;
};

static void issue(wpd_grpc_call *c);

wpd_grpc_channel *wpd_grpc_channel_new(wpd_reactor *r, const char *target, const wpd_grpc_tls *tls,
                                       wpd_error *err)
{
    wpd_grpc_target t;
    char why[512];
    if (wpd_grpc_target_parse(target, &t, why, sizeof why) != 0) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "server address: %s", why);
        return NULL;
    }
    struct stat sb;
    if (t.unix_socket && stat(t.unix_path, &sb) != 0) {
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "can not connect to unix socket, \"%s\" does not exist", t.unix_path);
        return NULL;
    }
    wpd_conn_setup setup;
    memset(&setup, 0, sizeof setup);
    bool secure = tls && tls->enabled;
    snprintf(setup.base_url, sizeof setup.base_url, "%s://%s", secure ? "https" : "http",
             t.authority);
    if (t.unix_socket)
        snprintf(setup.unix_path, sizeof setup.unix_path, "%s", t.unix_path);
    if (secure) {
        setup.tls_verify_peer = tls->skip_verify ? 0 : 1;
        setup.tls_verify_host = tls->skip_verify ? 0 : 1;
        if (tls->ca_file)
            snprintf(setup.ca_file, sizeof setup.ca_file, "%s", tls->ca_file);
    }
    setup.tcp_keepalive = 1;
    wpd_grpc_channel *ch = wpd_xcalloc(1, sizeof *ch);
    ch->target = t;
    snprintf(ch->label, sizeof ch->label, "%s", t.unix_socket ? t.unix_path : t.authority);
    ch->http = wpd_http_client_new(r, &setup);
    return ch;
}

static void unlink_call(wpd_grpc_call *c)
{
    wpd_grpc_channel *ch = c->ch;
    if (c->prev)
        c->prev->next = c->next;
    else
        ch->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ch->in_flight--;
}

static void free_call(wpd_grpc_call *c)
{
    wpd_grpc_deframer_free(&c->body);
    for (size_t i = 0; i < c->n_headers; i++)
        free(c->headers[i]);
    free(c->headers);
    free(c->method);
    wpd_buf_free(&c->framed);
    free(c);
}

void wpd_grpc_channel_free(wpd_grpc_channel *ch)
{
    if (!ch)
        return;
    /* the HTTP client drops its requests without callbacks */
    wpd_http_client_free(ch->http);
    while (ch->head) {
        wpd_grpc_call *c = ch->head;
        unlink_call(c);
        free_call(c);
    }
    free(ch);
}

const char *wpd_grpc_channel_target(const wpd_grpc_channel *ch)
{
    return ch->label;
}

size_t wpd_grpc_channel_in_flight(const wpd_grpc_channel *ch)
{
    return ch->in_flight;
}

static int on_body(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    wpd_grpc_call *c = arg;
    if (c->body_code)
        return 1;
    c->body_code = wpd_grpc_deframer_feed(&c->body, data, len, c->body_why, sizeof c->body_why);
    return c->body_code ? 1 : 0;
}

static void set_status(wpd_grpc_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_status(wpd_grpc_status *st, int code, const char *fmt, ...)
{
    st->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
}

/* A transport failure: for TLS problems with the server a message of our
 * own (the HTTP layer's explanations are about engines), else the HTTP
 * layer's. */
static void tls_message(const wpd_grpc_channel *ch, const wpd_http_response *res,
                        const wpd_error *err, wpd_grpc_status *st)
{
    const char *t = ch->label;
    switch (res->curl_code) {
    case CURLE_PEER_FAILED_VERIFICATION:
        set_status(st, WPD_GRPC_UNAVAILABLE,
                   "the TLS certificate of the server %s is not trusted (%s): name its CA with "
                   "WPDOCK_GRPC_CA_FILE, or set WOODPECKER_GRPC_SKIP_VERIFY=true to skip the check",
                   t, res->curl_error);
        return;
    case CURLE_SSL_CACERT_BADFILE:
        set_status(st, WPD_GRPC_UNAVAILABLE, "cannot use the CA certificates for %s (%s)", t,
                   res->curl_error);
        return;
    case CURLE_SSL_CONNECT_ERROR:
        set_status(st, WPD_GRPC_UNAVAILABLE,
                   "the TLS handshake with %s failed (%s): does the server speak TLS there "
                   "(WOODPECKER_GRPC_SECURE)?",
                   t, res->curl_error);
        return;
    default: set_status(st, WPD_GRPC_UNAVAILABLE, "%s", err->message); return;
    }
}

static void on_http_done(wpd_http_request *req, const wpd_http_response *res, const wpd_error *err,
                         void *arg)
{
    (void)req;
    wpd_grpc_call *c = arg;
    unlink_call(c);
    if (c->abandoned) {
        free_call(c);
        return;
    }
    wpd_grpc_status st;
    memset(&st, 0, sizeof st);
    const uint8_t *msg = NULL;
    size_t len = 0;
    const char *gs = res ? wpd_http_header_get(res, "grpc-status") : NULL;
    if (c->local_cancel) {
        st.local = true;
        set_status(&st, WPD_GRPC_CANCELLED, "canceled by the agent");
    } else if (c->body_code) {
        set_status(&st, c->body_code, "%s", c->body_why);
    } else if (err && err->kind == WPD_ERR_TIMEOUT) {
        set_status(&st, WPD_GRPC_DEADLINE_EXCEEDED, "no answer in time: %s", err->message);
    } else if (err && !gs) {
        st.transport = true;
        tls_message(c->ch, res, err, &st);
    } else if (!gs && res->status != 200) {
        set_status(&st, wpd_grpc_code_for_http(res->status), "the server answered HTTP %ld",
                   res->status);
    } else if (!gs) {
        set_status(&st, WPD_GRPC_INTERNAL, "the server ended the call without a grpc-status");
    } else {
        char *end;
        long code = strtol(gs, &end, 10);
        if (*end || end == gs || code < 0 || code > 16)
            code = WPD_GRPC_UNKNOWN;
        const char *gm = wpd_http_header_get(res, "grpc-message");
        char text[WPD_ERROR_MAX];
        wpd_grpc_decode_message(gm ? gm : "", text, sizeof text);
        set_status(&st, (int)code, "%s", text);
        if (code == WPD_GRPC_OK) {
            if (wpd_grpc_deframer_complete(&c->body)) {
                msg = (const uint8_t *)(c->body.msg.data ? c->body.msg.data : "");
                len = c->body.msg.len;
            } else {
                set_status(&st, WPD_GRPC_INTERNAL, "the server sent no complete response message");
            }
        }
    }
    c->done(c, &st, msg, len, c->arg);
    free_call(c);
}

wpd_grpc_call *wpd_grpc_unary(wpd_grpc_channel *ch, const char *method, const char *const *metadata,
                              const uint8_t *req, size_t len, long timeout_ms,
                              wpd_grpc_done_fn done, void *arg)
{
    wpd_grpc_call *c = wpd_xcalloc(1, sizeof *c);
    c->ch = ch;
    c->done = done;
    c->arg = arg;
    wpd_grpc_deframer_init(&c->body, WPD_GRPC_MAX_RECV);
    c->next = ch->head;
    if (ch->head)
        ch->head->prev = c;
    ch->head = c;
    ch->in_flight++;

    c->method = wpd_xstrdup(method);
    c->timeout_ms = timeout_ms;
    wpd_grpc_frame(&c->framed, req, len);
    size_t n_meta = 0;
    while (metadata && metadata[n_meta])
        n_meta++;
    c->headers = wpd_xcalloc(n_meta + 3, sizeof *c->headers);
    c->headers[c->n_headers++] = wpd_xstrdup("te: trailers");
    if (timeout_ms > 0)
        c->headers[c->n_headers++] = wpd_xasprintf("grpc-timeout: %ldm", timeout_ms);
    for (size_t i = 0; i < n_meta; i++)
        c->headers[c->n_headers++] = wpd_xstrdup(metadata[i]);
    issue(c);
    return c;
}

static void issue(wpd_grpc_call *c)
{
    wpd_http_spec spec = {
        .method = "POST",
        .path = c->method,
        .body = c->framed.data,
        .body_len = c->framed.len,
        .content_type = "application/grpc",
        .headers = (const char *const *)c->headers,
        .timeout_ms = c->timeout_ms,
        .http2 = WPD_HTTP2_PRIOR_KNOWLEDGE,
        .on_data = on_body,
        .on_done = on_http_done,
        .arg = c,
    };
    c->req = wpd_http_start(c->ch->http, &spec);
}

void wpd_grpc_cancel(wpd_grpc_call *c)
{
    if (!c || c->local_cancel || c->abandoned)
        return;
    c->local_cancel = true;
    wpd_http_cancel(c->req);
}

void wpd_grpc_abandon(wpd_grpc_call *c)
{
    if (!c || c->abandoned)
        return;
    c->abandoned = true;
    wpd_http_cancel(c->req);
}
