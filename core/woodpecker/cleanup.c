/* cleanup.c - finding and removing what runs left on an engine:
 * containers labelled wp_uuid, networks and volumes labelled wp_workflow;
 * or only those of one workflow (its labelled network and volume, and the
 * step containers attached to them); or those of one owner label (the
 * agent's sweep). One engine call at a time on the reactor
 * (wpd_cleanup_start), and a blocking convenience that runs the engine's
 * reactor until done (wpd_cleanup_sync). */
#include "woodpecker/cleanup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    memset(os, 0, sizeof *os);
}

enum { ST_NETS, ST_VOLS, ST_CTRS, ST_REMOVE, ST_DONE };

struct wpd_cleanup {
    wpd_engine *e;
    wpd_cleanup_spec spec;
    char *label;       /* the network/volume filter */
    char *workflow_id; /* copies of the spec's strings */
    char *owner_label;
    wpd_cleanup_done_fn done;
    void *done_arg;
    int state;
    size_t index;   /* shared object whose containers are listed / object removed */
    objects shared; /* networks and volumes found */
    objects all;    /* what will be removed, in order */
    wpd_call *call;
    wpd_error err;
    bool failed;
};

static void step(wpd_cleanup *c);

static bool skipped(wpd_cleanup *c, const wpd_pair *labels, size_t n)
{
    return c->spec.skip && c->spec.skip(c->spec.skip_arg, labels, n);
}

static void fail(wpd_cleanup *c, const char *what, const wpd_error *err)
{
    c->failed = true;
    c->err = *err;
    wpd_error_prefix(&c->err, "%s", what);
}

static void on_networks(void *arg, const wpd_net_summary *v, size_t n, const wpd_error *err)
{
    wpd_cleanup *c = arg;
    c->call = NULL;
    if (err) {
        fail(c, "listing networks", err);
    } else {
        for (size_t i = 0; i < n; i++)
            if (!skipped(c, v[i].labels, v[i].n_labels))
                add_object(&c->shared, "network", v[i].id, v[i].name);
        c->state = ST_VOLS;
    }
    step(c);
}

static void on_volumes(void *arg, const wpd_vol_summary *v, size_t n, const wpd_error *err)
{
    wpd_cleanup *c = arg;
    c->call = NULL;
    if (err) {
        fail(c, "listing volumes", err);
    } else {
        for (size_t i = 0; i < n; i++)
            if (!skipped(c, v[i].labels, v[i].n_labels))
                add_object(&c->shared, "volume", v[i].name, v[i].name);
        c->state = ST_CTRS;
        c->index = 0;
    }
    step(c);
}

static void on_containers(void *arg, const wpd_ctr_summary *v, size_t n, const wpd_error *err)
{
    wpd_cleanup *c = arg;
    c->call = NULL;
    if (err) {
        fail(c, "listing containers", err);
    } else {
        for (size_t i = 0; i < n; i++) {
            /* a list entry without a name is still shown by something: its
             * short id */
            char shortid[13];
            snprintf(shortid, sizeof shortid, "%s", v[i].id);
            add_object(&c->all, "container", v[i].id,
                       v[i].name && *v[i].name ? v[i].name : shortid);
        }
        c->index++;
    }
    step(c);
}

static void on_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome; /* already gone counts as removed */
    wpd_cleanup *c = arg;
    c->call = NULL;
    object *o = &c->all.v[c->index];
    wpd_leftover lo = {o->kind, o->name, o->id, err == NULL, err ? err->message : NULL};
    if (c->spec.fn)
        c->spec.fn(&lo, c->spec.arg);
    c->index++;
    step(c);
}

/* Start the next call, or finish. */
static void step(wpd_cleanup *c)
{
    if (c->failed)
        c->state = ST_DONE;
    switch (c->state) {
    case ST_NETS: {
        const wpd_pair f = {"label", c->label};
        c->call = wpd_net_list(c->e, &f, 1, on_networks, c);
        return;
    }
    case ST_VOLS: {
        const wpd_pair f = {"label", c->label};
        c->call = wpd_vol_list(c->e, &f, 1, on_volumes, c);
        return;
    }
    case ST_CTRS:
        if (!c->workflow_id && !c->owner_label && c->index == 0) {
            /* everything: every step container */
            c->index = c->shared.n; /* one list call, then done listing */
            const wpd_pair f = {"label", "wp_uuid"};
            c->call = wpd_ctr_list(c->e, &f, 1, on_containers, c);
            return;
        }
        if (c->index < c->shared.n) {
            /* a workflow's steps: the wpdock containers on its network or
             * volume */
            object *o = &c->shared.v[c->index];
            bool net = strcmp(o->kind, "network") == 0;
            const wpd_pair f[2] = {{net ? "network" : "volume", o->name}, {"label", "wp_uuid"}};
            c->call = wpd_ctr_list(c->e, f, 2, on_containers, c);
            return;
        }
        /* remove containers first, then volumes, then networks */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < c->shared.n; i++)
                if ((strcmp(c->shared.v[i].kind, "volume") == 0) == (pass == 0))
                    add_object(&c->all, c->shared.v[i].kind, c->shared.v[i].id,
                               c->shared.v[i].name);
        c->state = ST_REMOVE;
        c->index = 0;
        step(c);
        return;
    case ST_REMOVE:
        if (c->index < c->all.n) {
            object *o = &c->all.v[c->index];
            if (c->spec.dry_run) {
                wpd_leftover lo = {o->kind, o->name, o->id, false, NULL};
                if (c->spec.fn)
                    c->spec.fn(&lo, c->spec.arg);
                c->index++;
                step(c);
            } else if (strcmp(o->kind, "container") == 0) {
                c->call = wpd_ctr_remove(c->e, o->id, true, true, on_removed, c);
            } else if (strcmp(o->kind, "volume") == 0) {
                c->call = wpd_vol_remove(c->e, o->id, true, on_removed, c);
            } else {
                c->call = wpd_net_remove(c->e, o->id, on_removed, c);
            }
            return;
        }
        c->state = ST_DONE;
        step(c);
        return;
    case ST_DONE: {
        wpd_cleanup_done_fn done = c->done;
        c->done = NULL;
        if (done)
            done(c->done_arg, c->all.n, c->failed ? &c->err : NULL);
        return;
    }
    }
}

wpd_cleanup *wpd_cleanup_start(wpd_engine *e, const wpd_cleanup_spec *spec,
                               wpd_cleanup_done_fn done, void *arg)
{
    wpd_cleanup *c = wpd_xcalloc(1, sizeof *c);
    c->e = e;
    c->spec = *spec;
    c->workflow_id =
        spec->workflow_id && *spec->workflow_id ? wpd_xstrdup(spec->workflow_id) : NULL;
    c->owner_label =
        spec->owner_label && *spec->owner_label ? wpd_xstrdup(spec->owner_label) : NULL;
    c->spec.workflow_id = c->workflow_id;
    c->spec.owner_label = c->owner_label;
    c->label = c->workflow_id   ? wpd_xasprintf("wp_workflow=%s", c->workflow_id)
               : c->owner_label ? wpd_xstrdup(c->owner_label)
                                : wpd_xstrdup("wp_workflow");
    c->done = done;
    c->done_arg = arg;
    c->state = ST_NETS;
    step(c);
    return c;
}

void wpd_cleanup_free(wpd_cleanup *c)
{
    if (!c)
        return;
    wpd_call_abandon(c->call);
    objects_free(&c->shared);
    objects_free(&c->all);
    free(c->label);
    free(c->workflow_id);
    free(c->owner_label);
    free(c);
}

/* ------------------------------------------------------------ blocking */

typedef struct sync_state {
    bool done;
    size_t found;
    bool failed;
    wpd_error err;
} sync_state;

static void sync_done(void *arg, size_t found, const wpd_error *err)
{
    sync_state *st = arg;
    st->done = true;
    st->found = found;
    if (err) {
        st->failed = true;
        st->err = *err;
    }
}

int wpd_cleanup_sync(wpd_engine *e, const char *workflow_id, bool dry_run, wpd_leftover_fn fn,
                     void *arg, size_t *found, wpd_error *err)
{
    sync_state st = {0};
    wpd_cleanup_spec spec = {.workflow_id = workflow_id, .dry_run = dry_run, .fn = fn, .arg = arg};
    wpd_cleanup *c = wpd_cleanup_start(e, &spec, sync_done, &st);
    int rc = 0;
    if (wpd_reactor_run_until(wpd_engine_reactor(e), &st.done) != 0 && !st.done)
        rc = wpd_error_set(err, WPD_ERR_INTERNAL, 0, "the event loop stopped early");
    else if (st.failed) {
        if (err)
            *err = st.err;
        rc = -1;
    }
    if (found)
        *found = st.found;
    wpd_cleanup_free(c);
    return rc;
}
