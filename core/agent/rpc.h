/* rpc.h - the Woodpecker RPCs of one registered agent identity (a "peer":
 * its agent id and access token) over a shared gRPC channel: protobuf-c
 * messages in and out, the token/hostname/proto-version metadata, Auth and
 * its refresh (every 30 min and on Unauthenticated, merged), and the Go
 * agent's retry policy with the window counted from the first failure. */
#ifndef WPDOCK_AGENT_RPC_H
#define WPDOCK_AGENT_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/woodpecker_messages.pb-c.h"
#include "grpc/client.h"

typedef struct agent_peer agent_peer;
typedef struct rpc_call rpc_call;

/* Outcome of one RPC after its retries: st->code OK with resp (unpacked,
 * freed after the callback; NULL for Empty), or the final status. */
typedef void (*rpc_done_fn)(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp);
/* Messages of the peer (auth, retries) for the agent's log. level as
 * wpd_agent_log_level. */
typedef void (*rpc_log_fn)(void *arg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct agent_peer_config {
    wpd_reactor *r;
    wpd_grpc_channel *ch;
    const char *secret;
    const char *hostname;
    int64_t agent_id;     /* -1 when none is stored */
    double retry_timeout; /* seconds; 0 = forever */
    rpc_log_fn log;
    void *log_arg;
    /* every successful Auth (the id to persist) */
    void (*on_auth)(void *arg, int64_t agent_id);
    /* every finished call: whether the server answered (for /healthz) */
    void (*on_contact)(void *arg, bool reachable);
    void *arg;
} agent_peer_config;

agent_peer *agent_peer_new(const agent_peer_config *cfg);
/* In-flight calls are abandoned (no callbacks). */
void agent_peer_free(agent_peer *p);
int64_t agent_peer_id(const agent_peer *p);
bool agent_peer_authenticated(const agent_peer *p);

enum {
    RPC_RETRY =
        1, /* the retry policy (Next, Wait, Init, Done, Extend, Update, Log, ReportHealth) */
    RPC_NO_TOKEN = 2, /* Auth itself */
};

/* Method: "Next" (of proto.Woodpecker) or "/proto.WoodpeckerAuth/Auth".
 * resp_desc: the response message type, NULL for Empty. timeout_ms: per
 * attempt, 0 = none; window_ms: overrides the retry window (> 0). The first
 * call authenticates first. Never returns NULL; done runs once from the
 * loop. */
rpc_call *rpc_start(agent_peer *p, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, unsigned flags, long timeout_ms,
                    long window_ms, rpc_done_fn done, void *arg);
/* The same with the request already packed (copied). */
rpc_call *rpc_start_packed(agent_peer *p, const char *method, const uint8_t *req, size_t len,
                           const ProtobufCMessageDescriptor *resp_desc, unsigned flags,
                           long timeout_ms, long window_ms, rpc_done_fn done, void *arg);
/* done follows with CANCELLED (local) unless already completed. */
void rpc_cancel(rpc_call *c);
/* No callback. */
void rpc_abandon(rpc_call *c);

/* Authenticate now (startup); done gets the Auth status. */
void agent_peer_auth(agent_peer *p, rpc_done_fn done, void *arg);

/* Retryable status codes of the Go agent's policy. */
bool rpc_code_retryable(int code);

#endif
