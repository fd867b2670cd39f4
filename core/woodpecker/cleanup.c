/* cleanup.c - finding and removing what runs left on an engine:
 * containers labelled wp_uuid, networks and volumes labelled wp_workflow;
 * or only those of one workflow (its labelled network and volume, and the
 * step containers attached to them). Lists and removes through the typed
 * Engine API layer; a blocking convenience that runs the engine's reactor
 * until done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wpdock/cleanup.h>

#include "engine/containers.h"
#include "engine/networks.h"
#include "engine/volumes.h"

typedef struct object {
    const char *kind; /* "container", "network", "volume" */
    char *id;
    char *name;
} object;

typedef struct objects {
    object *v;
    size_t n;
} objects;

static void add_object(objects *os, const char *kind, const char *id, const char *name)
{
    for (size_t i = 0; i < os->n; i++)
        if (os->v[i].kind == kind && strcmp(os->v[i].id, id) == 0)
            return;
    os->v = wpd_xrealloc(os->v, (os->n + 1) * sizeof *os->v);
    os->v[os->n++] = (object){kind, wpd_xstrdup(id), wpd_xstrdup(name)};
}

static void objects_free(objects *os)
{
    for (size_t i = 0; i < os->n; i++) {
        free(os->v[i].id);
        free(os->v[i].name);
    }
    free(os->v);
}

/* One call at a time, the loop run until it completes. */
typedef struct sync_call {
    bool done;
    bool failed;
    wpd_error err;
    objects *into;
} sync_call;

static void sync_end(sync_call *sc, const wpd_error *err)
{
    sc->done = true;
    if (err) {
        sc->failed = true;
        sc->err = *err;
    }
}

static void on_containers(void *arg, const wpd_ctr_summary *v, size_t n, const wpd_error *err)
{
    sync_call *sc = arg;
    for (size_t i = 0; i < n; i++) {
        /* a list entry without a name is still shown by something: its
         * short id */
        char shortid[13];
        snprintf(shortid, sizeof shortid, "%s", v[i].id);
        add_object(sc->into, "container", v[i].id, v[i].name && *v[i].name ? v[i].name : shortid);
    }
    sync_end(sc, err);
}

static void on_networks(void *arg, const wpd_net_summary *v, size_t n, const wpd_error *err)
{
    sync_call *sc = arg;
    for (size_t i = 0; i < n; i++)
        add_object(sc->into, "network", v[i].id, v[i].name);
    sync_end(sc, err);
}

static void on_volumes(void *arg, const wpd_vol_summary *v, size_t n, const wpd_error *err)
{
    sync_call *sc = arg;
    for (size_t i = 0; i < n; i++)
        add_object(sc->into, "volume", v[i].name, v[i].name);
    sync_end(sc, err);
}

static void on_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome; /* already gone counts as removed */
    sync_end(arg, err);
}

static int run_sync(wpd_engine *e, sync_call *sc, const char *what, wpd_error *err)
{
    if (wpd_reactor_run_until(wpd_engine_reactor(e), &sc->done) != 0 && !sc->done)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "the event loop stopped early");
    if (sc->failed) {
        if (err)
            *err = sc->err;
        return what ? wpd_error_prefix(err, "%s", what) : -1;
    }
    return 0;
}

static int list(wpd_engine *e, const char *kind, const wpd_pair *f, size_t nf, objects *os,
                wpd_error *err)
{
    sync_call sc = {.into = os};
    if (strcmp(kind, "container") == 0)
        wpd_ctr_list(e, f, nf, on_containers, &sc);
    else if (strcmp(kind, "network") == 0)
        wpd_net_list(e, f, nf, on_networks, &sc);
    else
        wpd_vol_list(e, f, nf, on_volumes, &sc);
    char what[32];
    snprintf(what, sizeof what, "listing %ss", kind);
    return run_sync(e, &sc, what, err);
}

static int find(wpd_engine *e, const char *workflow_id, objects *os, wpd_error *err)
{
    char *label =
        workflow_id ? wpd_xasprintf("wp_workflow=%s", workflow_id) : wpd_xstrdup("wp_workflow");
    const wpd_pair by_label = {"label", label};
    objects shared = {0};
    int rc = list(e, "network", &by_label, 1, &shared, err);
    if (rc == 0)
        rc = list(e, "volume", &by_label, 1, &shared, err);
    free(label);
    if (rc == 0 && !workflow_id) {
        const wpd_pair steps = {"label", "wp_uuid"};
        rc = list(e, "container", &steps, 1, os, err);
    }
    /* a workflow's steps: the wpdock containers on its network or volume */
    for (size_t i = 0; rc == 0 && workflow_id && i < shared.n; i++) {
        bool net = strcmp(shared.v[i].kind, "network") == 0;
        const wpd_pair f[2] = {{net ? "network" : "volume", shared.v[i].name},
                               {"label", "wp_uuid"}};
        rc = list(e, "container", f, 2, os, err);
    }
    /* remove containers first, then volumes, then networks */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < shared.n; i++)
            if ((strcmp(shared.v[i].kind, "volume") == 0) == (pass == 0))
                add_object(os, shared.v[i].kind, shared.v[i].id, shared.v[i].name);
    objects_free(&shared);
    return rc;
}

static bool remove_object(wpd_engine *e, const object *o, wpd_error *err)
{
    sync_call sc = {0};
    if (strcmp(o->kind, "container") == 0)
        wpd_ctr_remove(e, o->id, true, true, on_removed, &sc);
    else if (strcmp(o->kind, "volume") == 0)
        wpd_vol_remove(e, o->id, true, on_removed, &sc);
    else
        wpd_net_remove(e, o->id, on_removed, &sc);
    return run_sync(e, &sc, NULL, err) == 0;
}

int wpd_cleanup_sync(wpd_engine *e, const char *workflow_id, bool dry_run, wpd_leftover_fn fn,
                     void *arg, size_t *found, wpd_error *err)
{
    objects os = {0};
    int rc = find(e, workflow_id && *workflow_id ? workflow_id : NULL, &os, err);
    for (size_t i = 0; rc == 0 && i < os.n; i++) {
        object *o = &os.v[i];
        wpd_leftover lo = {o->kind, o->name, o->id, false, NULL};
        wpd_error rerr;
        if (!dry_run) {
            if (remove_object(e, o, &rerr))
                lo.removed = true;
            else
                lo.error = rerr.message;
        }
        if (fn)
            fn(&lo, arg);
    }
    if (found)
        *found = os.n;
    objects_free(&os);
    return rc;
}
