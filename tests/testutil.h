/* testutil.h - helpers shared by the Check test programs (testutil*.c). */
#ifndef WPDOCK_TESTUTIL_H
#define WPDOCK_TESTUTIL_H

#include <stddef.h>

/* Run a shell command; capture stdout (and stderr when merge_stderr).
 * Returns the exit status (or 128+signal); *out is malloc'd. */
int tu_run(const char *cmd, int merge_stderr, char **out);
/* Read a whole file; NULL if missing. *len optional. */
char *tu_read_file(const char *path, size_t *len);
/* Count occurrences of needle in hay. */
size_t tu_count(const char *hay, const char *needle);
/* Environment value or a default. */
const char *tu_env(const char *name, const char *def);

/* ------------------------------------------------------------------------
 * The engine under test (integration tests). The same test programs run
 * against Docker, Podman or Docker over TLS:
 *   WPDOCK_TEST_ENGINE_HOST       endpoint (default $WPDOCK_DOCKER_HOST, else
 *                                 unix:///var/run/docker.sock)
 *   WPDOCK_TEST_ENGINE_KIND       docker | podman (default docker)
 *   WPDOCK_TEST_ENGINE_CERT_PATH  ca.pem/cert.pem/key.pem for tcp:// (default
 *                                 $WPDOCK_DOCKER_CERT_PATH when the host is
 *                                 $WPDOCK_DOCKER_TLS_HOST)
 *   WPDOCK_TEST_ENGINE_DIRECT     unix:// endpoint of the same engine, for the
 *                                 tests' own requests when the host is a
 *                                 tunnel (ssh://) they cannot speak
 */
const char *tu_engine_host(void);
const char *tu_engine_kind(void);
int tu_engine_is_podman(void);
const char *tu_engine_cert_path(void); /* NULL when the endpoint needs none */
/* The image steps run in: $WPDOCK_TEST_IMAGE or localhost/wpdock/busybox:latest. */
const char *tu_test_image(void);
/* One request to the engine under test (unversioned path, JSON body or
 * NULL). Returns the HTTP status, or -1 when the engine cannot be reached
 * (*body then holds the transport error). *body is malloc'd when body is
 * not NULL. */
long tu_engine_request(const char *method, const char *path, const char *json_body, char **body);
/* Percent-encode s for a query string value; malloc'd. */
char *tu_url_escape(const char *s);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
long long tu_now_ms(void);
/* The time a ULID encodes (ms since the epoch), or -1 when s does not start
 * with 10 Crockford base32 characters (either case). */
long long tu_ulid_ms(const char *s);
/* A fresh lower-case ULID (for names a test creates). */
void tu_ulid_lower(char out[27]);
/* A new private temp directory (mode 0755) and a file inside it. */
char *tu_mkdtemp(void);
void tu_write_file(const char *path, const char *data, size_t len);
/* Remove a directory tree made by a test. */
void tu_rm_rf(const char *path);

/* ------------------------------------------------------------------------
 * A child process with stdout and stderr captured through pipes. */
typedef struct tu_proc {
    int pid; /* 0 once reaped */
    int out_fd, err_fd;
    int life_fd, guard_pid; /* see guard_run in testutil_proc.c */
    char *out, *err;        /* NUL-terminated captures */
    size_t out_len, out_cap, err_len, err_cap;
    int status; /* exit status, 128+signal, -1 while running */
} tu_proc;

/* Start argv[0] with `env` (NULL-terminated "K=V"; NULL = inherit). Signal
 * dispositions are reset in the child. When the test process ends while
 * the child still runs (a failed assertion, a timeout), a guardian process
 * interrupts the child (SIGINT twice, then SIGKILL) and reads its output
 * until it ends. Returns 0, or -1 when fork failed. */
int tu_proc_start(tu_proc *p, const char *const *argv, const char *const *env);
/* Read whatever arrives within timeout_ms (at least one poll round).
 * Returns 1 when both pipes reached EOF. */
int tu_proc_pump(tu_proc *p, int timeout_ms);
/* Drain the pipes and reap the child. Returns its status, or -1 when it did
 * not end within timeout_ms (it is then killed and reaped). */
int tu_proc_finish(tu_proc *p, int timeout_ms);
void tu_proc_signal(tu_proc *p, int sig);
void tu_proc_free(tu_proc *p);

/* ------------------------------------------------------------------------
 * `wpdock exec --log-format json` runs: workflow files built in C, the JSON
 * event lines parsed and checked against their documented shape, and the
 * check that a run left nothing behind on the engine. */
typedef enum tu_ev_kind { TU_EV_WORKFLOW, TU_EV_STEP, TU_EV_LOG, TU_EV_PULL } tu_ev_kind;

typedef struct tu_event {
    tu_ev_kind kind;
    char *raw; /* the line as printed */
    char *workflow, *status, *error, *step, *uuid, *stream;
    char *workflow_id; /* workflow events: what `wpdock cleanup --workflow` takes */
    char *line;        /* log text, NUL-terminated; line_len bytes */
    size_t line_len;
    int has_exit_code, exit_code;
    int has_oom, oom_killed;
    long long started, finished; /* 0 when absent */
} tu_event;

typedef struct tu_exec {
    tu_proc proc;
    int status; /* exit status of wpdock */
    tu_event *ev;
    size_t n_ev;
    int json;      /* --log-format json: stdout is parsed into events */
    size_t parsed; /* bytes of proc.out already parsed */
    long long t_spawn_ms, t_first_ms, t_end_ms;
    char **names; /* networks/volumes the workflow names explicitly */
    size_t n_names;
} tu_exec;

/* Start `wpdock <args...>` (args NULL-terminated, without the program)
 * against the engine under test; with `--log-format json` its stdout is
 * parsed into events as it arrives: DOCKER_HOST (and DOCKER_CERT_PATH,
 * DOCKER_TLS_VERIFY) set, every other DOCKER_* / WOODPECKER_* variable
 * removed; extra_env adds "K=V" entries (may be NULL). */
void tu_exec_start(tu_exec *x, const char *const *args, const char *const *extra_env);
/* The same with another program (e.g. a shell running wpdock in a pipe). */
void tu_exec_start_prog(tu_exec *x, const char *prog, const char *const *args,
                        const char *const *extra_env);
/* Wait until a log event of `step` has exactly `line` (stdout or stderr);
 * fails the test after timeout_ms. */
void tu_exec_wait_log(tu_exec *x, const char *step, const char *line, int timeout_ms);
/* Wait for the end of wpdock (fails the test after timeout_ms), parse and
 * check every event line. Returns the exit status. */
int tu_exec_finish(tu_exec *x, int timeout_ms);
/* Run `wpdock ARGS` (a shell word list) with the shell assignments of env
 * ("K='v' ..."; may be NULL) and without WOODPECKER_BACKEND_DOCKER_HOST;
 * returns the exit status, *out = stdout, *err = stderr (both malloc'd).
 * A sanitizer report on stderr fails the test. */
int tu_cli(const char *env, const char *args, char **out, char **err);
/* tu_exec_start + tu_exec_finish. */
int tu_exec_run(tu_exec *x, const char *const *args, const char *const *extra_env, int timeout_ms);
/* Remember a network or volume name the workflow names itself. */
void tu_exec_watch_name(tu_exec *x, const char *name);
/* The step's final event (the last one that is not "started"), its
 * "started" event, the workflow's final event; NULL when absent. */
const tu_event *tu_exec_step(const tu_exec *x, const char *step);
const tu_event *tu_exec_step_started(const tu_exec *x, const char *step);
const tu_event *tu_exec_workflow(const tu_exec *x);
/* Number of log events of step on stream ("stdout", "stderr" or NULL for
 * both) whose text equals line (line NULL: all of them). */
size_t tu_exec_count_lines(const tu_exec *x, const char *step, const char *stream,
                           const char *line);
/* The text of the log lines of step on stream, each followed by '\n'. */
char *tu_exec_join_lines(const tu_exec *x, const char *step, const char *stream);
/* Fail the test when the engine still holds a container of this run
 * (label wp_uuid of one of its steps or generated during the run), or a
 * network or volume it created (named explicitly, or `wp_<ULID>...` with a
 * ULID generated while wpdock parsed its input). */
void tu_exec_assert_clean(const tu_exec *x);
void tu_exec_free(tu_exec *x);

/* A workflow document built step by step. Steps default to type
 * "commands", the test image and on_success true; more keys can be added
 * with wpd_jw_* on tu_wf_json() while the step is open. */
enum {
    TU_ON_FAILURE = 1,    /* on_failure: true */
    TU_NO_ON_SUCCESS = 2, /* on_success absent */
    TU_SERVICE = 4,       /* type service, detach true */
};
typedef struct tu_wf tu_wf;
tu_wf *tu_wf_new(void);
void tu_wf_stage(tu_wf *b);
/* Open a step; commands NULL-terminated (NULL: none). */
void tu_wf_step(tu_wf *b, const char *name, unsigned flags, const char *const *commands);
/* "environment" of the open step from "K", "V", ... NULL. */
void tu_wf_env(tu_wf *b, const char *const *kv);
/* The underlying JSON writer, positioned inside the open step (or at the
 * top level after tu_wf_end_pipeline). */
struct wpd_jsonw *tu_wf_json(tu_wf *b);
/* Close the pipeline; top-level keys may follow. */
void tu_wf_end_pipeline(tu_wf *b);
/* Close the document, write it to a new temp file; returns its path
 * (malloc'd) and frees b. */
char *tu_wf_save(tu_wf *b);

#endif
