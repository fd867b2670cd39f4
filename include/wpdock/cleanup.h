/* wpdock/cleanup.h - removing what runs left behind on an engine (after a
 * crash, a lost engine connection or a killed runner). */
#ifndef WPDOCK_CLEANUP_H
#define WPDOCK_CLEANUP_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wpd_leftover {
    const char *kind; /* "container", "network" or "volume" */
    const char *name;
    const char *id;
    bool removed;
    const char *error; /* why it could not be removed, or NULL */
} wpd_leftover;

typedef void (*wpd_leftover_fn)(const wpd_leftover *lo, void *arg);

/* Find, on the (connected) engine, every container labelled wp_uuid and
 * every network and volume labelled wp_workflow - or, when workflow_id is
 * set, that workflow's network and volume (label wp_workflow=<id>) and the
 * step containers attached to them - and, unless dry_run, remove them
 * (containers forcibly, then volumes, then networks). fn is called for
 * each. Runs the engine's reactor until done. Returns 0, or -1 when
 * listing failed. */
WPD_EXPORT int wpd_cleanup_sync(wpd_engine *e, const char *workflow_id, bool dry_run,
                                wpd_leftover_fn fn, void *arg, size_t *found, wpd_error *err);

#ifdef __cplusplus
}
#endif
#endif
