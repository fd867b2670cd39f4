/* http.c - one HTTP request = one curl easy handle on the reactor's multi
 * handle. Buffered or streamed bodies, response headers, cancellation
 * (always completed through the loop, never re-entering curl), and the
 * discipline that lets libcurl 7.x share one h2c connection. */
#include "io/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/connerr.h"
#include "io/relay.h"

/* Sharing an h2c (HTTP/2 without TLS, prior knowledge) connection with
 * libcurl before 8.0: a prior-knowledge request that reuses a connection
 * fails in the framing layer (curl#10634), while a plain HTTP/2 request
 * ("join") multiplexes on an existing h2c connection correctly. So one
 * request at a time, the probe, opens a fresh connection with prior
 * knowledge; every other request joins (waiting for the probe's
 * connection with PIPEWAIT) and is never allowed to open a connection of
 * its own (it would speak HTTP/1.1): refused, it waits for the next probe
 * and is added again. The count of open sockets tells whether a
 * connection exists; curl closes sockets through us, so the count can
 * outlive the client (freed with its last socket). */
typedef struct h2c_share {
    int sockets;
    int owner_gone;
    wpd_http_request *probe;
    wpd_http_request *wait_head, *wait_tail; /* refused joiners, in order */
} h2c_share;

enum { H2C_NONE = 0, H2C_PROBE, H2C_JOIN };

struct wpd_http_client {
    wpd_reactor *r;
    wpd_conn_setup setup;
    wpd_http_request *head; /* requests in flight */
    size_t in_flight;
    h2c_share *h2c; /* NULL until a request needs it */
    /* a transport plugin's own connections and headers (ABI 1.1) */
    wpd_http_connect_fn connect;
    char **headers;
    wpd_relay *relay; /* with connect: where curl connects (relay.h) */
    char relay_name[108];
    char relay_err[256]; /* the relay could not be set up */
};

struct wpd_http_request {
    wpd_transfer_hook hook; /* must stay first: CURLOPT_PRIVATE points here */
    wpd_http_client *c;
    wpd_http_request *prev, *next;
    CURL *easy;
    struct curl_slist *req_headers;
    char *body;
    wpd_http_spec spec;
    wpd_http_response res;
    char errbuf[CURL_ERROR_SIZE];
    struct event deferred; /* cancellations and deferred starts, through the loop */
    int canceled;
    int start_failed;
    int add_pending; /* started from inside a curl callback: added from the loop */
    int aborted_by_callback;
    int headers_done;
    int finished;
    int socket_errno; /* why the last socket() failed (EMFILE...), 0 = it did not */
    char connect_err[WPD_TRANSPORT_MSG_MAX]; /* the plugin's connect() said why not */
    int pause_wanted;                        /* the owner paused the body: stop at the next chunk */
    int paused;                              /* curl holds a chunk for us (CURL_WRITEFUNC_PAUSE) */
    struct event resume;
    int h2c_role;    /* H2C_* */
    int h2c_refused; /* a joiner that wanted a connection of its own */
    int h2c_waiting; /* on the share's wait list, not in the multi */
    wpd_http_request *wait_next;
    struct timespec started;
};

static int h2c_close_socket(void *arg, curl_socket_t fd)
{
    h2c_share *h = arg;
    close(fd);
    if (--h->sockets == 0 && h->owner_gone)
        free(h);
    return 0;
}

/* libcurl 7.x, HTTP/2 without TLS: see h2c_share. */
static int wants_h2c_share(const wpd_http_client *c, const wpd_http_spec *sp)
{
    return sp->http2 == WPD_HTTP2_PRIOR_KNOWLEDGE && strncmp(c->setup.base_url, "https:", 6) != 0 &&
           curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
}

/* Probe when no connection is open and no probe is under way; join
 * otherwise. */
static void h2c_assign(wpd_http_request *q)
{
    h2c_share *h = q->c->h2c;
    CURL *e = q->easy;
    if (h->sockets == 0 && !h->probe) {
        q->h2c_role = H2C_PROBE;
        h->probe = q;
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    } else {
        q->h2c_role = H2C_JOIN;
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 0L);
    }
    if (q->spec.timeout_ms > 0) {
        long left = q->spec.timeout_ms - (long)(wpd_http_elapsed(q) * 1000.0);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left > 1 ? left : 1L);
    }
}

/* (Re)add a request of the discipline to the multi handle. */
static void h2c_add(wpd_http_request *q)
{
    h2c_assign(q);
    CURLMcode mc = curl_multi_add_handle(wpd_reactor_multi(q->c->r), q->easy);
    if (mc != CURLM_OK) {
        if (q->c->h2c->probe == q)
            q->c->h2c->probe = NULL;
        snprintf(q->errbuf, sizeof q->errbuf, "cannot start request: %s", curl_multi_strerror(mc));
        q->start_failed = 1;
        event_active(&q->deferred, 0, 0);
    }
}

static void h2c_launch_waiting(wpd_http_client *c)
{
    h2c_share *h = c->h2c;
    wpd_http_request *list = h->wait_head;
    h->wait_head = h->wait_tail = NULL;
    while (list) {
        wpd_http_request *q = list;
        list = q->wait_next;
        q->wait_next = NULL;
        q->h2c_waiting = 0;
        if (!q->canceled)
            h2c_add(q);
    }
}

static void h2c_unwait(h2c_share *h, wpd_http_request *q)
{
    wpd_http_request **pp = &h->wait_head, *prev = NULL;
    while (*pp && *pp != q) {
        prev = *pp;
        pp = &(*pp)->wait_next;
    }
    if (!*pp)
        return;
    *pp = q->wait_next;
    if (h->wait_tail == q)
        h->wait_tail = prev;
    q->wait_next = NULL;
    q->h2c_waiting = 0;
}

/* A request leaves the h2c discipline: a probe lets the waiting go. */
static void h2c_leave(wpd_http_request *q)
{
    h2c_share *h = q->c->h2c;
    if (!h)
        return;
    if (q->h2c_waiting)
        h2c_unwait(h, q);
    if (h->probe == q) {
        h->probe = NULL;
        h2c_launch_waiting(q->c);
    }
}

/* A joiner found no connection to join: it waits for a probe (or becomes
 * one), with what is left of its time. */
static void h2c_requeue(wpd_http_request *q)
{
    h2c_share *h = q->c->h2c;
    curl_multi_remove_handle(wpd_reactor_multi(q->c->r), q->easy);
    q->h2c_refused = 0;
    q->socket_errno = 0;
    q->errbuf[0] = '\0';
    if (h->probe) {
        q->h2c_waiting = 1;
        if (h->wait_tail)
            h->wait_tail->wait_next = q;
        else
            h->wait_head = q;
        h->wait_tail = q;
        return;
    }
    h2c_add(q);
}

static void free_headers(wpd_http_response *res)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    res->headers = NULL;
    res->n_headers = 0;
}

static void unlink_req(wpd_http_request *q)
{
    wpd_http_client *c = q->c;
    if (q->prev)
        q->prev->next = q->next;
    else
        c->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    c->in_flight--;
}

static void destroy_req(wpd_http_request *q)
{
    event_del(&q->deferred);
    event_del(&q->resume);
    if (q->easy) {
        curl_multi_remove_handle(wpd_reactor_multi(q->c->r), q->easy);
        curl_easy_cleanup(q->easy);
    }
    curl_slist_free_all(q->req_headers);
    free(q->body);
    free_headers(&q->res);
    wpd_buf_free(&q->res.body);
    free(q);
}

/* Deliver the result exactly once, then free the request. */
static void finish(wpd_http_request *q, const wpd_error *err)
{
    if (q->finished)
        return;
    q->finished = 1;
    h2c_leave(q);
    unlink_req(q);
    if (q->easy) {
        curl_multi_remove_handle(wpd_reactor_multi(q->c->r), q->easy);
        curl_easy_cleanup(q->easy);
        q->easy = NULL;
    }
    q->spec.on_done(q, &q->res, err, q->spec.arg);
    destroy_req(q);
}

static void on_complete(void *self, CURLcode result)
{
    wpd_http_request *q = self;
    wpd_error err;
    if (q->h2c_refused && result == CURLE_COULDNT_CONNECT && !q->canceled) {
        h2c_requeue(q);
        return;
    }
    q->res.curl_code = (int)result;
    if (q->canceled || q->aborted_by_callback) {
        wpd_error_set(&err, WPD_ERR_CANCELED, 0, "request canceled");
        finish(q, &err);
        return;
    }
    if (result == CURLE_OK) {
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &q->res.status);
        finish(q, NULL);
        return;
    }
    const char *detail = q->connect_err[0] ? q->connect_err
                         : q->errbuf[0]    ? q->errbuf
                                           : curl_easy_strerror(result);
    snprintf(q->res.curl_error, sizeof q->res.curl_error, "%.*s", (int)sizeof q->res.curl_error - 1,
             detail);
    wpd_errkind kind = WPD_ERR_CONNECT;
    switch (result) {
    case CURLE_OPERATION_TIMEDOUT: kind = WPD_ERR_TIMEOUT; break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER: kind = WPD_ERR_CONNECT; break;
    default: kind = q->res.status ? WPD_ERR_PROTOCOL : WPD_ERR_CONNECT; break;
    }
    long os_errno = 0;
    curl_easy_getinfo(q->easy, CURLINFO_OS_ERRNO, &os_errno);
    if (result == CURLE_COULDNT_CONNECT && q->socket_errno)
        os_errno = q->socket_errno; /* curl does not keep the errno of socket() */
    char msg[WPD_ERROR_MAX];
    if (q->connect_err[0] && result == CURLE_COULDNT_CONNECT)
        snprintf(msg, sizeof msg, "%s", q->connect_err); /* the plugin's own words */
    else
        wpd_describe_transfer_error(result, detail, os_errno, q->res.status, &q->c->setup, msg,
                                    sizeof msg);
    wpd_error_set(&err, kind, 0, "%s", msg);
    finish(q, &err);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wpd_http_request *q = arg;
    wpd_error err;
    if (q->add_pending && !q->canceled) {
        q->add_pending = 0;
        if (q->h2c_role) {
            if (q->c->h2c->probe) {
                h2c_requeue(q); /* waits for the probe */
                return;
            }
            h2c_assign(q);
        }
        CURLMcode mc = curl_multi_add_handle(wpd_reactor_multi(q->c->r), q->easy);
        if (mc == CURLM_OK)
            return;
        snprintf(q->errbuf, sizeof q->errbuf, "cannot start request: %s", curl_multi_strerror(mc));
        q->start_failed = 1;
    }
    if (q->start_failed)
        wpd_error_set(&err, WPD_ERR_INTERNAL, 0, "%s", q->errbuf);
    else
        wpd_error_set(&err, WPD_ERR_CANCELED, 0, "request canceled");
    finish(q, &err);
}

static void headers_complete(wpd_http_request *q)
{
    if (q->headers_done)
        return;
    q->headers_done = 1;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &q->res.status);
    if (q->spec.on_headers && !q->canceled)
        q->spec.on_headers(q, &q->res, q->spec.arg);
}

static size_t header_cb(char *buf, size_t size, size_t n, void *arg)
{
    wpd_http_request *q = arg;
    size_t len = size * n;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        free_headers(&q->res); /* a new response block (e.g. after 100) */
        return len;
    }
    if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        long code = 0;
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200)
            headers_complete(q);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1, *end = buf + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    q->res.headers = wpd_xrealloc(q->res.headers, (q->res.n_headers + 1) * sizeof(wpd_http_header));
    wpd_http_header *h = &q->res.headers[q->res.n_headers++];
    h->name = wpd_xstrndup(buf, nlen);
    for (char *p = h->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    h->value = wpd_xstrndup(v, (size_t)(end - v));
    return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
    wpd_http_request *q = arg;
    size_t len = size * n;
    if (q->canceled)
        return 0; /* abort; completion reports the cancellation */
    if (q->pause_wanted) {
        q->paused = 1; /* curl keeps this chunk until wpd_http_pause(q, false) */
        return CURL_WRITEFUNC_PAUSE;
    }
    headers_complete(q);
    if (q->spec.on_data) {
        if (q->spec.on_data(q, data, len, q->spec.arg) != 0) {
            q->aborted_by_callback = 1;
            return 0;
        }
        return len;
    }
    wpd_buf_append(&q->res.body, data, len);
    return len;
}

wpd_http_client *wpd_http_client_new(wpd_reactor *r, const wpd_conn_setup *setup)
{
    wpd_http_client *c = wpd_xcalloc(1, sizeof *c);
    c->r = r;
    c->setup = *setup;
    return c;
}

void wpd_http_client_free(wpd_http_client *c)
{
    if (!c)
        return;
    h2c_share *h = c->h2c;
    if (h) {
        h->probe = NULL;
        h->wait_head = h->wait_tail = NULL;
    }
    while (c->head) {
        wpd_http_request *q = c->head;
        q->finished = 1;
        unlink_req(q);
        destroy_req(q);
    }
    for (size_t i = 0; c->headers && c->headers[i]; i++)
        free(c->headers[i]);
    free(c->headers);
    wpd_relay_free(c->relay);
    if (h) {
        /* curl closes the connection's sockets later, through h */
        if (h->sockets > 0)
            h->owner_gone = 1;
        else
            free(h);
    }
    free(c);
}

void wpd_http_client_set_transport(wpd_http_client *c, wpd_http_connect_fn connect,
                                   const char *const *headers)
{
    c->connect = connect;
    size_t n = 0;
    while (headers && headers[n])
        n++;
    if (n) {
        c->headers = wpd_xcalloc(n + 1, sizeof *c->headers);
        for (size_t i = 0; i < n; i++)
            c->headers[i] = wpd_xstrdup(headers[i]);
    }
    if (connect && !c->relay) {
        /* curl connects to the client's own relay socket (never shared
         * with another client, never resolved) */
        wpd_error err;
        c->relay = wpd_relay_new(c->r, c->relay_name, sizeof c->relay_name, &err);
        if (!c->relay)
            snprintf(c->relay_err, sizeof c->relay_err, "%.*s", (int)sizeof c->relay_err - 1,
                     err.message);
    }
}

const wpd_conn_setup *wpd_http_client_setup(const wpd_http_client *c)
{
    return &c->setup;
}

size_t wpd_http_client_in_flight(const wpd_http_client *c)
{
    return c->in_flight;
}

/* curl's socket(), remembering why it failed (out of descriptors), and
 * close-on-exec: child processes (credential helpers) get no connection. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)purpose;
    wpd_http_request *q = arg;
    if (q->h2c_role == H2C_JOIN) {
        q->h2c_refused = 1; /* no connection to join: wait for a probe */
        return CURL_SOCKET_BAD;
    }
    if (q->c->connect) {
        /* the plugin dials; curl's own socket goes to the relay */
        if (!q->c->relay) {
            snprintf(q->connect_err, sizeof q->connect_err, "%s", q->c->relay_err);
            return CURL_SOCKET_BAD;
        }
        q->connect_err[0] = '\0';
        int pfd = q->c->connect(&q->c->setup, q->connect_err, sizeof q->connect_err);
        if (pfd < 0) {
            if (!q->connect_err[0])
                snprintf(q->connect_err, sizeof q->connect_err,
                         "the transport plugin could not connect");
            return CURL_SOCKET_BAD;
        }
        int fl = fcntl(pfd, F_GETFD);
        if (fl >= 0)
            fcntl(pfd, F_SETFD, fl | FD_CLOEXEC);
        wpd_relay_push(q->c->relay, pfd);
    }
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0) {
        q->socket_errno = errno;
        return CURL_SOCKET_BAD;
    }
    if (q->h2c_role == H2C_PROBE)
        q->c->h2c->sockets++;
    return fd;
}

static void configure(wpd_http_request *q, const wpd_http_spec *sp)
{
    const wpd_conn_setup *s = &q->c->setup;
    CURL *e = q->easy;
    char *url = wpd_xasprintf("%s%s", s->base_url, sp->path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, q);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "wpdock/" WPDOCK_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     sp->connect_timeout_ms > 0 ? sp->connect_timeout_ms : 10000L);
    if (sp->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, sp->timeout_ms);
    if (sp->http2) {
        long v = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        if (strncmp(s->base_url, "https:", 6) == 0)
            v = CURL_HTTP_VERSION_2TLS;
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, v);
        /* wait for the connection being set up rather than opening another */
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        if (wants_h2c_share(q->c, sp)) {
            if (!q->c->h2c)
                q->c->h2c = wpd_xcalloc(1, sizeof *q->c->h2c);
            q->h2c_role = H2C_JOIN; /* h2c_assign decides when it is added */
            curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, h2c_close_socket);
            curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, q->c->h2c);
        }
    }
    if (q->c->connect) {
        curl_easy_setopt(e, CURLOPT_ABSTRACT_UNIX_SOCKET, q->c->relay_name);
    } else if (s->unix_path[0]) {
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, s->unix_path);
    }
    if (s->tcp_keepalive)
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (strncmp(s->base_url, "https:", 6) == 0) {
        if (s->ca_file[0])
            curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
        if (s->cert_file[0])
            curl_easy_setopt(e, CURLOPT_SSLCERT, s->cert_file);
        if (s->key_file[0])
            curl_easy_setopt(e, CURLOPT_SSLKEY, s->key_file);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->tls_verify_peer ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->tls_verify_host ? 2L : 0L);
    }

    const char *method = sp->method ? sp->method : "GET";
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        /* POST-style request with an explicit (possibly empty) body, so
         * curl always sends Content-Length and never chunks. */
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(q->body ? sp->body_len : 0));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->body ? q->body : "");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (q->body) {
        char *ct = wpd_xasprintf("Content-Type: %s",
                                 sp->content_type ? sp->content_type : "application/json");
        q->req_headers = curl_slist_append(q->req_headers, ct);
        free(ct);
    }
    /* Never wait for "100 Continue". */
    q->req_headers = curl_slist_append(q->req_headers, "Expect:");
    for (size_t i = 0; q->c->headers && q->c->headers[i]; i++)
        q->req_headers = curl_slist_append(q->req_headers, q->c->headers[i]);
    for (size_t i = 0; sp->headers && sp->headers[i]; i++)
        q->req_headers = curl_slist_append(q->req_headers, sp->headers[i]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->req_headers);
}

static void on_resume(evutil_socket_t fd, short what, void *arg);

wpd_http_request *wpd_http_start(wpd_http_client *c, const wpd_http_spec *spec)
{
    wpd_http_request *q = wpd_xcalloc(1, sizeof *q);
    q->hook.complete = on_complete;
    q->c = c;
    q->spec = *spec;
    /* the strings the spec points to are only borrowed for this call */
    q->spec.path = NULL;
    q->spec.method = NULL;
    q->spec.body = NULL;
    q->spec.headers = NULL;
    q->spec.content_type = NULL;
    clock_gettime(CLOCK_MONOTONIC, &q->started);
    event_assign(&q->deferred, wpd_reactor_base(c->r), -1, 0, on_deferred, q);
    event_assign(&q->resume, wpd_reactor_base(c->r), -1, 0, on_resume, q);
    q->next = c->head;
    if (c->head)
        c->head->prev = q;
    c->head = q;
    c->in_flight++;
    if (spec->body) {
        q->body = wpd_xmalloc(spec->body_len + 1);
        memcpy(q->body, spec->body, spec->body_len);
        q->body[spec->body_len] = '\0';
    }
    q->easy = curl_easy_init();
    if (!q->easy) {
        snprintf(q->errbuf, sizeof q->errbuf, "cannot create a curl handle");
        q->start_failed = 1;
        event_active(&q->deferred, 0, 0);
        return q;
    }
    configure(q, spec);
    if (q->h2c_role)
        h2c_assign(q);
    CURLMcode mc = curl_multi_add_handle(wpd_reactor_multi(c->r), q->easy);
    if (mc != CURLM_OK && q->h2c_role == H2C_PROBE)
        c->h2c->probe = NULL; /* becomes the probe again when added from the loop */
    if (mc == CURLM_RECURSIVE_API_CALL) {
        /* called from a header or data callback, where curl refuses new
         * handles: add it from the loop instead */
        q->add_pending = 1;
        event_active(&q->deferred, 0, 0);
    } else if (mc != CURLM_OK) {
        snprintf(q->errbuf, sizeof q->errbuf, "cannot start request: %s", curl_multi_strerror(mc));
        q->start_failed = 1;
        event_active(&q->deferred, 0, 0);
    }
    return q;
}

/* From the loop: unpausing may deliver the held chunk at once, so never
 * from the owner's own callbacks. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wpd_http_request *q = arg;
    if (q->finished || q->canceled || q->pause_wanted || !q->paused || !q->easy)
        return;
    q->paused = 0;
    curl_easy_pause(q->easy, CURLPAUSE_CONT);
}

void wpd_http_pause(wpd_http_request *q, bool pause)
{
    if (!q || q->finished)
        return;
    q->pause_wanted = pause;
    if (!pause && q->paused)
        event_active(&q->resume, 0, 0);
}

void wpd_http_cancel(wpd_http_request *q)
{
    if (!q || q->finished || q->canceled || q->start_failed)
        return;
    q->canceled = 1;
    event_active(&q->deferred, 0, 0);
}

double wpd_http_elapsed(const wpd_http_request *q)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - q->started.tv_sec) +
           (double)(now.tv_nsec - q->started.tv_nsec) / 1e9;
}

const char *wpd_http_header_get(const wpd_http_response *res, const char *name)
{
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}
