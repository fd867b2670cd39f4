/* engine.h - internal side of the engine client: versioned Engine API
 * calls with engine error bodies turned into error values, and the pure
 * helpers behind negotiation and error mapping (unit-tested). */
#ifndef WPDOCK_CORE_ENGINE_H
#define WPDOCK_CORE_ENGINE_H

#include <wpdock/engine.h>

#include "io/http.h"

/* Result of an engine call. err == NULL: status 200-399 (res filled).
 * err != NULL: transport failure, cancellation, or an HTTP error status
 * (kind WPD_ERR_ENGINE, err->status set, message from the body). */
typedef void (*wpd_engine_done_fn)(const wpd_http_response *res, const wpd_error *err, void *arg);

typedef struct wpd_engine_call {
    const char *method;
    const char *path;         /* without the version prefix, e.g. "/containers/json" */
    int unversioned;          /* 1: send path as is (e.g. "/_ping") */
    const char *body;         /* NULL = none */
    size_t body_len;          /* 0 with a body = strlen(body) */
    const char *content_type; /* NULL = application/json */
    const char *const *headers;
    long timeout_ms;
    wpd_http_headers_fn on_headers;
    wpd_http_data_fn on_data;
    wpd_engine_done_fn on_done;
    /* optional: the engine is freed with the call in flight (on_done will
     * never run): free what arg owns */
    void (*on_drop)(void *arg);
    void *arg;
} wpd_engine_call;

wpd_http_request *wpd_engine_call_start(wpd_engine *e, const wpd_engine_call *call);
const char *wpd_engine_label(const wpd_engine *e); /* "engine at unix:///..." for messages */
wpd_engine_kind wpd_engine_get_kind(const wpd_engine *e);
/* "/v4.0.0/libpod"-style prefix for Podman's native API (unversioned call
 * paths start with it); "" for Docker. */
const char *wpd_engine_libpod_prefix(const wpd_engine *e);
size_t wpd_engine_in_flight(const wpd_engine *e);
/* Exit waits in flight on this engine (containers.c keeps the count; the
 * dialect spaces Podman's polling waits by it). */
int *wpd_engine_waits(wpd_engine *e);

/* Compare dotted versions "1.41" vs "1.9": <0, 0, >0. */
int wpd_version_cmp(const char *a, const char *b);
/* Pick the API version: pinned wins (validated "1.NN" form); else
 * min(ours_max, engine) – an empty engine version means WPD_API_VERSION_MIN;
 * an engine below ours_min is refused with a message naming both. */
int wpd_api_negotiate(const char *pinned, const char *engine_max, const char *ours_max,
                      const char *ours_min, char *out, size_t outlen, wpd_error *err);
/* Turn an error response into an error value (kind WPD_ERR_ENGINE): JSON
 * {"message":...} (Podman: "cause" kept as a hint after the message) or
 * the raw body; an empty body gets a generic text naming the status. */
void wpd_engine_error_from_body(long status, const char *content_type, const char *body, size_t len,
                                wpd_error *err);
/* Map an architecture name to the platform's spelling (x86_64 -> amd64). */
const char *wpd_platform_arch(const char *arch);

#endif
