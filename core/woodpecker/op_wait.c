/* op_wait.c - WaitStep (spec 2.5): wait until the container is not
 * running, then inspect it for the exit code and OOMKilled. */
#include "engine/containers.h"
#include "engine/dialect.h"
#include "woodpecker/ops.h"

typedef struct wait_op {
    wpd_op base;
    wpd_wait_done_fn done; /* base.done is unused: the result is typed */
    wpd_step_result res;
} wait_op;

/* The container went away under the wait: someone else removed it. */
static bool wait_vanished(wait_op *op, const wpd_error *err)
{
    if (!wpd_dialect_no_such_container(err))
        return false;
    backend_mark(op->base.b, op->base.step)->vanished = true;
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_ENGINE, err->status,
                  "container %s was removed by something other than wpdock while the step ran; "
                  "its exit code is unknown",
                  op->base.name);
    op_finish(&op->base, &e);
    return true;
}

static void wait_inspected(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    wait_op *op = arg;
    if (op_call_done(&op->base))
        return;
    if (wait_vanished(op, err))
        return;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "inspecting container %s", op->base.name);
        op_finish(&op->base, &e);
        return;
    }
    int64_t code = info->exit_code;
    op->res.exit_code = code == 4294967295LL ? -1 : (int)code; /* Windows' abnormal exit */
    op->res.oom_killed = info->oom_killed;
    op_finish(&op->base, NULL);
}

static void wait_waited(void *arg, const wpd_ctr_waited *res, const wpd_error *err)
{
    wait_op *op = arg;
    if (op_call_done(&op->base))
        return;
    wpd_error e;
    if (wait_vanished(op, err))
        return;
    if (err) {
        e = *err;
        wpd_error_prefix(&e, "waiting for container %s", op->base.name);
        op_finish(&op->base, &e);
        return;
    }
    if (*res->error) {
        wpd_error_set(&e, WPD_ERR_ENGINE, 0, "ContainerWait error: %s", res->error);
        op_finish(&op->base, &e);
        return;
    }
    backend_mark(op->base.b, op->base.step)->exited = true;
    op->base.call = wpd_ctr_inspect(op->base.b->engine, op->base.name, wait_inspected, op);
}

static bool wait_deliver(wpd_op *base, const wpd_error *err)
{
    wait_op *op = (wait_op *)base;
    op->done(base->arg, err ? NULL : &op->res, err);
    return true;
}

static const op_class wait_class = {.deliver = wait_deliver};

wpd_op *wpd_backend_wait_step(wpd_backend *b, const wpd_step *step, wpd_wait_done_fn done,
                              void *arg)
{
    wait_op *op = op_new(b, &wait_class, sizeof *op, step, NULL, arg);
    op->done = done;
    op->base.call = wpd_ctr_wait(b->engine, op->base.name, WPD_WAIT_NOT_RUNNING, wait_waited, op);
    return &op->base;
}
