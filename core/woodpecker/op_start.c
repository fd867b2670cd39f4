/* op_start.c - StartStep (spec 2.3): pull when asked (credentials
 * resolved once, before the first pull), create (joining the first
 * network), pull and create again when the image is missing, connect the
 * other networks, open the attach that delivers the step's output, and
 * start once the engine confirmed the attach. */
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "engine/credentials.h"
#include "engine/dialect.h"
#include "engine/imageref.h"
#include "engine/networks.h"
#include "woodpecker/convert.h"
#include "woodpecker/ops.h"

#define ATTACH_CONFIRM_MS 10000

typedef struct start_op {
    wpd_op base;
    wpd_pull_fn pull_fn;
    void *pull_arg;
    char *create_body;
    wpd_image_ref ref;
    bool have_ref;
    bool created_once;
    char *auth; /* X-Registry-Auth value, NULL for none */
    bool auth_resolved;
    wpd_cred_request *cred;
    void (*after_pull)(struct start_op *op, const wpd_error *err);
    wpd_join *joins; /* the networks to join, the first one at create */
    size_t n_joins, next_join;
    output_op *attach; /* opened before start, handed to TailStep */
} start_op;

static void start_create(start_op *op);
static void start_pull(start_op *op, void (*after)(start_op *, const wpd_error *));

/* ---- pull ------------------------------------------------------------- */

static void pull_done(void *arg, const wpd_error *err)
{
    start_op *op = arg;
    if (op_call_done(&op->base))
        return;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "pulling image %s", op->base.step->image);
        op->after_pull(op, &e);
        return;
    }
    op->after_pull(op, NULL);
}

static void on_credentials(void *arg, const char *auth, const wpd_error *err)
{
    start_op *op = arg;
    op->cred = NULL;
    op->auth_resolved = true;
    if (err) {
        wpd_error e = *err;
        if (e.kind != WPD_ERR_CANCELED)
            wpd_error_prefix(&e, "pulling image %s", op->base.step->image);
        op_finish(&op->base, &e);
        return;
    }
    if (auth)
        op->auth = wpd_xstrdup(auth);
    start_pull(op, op->after_pull);
}

static void start_pull(start_op *op, void (*after)(start_op *, const wpd_error *))
{
    wpd_op *base = &op->base;
    op->after_pull = after;
    if (!op->auth_resolved) {
        const wpd_step *s = base->step;
        op->cred =
            wpd_credentials_resolve(wpd_engine_reactor(base->b->engine), s->image, s->auth_username,
                                    s->auth_password, NULL, on_credentials, op);
        return;
    }
    base->call = wpd_image_pull(base->b->engine, op->ref.from_image, op->ref.tag, op->auth,
                                op->pull_fn, op->pull_arg, pull_done, op);
}

static void after_first_pull(start_op *op, const wpd_error *err)
{
    if (err) {
        if (op->base.step->auth_password && *op->base.step->auth_password) {
            op_finish(&op->base, err);
            return;
        }
        char *msg = wpd_xasprintf("%s; trying to create the container anyway", err->message);
        op_notice(&op->base, msg);
        free(msg);
    }
    start_create(op);
}

static void after_retry_pull(start_op *op, const wpd_error *err)
{
    if (err)
        op_finish(&op->base, err);
    else
        start_create(op);
}

/* ---- start, once the attach is in place ------------------------------- */

static void start_started(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome;
    start_op *op = arg;
    if (op_call_done(&op->base))
        return;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "starting container %s", op->base.name);
        op_finish(&op->base, &e);
        return;
    }
    op->attach = NULL; /* TailStep adopts it */
    op_finish(&op->base, NULL);
}

static void start_now(start_op *op)
{
    wpd_timer_stop(op->base.timer);
    op->base.call = wpd_ctr_start(op->base.b->engine, op->base.name, start_started, op);
}

static void attach_ready(void *arg)
{
    start_op *op = arg;
    if (!op->base.finished)
        start_now(op);
}

static void attach_timeout(void *arg)
{
    start_op *op = arg;
    wpd_op *base = &op->base;
    bool reconcile = base->b->settings->reconcile_logs != WPD_RECONCILE_NEVER;
    /* Podman (32 attaches at once keep it busy for seconds) may set the
     * attach up after the step began: its stream cannot be trusted to be
     * complete, so the output is taken from the log after the step */
    output_attach_untrusted(op->attach);
    if (!op_podman(base) || !reconcile)
        op_notice(base, "the engine did not confirm the log attach within 10 s; starting anyway");
    start_now(op);
}

static void start_attach(start_op *op)
{
    op_retry(&op->base, attach_timeout, ATTACH_CONFIRM_MS);
    op->attach = output_attach_open(op->base.b, op->base.step, attach_ready, op);
}

/* ---- connects --------------------------------------------------------- */

static void start_connect_next(start_op *op);

static void start_connected(void *arg, const wpd_error *err)
{
    start_op *op = arg;
    if (op_call_done(&op->base))
        return;
    if (err) {
        const wpd_join *j = &op->joins[op->next_join - 1];
        wpd_error e = *err;
        wpd_error_prefix(&e, "connecting %s to network %s", op->base.name, j->network);
        op_finish(&op->base, &e);
        return;
    }
    start_connect_next(op);
}

static void start_connect_next(start_op *op)
{
    if (op->next_join >= op->n_joins) {
        start_attach(op);
        return;
    }
    const wpd_join *j = &op->joins[op->next_join++];
    wpd_net_endpoint ep = {0};
    if (j->aliases)
        ep = (wpd_net_endpoint){(const char *const *)j->aliases->v, j->aliases->n};
    op->base.call = wpd_net_connect(op->base.b->engine, j->network, op->base.name,
                                    j->aliases ? &ep : NULL, start_connected, op);
}

/* ---- create ----------------------------------------------------------- */

static void start_created(void *arg, const wpd_ctr_created *res, const wpd_error *err)
{
    (void)res;
    start_op *op = arg;
    if (op_call_done(&op->base))
        return;
    if (err) {
        if (err->kind == WPD_ERR_ENGINE && err->status == 404 && !op->created_once) {
            /* image missing: pull (regardless of `pull`) and create once more */
            op->created_once = true;
            start_pull(op, after_retry_pull);
            return;
        }
        wpd_error e = *err;
        if (wpd_dialect_name_conflict(err))
            wpd_error_prefix(&e,
                             "creating container %s (a container of that name already "
                             "exists: is the step uuid reused?)",
                             op->base.name);
        else
            wpd_error_prefix(&e, "creating container %s", op->base.name);
        op_finish(&op->base, &e);
        return;
    }
    op->created_once = true;
    op->next_join = 1; /* the first network was joined by the create */
    start_connect_next(op);
}

static void start_create(start_op *op)
{
    backend_mark(op->base.b, op->base.step)->create_sent = true;
    op->base.call =
        wpd_ctr_create(op->base.b->engine, op->base.name, op->create_body, start_created, op);
}

/* ---- the op ----------------------------------------------------------- */

static void start_cancel(wpd_op *base)
{
    start_op *op = (start_op *)base;
    if (op->attach) {
        output_attach_drop(op->attach);
        op->attach = NULL;
    }
    if (op->cred) {
        wpd_credentials_cancel(op->cred);
    } else if (base->call) {
        wpd_call_cancel(base->call);
    } else {
        /* waiting for the attach's confirmation (or about to finish) */
        wpd_error c;
        wpd_error_set(&c, WPD_ERR_CANCELED, 0, "Canceled");
        op_finish(base, &c);
    }
}

static bool start_deliver(wpd_op *base, const wpd_error *err)
{
    start_op *op = (start_op *)base;
    if (err && op->attach) { /* nobody will adopt its attach */
        output_attach_drop(op->attach);
        op->attach = NULL;
    }
    return op_deliver_done(base, err);
}

static void start_cleanup(wpd_op *base)
{
    start_op *op = (start_op *)base;
    /* op->attach is not dropped here: every way to finish drops or hands it
     * over, and a backend freed mid-run discards it on its own */
    wpd_credentials_abort(op->cred);
    free(op->create_body);
    free(op->joins);
    free(op->auth);
    if (op->have_ref)
        wpd_image_ref_free(&op->ref);
}

static const op_class start_class = {
    .deliver = start_deliver, .cancel = start_cancel, .cleanup = start_cleanup};

wpd_op *wpd_backend_start_step(wpd_backend *b, const wpd_step *step, const wpd_kv *env,
                               size_t n_env, wpd_pull_fn pull, void *pull_arg, wpd_op_done_fn done,
                               void *arg)
{
    start_op *op = op_new(b, &start_class, sizeof *op, step, done, arg);
    op->pull_fn = pull;
    op->pull_arg = pull_arg;
    wpd_error err;
    op->create_body = wpd_convert_create_body(step, env, n_env, b->settings, &err);
    if (!op->create_body) {
        op_finish(&op->base, &err);
        return &op->base;
    }
    if (wpd_image_ref_parse(step->image, &op->ref, &err) != 0) {
        op_finish(&op->base, &err);
        return &op->base;
    }
    op->have_ref = true;
    op->n_joins = wpd_convert_joins(step, b->settings, NULL, 0);
    op->joins = wpd_xcalloc(op->n_joins ? op->n_joins : 1, sizeof *op->joins);
    wpd_convert_joins(step, b->settings, op->joins, op->n_joins);
    if (step->pull)
        start_pull(op, after_first_pull);
    else
        start_create(op);
    return &op->base;
}
