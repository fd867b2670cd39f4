/* op_teardown.c - DestroyStep (spec 2.6: stop with the stop timeout ->
 * kill 9 -> remove with its anonymous volumes) and StopStep (stop ->
 * kill, the container stays). A container a WaitStep saw end has nothing
 * to stop or kill, so its destroy is the remove alone. Teardown is never
 * cut short by cancellation; a second interrupt (hurry) shortens it. */
#include "engine/containers.h"
#include "woodpecker/ops.h"

typedef enum teardown_phase { PH_STOP, PH_KILL, PH_REMOVE, PH_END } teardown_phase;

typedef struct teardown_op {
    wpd_op base;
    teardown_phase phase;
    bool want_remove;
    bool stop_failed;
    wpd_error stop_err;
} teardown_op;

static void teardown_next(teardown_op *op);

static void teardown_done(void *arg, wpd_change outcome, const wpd_error *err)
{
    teardown_op *op = arg;
    wpd_op *base = &op->base;
    op_call_done(base);
    base->stopping = false;
    step_mark *m = backend_mark(base->b, base->step);
    /* gone, or being removed (Docker: "removal already in progress"), and
     * not by our hand: nothing left to stop, kill or remove */
    if (!err && !m->removed &&
        (outcome == WPD_CHANGE_NOT_FOUND ||
         (outcome == WPD_CHANGE_ALREADY && op->phase == PH_REMOVE))) {
        m->vanished = true;
        m->removed = true;
        op_finish(base, NULL);
        return;
    }
    const char *sname = base->step->name;
    if (err) {
        wpd_error e;
        switch (op->phase) {
        case PH_STOP: /* remembered; the kill decides */
            op->stop_failed = true;
            op->stop_err = *err;
            wpd_error_prefix(&op->stop_err, "could not stop container '%s'", sname);
            break;
        case PH_KILL:
            if (op->stop_failed)
                wpd_error_set(&e, err->kind, err->status, "%s; could not kill container '%s': %s",
                              op->stop_err.message, sname, err->message);
            else
                wpd_error_set(&e, err->kind, err->status, "could not kill container '%s': %s",
                              sname, err->message);
            op_finish(base, &e);
            return;
        default:
            e = *err;
            wpd_error_prefix(&e, "could not remove container '%s'", sname);
            op_finish(base, &e);
            return;
        }
    } else if (op->phase == PH_REMOVE) {
        backend_mark(base->b, base->step)->removed = true;
    }
    op->phase++;
    teardown_next(op);
}

static void teardown_next(teardown_op *op)
{
    wpd_op *base = &op->base;
    wpd_backend *b = base->b;
    if (op->phase < PH_REMOVE && backend_mark(b, base->step)->exited)
        op->phase = PH_REMOVE; /* it ended: nothing to stop or kill */
    if (op->phase == PH_REMOVE && !op->want_remove)
        op->phase = PH_END;
    switch (op->phase) {
    case PH_STOP:
        base->stopping = true;
        base->call =
            wpd_ctr_stop(b->engine, base->name, b->hurry ? 0 : (long)b->settings->stop_timeout,
                         teardown_done, op);
        break;
    case PH_KILL: base->call = wpd_ctr_kill(b->engine, base->name, "9", teardown_done, op); break;
    case PH_REMOVE:
        base->call = wpd_ctr_remove(b->engine, base->name, false, true, teardown_done, op);
        break;
    default: op_finish(base, NULL); break;
    }
}

static void no_cancel(wpd_op *op)
{
    (void)op; /* teardown is what cleans up: never cut short */
}

static const op_class teardown_class = {
    .deliver = op_deliver_done, .cancel = no_cancel, .teardown = true};

static wpd_op *teardown_new(wpd_backend *b, const wpd_step *step, bool remove, wpd_op_done_fn done,
                            void *arg)
{
    teardown_op *op = op_new(b, &teardown_class, sizeof *op, step, done, arg);
    op->want_remove = remove;
    teardown_next(op);
    return &op->base;
}

wpd_op *wpd_backend_stop_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done, void *arg)
{
    return teardown_new(b, step, false, done, arg);
}

wpd_op *wpd_backend_destroy_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done,
                                 void *arg)
{
    return teardown_new(b, step, true, done, arg);
}
