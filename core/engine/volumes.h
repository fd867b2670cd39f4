/* volumes.h - typed volume calls: create, remove, list. */
#ifndef WPDOCK_ENGINE_VOLUMES_H
#define WPDOCK_ENGINE_VOLUMES_H

#include "engine/api.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct wpd_vol_spec {
    const char *name;
    const char *driver; /* NULL = "local" */
    const wpd_pair *labels;
    size_t n_labels;
} wpd_vol_spec;

/* {"Name":..,"Driver":..[,"Labels":{..}]}. Pure, for tests. */
void wpd_vol_create_body(const wpd_vol_spec *spec, wpd_buf *out);

typedef void (*wpd_vol_create_fn)(void *arg, const char *name, const wpd_error *err);
wpd_call *wpd_vol_create(wpd_engine *e, const wpd_vol_spec *spec, wpd_vol_create_fn done,
                         void *arg);

/* 404: NOT_FOUND; "in use" (wpd_dialect_in_use) while a container that
 * was just removed still holds it. */
wpd_call *wpd_vol_remove(wpd_engine *e, const char *name, bool force, wpd_change_fn done,
                         void *arg);

typedef struct wpd_vol_summary {
    const char *name;
    const char *driver;
    const char *mountpoint;
    const wpd_pair *labels;
    size_t n_labels;
} wpd_vol_summary;
typedef void (*wpd_vol_list_fn)(void *arg, const wpd_vol_summary *v, size_t n,
                                const wpd_error *err);
wpd_call *wpd_vol_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_vol_list_fn done, void *arg);
/* {"Volumes":[...] | null, "Warnings":...}. Pure, for tests. */
int wpd_vol_list_parse(const char *body, size_t len, wpd_arena *a, wpd_vol_summary **out, size_t *n,
                       wpd_error *err);

#endif
