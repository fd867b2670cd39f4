/* cleanup.h - the asynchronous form of wpd_cleanup_sync (wpdock/cleanup.h),
 * for callers already on the reactor (the agent's sweep at start). */
#ifndef WPDOCK_WOODPECKER_CLEANUP_H
#define WPDOCK_WOODPECKER_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/cleanup.h>

#include "engine/api.h"

typedef struct wpd_cleanup wpd_cleanup;

typedef struct wpd_cleanup_spec {
    /* What to look for (at most one): a workflow id, or the networks and
     * volumes with this "key=value" label and the step containers attached
     * to them; neither = everything wpdock made. */
    const char *workflow_id;
    const char *owner_label;
    /* Optional: true leaves this network/volume (and its containers) alone. */
    bool (*skip)(void *arg, const wpd_pair *labels, size_t n);
    void *skip_arg;
    bool dry_run;
    wpd_leftover_fn fn; /* each object found, after its removal */
    void *arg;
} wpd_cleanup_spec;

/* found: objects found; err: listing failed (what was found up to then was
 * not removed). Runs once, from the loop or (nothing to do) from a callback. */
typedef void (*wpd_cleanup_done_fn)(void *arg, size_t found, const wpd_error *err);

wpd_cleanup *wpd_cleanup_start(wpd_engine *e, const wpd_cleanup_spec *spec,
                               wpd_cleanup_done_fn done, void *arg);
/* After done, or to abandon it (no callback). */
void wpd_cleanup_free(wpd_cleanup *c);

#endif
