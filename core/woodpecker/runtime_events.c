/* runtime_events.c - what the workflow runner reports: step, log, pull,
 * notice and workflow events, and the summaries of a finished run. */
#include <string.h>

#include "engine/engine.h"
#include "woodpecker/runtime_private.h"

const char *const wpd_outcome_names[] = {"running", "success",  "failure",
                                         "skipped", "canceled", "error"};

static void event_base(const wpd_run *run, const step_run *sr, wpd_event *ev, wpd_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->workflow = run->wf->label;
    ev->workflow_id = run->wf->id;
    ev->engine = wpd_engine_get_info(run->engine)->name;
    if (sr) {
        ev->step = sr->step->name;
        ev->uuid = sr->step->uuid;
        ev->step_type = sr->step->type;
        ev->image = sr->step->image;
        ev->detached = sr->detached;
    }
}

void emit_step(wpd_run *run, step_run *sr, const char *status)
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

void emit_notice(wpd_run *run, step_run *sr, const char *msg)
{
    wpd_event ev;
    event_base(run, sr, &ev, WPD_EVENT_NOTICE);
    ev.error = msg;
    run->on_event(&ev, run->event_arg);
}

void emit_workflow(wpd_run *run, const char *status, const char *error)
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

void on_stdout_line(void *arg, const char *line, size_t len)
{
    on_line(arg, "stdout", line, len);
}

void on_stderr_line(void *arg, const char *line, size_t len)
{
    on_line(arg, "stderr", line, len);
}

void on_output(void *arg, int stream, const char *data, size_t len)
{
    step_run *sr = arg;
    if (wpd_lines_feed(stream == 2 ? &sr->err_lines : &sr->out_lines, data, len) != 0 &&
        !sr->output_lost) {
        sr->output_lost = true; /* said once per step */
        emit_notice(sr->run, sr, "out of memory: some of this step's output was dropped");
    }
}

void on_pull(void *arg, const wpd_pull_progress *p)
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

void on_backend_notice(void *arg, const wpd_step *step, const char *message)
{
    wpd_run *run = arg;
    step_run *sr = NULL;
    for (size_t i = 0; step && i < run->n_steps; i++)
        if (run->steps[i].step == step)
            sr = &run->steps[i];
    emit_notice(run, sr, message);
}

/* ---------------------------------------------------------- environment */

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
    out->status = wpd_outcome_names[sr->outcome];
    out->has_exit_code = sr->has_exit;
    out->exit_code = sr->result.exit_code;
    out->detached = sr->detached;
    if (sr->state == ST_DONE && sr->t_start.tv_sec)
        out->duration = (double)(sr->t_end.tv_sec - sr->t_start.tv_sec) +
                        (double)(sr->t_end.tv_nsec - sr->t_start.tv_nsec) / 1e9;
}
