/* dialect.h - what Docker and Podman answer differently, in one place:
 * the "nothing to do" answers of state-changing calls, "in use" answers
 * worth a retry, and the wait endpoint (engine notes). Pure, unit-tested. */
#ifndef WPDOCK_ENGINE_DIALECT_H
#define WPDOCK_ENGINE_DIALECT_H

#include <stdbool.h>
#include <wpdock/engine.h>

#include "engine/api.h"
#include "util/buf.h"

typedef enum wpd_change_op {
    WPD_CHANGE_OP_START,
    WPD_CHANGE_OP_STOP,
    WPD_CHANGE_OP_KILL,
    WPD_CHANGE_OP_REMOVE, /* containers */
    WPD_CHANGE_OP_REMOVE_NETWORK,
    WPD_CHANGE_OP_REMOVE_VOLUME
} wpd_change_op;

/* Is err (an engine answer to op) one of the harmless "nothing to do"
 * answers? Then *out says which and the caller reports success:
 *   every op          404; Podman's lower-case "no such container"  -> NOT_FOUND
 *   stop              "is not running"                              -> ALREADY
 *   kill              409; Podman's 500 "container state improper",
 *                     "can only kill running containers"            -> ALREADY
 *   remove            "removal of container ... already in progress" -> ALREADY
 * (a 304 of start/stop is no error: the calls map it to ALREADY). */
bool wpd_dialect_harmless(wpd_change_op op, const wpd_error *err, wpd_change *out);

/* The container does not exist (any call naming one): 404, or Podman's
 * lower-case "no such container" in another status. */
bool wpd_dialect_no_such_container(const wpd_error *err);

/* A volume still in use ("volume is in use", Podman "is being used") or a
 * network with active endpoints: an object a container removed a moment
 * ago may still hold; worth a retry. */
bool wpd_dialect_in_use(const wpd_error *err);

/* An exec create refused because the container is not running: Docker
 * 409 "is not running", Podman 500 "can only create exec sessions on
 * running containers". */
bool wpd_dialect_exec_not_running(const wpd_error *err);

/* A container create refused because the name is taken: Docker 409,
 * Podman 500 "... is already in use". */
bool wpd_dialect_name_conflict(const wpd_error *err);

/* Event names: Podman reports (and filters) a container's, network's or
 * volume's removal as "remove" and its death as "died"; Docker, and this
 * layer's callers, say "destroy" and "die". _action maps an event's
 * action to Docker's word, _filter a filter value to the engine's. */
const char *wpd_dialect_event_action(const char *type, const char *action);
const char *wpd_dialect_event_filter(wpd_engine_kind kind, const char *key, const char *value);

typedef enum wpd_wait_cond {
    WPD_WAIT_NOT_RUNNING = 0, /* the daemon's default */
    WPD_WAIT_NEXT_EXIT,
    WPD_WAIT_REMOVED
} wpd_wait_cond;

/* The wait request for a container (escaped name) on an engine of `kind`:
 * Docker's compat wait with the condition, or, on Podman for not-running,
 * libpod's wait (the compat one polls every 250 ms; libpod polls at the
 * interval asked for and answers a bare exit code). The interval is 20 ms
 * for each wait in flight (`waits`, this one included), 250 ms at most:
 * every poll takes the engine's locks, and eight waits polling every
 * 20 ms slowed eight parallel steps' attaches and starts by a third.
 * Sets *unversioned when the path carries the libpod prefix. */
void wpd_dialect_wait_path(wpd_engine_kind kind, const char *libpod_prefix, const char *name,
                           wpd_wait_cond cond, int waits, wpd_buf *path, bool *unversioned);
/* The polling interval of libpod's wait, ms, for `waits` waits in flight. */
long wpd_dialect_wait_interval(int waits);

#endif
