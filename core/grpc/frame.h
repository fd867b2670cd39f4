/* frame.h - the pure parts of gRPC over HTTP/2: the 5-byte message
 * framing, status codes and their names, grpc-message percent-decoding,
 * the HTTP status -> gRPC status mapping and target parsing. No I/O. */
#ifndef WPDOCK_GRPC_FRAME_H
#define WPDOCK_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* gRPC status codes. */
typedef enum wpd_grpc_code {
    WPD_GRPC_OK = 0,
    WPD_GRPC_CANCELLED = 1,
    WPD_GRPC_UNKNOWN = 2,
    WPD_GRPC_INVALID_ARGUMENT = 3,
    WPD_GRPC_DEADLINE_EXCEEDED = 4,
    WPD_GRPC_NOT_FOUND = 5,
    WPD_GRPC_ALREADY_EXISTS = 6,
    WPD_GRPC_PERMISSION_DENIED = 7,
    WPD_GRPC_RESOURCE_EXHAUSTED = 8,
    WPD_GRPC_FAILED_PRECONDITION = 9,
    WPD_GRPC_ABORTED = 10,
    WPD_GRPC_OUT_OF_RANGE = 11,
    WPD_GRPC_UNIMPLEMENTED = 12,
    WPD_GRPC_INTERNAL = 13,
    WPD_GRPC_UNAVAILABLE = 14,
    WPD_GRPC_DATA_LOSS = 15,
    WPD_GRPC_UNAUTHENTICATED = 16
} wpd_grpc_code;

/* "OK", "Unavailable", ... ("Code(N)" for unknown numbers, in buf). */
const char *wpd_grpc_code_name(int code);

/* The largest response message accepted (the Go agent's limit is 4 MiB;
 * Woodpecker's Next payloads are not bounded). */
#define WPD_GRPC_MAX_RECV ((size_t)64 << 20)
/* The largest request a Woodpecker server accepts. */
#define WPD_GRPC_MAX_SEND ((size_t)4 << 20)

/* Append the 5-byte prefix (uncompressed) and the message to out. */
void wpd_grpc_frame(wpd_buf *out, const uint8_t *msg, size_t len);

/* Incremental reader of a response body: feed bytes as they arrive. */
typedef struct wpd_grpc_deframer {
    uint8_t head[5];
    size_t head_have;
    size_t want; /* length of the message being read */
    bool in_message;
    size_t n_messages;
    wpd_buf msg; /* the (first) message */
    size_t limit;
} wpd_grpc_deframer;

void wpd_grpc_deframer_init(wpd_grpc_deframer *d, size_t limit);
void wpd_grpc_deframer_free(wpd_grpc_deframer *d);
/* 0, or a gRPC code (INTERNAL for a compressed or second message,
 * RESOURCE_EXHAUSTED beyond the limit) with why in msg. */
int wpd_grpc_deframer_feed(wpd_grpc_deframer *d, const char *data, size_t len, char *why,
                           size_t whylen);
/* After the body ended: true when exactly one whole message arrived. */
bool wpd_grpc_deframer_complete(const wpd_grpc_deframer *d);

/* grpc-message is percent-encoded: decode into out (NUL-terminated,
 * truncated to outlen-1), control bytes shown as '?'. */
void wpd_grpc_decode_message(const char *in, char *out, size_t outlen);

/* The gRPC status for a non-200 HTTP answer (gRPC's HTTP mapping). */
int wpd_grpc_code_for_http(long status);

/* A parsed WOODPECKER_SERVER target. */
typedef struct wpd_grpc_target {
    bool unix_socket;
    char unix_path[4096]; /* absolute */
    char authority[1000]; /* host:port for :authority and the URL */
} wpd_grpc_target;

/* "host:port", "[v6]:port", "dns:///host:port", "unix:path",
 * "unix:///abs/path". A relative unix path is made absolute against the
 * working directory. 0, or -1 with why in msg. */
int wpd_grpc_target_parse(const char *target, wpd_grpc_target *t, char *why, size_t whylen);

#endif
