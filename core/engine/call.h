/* call.h - the machinery behind every typed Engine API call (engine layer
 * only): a call is one engine request whose completion a per-call type
 * turns into its typed callback. A call's own state is a struct that
 * starts with a wpd_call. */
#ifndef WPDOCK_ENGINE_CALL_H
#define WPDOCK_ENGINE_CALL_H

#include "engine/api.h"
#include "engine/dialect.h"
#include "engine/engine.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/jsonw.h"

typedef struct wpd_call_type {
    /* Deliver the typed callback: err NULL for a 2xx (or 304) answer with
     * res filled; else a transport failure, cancellation, an HTTP error
     * (WPD_ERR_ENGINE with status and the engine's message) or an
     * unexpected status (WPD_ERR_PROTOCOL); res may then be NULL. */
    void (*complete)(wpd_call *c, const wpd_http_response *res, const wpd_error *err);
    /* Optional: stream the body (success statuses only); non-zero aborts
     * the request and complete() gets WPD_ERR_CANCELED. */
    int (*data)(wpd_call *c, const char *data, size_t len);
    /* Optional: the response headers of a success status are in. */
    void (*headers)(wpd_call *c, const wpd_http_response *res);
    /* Optional: free what the call's struct owns (not the struct). */
    void (*cleanup)(wpd_call *c);
} wpd_call_type;

struct wpd_call {
    const wpd_call_type *type;
    wpd_engine *e;
    wpd_http_request *req;
    wpd_timer *timer; /* completion of a call that failed before sending */
    wpd_error early;
    bool canceled;
    bool abandoned; /* complete() is not called */
};

typedef struct wpd_call_req {
    const char *method;
    const char *path;           /* without the version prefix, unless unversioned */
    bool unversioned;           /* the path carries its own prefix (libpod) */
    const char *body;           /* NULL = none */
    size_t body_len;            /* 0 = strlen(body) */
    const char *content_type;   /* NULL = application/json */
    const char *const *headers; /* extra "Name: value" lines */
    long timeout_ms;            /* 0 = none */
} wpd_call_req;

/* A zeroed call struct of `size` bytes (at least sizeof(wpd_call)). */
void *wpd_call_new(wpd_engine *e, const wpd_call_type *type, size_t size);
/* Send the request; returns c. */
wpd_call *wpd_call_send(wpd_call *c, const wpd_call_req *rq);
/* Complete c with err from the loop, without a request (bad arguments). */
wpd_call *wpd_call_fail(wpd_call *c, const wpd_error *err);

/* Most calls need no state of their own: the caller's typed callback and
 * a deliver function that turns the answer into its arguments. */
typedef void (*wpd_any_fn)(void); /* a typed callback, cast back by deliver */
typedef struct wpd_typed_call wpd_typed_call;
typedef void (*wpd_deliver_fn)(wpd_typed_call *c, const wpd_http_response *res,
                               const wpd_error *err);
struct wpd_typed_call {
    wpd_call base;
    wpd_deliver_fn deliver;
    wpd_any_fn done;
    void *arg;
    const void *ctx; /* the deliver function's own (wpd_result_type) */
};
wpd_call *wpd_typed_send(wpd_engine *e, wpd_deliver_fn deliver, wpd_any_fn done, void *arg,
                         const wpd_call_req *rq);
/* The same completing with err from the loop, without a request (bad
 * arguments). */
wpd_call *wpd_typed_fail(wpd_engine *e, wpd_deliver_fn deliver, wpd_any_fn done, void *arg,
                         const wpd_error *err);
/* deliver for calls whose callback is a wpd_done_fn (no result). */
void wpd_deliver_done(wpd_typed_call *c, const wpd_http_response *res, const wpd_error *err);

/* The common case: the answer's body parsed into a typed result (its
 * strings in an arena that lives for the callback), then emitted to the
 * caller's callback; a parse failure is the call's error. */
typedef struct wpd_result_type {
    size_t size; /* of the result struct */
    int (*parse)(const char *body, size_t len, wpd_arena *a, void *result, wpd_error *err);
    /* result NULL with err set, or the parsed result with err NULL */
    void (*emit)(wpd_any_fn done, void *arg, const void *result, const wpd_error *err);
} wpd_result_type;
wpd_call *wpd_result_send(wpd_engine *e, const wpd_result_type *t, wpd_any_fn done, void *arg,
                          const wpd_call_req *rq);
wpd_call *wpd_result_fail(wpd_engine *e, const wpd_result_type *t, wpd_any_fn done, void *arg,
                          const wpd_error *err);
/* A GET of the path built in *path (freed here). */
wpd_call *wpd_result_get(wpd_engine *e, wpd_buf *path, const wpd_result_type *t, wpd_any_fn done,
                         void *arg);
/* emit for a result that is one string (an id, a name): the callback is a
 * wpd_str_fn (wpd_net_create_fn, wpd_vol_create_fn, wpd_exec_create_fn). */
typedef void (*wpd_str_fn)(void *arg, const char *s, const wpd_error *err);
void wpd_emit_str(wpd_any_fn done, void *arg, const void *result, const wpd_error *err);

/* "Labels":{key:value,...} of a create body; nothing when n == 0. */
void wpd_write_labels(wpd_jsonw *w, const wpd_pair *labels, size_t n);

/* A state-changing call (start, stop, kill, remove of any object): its
 * harmless answers (dialect.h) and 304 become outcomes. Takes path. */
wpd_call *wpd_change_send(wpd_engine *e, wpd_change_op op, const char *method, char *path,
                          wpd_change_fn done, void *arg);

/* Append s to a path as one percent-encoded segment or query value. */
void wpd_path_escape(wpd_buf *out, const char *s);
/* "{"key":["value",...],...}" with repeated keys grouped in order of
 * first appearance; NULL when n == 0. malloc'd. */
char *wpd_filters_json(const wpd_pair *filters, size_t n);
/* Append "filters=<escaped JSON>" (preceded by sep) when n > 0. */
void wpd_path_filters(wpd_buf *path, char sep, const wpd_pair *filters, size_t n);

#endif
