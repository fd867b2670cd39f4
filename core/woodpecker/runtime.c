/* runtime.c - the workflow runner (spec section 5): stages in order, the
 * steps of a stage concurrently, skip rules, CI_* variables, detached
 * steps, failure: ignore, logs split into masked lines, cancellation, and
 * DestroyWorkflow exactly once at the end. Reports events. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "woodpecker/runtime_private.h"

/* -------------------------------------------------------------- stages */

static void run_stage(wpd_run *run);
static void stage_step_finished(wpd_run *run, step_run *sr, bool counts_as_failure,
                                const char *error);
static void finish_workflow(wpd_run *run);
static void step_complete(step_run *sr);
static void step_destroyed(void *arg, const wpd_error *err);

static void step_final(step_run *sr)
{
    wpd_run *run = sr->run;
    sr->state = ST_DONE;
    sr->finished = now_unix();
    clock_gettime(CLOCK_MONOTONIC, &sr->t_end);
    emit_step(run, sr, wpd_outcome_names[sr->outcome]);
    if (sr->detached) {
        run->detached_active--;
        if (run->finishing && run->detached_active == 0)
            finish_workflow(run);
        return;
    }
    bool fails = (sr->outcome == OUT_FAILURE && strcmp(sr->step->failure, "ignore") != 0) ||
                 sr->outcome == OUT_ERROR || sr->outcome == OUT_CANCELED;
    stage_step_finished(run, sr, fails, sr->error);
}

static void step_destroyed(void *arg, const wpd_error *err)
{
    step_run *sr = arg;
    sr->op = NULL;
    if (!err && (sr->outcome == OUT_FAILURE || sr->outcome == OUT_ERROR) &&
        wpd_backend_step_vanished(sr->run->backend, sr->step) &&
        !strstr(sr->error ? sr->error : "", "something other than wpdock")) {
        /* the step failed because its container was removed under it */
        char *msg = wpd_xasprintf("%s; its container was removed by something other than wpdock",
                                  sr->error ? sr->error : "the step failed");
        set_str(&sr->error, msg);
        free(msg);
    }
    if (err && sr->outcome != OUT_CANCELED && sr->outcome != OUT_ERROR) {
        sr->outcome = OUT_ERROR;
        set_str(&sr->error, err->message);
    } else if (err) {
        emit_notice(sr->run, sr, err->message);
    }
    step_final(sr);
}

static void step_destroy(step_run *sr)
{
    sr->state = ST_DESTROYING;
    sr->op = wpd_backend_destroy_step(sr->run->backend, sr->step, step_destroyed, sr);
}

static void step_waited(void *arg, const wpd_step_result *res, const wpd_error *err)
{
    step_run *sr = arg;
    sr->op = NULL;
    if (err) {
        sr->outcome =
            (err->kind == WPD_ERR_CANCELED || sr->run->canceled) ? OUT_CANCELED : OUT_ERROR;
        set_str(&sr->error, sr->outcome == OUT_CANCELED ? "Canceled" : err->message);
    } else {
        sr->has_exit = true;
        sr->result = *res;
        char buf[128];
        if (res->oom_killed) {
            sr->outcome = OUT_FAILURE;
            snprintf(buf, sizeof buf, "uuid=%s: received oom kill", sr->step->uuid);
            set_str(&sr->error, buf);
        } else if (res->exit_code != 0) {
            sr->outcome = OUT_FAILURE;
            snprintf(buf, sizeof buf, "uuid=%s: exit code %d", sr->step->uuid, res->exit_code);
            set_str(&sr->error, buf);
        } else {
            sr->outcome = OUT_SUCCESS;
        }
        if (sr->run->canceled && !sr->detached) {
            sr->outcome = OUT_CANCELED;
            set_str(&sr->error, "Canceled");
        } else if (sr->detached && sr->stop_requested) {
            /* a service the runner stopped at the workflow's end did its
             * job; its exit code (often 137/143) is still reported */
            sr->outcome = OUT_SUCCESS;
            set_str(&sr->error, NULL);
        }
    }
    step_destroy(sr);
}

static void step_complete(step_run *sr)
{
    /* logs are drained: now the exit code */
    if (sr->run->canceled && !sr->detached) {
        sr->outcome = OUT_CANCELED;
        set_str(&sr->error, "Canceled");
        step_destroy(sr);
        return;
    }
    sr->state = ST_WAITING;
    sr->op = wpd_backend_wait_step(sr->run->backend, sr->step, step_waited, sr);
}

static void step_tailed(void *arg, const wpd_error *err)
{
    step_run *sr = arg;
    sr->tail_op = NULL;
    sr->tail_done = true;
    wpd_lines_finish(&sr->out_lines);
    wpd_lines_finish(&sr->err_lines);
    if (err && err->kind != WPD_ERR_CANCELED)
        emit_notice(sr->run, sr, err->message);
    step_complete(sr);
}

static void noop_done(void *arg, const wpd_error *err)
{
    (void)arg;
    (void)err;
}

static void step_started(void *arg, const wpd_error *err)
{
    step_run *sr = arg;
    wpd_run *run = sr->run;
    sr->op = NULL;
    if (err) {
        bool canceled = err->kind == WPD_ERR_CANCELED || run->canceled;
        sr->outcome = canceled ? OUT_CANCELED : OUT_ERROR;
        set_str(&sr->error, canceled ? "Canceled" : err->message);
        /* the container may exist (created, not started): DestroyWorkflow
         * removes it with every other step */
        sr->state = ST_DONE;
        sr->finished = now_unix();
        clock_gettime(CLOCK_MONOTONIC, &sr->t_end);
        emit_step(run, sr, wpd_outcome_names[sr->outcome]);
        if (sr->detached)
            run->detached_active--;
        /* start failures fail the stage even with failure: ignore (spec 5.4) */
        stage_step_finished(run, sr, true, sr->error);
        return;
    }
    sr->state = ST_RUNNING;
    wpd_lines_init(&sr->out_lines, 0, run->masker, on_stdout_line, sr);
    wpd_lines_init(&sr->err_lines, 0, run->masker, on_stderr_line, sr);
    sr->lines_ready = true;
    sr->tail_op = wpd_backend_tail_step(run->backend, sr->step, on_output, step_tailed, sr);
    if (sr->detached) {
        /* detached: the stage goes on; completion runs in the background */
        stage_step_finished(run, sr, false, NULL);
        if (run->finishing && !sr->stop_requested) {
            sr->stop_requested = true;
            wpd_backend_stop_step(run->backend, sr->step, noop_done, NULL);
        }
    }
}

static void step_begin(step_run *sr)
{
    wpd_run *run = sr->run;
    sr->state = ST_STARTING;
    sr->started = now_unix();
    clock_gettime(CLOCK_MONOTONIC, &sr->t_start);
    wpd_step_env_ctx ctx = {run->machine, run->platform, run->wf_failed, run->started, sr->started};
    wpd_step_env_build(&sr->env, sr->step, &ctx);
    emit_step(run, sr, "started");
    if (sr->detached)
        run->detached_active++;
    sr->op = wpd_backend_start_step(run->backend, sr->step, sr->env.v, sr->env.n, on_pull, sr,
                                    step_started, sr);
}

static void stage_step_finished(wpd_run *run, step_run *sr, bool failed, const char *error)
{
    (void)sr;
    if (failed) {
        run->stage_failed = true;
        set_str(&run->stage_error, error);
    }
    if (--run->stage_pending > 0)
        return;
    /* the stage is over: its first error becomes the workflow error */
    if (run->stage_failed) {
        run->wf_failed = true;
        set_str(&run->wf_error, run->stage_error);
    }
    run->stage++;
    run_stage(run);
}

/* Skip rule (spec 5.2), evaluated at stage start. */
static bool should_run(const wpd_run *run, const wpd_step *s)
{
    return run->wf_failed ? s->on_failure : s->on_success;
}

static void skip_step(wpd_run *run, step_run *sr, const char *status_outcome_error)
{
    sr->state = ST_DONE;
    sr->outcome = status_outcome_error ? OUT_CANCELED : OUT_SKIPPED;
    if (status_outcome_error)
        set_str(&sr->error, status_outcome_error);
    emit_step(run, sr, wpd_outcome_names[sr->outcome]);
}

static void stop_detached(wpd_run *run)
{
    for (size_t i = 0; i < run->n_steps; i++) {
        step_run *sr = &run->steps[i];
        if (sr->detached && (sr->state == ST_RUNNING || sr->state == ST_WAITING) &&
            !sr->stop_requested) {
            sr->stop_requested = true;
            wpd_backend_stop_step(run->backend, sr->step, noop_done, NULL);
        }
    }
}

static void run_stage(wpd_run *run)
{
    for (;;) {
        if (run->stage >= run->wf->n_stages || run->canceled) {
            /* remaining steps never ran */
            for (size_t i = 0; i < run->n_steps; i++)
                if (run->steps[i].state == ST_PENDING)
                    skip_step(run, &run->steps[i], "Canceled");
            run->finishing = true;
            if (run->detached_active == 0)
                finish_workflow(run);
            else
                stop_detached(run);
            return;
        }
        run->stage_failed = false;
        set_str(&run->stage_error, NULL);
        size_t to_start = 0;
        for (size_t i = 0; i < run->n_steps; i++) {
            step_run *sr = &run->steps[i];
            if (sr->stage != run->stage)
                continue;
            if (!should_run(run, sr->step))
                skip_step(run, sr, NULL);
            else
                to_start++;
        }
        if (!to_start) {
            run->stage++;
            continue;
        }
        run->stage_pending = to_start;
        for (size_t i = 0; i < run->n_steps; i++) {
            step_run *sr = &run->steps[i];
            if (sr->stage == run->stage && sr->state == ST_PENDING)
                step_begin(sr);
        }
        return;
    }
}

/* -------------------------------------------------------- whole run */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A notice: why the workflow could not be cleaned up (`why`), what of it
 * may still be on the engine, and the command that removes it. */
static void report_leftovers(wpd_run *run, const char *why)
{
    const wpd_engine_info *info = wpd_engine_get_info(run->engine);
    wpd_buf left = WPD_BUF_INIT;
    size_t n = wpd_backend_leftovers(run->backend, run->wf, &left);
    char *msg;
    if (n)
        msg = wpd_xasprintf("%s; left on engine %s (%s): %s; remove %s with `wpdock cleanup "
                            "--workflow %s` once the engine answers again",
                            why, info->name, info->endpoint, wpd_buf_cstr(&left),
                            n == 1 ? "it" : "them", run->wf->id);
    else
        msg = wpd_xasprintf("%s; nothing of the workflow is known to be left on engine %s (%s); "
                            "to make sure, run `wpdock cleanup --workflow %s` once it answers "
                            "again",
                            why, info->name, info->endpoint, run->wf->id);
    emit_notice(run, NULL, msg);
    free(msg);
    wpd_buf_free(&left);
}

static void workflow_destroyed(void *arg, const wpd_error *err)
{
    wpd_run *run = arg;
    wpd_timer_stop(run->deadline);
    if (err)
        report_leftovers(run, err->message);
    const char *status;
    const char *error = NULL;
    if (run->setup_failed) {
        run->status = WPD_RUN_ERROR;
        status = "error";
        error = run->wf_error;
    } else if (run->canceled) {
        run->status = WPD_RUN_CANCELED;
        status = "canceled";
        error = "Canceled";
    } else if (run->wf_failed) {
        run->status = WPD_RUN_FAILURE;
        status = "failure";
        error = run->wf_error;
    } else {
        run->status = WPD_RUN_SUCCESS;
        status = "success";
    }
    emit_workflow(run, status, error);
    if (run->done)
        run->done(run, run->done_arg);
}

static void finish_workflow(wpd_run *run)
{
    if (run->destroying)
        return;
    run->destroying = true;
    wpd_backend_destroy_workflow(run->backend, run->wf, workflow_destroyed, run);
}

static void setup_done(void *arg, const wpd_error *err)
{
    wpd_run *run = arg;
    run->setup_op = NULL;
    if (err) {
        run->setup_failed = !run->canceled || err->kind != WPD_ERR_CANCELED;
        if (run->setup_failed) {
            char *msg = wpd_xasprintf("workflow setup failed: %s", err->message);
            set_str(&run->wf_error, msg);
            free(msg);
        }
        for (size_t i = 0; i < run->n_steps; i++)
            skip_step(run, &run->steps[i],
                      run->setup_failed ? "workflow setup failed" : "Canceled");
        run->finishing = true;
        finish_workflow(run);
        return;
    }
    run_stage(run);
}

wpd_run *wpd_run_new(wpd_engine *engine, const wpd_settings *settings, wpd_workflow *wf,
                     wpd_event_fn on_event, void *arg)
{
    wpd_run *run = wpd_xcalloc(1, sizeof *run);
    run->engine = engine;
    run->settings = settings;
    run->wf = wf;
    run->on_event = on_event;
    run->event_arg = arg;
    run->backend = wpd_backend_new(engine, settings);
    wpd_backend_set_notice(run->backend, on_backend_notice, run);
    run->masker = wpd_masker_new((const char *const *)wf->secrets.v, wf->secrets.n);
    for (size_t s = 0; s < wf->n_stages; s++)
        run->n_steps += wf->stages[s].n_steps;
    run->steps = wpd_xcalloc(run->n_steps ? run->n_steps : 1, sizeof *run->steps);
    size_t k = 0;
    for (size_t s = 0; s < wf->n_stages; s++) {
        for (size_t i = 0; i < wf->stages[s].n_steps; i++, k++) {
            step_run *sr = &run->steps[k];
            sr->run = run;
            sr->step = &wf->stages[s].steps[i];
            sr->stage = s;
            sr->detached = sr->step->detach || strcmp(sr->step->type, "service") == 0;
        }
    }
    if (gethostname(run->machine, sizeof run->machine) != 0)
        snprintf(run->machine, sizeof run->machine, "localhost");
    run->machine[sizeof run->machine - 1] = '\0';
    struct utsname u;
    if (uname(&u) == 0) {
        char os[sizeof u.sysname];
        snprintf(os, sizeof os, "%s", u.sysname);
        for (char *p = os; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        snprintf(run->platform, sizeof run->platform, "%s/%s", os, wpd_platform_arch(u.machine));
    }
    run->status = WPD_RUN_PENDING;
    return run;
}

void wpd_run_set_machine(wpd_run *run, const char *machine)
{
    snprintf(run->machine, sizeof run->machine, "%s", machine);
}

void wpd_run_add_label(wpd_run *run, const char *key, const char *value)
{
    wpd_backend_add_label(run->backend, key, value);
}

void wpd_run_start(wpd_run *run, wpd_run_done_fn done, void *arg)
{
    run->done = done;
    run->done_arg = arg;
    run->status = WPD_RUN_RUNNING;
    run->started = now_unix();
    emit_workflow(run, "started", NULL);
    if (!run->masker) { /* out of memory in wpd_run_new: never run unmasked */
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_NOMEM, 0, "out of memory preparing the masks of its secrets");
        setup_done(run, &e);
        return;
    }
    run->setup_op = wpd_backend_setup_workflow(run->backend, run->wf, setup_done, run);
}

/* ---------------------------------------------------- teardown deadline
 *
 * Teardown is never cut short by cancellation, but an engine that stopped
 * answering (frozen, or a connection that hangs) must not keep the run
 * from ending. So after a cancel the run gets a time limit: the stop
 * timeout plus TEARDOWN_MARGIN_MS; a hurried cancel (a second interrupt)
 * brings it down to HURRY_DEADLINE_MS from then, another hurried cancel
 * (a third) to now. When it passes, the run gives up: its operations are
 * abandoned, the steps and the workflow that have no final event yet get
 * one (canceled), and a notice says what may be left on the engine and how
 * to remove it. */
#define TEARDOWN_MARGIN_MS 10000L
#define HURRY_DEADLINE_MS 5000L

static void teardown_expired(void *arg)
{
    wpd_run *run = arg;
    if (run->status != WPD_RUN_RUNNING || run->gave_up)
        return;
    run->gave_up = true;
    double waited = (double)(mono_ms() - run->canceled_at) / 1000.0;
    /* what is left is known before the operations are dropped */
    char *why = wpd_xasprintf("the workflow's teardown did not finish within %.1f s of the "
                              "cancel (the engine does not answer); gave up",
                              waited);
    report_leftovers(run, why);
    free(why);
    wpd_backend_abandon(run->backend);
    run->setup_op = NULL;
    for (size_t i = 0; i < run->n_steps; i++) {
        step_run *sr = &run->steps[i];
        sr->op = NULL;
        sr->tail_op = NULL;
        if (sr->state == ST_DONE)
            continue;
        if (sr->lines_ready && !sr->tail_done) {
            /* a partial last line is still output */
            sr->tail_done = true;
            wpd_lines_finish(&sr->out_lines);
            wpd_lines_finish(&sr->err_lines);
        }
        if (sr->state == ST_PENDING) {
            skip_step(run, sr, "Canceled");
            continue;
        }
        if (sr->outcome == OUT_NONE) {
            sr->outcome = OUT_CANCELED;
            set_str(&sr->error, "Canceled");
        }
        sr->state = ST_DONE;
        sr->finished = now_unix();
        clock_gettime(CLOCK_MONOTONIC, &sr->t_end);
        emit_step(run, sr, wpd_outcome_names[sr->outcome]);
    }
    run->status = WPD_RUN_CANCELED;
    emit_workflow(run, "canceled", "Canceled");
    if (run->done)
        run->done(run, run->done_arg);
}

/* Bring the deadline to `ms` from now, unless it is sooner already. */
static void deadline_within(wpd_run *run, long ms)
{
    long long at = mono_ms() + ms;
    if (run->deadline_at && run->deadline_at <= at)
        return;
    run->deadline_at = at;
    if (!run->deadline)
        run->deadline = wpd_timer_new(wpd_engine_reactor(run->engine), teardown_expired, run);
    wpd_timer_start(run->deadline, ms);
}

void wpd_run_pause_output(wpd_run *run, bool pause)
{
    if (!run->canceled)
        wpd_backend_pause_output(run->backend, pause);
}

void wpd_run_cancel(wpd_run *run, bool hurry)
{
    bool again = hurry && run->hurry; /* hurried before: give up now */
    if (hurry && !run->hurry) {
        run->hurry = true;
        wpd_backend_hurry(run->backend);
    }
    if (run->status == WPD_RUN_RUNNING && !run->gave_up) {
        if (!run->canceled_at)
            run->canceled_at = mono_ms();
        int64_t stop_s = run->settings->stop_timeout;
        long stop_ms = (long)(stop_s > 86400 ? 86400 : stop_s < 0 ? 0 : stop_s) * 1000;
        deadline_within(run, again ? 0 : hurry ? HURRY_DEADLINE_MS : stop_ms + TEARDOWN_MARGIN_MS);
    }
    if (run->canceled)
        return;
    run->canceled = true;
    /* a paused stream would never see its container go */
    wpd_backend_pause_output(run->backend, false);
    if (run->status != WPD_RUN_RUNNING)
        return;
    if (run->setup_op)
        wpd_op_cancel(run->setup_op);
    for (size_t i = 0; i < run->n_steps; i++) {
        step_run *sr = &run->steps[i];
        if (sr->state == ST_STARTING || sr->state == ST_WAITING) {
            wpd_op_cancel(sr->op);
        } else if (sr->state == ST_RUNNING) {
            /* stop the container: its logs end, then it is destroyed */
            if (sr->tail_op)
                wpd_op_cancel(sr->tail_op);
        }
    }
}

void wpd_run_free(wpd_run *run)
{
    if (!run)
        return;
    wpd_timer_free(run->deadline);
    wpd_backend_free(run->backend);
    for (size_t i = 0; i < run->n_steps; i++) {
        step_run *sr = &run->steps[i];
        wpd_env_free(&sr->env);
        if (sr->lines_ready) {
            wpd_lines_free(&sr->out_lines);
            wpd_lines_free(&sr->err_lines);
        }
        free(sr->error);
    }
    free(run->steps);
    wpd_masker_free(run->masker);
    free(run->stage_error);
    free(run->wf_error);
    free(run);
}
