/* wpdock/agent.h - a Woodpecker agent: registers with a Woodpecker server
 * over gRPC (protocol version 16), pulls workflows and runs them with the
 * docker backend's semantics on one or several connected engines, reporting
 * step states and logs back as the Go agent does. Everything runs on the
 * engines' reactor (one thread).
 *
 *   wpd_agent_config cfg;
 *   wpd_agent_config_init(&cfg);                // the Go agent's defaults
 *   cfg.server = "ci.example.com:9000";
 *   cfg.secret = "...";
 *   cfg.engines = &(wpd_agent_engine){.engine = e, .max_workflows = 2};
 *   cfg.n_engines = 1;
 *   wpd_agent *a = wpd_agent_new(r, &cfg, &err);
 *   wpd_agent_start(a, on_stopped, ctx);        // then run the reactor
 *   ...                                         // SIGTERM: wpd_agent_shutdown(a)
 */
#ifndef WPDOCK_AGENT_H
#define WPDOCK_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/engine.h>
#include <wpdock/error.h>
#include <wpdock/export.h>
#include <wpdock/reactor.h>
#include <wpdock/runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The gRPC protocol version this agent speaks (Woodpecker 3.14 and later). */
#define WPD_AGENT_PROTO_VERSION 16

typedef struct wpd_agent wpd_agent;

/* One engine the agent serves. Each registers as its own agent on the
 * server (its own id) when there are several. */
typedef struct wpd_agent_engine {
    const char *name;   /* key in the config file when several; may be NULL for one */
    wpd_engine *engine; /* connected; must outlive the agent */
    int max_workflows;  /* workflows at once on this engine, >= 1 */
} wpd_agent_engine;

typedef enum wpd_agent_log_level {
    WPD_AGENT_LOG_TRACE,
    WPD_AGENT_LOG_DEBUG,
    WPD_AGENT_LOG_INFO,
    WPD_AGENT_LOG_WARN,
    WPD_AGENT_LOG_ERROR,
    WPD_AGENT_LOG_DISABLED
} wpd_agent_log_level;

/* One log message of the agent (already formatted, no newline). */
typedef void (*wpd_agent_log_fn)(wpd_agent_log_level level, const char *msg, void *arg);

typedef struct wpd_agent_config {
    const char *server;       /* "host:port" or "unix:///path"; default "localhost:9000" */
    const char *secret;       /* agent secret or individual agent token (required) */
    bool grpc_secure;         /* TLS to the server (ALPN h2); default false */
    bool grpc_skip_verify;    /* with TLS: do not verify the certificate; default false */
    const char *grpc_ca_file; /* with TLS: CA bundle; NULL = the system's */
    const char *hostname;     /* agent name, `hostname` label, CI_MACHINE; NULL = gethostname */
    /* {"agent_id":N} is read from and written to this file; NULL or "" =
     * stateless (the agent unregisters when it stops). With several
     * engines the file holds {"agents":{"NAME":N,...}}. */
    const char *config_file;
    /* Custom labels, "key=value" strings, NULL-terminated; NULL = none.
     * They override the default filter labels and are sent as
     * customLabels when registering. */
    const char *const *labels;
    double retry_timeout;       /* seconds of retries per call after its first failure; 0 = forever;
                                   default 120 */
    bool single_workflow;       /* stop after one workflow (forces one at a time); default false */
    int connect_retry_count;    /* startup attempts on Unavailable/DeadlineExceeded; default 5 */
    double connect_retry_delay; /* seconds between them; default 2 */
    const char *healthcheck_addr;    /* "[host]:port" of /healthz, /varz, /version; NULL = none;
                                        default ":3000" */
    const wpd_settings *settings;    /* backend settings for every workflow (required) */
    const wpd_agent_engine *engines; /* at least one */
    size_t n_engines;
    wpd_agent_log_level log_level; /* default WPD_AGENT_LOG_INFO */
    wpd_agent_log_fn log;          /* NULL = stderr */
    void *log_arg;
    const char *version; /* reported to the server; NULL = wpdock's version */
} wpd_agent_config;

/* Fill cfg with the Go agent's defaults (everything else NULL/0). */
WPD_EXPORT void wpd_agent_config_init(wpd_agent_config *cfg);

/* Checks the configuration (WPD_ERR_USAGE naming what is wrong) and copies
 * everything it needs; cfg may be freed afterwards (the engines and
 * settings it points to may not). */
WPD_EXPORT wpd_agent *wpd_agent_new(wpd_reactor *r, const wpd_agent_config *cfg, wpd_error *err);

typedef void (*wpd_agent_stopped_fn)(wpd_agent *a, void *arg);
/* Authenticates, checks the version, registers, sweeps what an earlier
 * process of this agent left on the engines, and takes work until
 * wpd_agent_shutdown, a fatal error or (single workflow) the first
 * workflow's end; then `stopped` runs once, from the loop. */
WPD_EXPORT void wpd_agent_start(wpd_agent *a, wpd_agent_stopped_fn stopped, void *arg);
/* SIGTERM/SIGINT: running workflows are canceled at once, their steps
 * reported canceled and every Done sent (5 s at most each), a stateless
 * agent unregisters, then `stopped` runs. Calling it again skips the wait
 * for the server. */
WPD_EXPORT void wpd_agent_shutdown(wpd_agent *a);
/* Why the agent stopped: NULL after a clean stop (shutdown or single
 * workflow), otherwise the fatal error (a refused secret, a version
 * mismatch, the server unreachable...). */
WPD_EXPORT const wpd_error *wpd_agent_error(const wpd_agent *a);
WPD_EXPORT void wpd_agent_free(wpd_agent *a);

/* `wpdock agent ping`: GET http://localhost<addr>/healthz (addr ":3000" or
 * "host:port"). 0 when it answered 200; -1 with err set otherwise. */
WPD_EXPORT int wpd_agent_ping(const char *healthcheck_addr, long timeout_ms, wpd_error *err);

#ifdef __cplusplus
}
#endif
#endif
