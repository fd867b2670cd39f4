/* http.h - HTTP requests on the reactor: one request = one curl easy
 * handle, with a buffered body or a streamed one, cancellable at any time.
 * Knows where to connect (a wpd_conn_setup from a transport plugin) but
 * nothing about the Docker API. */
#ifndef WPDOCK_HTTP_H
#define WPDOCK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "util/buf.h"
#include "io/reactor.h"

typedef struct wpd_http_client wpd_http_client;
typedef struct wpd_http_request wpd_http_request;

typedef struct wpd_http_header {
    char *name; /* lower-case */
    char *value;
} wpd_http_header;

typedef struct wpd_http_response {
    long status;              /* HTTP status, 0 when no response arrived */
    wpd_http_header *headers; /* of the final response */
    size_t n_headers;
    wpd_buf body; /* whole body, unless the request streams it (on_data) */
    /* A failed transfer: curl's result code and its own text ("" and 0
     * otherwise), for callers that explain errors in their own terms. */
    int curl_code;
    char curl_error[256];
} wpd_http_response;

/* Called exactly once per request, never from inside wpd_http_start or
 * wpd_http_cancel. err == NULL: a response arrived (any status, res
 * filled). err != NULL: no complete response: transport failure
 * (WPD_ERR_CONNECT / WPD_ERR_PROTOCOL), cancellation (WPD_ERR_CANCELED) or
 * timeout (WPD_ERR_TIMEOUT); res holds what arrived. The request is freed
 * right after this returns. */
typedef void (*wpd_http_done_fn)(wpd_http_request *req, const wpd_http_response *res,
                                 const wpd_error *err, void *arg);
/* Streamed body bytes (no NUL terminator). Return 0 to go on, non-zero to
 * abort the request (on_done then reports WPD_ERR_CANCELED). */
typedef int (*wpd_http_data_fn)(wpd_http_request *req, const char *data, size_t len, void *arg);
/* The response headers are complete (res->status and headers valid). */
typedef void (*wpd_http_headers_fn)(wpd_http_request *req, const wpd_http_response *res, void *arg);

enum { WPD_HTTP1 = 0, WPD_HTTP2_PRIOR_KNOWLEDGE = 1 };

typedef struct wpd_http_spec {
    const char *method; /* "GET", "POST", "DELETE", "HEAD", ... */
    const char *path;   /* path and query, starting with '/' */
    const char *body;   /* NULL = no body (POST then sends Content-Length: 0) */
    size_t body_len;
    const char *content_type;   /* default "application/json" when body is set */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; may be NULL */
    long timeout_ms;            /* whole request; 0 = none (long logs, waits) */
    long connect_timeout_ms;    /* 0 = 10 s */
    /* HTTP/2 (gRPC): WPD_HTTP2_PRIOR_KNOWLEDGE speaks h2c on http://
     * (ALPN h2 on https://), the client's requests sharing one multiplexed
     * connection (with libcurl 7.x too, see http.c). */
    int http2;
    wpd_http_headers_fn on_headers; /* optional */
    wpd_http_data_fn on_data;       /* optional: stream the body instead of buffering */
    wpd_http_done_fn on_done;       /* required */
    void *arg;
} wpd_http_spec;

/* The setup is copied; the reactor must outlive the client. */
wpd_http_client *wpd_http_client_new(wpd_reactor *r, const wpd_conn_setup *setup);
/* A transport plugin's own connections (ABI 1.1): connect, when not NULL,
 * opens every new connection (given the client's copy of the setup) and
 * the client dials nothing itself; headers ("Name: value",
 * NULL-terminated, copied) go with every request. */
typedef int (*wpd_http_connect_fn)(wpd_conn_setup *setup, char *err, size_t errlen);
void wpd_http_client_set_transport(wpd_http_client *c, wpd_http_connect_fn connect,
                                   const char *const *headers);
/* Requests still in flight are aborted without calling their callbacks. */
void wpd_http_client_free(wpd_http_client *c);
const wpd_conn_setup *wpd_http_client_setup(const wpd_http_client *c);
size_t wpd_http_client_in_flight(const wpd_http_client *c);

/* Start a request; never returns NULL. The returned pointer is valid until
 * on_done has returned. */
wpd_http_request *wpd_http_start(wpd_http_client *c, const wpd_http_spec *spec);
/* Abort a request that has not completed yet; on_done follows (once) with
 * WPD_ERR_CANCELED unless the response had already completed. */
void wpd_http_cancel(wpd_http_request *req);
/* Back-pressure on a streamed body: paused, on_data gets at most the chunk
 * being delivered and nothing more until it is unpaused (curl stops
 * reading, so the peer's sends block); unpausing resumes from the loop.
 * Headers and completion are not held back. */
void wpd_http_pause(wpd_http_request *req, bool pause);
/* Seconds this request has been running (for diagnostics). */
double wpd_http_elapsed(const wpd_http_request *req);

/* Header value by case-insensitive name, or NULL. */
const char *wpd_http_header_get(const wpd_http_response *res, const char *name);

#endif
