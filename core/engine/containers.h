/* containers.h - typed container calls of the Engine API: create, start,
 * attach, logs, wait, inspect, stop, kill, remove, list (see api.h for the
 * rules every call follows). Containers are addressed by name or id; both
 * are percent-encoded into the path. */
#ifndef WPDOCK_ENGINE_CONTAINERS_H
#define WPDOCK_ENGINE_CONTAINERS_H

#include "engine/api.h"
#include "engine/dialect.h"
#include "util/arena.h"

/* wpdock/harness.h publishes wpd_ctr_stop and wpd_ctr_logs (a test
 * author's container); the engine calls of the same short names link as
 * wpd_engine_ctr_*. Callers below the harness keep the short names. */
#define wpd_ctr_stop wpd_engine_ctr_stop
#define wpd_ctr_logs wpd_engine_ctr_logs

/* ---- create: POST /containers/create?name=NAME with a create body (the
 * Config fields, "HostConfig", optionally "NetworkingConfig"), built by the
 * caller. A name taken: wpd_dialect_name_conflict (Docker 409, Podman 500);
 * 404: the image is missing. */
typedef struct wpd_ctr_created {
    const char *id;
    const char *const *warnings;
    size_t n_warnings;
} wpd_ctr_created;
typedef void (*wpd_ctr_create_fn)(void *arg, const wpd_ctr_created *res, const wpd_error *err);
wpd_call *wpd_ctr_create(wpd_engine *e, const char *name, const char *body, wpd_ctr_create_fn done,
                         void *arg);

/* ---- start (304: ALREADY), stop with a grace period in seconds (-1 = the
 * container's own), kill with a signal ("9", "SIGTERM"; NULL = KILL),
 * remove (force: kill first; volumes: its anonymous volumes too). */
wpd_call *wpd_ctr_start(wpd_engine *e, const char *name, wpd_change_fn done, void *arg);
wpd_call *wpd_ctr_stop(wpd_engine *e, const char *name, long timeout_s, wpd_change_fn done,
                       void *arg);
wpd_call *wpd_ctr_kill(wpd_engine *e, const char *name, const char *signal, wpd_change_fn done,
                       void *arg);
wpd_call *wpd_ctr_remove(wpd_engine *e, const char *name, bool force, bool volumes,
                         wpd_change_fn done, void *arg);

/* ---- attach (before start: complete output by construction) and logs.
 * tty: the container was created with a TTY (the stream is not framed). */
wpd_call *wpd_ctr_attach(wpd_engine *e, const char *name, bool tty, const wpd_output_cbs *cbs);
typedef struct wpd_logs_opts {
    bool follow;
    bool no_stdout, no_stderr; /* both streams unless told */
    long tail;                 /* last N lines; 0 = all */
    bool tty;
} wpd_logs_opts;
wpd_call *wpd_ctr_logs(wpd_engine *e, const char *name, const wpd_logs_opts *o,
                       const wpd_output_cbs *cbs);

/* ---- wait: until the condition holds; the status code the engine
 * reports, and the error the daemon may put in its answer
 * ("Error":{"Message":..}), "" when none. */
typedef struct wpd_ctr_waited {
    int64_t status_code;
    bool status_known; /* false: the answer could not be read (the wait is
                          over all the same; inspect for the exit code) */
    const char *error;
} wpd_ctr_waited;
typedef void (*wpd_ctr_wait_fn)(void *arg, const wpd_ctr_waited *res, const wpd_error *err);
wpd_call *wpd_ctr_wait(wpd_engine *e, const char *name, wpd_wait_cond cond, wpd_ctr_wait_fn done,
                       void *arg);
/* The wait answer: Docker's {"StatusCode":n,"Error":...} or libpod's bare
 * exit code (strings in a). Pure, for tests. */
int wpd_ctr_wait_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_waited *out,
                       wpd_error *err);

/* ---- inspect */
typedef struct wpd_port_binding {
    int container_port;
    const char *proto;   /* "tcp", "udp" */
    const char *host_ip; /* "" when not published */
    int host_port;       /* 0 when not published */
} wpd_port_binding;

typedef struct wpd_ctr_network {
    const char *name;
    const char *ip;
    const char *const *aliases;
    size_t n_aliases;
} wpd_ctr_network;

typedef struct wpd_ctr_info {
    const char *id;
    const char *name; /* without the leading '/' */
    const char *image;
    const char *status; /* "created", "running", "exited", ... */
    bool running, paused, restarting, dead, oom_killed;
    int64_t exit_code; /* raw: Windows' abnormal exit is 4294967295 */
    int64_t pid;
    const char *error;
    const char *started_at, *finished_at; /* RFC 3339 */
    const char *health;                   /* "" without a health check */
    bool tty;
    const wpd_pair *labels;
    size_t n_labels;
    const wpd_port_binding *ports;
    size_t n_ports;
    const wpd_ctr_network *networks;
    size_t n_networks;
} wpd_ctr_info;
typedef void (*wpd_ctr_inspect_fn)(void *arg, const wpd_ctr_info *info, const wpd_error *err);
wpd_call *wpd_ctr_inspect(wpd_engine *e, const char *name, wpd_ctr_inspect_fn done, void *arg);
/* GET /containers/{id}/json body -> info (strings in a). Pure, for tests. */
int wpd_ctr_info_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_info *out,
                       wpd_error *err);

/* ---- list (all states) matching filters, e.g. {"label","wp_uuid"}. */
typedef struct wpd_ctr_summary {
    const char *id;
    const char *name; /* first name, without the leading '/' ("" if none) */
    const char *image;
    const char *state; /* "running", "exited", ... */
    const wpd_pair *labels;
    size_t n_labels;
} wpd_ctr_summary;
typedef void (*wpd_ctr_list_fn)(void *arg, const wpd_ctr_summary *v, size_t n,
                                const wpd_error *err);
wpd_call *wpd_ctr_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_ctr_list_fn done, void *arg);
int wpd_ctr_list_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_summary **out, size_t *n,
                       wpd_error *err);

#endif
