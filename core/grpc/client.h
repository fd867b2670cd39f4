/* client.h - gRPC unary calls over HTTP/2 on the reactor: a channel is one
 * server (h2c with prior knowledge, TLS with ALPN h2, or a unix socket);
 * every call is one HTTP/2 stream of the channel's shared connection,
 * completing exactly once through the loop with a status and the response
 * message. No retries here: the caller decides (core/agent/rpc.c). */
#ifndef WPDOCK_GRPC_CLIENT_H
#define WPDOCK_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wpdock/error.h>

#include "grpc/frame.h"
#include "io/reactor.h"

typedef struct wpd_grpc_channel wpd_grpc_channel;
typedef struct wpd_grpc_call wpd_grpc_call;

typedef struct wpd_grpc_tls {
    bool enabled;
    bool skip_verify;
    const char *ca_file; /* NULL = the system's trust store */
} wpd_grpc_tls;

/* The outcome of one call. code is a wpd_grpc_code; a call that got no
 * gRPC answer (connection refused or broken, TLS failure) is UNAVAILABLE
 * with transport set; a local cancel is CANCELLED with local set. */
typedef struct wpd_grpc_status {
    int code;
    bool transport;
    bool local;
    char message[WPD_ERROR_MAX];
} wpd_grpc_status;

/* target: see wpd_grpc_target_parse. NULL with err (WPD_ERR_USAGE) for a
 * bad target or a unix socket that does not exist. */
wpd_grpc_channel *wpd_grpc_channel_new(wpd_reactor *r, const char *target, const wpd_grpc_tls *tls,
                                       wpd_error *err);
/* Calls still in flight are aborted without their callbacks. */
void wpd_grpc_channel_free(wpd_grpc_channel *ch);
/* "host:port" or the socket path, for messages. */
const char *wpd_grpc_channel_target(const wpd_grpc_channel *ch);
size_t wpd_grpc_channel_in_flight(const wpd_grpc_channel *ch);

/* msg/len: the response message (valid during the callback) when code is
 * OK; NULL otherwise. */
typedef void (*wpd_grpc_done_fn)(wpd_grpc_call *call, const wpd_grpc_status *st, const uint8_t *msg,
                                 size_t len, void *arg);

/* Start a unary call. method: "/proto.Woodpecker/Next". metadata: extra
 * "key: value" header lines, NULL-terminated, may be NULL. req: the
 * serialized request (copied). timeout_ms: 0 = none (long polls).
 * Never returns NULL; the callback runs from the loop. */
wpd_grpc_call *wpd_grpc_unary(wpd_grpc_channel *ch, const char *method, const char *const *metadata,
                              const uint8_t *req, size_t len, long timeout_ms,
                              wpd_grpc_done_fn done, void *arg);
/* The callback follows (once) with CANCELLED, local set, unless the call
 * had already completed. */
void wpd_grpc_cancel(wpd_grpc_call *call);
/* Forget the call: no callback. */
void wpd_grpc_abandon(wpd_grpc_call *call);

#endif
