/* wpdock/runtime.h - running Woodpecker workflows: load a workflow file,
 * run it on a connected engine with the docker backend's semantics, and
 * receive what happens as events. Everything runs on the engine's reactor.
 *
 *   wpd_workflow *wf = wpd_workflow_load("hello.json", &err);
 *   wpd_settings *s = wpd_settings_new(&err);          // from the environment
 *   wpd_run *run = wpd_run_new(engine, s, wf, on_event, ctx);
 *   wpd_run_start(run, on_done, ctx);                  // then run the reactor
 */
#ifndef WPDOCK_RUNTIME_H
#define WPDOCK_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wpdock/engine.h>
#include <wpdock/error.h>
#include <wpdock/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wpd_workflow wpd_workflow;
typedef struct wpd_settings wpd_settings;
typedef struct wpd_run wpd_run;

/* Workflow files (Woodpecker backend Config JSON); "-" reads stdin. A
 * document larger than WPD_WORKFLOW_MAX_BYTES, nested deeper than 128
 * levels or with more than 1 Mi JSON values is refused (load reads no
 * further than the limit, so /dev/zero or a huge file cost no more). */
#define WPD_WORKFLOW_MAX_BYTES ((size_t)32 << 20)
WPD_EXPORT wpd_workflow *wpd_workflow_load(const char *path, wpd_error *err);
WPD_EXPORT wpd_workflow *wpd_workflow_parse(const char *label, const char *json, size_t len,
                                            wpd_error *err);
WPD_EXPORT void wpd_workflow_free(wpd_workflow *wf);
/* Warnings found while parsing (e.g. a step that can never run). */
WPD_EXPORT size_t wpd_workflow_warning_count(const wpd_workflow *wf);
WPD_EXPORT const char *wpd_workflow_warning(const wpd_workflow *wf, size_t i);
WPD_EXPORT const char *wpd_workflow_label(const wpd_workflow *wf);

/* Backend settings (WOODPECKER_BACKEND_DOCKER_* variables). */
WPD_EXPORT wpd_settings *wpd_settings_new(wpd_error *err); /* from the environment */
/* Override one option by its flag name ("volumes", "stop-timeout", ...). */
WPD_EXPORT int wpd_settings_set(wpd_settings *s, const char *option, const char *value,
                                wpd_error *err);
/* Checks between options (e.g. a swap limit needs a memory limit) once all
 * are set; single values are checked by new and set. 0, or -1 with
 * WPD_ERR_USAGE naming the options. */
WPD_EXPORT int wpd_settings_validate(const wpd_settings *s, wpd_error *err);
WPD_EXPORT void wpd_settings_destroy(wpd_settings *s);

typedef enum wpd_event_type {
    WPD_EVENT_WORKFLOW, /* status: started success failure canceled error */
    WPD_EVENT_STEP,     /* status: started success failure skipped canceled error */
    WPD_EVENT_LOG,      /* one log line of a step */
    WPD_EVENT_PULL,     /* image pull progress of a step */
    WPD_EVENT_NOTICE    /* a diagnostic for the user (error holds the text) */
} wpd_event_type;

typedef struct wpd_event {
    wpd_event_type type;
    const char *workflow;  /* workflow label (file name as given) */
    const char *engine;    /* engine name */
    const char *step;      /* step name (step, log, pull, notice events) */
    const char *uuid;      /* step uuid */
    const char *step_type; /* step "type" field, "" when absent */
    const char *image;
    bool detached;
    const char *status; /* workflow/step status, pull status text */
    bool has_exit_code;
    int exit_code;
    bool has_oom;
    bool oom_killed;
    int64_t started;    /* unix seconds, 0 = absent */
    int64_t finished;   /* unix seconds, 0 = absent */
    const char *error;  /* NULL = none */
    const char *stream; /* "stdout" / "stderr" (log events) */
    const char *line;   /* log line without its trailing newline, masked */
    size_t line_len;
    const char *layer;      /* pull events: layer id ("" for the image) */
    int64_t current, total; /* pull events: bytes */
    /* The workflow's id (every event): the wp_workflow label on its network
     * and volume, what `wpdock cleanup --workflow ID` takes after a crash. */
    const char *workflow_id;
} wpd_event;

typedef void (*wpd_event_fn)(const wpd_event *ev, void *arg);

typedef enum wpd_run_status {
    WPD_RUN_PENDING,
    WPD_RUN_RUNNING,
    WPD_RUN_SUCCESS,
    WPD_RUN_FAILURE,
    WPD_RUN_CANCELED,
    WPD_RUN_ERROR
} wpd_run_status;

/* engine must be connected; engine, settings and wf must outlive the run. */
WPD_EXPORT wpd_run *wpd_run_new(wpd_engine *engine, const wpd_settings *settings, wpd_workflow *wf,
                                wpd_event_fn on_event, void *arg);
/* CI_MACHINE of every step (default: this host's name); before start. */
WPD_EXPORT void wpd_run_set_machine(wpd_run *run, const char *machine);
/* One more label on the workflow's volume and network, besides
 * wp_workflow (e.g. who owns the run, for a later sweep); before start. */
WPD_EXPORT void wpd_run_add_label(wpd_run *run, const char *key, const char *value);
typedef void (*wpd_run_done_fn)(wpd_run *run, void *arg);
WPD_EXPORT void wpd_run_start(wpd_run *run, wpd_run_done_fn done, void *arg);
/* Cancel: running steps are stopped and removed, later stages do not run,
 * the workflow's volume and network are removed. hurry: no stop grace.
 * After a cancel, teardown has a deadline: the stop timeout + 10 s, 5 s
 * from a hurried cancel, none after a second hurried one. When it passes
 * the run gives up: its engine calls are abandoned, unfinished steps and
 * the workflow are reported canceled, and a notice lists what may be left
 * on the engine and the `wpdock cleanup --workflow ID` that removes it. */
WPD_EXPORT void wpd_run_cancel(wpd_run *run, bool hurry);
/* Back-pressure for a consumer of log events that falls behind (a slow
 * server): while paused no step's output is read further, so the engine
 * holds it and the steps block on writing it; nothing is lost. At most the
 * chunk being read is still delivered. Resuming (false) reads on. Ignored
 * once the run is canceled (the cancel resumes). */
WPD_EXPORT void wpd_run_pause_output(wpd_run *run, bool pause);
WPD_EXPORT wpd_run_status wpd_run_get_status(const wpd_run *run);
WPD_EXPORT const char *wpd_run_status_name(wpd_run_status s);
WPD_EXPORT const char *wpd_run_error(const wpd_run *run); /* NULL when none */
WPD_EXPORT void wpd_run_free(wpd_run *run);

/* Per-step results after the run, for summaries. */
typedef struct wpd_step_summary {
    const char *name;
    const char *status; /* success failure skipped canceled error (or "running") */
    bool has_exit_code;
    int exit_code;
    double duration; /* seconds, 0 when not run */
    bool detached;
} wpd_step_summary;
WPD_EXPORT size_t wpd_run_step_count(const wpd_run *run);
WPD_EXPORT void wpd_run_step_summary(const wpd_run *run, size_t i, wpd_step_summary *out);

#ifdef __cplusplus
}
#endif
#endif
