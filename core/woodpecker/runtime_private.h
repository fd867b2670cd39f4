/* runtime_private.h - the workflow runner's state, shared by runtime.c
 * (stages and steps) and runtime_events.c (events and summaries). */
#ifndef WPDOCK_WOODPECKER_RUNTIME_PRIVATE_H
#define WPDOCK_WOODPECKER_RUNTIME_PRIVATE_H

#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <wpdock/runtime.h>

#include "woodpecker/backend.h"
#include "woodpecker/lines.h"
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

extern const char *const wpd_outcome_names[];

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
    bool output_lost; /* the splitter ran out of memory (noticed once) */
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
    /* teardown's time limit after a cancel (runtime.c: teardown deadline) */
    wpd_timer *deadline;
    long long canceled_at, deadline_at; /* CLOCK_MONOTONIC ms, 0 = none */
    bool gave_up;
    wpd_run_status status;
    int64_t started;
    char machine[256];
    char platform[sizeof(((struct utsname *)0)->sysname) + sizeof(((struct utsname *)0)->machine) +
                  2];
};

static inline int64_t now_unix(void)
{
    return (int64_t)time(NULL);
}

static inline void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? wpd_xstrdup(src) : NULL;
}

/* runtime_events.c: what the runner reports */
void emit_step(wpd_run *run, step_run *sr, const char *status);
void emit_notice(wpd_run *run, step_run *sr, const char *msg);
void emit_workflow(wpd_run *run, const char *status, const char *error);
/* output and pull callbacks of a step (arg: the step_run) */
void on_stdout_line(void *arg, const char *line, size_t len);
void on_stderr_line(void *arg, const char *line, size_t len);
void on_output(void *arg, int stream, const char *data, size_t len);
void on_pull(void *arg, const wpd_pull_progress *p);
/* the backend's notices (arg: the run) */
void on_backend_notice(void *arg, const wpd_step *step, const char *message);

#endif
