/* backend.c - the backend object and what every operation shares: the
 * list of ops in flight, finishing and delivering from the loop,
 * cancellation, the per-step container marks, and hurry (second
 * interrupt). The operations themselves: op_*.c. */
#include "woodpecker/backend.h"

#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "engine/engine.h"
#include "woodpecker/convert.h"
#include "woodpecker/ops.h"

/* ------------------------------------------------------------ op basics */

static void op_unlink(wpd_op *op)
{
    wpd_backend *b = op->b;
    if (op->prev)
        op->prev->next = op->next;
    else
        b->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
    b->n_ops--;
}

static void op_free(wpd_op *op)
{
    if (op->cls->cleanup)
        op->cls->cleanup(op);
    wpd_timer_free(op->timer);
    free(op->name);
    free(op);
}

void op_discard(wpd_op *op)
{
    wpd_call_abandon(op->call);
    op->call = NULL;
    op_unlink(op);
    op_free(op);
}

void *op_new(wpd_backend *b, const op_class *cls, size_t size, const wpd_step *step,
             wpd_op_done_fn done, void *arg)
{
    wpd_op *op = wpd_xcalloc(1, size);
    op->cls = cls;
    op->b = b;
    op->step = step;
    op->done = done;
    op->arg = arg;
    if (step) {
        wpd_buf n = WPD_BUF_INIT;
        wpd_container_name(step, &n);
        op->name = wpd_buf_steal(&n);
    }
    op->next = b->ops;
    if (b->ops)
        b->ops->prev = op;
    b->ops = op;
    b->n_ops++;
    return op;
}

bool op_deliver_done(wpd_op *op, const wpd_error *err)
{
    if (op->done)
        op->done(op->arg, err);
    return true;
}

static void op_deliver(void *arg)
{
    wpd_op *op = arg;
    if (!op->cls->deliver(op, op->failed ? &op->result : NULL))
        return; /* kept: delivered later */
    op_unlink(op);
    op_free(op);
}

void op_finish(wpd_op *op, const wpd_error *err)
{
    if (op->finished)
        return;
    op->finished = true;
    if (err) {
        op->failed = true;
        op->result = *err;
    }
    if (op->canceled && (!err || err->kind != WPD_ERR_CANCELED)) {
        op->failed = true;
        wpd_error_set(&op->result, WPD_ERR_CANCELED, 0, "Canceled");
    }
    wpd_timer_free(op->timer);
    op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), op_deliver, op);
    wpd_timer_start(op->timer, 0);
}

bool op_call_done(wpd_op *op)
{
    op->call = NULL;
    if (!op->canceled || op->cls->teardown)
        return false;
    wpd_error c;
    wpd_error_set(&c, WPD_ERR_CANCELED, 0, "Canceled");
    op_finish(op, &c);
    return true;
}

void op_retry(wpd_op *op, wpd_timer_fn fn, long ms)
{
    wpd_timer_free(op->timer);
    op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), fn, op);
    wpd_timer_start(op->timer, ms);
}

void op_notice(wpd_op *op, const char *msg)
{
    if (op->b->notice)
        op->b->notice(op->b->notice_arg, op->step, msg);
}

bool op_podman(const wpd_op *op)
{
    return wpd_engine_get_kind(op->b->engine) == WPD_ENGINE_PODMAN;
}

void wpd_op_cancel(wpd_op *op)
{
    if (!op || op->finished || op->canceled)
        return;
    op->canceled = true;
    if (op->cls->cancel) {
        op->cls->cancel(op);
        return;
    }
    if (op->call) {
        wpd_call_cancel(op->call);
    } else if (op->timer && wpd_timer_pending(op->timer)) {
        wpd_error c;
        wpd_error_set(&c, WPD_ERR_CANCELED, 0, "Canceled");
        op_finish(op, &c);
    }
}

/* --------------------------------------------------------------- marks */

step_mark *backend_mark(wpd_backend *b, const wpd_step *step)
{
    for (size_t i = 0; i < b->n_marks; i++)
        if (b->marks[i].step == step)
            return &b->marks[i];
    if (b->n_marks == b->cap_marks) {
        b->cap_marks = b->cap_marks ? b->cap_marks * 2 : 16;
        b->marks = wpd_xrealloc(b->marks, b->cap_marks * sizeof *b->marks);
    }
    step_mark *m = &b->marks[b->n_marks++];
    memset(m, 0, sizeof *m);
    m->step = step;
    return m;
}

bool backend_container_may_exist(wpd_backend *b, const wpd_step *step)
{
    const step_mark *m = backend_mark(b, step);
    return m->create_sent && !m->removed;
}

/* --------------------------------------------------------------- backend */

wpd_backend *wpd_backend_new(wpd_engine *engine, const wpd_settings *settings)
{
    wpd_backend *b = wpd_xcalloc(1, sizeof *b);
    b->engine = engine;
    b->settings = settings;
    b->labels = wpd_xcalloc(1, sizeof *b->labels); /* [0]: wp_workflow, set by SetupWorkflow */
    b->n_labels = 1;
    return b;
}

void wpd_backend_add_label(wpd_backend *b, const char *key, const char *value)
{
    b->labels = wpd_xrealloc(b->labels, (b->n_labels + 1) * sizeof *b->labels);
    b->labels[b->n_labels++] = (wpd_pair){wpd_xstrdup(key), wpd_xstrdup(value)};
}

void wpd_backend_free(wpd_backend *b)
{
    if (!b)
        return;
    for (size_t i = 1; i < b->n_labels; i++) {
        free((char *)b->labels[i].key);
        free((char *)b->labels[i].value);
    }
    free(b->labels);
    /* ops still in flight are abandoned without callbacks; their calls
     * are canceled and complete into nothing */
    while (b->ops)
        op_discard(b->ops);
    free(b->marks);
    free(b);
}

void wpd_backend_set_notice(wpd_backend *b, wpd_notice_fn fn, void *arg)
{
    b->notice = fn;
    b->notice_arg = arg;
}

wpd_engine *wpd_backend_engine(const wpd_backend *b)
{
    return b->engine;
}

size_t wpd_backend_ops(const wpd_backend *b)
{
    return b->n_ops;
}

void wpd_backend_abandon(wpd_backend *b)
{
    while (b->ops)
        op_discard(b->ops);
}

static void leftover(wpd_buf *out, size_t *n, const char *kind, const char *name, const char *step)
{
    wpd_buf_printf(out, "%s%s %s", *n ? ", " : "", kind, name);
    if (step)
        wpd_buf_printf(out, " (step %s)", step);
    (*n)++;
}

size_t wpd_backend_leftovers(wpd_backend *b, const wpd_workflow *wf, wpd_buf *out)
{
    size_t n = 0;
    for (size_t s = 0; s < wf->n_stages; s++) {
        for (size_t k = 0; k < wf->stages[s].n_steps; k++) {
            const wpd_step *step = &wf->stages[s].steps[k];
            if (!backend_container_may_exist(b, step))
                continue;
            wpd_buf name = WPD_BUF_INIT;
            wpd_container_name(step, &name);
            leftover(out, &n, "container", wpd_buf_cstr(&name), step->name);
            wpd_buf_free(&name);
        }
    }
    if (b->vol_sent && !b->vol_removed)
        leftover(out, &n, "volume", wf->volume, NULL);
    if (b->net_sent && !b->net_removed)
        leftover(out, &n, "network", wf->network, NULL);
    return n;
}

bool wpd_backend_step_vanished(wpd_backend *b, const wpd_step *step)
{
    return backend_mark(b, step)->vanished;
}

static void hurry_kill_done(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)arg;
    (void)outcome;
    (void)err;
}

void wpd_backend_hurry(wpd_backend *b)
{
    if (b->hurry)
        return;
    b->hurry = true;
    for (wpd_op *op = b->ops; op; op = op->next) {
        /* the stop call waits out its grace period; kill now, the stop
         * then returns and the normal sequence goes on */
        if (op->cls->teardown && op->stopping && op->call)
            wpd_ctr_kill(b->engine, op->name, "9", hurry_kill_done, NULL);
    }
}
