/* agent_private.h - the agent's internal structures, shared by agent.c
 * (lifecycle), runner.c (one workflow), report.c (ordered Update/Log/Done
 * delivery), health.c (the HTTP health endpoint) and conffile.c (the
 * stored agent ids). */
#ifndef WPDOCK_AGENT_PRIVATE_H
#define WPDOCK_AGENT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <wpdock/agent.h>

#include "agent/rpc.h"
#include "woodpecker/cleanup.h"

/* Labels on every workflow's volume and network: who made them
 * ("<hostname>/<agent id>") and the process, for the sweep at start. */
#define AGENT_OWNER_LABEL "io.wpdock.agent"
#define AGENT_PID_LABEL "io.wpdock.agent.pid"

typedef struct agent_engine agent_engine;
typedef struct agent_slot agent_slot;
typedef struct agent_workflow agent_workflow;
typedef struct agent_report agent_report;
typedef struct agent_backlog {
    size_t bytes;    /* log and report bytes waiting for the server now */
    size_t peak;     /* the most there ever were */
    unsigned pauses; /* how often the steps' output was held */
    bool paused;     /* it is held now */
} agent_backlog;

typedef struct agent_label {
    char *key, *value;
} agent_label;

/* One runner loop: Next, then one workflow at a time. */
struct agent_slot {
    agent_engine *ae;
    size_t index;
    rpc_call *next_call;
    wpd_timer *timer; /* the pause after a failed Next */
    agent_workflow *wf;
};

/* One engine = one registered agent identity on the server. */
struct agent_engine {
    wpd_agent *a;
    char *name; /* NULL for the single default engine */
    wpd_engine *engine;
    int max;
    char *platform;
    const char *kind; /* "docker" / "podman" */
    agent_peer *peer;
    int64_t stored_id;
    int attempts; /* startup attempts made */
    int stage;    /* startup stage, see agent.c */
    bool ready;   /* registered and taking work */
    rpc_call *startup_call;
    wpd_cleanup *sweep;
    wpd_timer *startup_timer;
    wpd_timer *health_timer;
    rpc_call *health_call;
    rpc_call *unregister_call;
    agent_label *filter;
    size_t n_filter;
    agent_slot *slots;
    size_t n_slots;
};

struct wpd_agent {
    wpd_reactor *r;
    wpd_grpc_channel *ch;
    char *server;
    char *secret;
    char *hostname;
    char *config_file; /* NULL = stateless */
    char *version;
    agent_label *labels; /* custom */
    size_t n_labels;
    double retry_timeout;
    bool single_workflow;
    int connect_retry_count;
    double connect_retry_delay;
    char *healthcheck_addr;
    const wpd_settings *settings;
    wpd_agent_log_level log_level;
    wpd_agent_log_fn log;
    void *log_arg;

    agent_engine *engines;
    size_t n_engines;

    bool started;
    bool stopping;
    bool forced;
    bool stopped;
    bool failed;
    wpd_error err;
    size_t workflows_done;
    wpd_agent_stopped_fn on_stopped;
    void *stopped_arg;
    wpd_timer *stop_timer;

    bool reachable; /* the last call reached the server */
    struct agent_health *health;
};

/* agent.c */
void agent_log(wpd_agent *a, wpd_agent_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A runner finished its workflow (Done delivered or given up). */
void agent_slot_workflow_ended(agent_slot *s);
size_t agent_running_count(const wpd_agent *a);
/* The owner label's value for this engine's agent identity. */
void agent_owner_label(const agent_engine *ae, char *buf, size_t len);
size_t agent_capacity(const wpd_agent *a);
bool agent_connected(const wpd_agent *a);

/* runner.c: run one workflow the server handed out. */
agent_workflow *agent_workflow_start(agent_slot *s, const Proto__Workflow *w);
/* Cancel it (server cancel, timeout, shutdown); reported canceled. */
void agent_workflow_cancel(agent_workflow *w, bool hurry);
/* Shutdown: remaining reports get the short deadline; force: give up on them. */
void agent_workflow_hurry(agent_workflow *w, bool force);
void agent_workflow_free(agent_workflow *w);
/* For /varz. */
const char *agent_workflow_id(const agent_workflow *w);
const char *agent_workflow_repo(const agent_workflow *w);
const char *agent_workflow_pipeline_number(const agent_workflow *w);
int64_t agent_workflow_started(const agent_workflow *w);
int64_t agent_workflow_timeout_s(const agent_workflow *w);
void agent_workflow_backlog(const agent_workflow *w, agent_backlog *out);

/* report.c: the workflow's Update, Log and Done calls, in order. */
agent_report *agent_report_new(wpd_reactor *r, agent_peer *p, const char *workflow_id,
                               wpd_agent *a);
void agent_report_free(agent_report *q);
/* One log line of a step (copied; batched, flushed at 1 MiB or after 1 s). */
void agent_report_log(agent_report *q, const char *uuid, int64_t time, int32_t line,
                      const char *data, size_t len);
/* Flush pending log lines, then send this step state. */
void agent_report_update(agent_report *q, const Proto__StepState *st);
/* Flush, then Done; `finished` runs once everything queued was sent (or
 * given up on). */
void agent_report_done(agent_report *q, const Proto__WorkflowState *st, void (*finished)(void *arg),
                       void *arg);
/* Shutdown: everything still queued gets 5 s; force: drop it now. */
void agent_report_hurry(agent_report *q, bool force);
/* fn(arg, true) when the bytes waiting for the server pass 4 MiB,
 * fn(arg, false) when they are back under 2 MiB (report.c). */
void agent_report_set_pressure(agent_report *q, void (*fn)(void *arg, bool over), void *arg);
void agent_report_backlog(const agent_report *q, agent_backlog *out);

/* health.c: /healthz, /varz, /version with evhttp on the reactor. */
struct agent_health *agent_health_new(wpd_agent *a, const char *addr, wpd_error *err);
void agent_health_free(struct agent_health *h);

/* conffile.c: {"agent_id":N}, or {"agents":{"NAME":N}} for several engines. */
void agent_conf_load(wpd_agent *a);
void agent_conf_store(wpd_agent *a);

#endif
