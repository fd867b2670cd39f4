/* runtime.c - the workflow runner (spec section 5): stages in order, the
 * steps of a stage concurrently, skip rules, CI_* variables, detached
 * steps, failure: ignore, logs split into masked lines, cancellation, and
 * DestroyWorkflow exactly once at the end. Reports events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <wpdock/runtime.h>

#include "woodpecker/backend.h"
#include "woodpecker/config.h"
#include "engine/engine.h"
#include "woodpecker/lines.h"
#include "woodpecker/settings.h"
#include "woodpecker/stepenv.h"

typedef enum step_state {
    ST_PENDING,
    ST_STARTING,
    ST_RUNNING, /* container started, logs streaming */
    ST_WAITING, /* logs drained, waiting for the exit code */
    ST_DESTROYING,
    ST_DONE
} step_state;

typedef enum step_outcome {
    OUT_NONE,
    OUT_SUCCESS,
    OUT_FAILURE,
    OUT_SKIPPED,
    OUT_CANCELED,
    OUT_ERROR
} step_outcome;

static const char *const outcome_names[] = {"running", "success",  "failure",
                                            "skipped", "canceled", "error"};

typedef struct step_run {
    wpd_run *run;
    const wpd_step *step;
    size_t stage;
    step_state state;
    step_outcome outcome;
    bool detached;
    wpd_op *op; /* the one backend operation in flight for this step */
    wpd_op *tail_op;
    bool tail_done;
    bool stop_requested;
    wpd_envlist env;
    wpd_lines out_lines, err_lines;
    bool lines_ready;
    int64_t started, finished;
    struct timespec t_start, t_end;
    bool has_exit;
    wpd_step_result result;
    char *error;
} step_run;

struct wpd_run {
    wpd_engine *engine;
    const wpd_settings *settings;
    wpd_workflow *wf;
    wpd_backend *backend;
    wpd_event_fn on_event;
    void *event_arg;
    wpd_run_done_fn done;
    void *done_arg;
    wpd_masker *masker;
    step_run *steps; /* all steps, stage by stage */
    size_t n_steps;
    size_t stage;         /* current stage */
    size_t stage_pending; /* blocking steps of the stage not finished yet */
    size_t detached_active;
    bool stage_failed; /* a step of the current stage failed */
    char *stage_error;
    bool wf_failed;
    char *wf_error;
    bool canceled;
    bool hurry;
    bool setup_failed;
    bool finishing;
    bool destroying;
    wpd_op *setup_op;
    wpd_run_status status;
    int64_t started;
    char machine[256];
    char platform[sizeof(((struct utsname *)0)->sysname) + sizeof(((struct utsname *)0)->machine) +
                  2];
};

static int64_t now_unix(void)
{
    return (int64_t)time(NULL);
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? wpd_xstrdup(src) : NULL;
}

/* --------------------------------------------------------------- events */

static void event_base(const wpd_run *run, const step_run *sr, wpd_event *ev, wpd_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->workflow = run->wf->label;
    ev->engine = wpd_engine_get_info(run->engine)->name;
    if (sr) {
        ev->step = sr->step->name;
        ev->uuid = sr->step->uuid;
        ev->step_type = sr->step->type;
        ev->image = sr->step->image;
        ev->detached = sr->detached;
    }
}

static void emit_step(wpd_run *run, step_run *sr, const char *status)
{
    wpd_event ev;
    event_base(run, sr, &ev, WPD_EVENT_STEP);
    ev.status = status;
    ev.started = sr->started;
    ev.finished = sr->finished;
    ev.has_exit_code = sr->has_exit;
    ev.exit_code = sr->result.exit_code;
    ev.has_oom = sr->has_exit;
    ev.oom_killed = sr->result.oom_killed;
    ev.error = sr->error;
    run->on_event(&ev, run->event_arg);
}

static void emit_notice(wpd_run *run, step_run *sr, const char *msg)
{
    wpd_event ev;
    event_base(run, sr, &ev, WPD_EVENT_NOTICE);
    ev.error = msg;
    run->on_event(&ev, run->event_arg);
}

static void emit_workflow(wpd_run *run, const char *status, const char *error)
{
    wpd_event ev;
    event_base(run, NULL, &ev, WPD_EVENT_WORKFLOW);
    ev.status = status;
    ev.error = error;
    ev.started = run->started;
    if (strcmp(status, "started") != 0)
        ev.finished = now_unix();
    run->on_event(&ev, run->event_arg);
}

static void on_line(step_run *sr, const char *stream, const char *line, size_t len)
{
    wpd_event ev;
    event_base(sr->run, sr, &ev, WPD_EVENT_LOG);
    ev.stream = stream;
    ev.line = line;
    ev.line_len = len;
    sr->run->on_event(&ev, sr->run->event_arg);
}

static void on_stdout_line(void *arg, const char *line, size_t len)
{
    on_line(arg, "stdout", line, len);
}

static void on_stderr_line(void *arg, const char *line, size_t len)
{
    on_line(arg, "stderr", line, len);
}

static void on_output(void *arg, int stream, const char *data, size_t len)
{
    step_run *sr = arg;
    wpd_lines_feed(stream == 2 ? &sr->err_lines : &sr->out_lines, data, len);
}

static void on_pull(void *arg, const wpd_pull_progress *p)
{
    step_run *sr = arg;
    wpd_event ev;
    event_base(sr->run, sr, &ev, WPD_EVENT_PULL);
    ev.layer = p->id;
    ev.status = p->status;
    ev.current = p->current;
    ev.total = p->total;
    sr->run->on_event(&ev, sr->run->event_arg);
}

static void on_backend_notice(void *arg, const wpd_step *step, const char *message)
{
    wpd_run *run = arg;
    step_run *sr = NULL;
    for (size_t i = 0; step && i < run->n_steps; i++)
        if (run->steps[i].step == step)
            sr = &run->steps[i];
    emit_notice(run, sr, message);
}

/* ---------------------------------------------------------- environment */

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
    emit_step(run, sr, outcome_names[sr->outcome]);
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
        emit_step(run, sr, outcome_names[sr->outcome]);
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
    wpd_step_env_ctx ctx = {run->machine, run->platform, run->wf_failed, run->started,
                            sr->started};
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
    emit_step(run, sr, outcome_names[sr->outcome]);
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

static void workflow_destroyed(void *arg, const wpd_error *err)
{
    wpd_run *run = arg;
    if (err && (err->kind == WPD_ERR_CONNECT || err->kind == WPD_ERR_TIMEOUT)) {
        char *msg = wpd_xasprintf("%s; the workflow's containers, volume and network may still "
                                  "be on the engine: run `wpdock cleanup --workflow %s` once it "
                                  "is back",
                                  err->message, run->wf->id);
        emit_notice(run, NULL, msg);
        free(msg);
    } else if (err) {
        emit_notice(run, NULL, err->message);
    }
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

void wpd_run_start(wpd_run *run, wpd_run_done_fn done, void *arg)
{
    run->done = done;
    run->done_arg = arg;
    run->status = WPD_RUN_RUNNING;
    run->started = now_unix();
    emit_workflow(run, "started", NULL);
    run->setup_op = wpd_backend_setup_workflow(run->backend, run->wf, setup_done, run);
}

void wpd_run_cancel(wpd_run *run, bool hurry)
{
    if (hurry && !run->hurry) {
        run->hurry = true;
        wpd_backend_hurry(run->backend);
    }
    if (run->canceled)
        return;
    run->canceled = true;
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

wpd_run_status wpd_run_get_status(const wpd_run *run)
{
    return run->status;
}

const char *wpd_run_status_name(wpd_run_status s)
{
    static const char *const names[] = {"pending", "running",  "success",
                                        "failure", "canceled", "error"};
    return (unsigned)s < 6 ? names[s] : "unknown";
}

const char *wpd_run_error(const wpd_run *run)
{
    if (run->status == WPD_RUN_CANCELED)
        return "Canceled";
    return run->wf_error;
}

void wpd_run_free(wpd_run *run)
{
    if (!run)
        return;
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

size_t wpd_run_step_count(const wpd_run *run)
{
    return run->n_steps;
}

void wpd_run_step_summary(const wpd_run *run, size_t i, wpd_step_summary *out)
{
    memset(out, 0, sizeof *out);
    if (i >= run->n_steps)
        return;
    const step_run *sr = &run->steps[i];
    out->name = sr->step->name;
    out->status = outcome_names[sr->outcome];
    out->has_exit_code = sr->has_exit;
    out->exit_code = sr->result.exit_code;
    out->detached = sr->detached;
    if (sr->state == ST_DONE && sr->t_start.tv_sec)
        out->duration = (double)(sr->t_end.tv_sec - sr->t_start.tv_sec) +
                        (double)(sr->t_end.tv_nsec - sr->t_start.tv_nsec) / 1e9;
}
