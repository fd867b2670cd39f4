/* ops.h - what the backend's operations share (woodpecker layer only):
 * the backend object, the op header every operation's own state starts
 * with, and what the backend remembers of each step's container.
 *
 * An operation is a small state machine over typed Engine API calls
 * (core/engine): it runs one call at a time (`call`), moves on from that
 * call's callback, and ends with op_finish(), which delivers its result
 * from the loop. Each kind of operation lives in its own file:
 * op_workflow.c (SetupWorkflow, DestroyWorkflow), op_start.c (StartStep),
 * op_output.c (TailStep), op_wait.c (WaitStep), op_teardown.c (StopStep,
 * DestroyStep). */
#ifndef WPDOCK_WOODPECKER_OPS_H
#define WPDOCK_WOODPECKER_OPS_H

#include "engine/api.h"
#include "woodpecker/backend.h"

/* What the backend knows of a step's container; every flag only ever goes
 * from false to true while the backend lives. */
typedef struct step_mark {
    const wpd_step *step;
    bool create_sent; /* a create request went out: the container may exist */
    bool exited;      /* a WaitStep saw it end: stop and kill have nothing to do */
    bool removed;     /* a remove succeeded (or found nothing) */
    bool vanished;    /* a call found no such container: something else removed it */
} step_mark;

struct wpd_backend {
    wpd_engine *engine;
    const wpd_settings *settings;
    wpd_notice_fn notice;
    void *notice_arg;
    bool hurry;
    bool output_paused; /* wpd_backend_pause_output */
    wpd_op *ops;        /* every op in flight */
    size_t n_ops;
    step_mark *marks;
    size_t n_marks, cap_marks;
    /* the workflow's volume and network: created (a request went out, so
     * they may exist) and removed (a remove succeeded or found nothing) */
    bool vol_sent, net_sent, vol_removed, net_removed;
    /* labels the workflow's volume and network get besides wp_workflow
     * (owned; the first entry is reserved for wp_workflow) */
    wpd_pair *labels;
    size_t n_labels;
};

typedef struct op_class {
    /* Hand the result to the caller's callback. Returns false to keep the
     * op alive (an attach that no TailStep has adopted yet). */
    bool (*deliver)(wpd_op *op, const wpd_error *err);
    /* Abort: NULL = cancel the call in flight (or the pending retry);
     * teardown ops set a function that does nothing: they are what
     * cleans up and are never cut short. */
    void (*cancel)(wpd_op *op);
    void (*cleanup)(wpd_op *op); /* optional: free the op's own state */
    bool teardown;               /* stop/kill in progress matters for hurry */
} op_class;

struct wpd_op {
    const op_class *cls;
    wpd_backend *b;
    const wpd_step *step; /* NULL for workflow ops */
    char *name;           /* the step's container name wp_<uuid> */
    wpd_op_done_fn done;  /* the caller's callback (NULL: none yet, or the op
                             has one of another type of its own) */
    void *arg;
    wpd_op *prev, *next;
    wpd_call *call;   /* the engine call in flight */
    wpd_timer *timer; /* deferred completion, retries */
    bool canceled;
    bool finished;
    bool failed;
    wpd_error result;
    bool stopping; /* teardown: a stop call waits out its grace period */
};

/* A zeroed op of `size` bytes, linked into b; step may be NULL. */
void *op_new(wpd_backend *b, const op_class *cls, size_t size, const wpd_step *step,
             wpd_op_done_fn done, void *arg);
/* op_class.deliver of ops whose result is done(arg, err) alone. */
bool op_deliver_done(wpd_op *op, const wpd_error *err);
/* End the op (once): its result is delivered from the loop. A canceled op
 * reports WPD_ERR_CANCELED whatever err says. */
void op_finish(wpd_op *op, const wpd_error *err);
/* Called first in every engine callback of a non-teardown op: forgets the
 * finished call and, when the op was canceled, finishes it. True = stop. */
bool op_call_done(wpd_op *op);
/* Run fn(op) after ms milliseconds (retries). */
void op_retry(wpd_op *op, wpd_timer_fn fn, long ms);
void op_notice(wpd_op *op, const char *msg);
/* Unlink and free without a callback. */
void op_discard(wpd_op *op);
bool op_podman(const wpd_op *op);

step_mark *backend_mark(wpd_backend *b, const wpd_step *step);
/* A create went out for step's container and no remove has succeeded: it
 * may still be on the engine. */
bool backend_container_may_exist(wpd_backend *b, const wpd_step *step);

/* op_output.c: the attach a StartStep opens before it starts the
 * container; ready() runs when the engine confirms it (or at once when it
 * failed), then the start goes on. */
typedef struct output_op output_op;
output_op *output_attach_open(wpd_backend *b, const wpd_step *step, void (*ready)(void *arg),
                              void *arg);
/* The start that opened it gives up (failure, cancel) or, after the 10 s
 * without confirmation, marks it untrusted (Podman: taken from the log). */
void output_attach_drop(output_op *t);
void output_attach_untrusted(output_op *t);

#endif
