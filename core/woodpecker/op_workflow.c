/* op_workflow.c - SetupWorkflow (spec 2.2: the workflow's volume and
 * network, created at once) and DestroyWorkflow (2.7: every step's
 * container, then the volume and the network, removed at once). */
#include <stdlib.h>

#include "engine/dialect.h"
#include "engine/networks.h"
#include "engine/volumes.h"
#include "woodpecker/ops.h"

/* ------------------------------------------------------- SetupWorkflow */

typedef struct setup_op {
    wpd_op base;
    const wpd_workflow *wf;
    wpd_call *vol_call, *net_call;
    int pending; /* calls (or a retry) not finished */
    int net_attempts;
    bool vol_failed, net_failed;
    wpd_error vol_err, net_err;
} setup_op;

static void setup_end(setup_op *op)
{
    if (--op->pending > 0)
        return;
    /* the volume's error first, as the sequence of the spec has it */
    op_finish(&op->base, op->vol_failed ? &op->vol_err : op->net_failed ? &op->net_err : NULL);
}

static void setup_volume_done(void *arg, const char *name, const wpd_error *err)
{
    (void)name;
    setup_op *op = arg;
    op->vol_call = NULL;
    if (err) {
        op->vol_failed = true;
        op->vol_err = *err;
        wpd_error_prefix(&op->vol_err, "creating volume %s", op->wf->volume);
    }
    setup_end(op);
}

/* wp_workflow=<id> (when the workflow has an id) and the backend's own
 * labels, for the volume and the network. */
static const wpd_pair *workflow_labels(wpd_backend *b, const wpd_workflow *wf, size_t *n)
{
    static const wpd_pair none = {NULL, NULL};
    bool labelled = wf->id && *wf->id;
    b->labels[0] = (wpd_pair){"wp_workflow", labelled ? wf->id : ""};
    *n = b->n_labels - (labelled ? 0 : 1);
    if (*n == 0)
        return &none;
    return labelled ? b->labels : b->labels + 1;
}

static void setup_create_network(setup_op *op);

static void setup_retry_network(void *arg)
{
    setup_create_network(arg);
}

static void setup_network_done(void *arg, const char *id, const wpd_error *err)
{
    (void)id;
    setup_op *op = arg;
    op->net_call = NULL;
    if (err && err->kind == WPD_ERR_ENGINE && err->status >= 500 && op->net_attempts < 3 &&
        !op->base.canceled) {
        /* Podman's netavark sometimes fails a network create that runs
         * beside others ("route ip+net: no such network interface"):
         * transient, so try again shortly */
        op_retry(&op->base, setup_retry_network, 200L << op->net_attempts);
        return;
    }
    if (err) {
        op->net_failed = true;
        op->net_err = *err;
        wpd_error_prefix(&op->net_err, "creating network %s", op->wf->network);
    }
    setup_end(op);
}

static void setup_create_network(setup_op *op)
{
    op->net_attempts++;
    op->base.b->net_sent = true;
    size_t n_labels;
    const wpd_pair *labels = workflow_labels(op->base.b, op->wf, &n_labels);
    wpd_net_spec spec = {.name = op->wf->network,
                         .ipv6 = op->base.b->settings->enable_ipv6,
                         .labels = labels,
                         .n_labels = n_labels};
    op->net_call = wpd_net_create(op->base.b->engine, &spec, setup_network_done, op);
}

static void setup_cancel(wpd_op *base)
{
    setup_op *op = (setup_op *)base;
    wpd_call_cancel(op->vol_call);
    wpd_call_cancel(op->net_call);
    if (base->timer && wpd_timer_pending(base->timer)) {
        wpd_timer_stop(base->timer);
        setup_end(op); /* the retry that will not run */
    }
}

static void setup_cleanup(wpd_op *base)
{
    setup_op *op = (setup_op *)base;
    wpd_call_abandon(op->vol_call);
    wpd_call_abandon(op->net_call);
}

static const op_class setup_class = {
    .deliver = op_deliver_done, .cancel = setup_cancel, .cleanup = setup_cleanup};

wpd_op *wpd_backend_setup_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                   void *arg)
{
    setup_op *op = op_new(b, &setup_class, sizeof *op, NULL, done, arg);
    op->wf = wf;
    op->pending = 2;
    size_t n_labels;
    const wpd_pair *labels = workflow_labels(b, wf, &n_labels);
    wpd_vol_spec vs = {.name = wf->volume, .labels = labels, .n_labels = n_labels};
    b->vol_sent = true;
    op->vol_call = wpd_vol_create(b->engine, &vs, setup_volume_done, op);
    setup_create_network(op);
    return &op->base;
}

/* ------------------------------------------------------ DestroyWorkflow */

typedef struct destroy_wf_op {
    wpd_op base;
    const wpd_workflow *wf;
    size_t pending_children;
    int pending; /* volume and network removals not finished */
    int vol_attempts, net_attempts;
    wpd_timer *vol_timer, *net_timer;
    wpd_call *vol_call, *net_call;
    bool child_failed, vol_failed, net_failed;
    wpd_error child_err, vol_err, net_err;
} destroy_wf_op;

static void wf_end(destroy_wf_op *op)
{
    if (--op->pending > 0)
        return;
    op_finish(&op->base, op->child_failed ? &op->child_err
                         : op->vol_failed ? &op->vol_err
                         : op->net_failed ? &op->net_err
                                          : NULL);
}

static void wf_remove_network(void *arg);
static void wf_remove_volume(void *arg);

/* An object a container removed a moment ago may still hold: retry with
 * a growing delay. True when a retry was scheduled. */
static bool wf_retry(destroy_wf_op *op, wpd_timer **t, wpd_timer_fn fn, int attempts, int max,
                     const wpd_error *err)
{
    if (!wpd_dialect_in_use(err) || attempts >= max)
        return false;
    if (!*t)
        *t = wpd_timer_new(wpd_engine_reactor(op->base.b->engine), fn, op);
    wpd_timer_start(*t, 100L << attempts);
    return true;
}

static void wf_network_done(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome;
    destroy_wf_op *op = arg;
    op->net_call = NULL;
    /* Docker 20.10 sometimes keeps an endpoint for good (moby#43286) */
    if (wf_retry(op, &op->net_timer, wf_remove_network, op->net_attempts, 5, err))
        return;
    if (err) {
        op->net_failed = true;
        op->net_err = *err;
        wpd_error_prefix(&op->net_err, "could not remove network %s", op->wf->network);
    } else {
        op->base.b->net_removed = true;
    }
    wf_end(op);
}

static void wf_remove_network(void *arg)
{
    destroy_wf_op *op = arg;
    op->net_attempts++;
    op->net_call = wpd_net_remove(op->base.b->engine, op->wf->network, wf_network_done, op);
}

static void wf_volume_done(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome;
    destroy_wf_op *op = arg;
    op->vol_call = NULL;
    if (wf_retry(op, &op->vol_timer, wf_remove_volume, op->vol_attempts, 6, err))
        return; /* 100 ms .. 3.2 s */
    if (err) {
        op->vol_failed = true;
        op->vol_err = *err;
        wpd_error_prefix(&op->vol_err, "could not remove volume %s", op->wf->volume);
    } else {
        op->base.b->vol_removed = true;
    }
    wf_end(op);
}

static void wf_remove_volume(void *arg)
{
    destroy_wf_op *op = arg;
    op->vol_attempts++;
    op->vol_call = wpd_vol_remove(op->base.b->engine, op->wf->volume, true, wf_volume_done, op);
}

static void wf_child_done(void *arg, const wpd_error *err)
{
    destroy_wf_op *op = arg;
    if (err && !op->child_failed) {
        op->child_failed = true;
        op->child_err = *err;
    }
    if (--op->pending_children > 0)
        return;
    op->pending = 2;
    wf_remove_volume(op);
    wf_remove_network(op);
}

static void no_cancel(wpd_op *op)
{
    (void)op; /* DestroyWorkflow is what cleans up: it always runs to its end */
}

static void wf_cleanup(wpd_op *base)
{
    destroy_wf_op *op = (destroy_wf_op *)base;
    wpd_timer_free(op->vol_timer);
    wpd_timer_free(op->net_timer);
    wpd_call_abandon(op->vol_call);
    wpd_call_abandon(op->net_call);
}

static const op_class destroy_wf_class = {
    .deliver = op_deliver_done, .cancel = no_cancel, .cleanup = wf_cleanup, .teardown = true};

wpd_op *wpd_backend_destroy_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                     void *arg)
{
    destroy_wf_op *op = op_new(b, &destroy_wf_class, sizeof *op, NULL, done, arg);
    op->wf = wf;
    op->pending_children = 1; /* released below, so zero steps work */
    for (size_t s = 0; s < wf->n_stages; s++) {
        for (size_t k = 0; k < wf->stages[s].n_steps; k++) {
            const wpd_step *step = &wf->stages[s].steps[k];
            /* a step whose container was never asked for, or is already
             * gone, has nothing left to destroy */
            if (!backend_container_may_exist(b, step))
                continue;
            op->pending_children++;
            wpd_backend_destroy_step(b, step, wf_child_done, op);
        }
    }
    wf_child_done(op, NULL);
    return &op->base;
}
