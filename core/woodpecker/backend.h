/* backend.h - the six Woodpecker backend operations (spec section 2) as
 * asynchronous operations on one engine: SetupWorkflow, StartStep,
 * TailStep, WaitStep, DestroyStep, DestroyWorkflow (plus StopStep, used to
 * end detached steps before their completion runs). They use only the
 * typed Engine API layer (core/engine); ops.h has their shared parts.
 *
 * Every operation returns a handle that stays valid until its completion
 * callback has returned; wpd_op_cancel() aborts it, and the callback then
 * runs once with WPD_ERR_CANCELED. Callbacks never run from inside the
 * call that started the operation. */
#ifndef WPDOCK_BACKEND_H
#define WPDOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <wpdock/engine.h>

#include "engine/images.h"
#include "util/buf.h"
#include "woodpecker/config.h"
#include "woodpecker/settings.h"

typedef struct wpd_backend wpd_backend;
typedef struct wpd_op wpd_op;

typedef void (*wpd_op_done_fn)(void *arg, const wpd_error *err);

/* Result of WaitStep (spec 1.4). */
typedef struct wpd_step_result {
    int exit_code; /* 4294967295 normalised to -1 */
    bool oom_killed;
} wpd_step_result;
typedef void (*wpd_wait_done_fn)(void *arg, const wpd_step_result *res, const wpd_error *err);

/* Log bytes of a step: stream 1 = stdout, 2 = stderr. */
typedef void (*wpd_output_fn)(void *arg, int stream, const char *data, size_t len);

/* Diagnostics the caller may show (e.g. "pull failed, trying to create
 * anyway"); never contains credentials. */
typedef void (*wpd_notice_fn)(void *arg, const wpd_step *step, const char *message);

/* The engine must be connected. settings are borrowed and must outlive
 * the backend. */
wpd_backend *wpd_backend_new(wpd_engine *engine, const wpd_settings *settings);
void wpd_backend_free(wpd_backend *b);
void wpd_backend_set_notice(wpd_backend *b, wpd_notice_fn fn, void *arg);
/* One more label for the workflow's volume and network (copied). */
void wpd_backend_add_label(wpd_backend *b, const char *key, const char *value);
wpd_engine *wpd_backend_engine(const wpd_backend *b);
/* Operations in flight (for diagnostics and tests). */
size_t wpd_backend_ops(const wpd_backend *b);

wpd_op *wpd_backend_setup_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                   void *arg);
/* Pull (when needed), create, connect networks, start. env is the step's
 * final environment; copied before this returns. pull may be NULL. */
wpd_op *wpd_backend_start_step(wpd_backend *b, const wpd_step *step, const wpd_kv *env,
                               size_t n_env, wpd_pull_fn pull, void *pull_arg, wpd_op_done_fn done,
                               void *arg);
/* Follow the step's logs until the container stops; output gets the
 * demultiplexed bytes. */
wpd_op *wpd_backend_tail_step(wpd_backend *b, const wpd_step *step, wpd_output_fn output,
                              wpd_op_done_fn done, void *arg);
/* Back-pressure: while paused, no step's output streams further (the
 * engine holds it; containers block on writing); also for streams opened
 * while paused. */
void wpd_backend_pause_output(wpd_backend *b, bool pause);
wpd_op *wpd_backend_wait_step(wpd_backend *b, const wpd_step *step, wpd_wait_done_fn done,
                              void *arg);
/* stop (with the stop timeout) then kill; the container stays. */
wpd_op *wpd_backend_stop_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done, void *arg);
/* stop -> kill -> remove (spec 2.6); safe for never-created containers. */
wpd_op *wpd_backend_destroy_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done,
                                 void *arg);
/* Destroy every step, remove the volume (retrying "in use") and the
 * network (spec 2.7). Reports the first real failure, after doing all. */
wpd_op *wpd_backend_destroy_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                     void *arg);

void wpd_op_cancel(wpd_op *op);

/* Give up: every operation in flight is abandoned, without its callback
 * (its engine request is canceled). For a run whose teardown ran out of
 * time; the backend stays usable for wpd_backend_leftovers. */
void wpd_backend_abandon(wpd_backend *b);

/* What of wf may still be on the engine: step containers whose create went
 * out and that were not removed, the volume and network unless removed.
 * Appends "container wp_<uuid> (step NAME), volume V, network N" (", "
 * between) to out; returns how many. */
size_t wpd_backend_leftovers(wpd_backend *b, const wpd_workflow *wf, wpd_buf *out);

/* Did a call for the step's container find it gone, although wpdock had
 * not removed it (someone else did)? */
bool wpd_backend_step_vanished(wpd_backend *b, const wpd_step *step);

/* From now on stops use no grace period, and stops already waiting for
 * their grace period get a SIGKILL at once (second interrupt). */
void wpd_backend_hurry(wpd_backend *b);

#endif
