/* wpdock/harness.h - real containers for C and C++ test suites: start one,
 * wait until it is ready, talk to it, tear it down, and leak nothing even
 * when the test process is SIGKILLed.
 *
 * Blocking by default, async underneath: every blocking call runs the
 * session's reactor until its one operation completes; the _async forms
 * run on the session's reactor and call back exactly once (also on cancel
 * and on session close), never from inside the call that started them.
 * No threads. Errors are wpd_error values (wpdock/error.h).
 *
 * Everything the harness creates carries the labels io.wpdock.session=<id>,
 * io.wpdock.owner=<boot id>/<pid>/<process start time>, io.wpdock.host and
 * io.wpdock.expires=<unix seconds>. Three layers remove it: explicit
 * teardown, a watchdog process forked at session open (it leaves the
 * process group, so Check's killpg() does not take it, and removes the
 * session's resources when the test process dies), and a sweep at the next
 * session open of what a dead or expired owner left (`wpdock cleanup
 * --harness` runs the same sweep by hand).
 *
 * Environment: WOODPECKER_BACKEND_DOCKER_HOST, DOCKER_HOST, CONTAINER_HOST
 * (endpoint selection when endpoint is NULL), WPDOCK_HARNESS_LEASE (seconds
 * until io.wpdock.expires, default 7200), WPDOCK_HARNESS_NO_WATCHDOG=1 (no
 * watchdog process; teardown and the sweep remain). */
#ifndef WPDOCK_HARNESS_H
#define WPDOCK_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/cleanup.h>
#include <wpdock/engine.h>
#include <wpdock/error.h>
#include <wpdock/export.h>
#include <wpdock/reactor.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wpd_session wpd_session;
typedef struct wpd_spec wpd_spec; /* what to run; owned by the caller, reusable */
typedef struct wpd_wait wpd_wait; /* a wait strategy; owned by the spec once attached */
typedef struct wpd_ctr wpd_ctr;   /* a running container; owned by the session */
typedef struct wpd_net wpd_net;   /* a network; owned by the session */
typedef struct wpd_hop wpd_hop;   /* an operation in flight */

/* ---- session ------------------------------------------------------------
 * endpoint NULL: WOODPECKER_BACKEND_DOCKER_HOST, DOCKER_HOST, CONTAINER_HOST,
 * then the default socket. Starts the watchdog, connects, sweeps (the sweep
 * has finished when this returns). */
WPD_EXPORT wpd_session *wpd_session_open(const char *endpoint, wpd_error *err);
/* The same on a reactor the caller owns and runs (wpd_reactor_run /
 * wpd_reactor_run_until); the async forms then run on it. Blocking calls
 * still work (they run it), except from inside a callback of that reactor
 * (WPD_ERR_USAGE). The reactor must outlive the session. */
WPD_EXPORT wpd_session *wpd_session_open_on(wpd_reactor *r, const char *endpoint, wpd_error *err);
/* Cancels operations in flight (their callbacks run with WPD_ERR_CANCELED),
 * removes every container, network and volume still open, disarms the
 * watchdog, frees. NULL-safe (returns 0). Returns -1 when something could
 * not be removed (the sweep gets it later). From a forked child: -1 with
 * WPD_ERR_USAGE, nothing on the engine touched and nothing freed (the
 * parent's event loop state is shared with the child). */
WPD_EXPORT int wpd_session_close(wpd_session *s, wpd_error *err);
WPD_EXPORT const char *wpd_session_id(const wpd_session *s);
WPD_EXPORT wpd_reactor *wpd_session_reactor(wpd_session *s);
/* The connected engine (for wpd_engine_get_info). */
WPD_EXPORT wpd_engine *wpd_session_engine(wpd_session *s);

/* ---- spec ---------------------------------------------------------------
 * Setters return 0 or -1; the first error is sticky and reported by
 * wpd_ctr_run (WPD_ERR_INPUT, naming the setter and the value), so a fixture
 * can call a chain of setters and check once. Strings and data are copied. */
WPD_EXPORT wpd_spec *wpd_spec_new(const char *image);
WPD_EXPORT void wpd_spec_free(wpd_spec *sp);
WPD_EXPORT int wpd_spec_cmd(wpd_spec *sp, const char *const *argv); /* NULL-terminated */
WPD_EXPORT int wpd_spec_shell(wpd_spec *sp, const char *script);    /* cmd /bin/sh -c script */
WPD_EXPORT int wpd_spec_entrypoint(wpd_spec *sp, const char *const *argv);
WPD_EXPORT int wpd_spec_env(wpd_spec *sp, const char *name, const char *value);
/* io.wpdock.* keys are refused (the harness's own). */
WPD_EXPORT int wpd_spec_label(wpd_spec *sp, const char *key, const char *value);
/* "8080", "8080/tcp", "53/udp": published on a random host port on 127.0.0.1. */
WPD_EXPORT int wpd_spec_expose(wpd_spec *sp, const char *port);
/* Published on a fixed host port (host_ip NULL = "127.0.0.1"). */
WPD_EXPORT int wpd_spec_publish(wpd_spec *sp, const char *port, const char *host_ip, int host_port);
/* Copied in before start; missing parent directories are created (0755),
 * existing ones are left as they are. */
WPD_EXPORT int wpd_spec_file(wpd_spec *sp, const char *ctr_path, const void *data, size_t len,
                             unsigned mode);
/* The same with the contents of a host file (read when called). */
WPD_EXPORT int wpd_spec_file_from(wpd_spec *sp, const char *ctr_path, const char *host_path,
                                  unsigned mode);
/* Join a network (a wpd_net_name or any existing one) with aliases
 * (NULL-terminated, may be NULL). */
WPD_EXPORT int wpd_spec_network(wpd_spec *sp, const char *network, const char *const *aliases);
WPD_EXPORT int wpd_spec_user(wpd_spec *sp, const char *user);
WPD_EXPORT int wpd_spec_workdir(wpd_spec *sp, const char *dir);
WPD_EXPORT int wpd_spec_tmpfs(wpd_spec *sp, const char *path, const char *opts);
/* A bind mount of an absolute host path. */
WPD_EXPORT int wpd_spec_bind(wpd_spec *sp, const char *host_path, const char *ctr_path, bool ro);
/* A named volume, created (labelled) by the run unless it exists, removed
 * with the session. */
WPD_EXPORT int wpd_spec_volume(wpd_spec *sp, const char *name, const char *ctr_path);
/* A health check (the image's HEALTHCHECK otherwise): test is the argv run
 * in the container (CMD form), every interval_ms, unhealthy after retries. */
WPD_EXPORT int wpd_spec_healthcheck(wpd_spec *sp, const char *const *test, long interval_ms,
                                    int retries);
/* Takes ownership of w, also on error (NULL: a sticky out-of-memory error).
 * Several waits attached to one spec must all hold (as wpd_wait_all). */
WPD_EXPORT int wpd_spec_wait(wpd_spec *sp, wpd_wait *w);
/* A memory limit (at least 6 MiB), without swap on top. */
WPD_EXPORT int wpd_spec_memory(wpd_spec *sp, long long bytes);
/* create .. ready, default 60000 ms. */
WPD_EXPORT int wpd_spec_timeout(wpd_spec *sp, long ms);
/* Every log line of the container, from its start until it is terminated,
 * delivered from the reactor (while a blocking call or the caller runs it):
 * stream 1 stdout, 2 stderr; line without its '\n'. */
typedef void (*wpd_line_fn)(void *arg, int stream, const char *line, size_t len);
WPD_EXPORT int wpd_spec_on_line(wpd_spec *sp, wpd_line_fn fn, void *arg);

/* ---- wait strategies ----------------------------------------------------
 * Constructors return NULL only when out of memory (wpd_spec_wait then
 * records that); modifiers pass NULL through. Every wait is bounded by the
 * spec's timeout (WPD_ERR_TIMEOUT), and a container that exits or is
 * OOM-killed while it runs fails the start at once with its exit code and
 * last log lines (unless the wait is for the exit). */
#define WPD_ANY_EXIT (-1)
/* A log line containing substring, times times (stdout or stderr). */
WPD_EXPORT wpd_wait *wpd_wait_log(const char *substring, int times);
/* A line matching a POSIX extended regular expression, times times. */
WPD_EXPORT wpd_wait *wpd_wait_log_regex(const char *posix_ere, int times);
/* Mapped, listening inside the container (/proc/net/tcp*), host connect. */
WPD_EXPORT wpd_wait *wpd_wait_port(const char *port);
/* GET http://host:mapped/path answers 200-399 (see the modifiers below). */
WPD_EXPORT wpd_wait *wpd_wait_http(const char *port, const char *path);
WPD_EXPORT wpd_wait *wpd_wait_http_status(wpd_wait *w, int lo, int hi);
WPD_EXPORT wpd_wait *wpd_wait_http_body(wpd_wait *w, const char *substring);
/* argv polled until it exits with exit_code. */
WPD_EXPORT wpd_wait *wpd_wait_exec(const char *const *argv, int exit_code);
/* The container exits with exit_code (WPD_ANY_EXIT: any). */
WPD_EXPORT wpd_wait *wpd_wait_exit(int exit_code);
/* The health check reports healthy; fails at once when there is none. */
WPD_EXPORT wpd_wait *wpd_wait_health(void);
/* NULL-terminated lists, run concurrently: all must hold / the first
 * success wins (fails only when every member failed). */
WPD_EXPORT wpd_wait *wpd_wait_all(wpd_wait *first, ...);
WPD_EXPORT wpd_wait *wpd_wait_any(wpd_wait *first, ...);
/* Poll interval of a log-less strategy (default 100 ms). */
WPD_EXPORT wpd_wait *wpd_wait_interval(wpd_wait *w, long ms);
/* A wait not attached to a spec (NULL-safe). */
WPD_EXPORT void wpd_wait_free(wpd_wait *w);

/* ---- containers ---------------------------------------------------------
 * pull if missing -> create (labelled) -> copy files -> start -> wait. On
 * failure NULL, err says why (image, short id, strategy, time spent, exit
 * code / OOM, last log lines), and the container is already removed. */
WPD_EXPORT wpd_ctr *wpd_ctr_run(wpd_session *s, const wpd_spec *sp, wpd_error *err);
/* cb runs exactly once: c NULL and err set on failure; err NULL on success. */
typedef void (*wpd_ctr_fn)(wpd_ctr *c, const wpd_error *err, void *arg);
/* The spec is copied: it may be changed or freed once this returns. NULL
 * (and no callback) only when s or cb is NULL or s is used from a forked
 * child; every _async function below returns NULL in the same cases. */
WPD_EXPORT wpd_hop *wpd_ctr_run_async(wpd_session *s, const wpd_spec *sp, wpd_ctr_fn cb, void *arg);
/* cb still runs once, later, with WPD_ERR_CANCELED (whatever the operation
 * created is removed first); a hop whose callback ran is invalid. */
WPD_EXPORT void wpd_hop_cancel(wpd_hop *op);

WPD_EXPORT const char *wpd_ctr_id(const wpd_ctr *c);
WPD_EXPORT const char *wpd_ctr_host(const wpd_ctr *c); /* IP literal, e.g. "127.0.0.1" */
/* mapped host port of "8080" / "8080/tcp" / "53/udp", -1 if none */
WPD_EXPORT int wpd_ctr_port(const wpd_ctr *c, const char *ctr_port);
WPD_EXPORT wpd_session *wpd_ctr_session(const wpd_ctr *c);

typedef struct wpd_exec_result {
    int exit_code;
    char *out;
    size_t out_len; /* stdout, NUL-terminated too */
    char *err;
    size_t err_len; /* stderr, NUL-terminated too */
} wpd_exec_result;
/* 0 whenever the command ran, whatever its exit code; -1 when it could not. */
WPD_EXPORT int wpd_ctr_exec(wpd_ctr *c, const char *const *argv, wpd_exec_result *r,
                            wpd_error *err);
/* r is valid during the callback only (NULL on error). */
typedef void (*wpd_exec_fn)(wpd_ctr *c, const wpd_exec_result *r, const wpd_error *err, void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_exec_async(wpd_ctr *c, const char *const *argv, wpd_exec_fn cb,
                                       void *arg);
WPD_EXPORT void wpd_exec_result_clear(wpd_exec_result *r);

/* stdout+stderr so far (each stream in order; their interleaving is the
 * engine's); *buf malloc'd, NUL-terminated. */
WPD_EXPORT int wpd_ctr_logs(wpd_ctr *c, char **buf, size_t *len, wpd_error *err);
WPD_EXPORT int wpd_ctr_copy_in(wpd_ctr *c, const char *ctr_path, const void *data, size_t len,
                               unsigned mode, wpd_error *err);
/* A regular file's contents; *data malloc'd (NUL-terminated too). */
WPD_EXPORT int wpd_ctr_copy_out(wpd_ctr *c, const char *ctr_path, char **data, size_t *len,
                                wpd_error *err);
/* SIGTERM, grace (rounded up to whole seconds), SIGKILL. */
WPD_EXPORT int wpd_ctr_stop(wpd_ctr *c, long grace_ms, wpd_error *err);
/* The async forms: data (logs, copy out) is valid during the callback
 * only, NUL-terminated too; NULL with err set on failure. */
typedef void (*wpd_data_fn)(wpd_ctr *c, const char *data, size_t len, const wpd_error *err,
                            void *arg);
typedef void (*wpd_harness_done_fn)(const wpd_error *err, void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_logs_async(wpd_ctr *c, wpd_data_fn cb, void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_copy_in_async(wpd_ctr *c, const char *ctr_path, const void *data,
                                          size_t len, unsigned mode, wpd_harness_done_fn cb,
                                          void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_copy_out_async(wpd_ctr *c, const char *ctr_path, wpd_data_fn cb,
                                           void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_stop_async(wpd_ctr *c, long grace_ms, wpd_harness_done_fn cb,
                                       void *arg);
/* After it stopped; still running: -1 with WPD_ERR_USAGE. */
WPD_EXPORT int wpd_ctr_exit_code(wpd_ctr *c, int *exit_code, wpd_error *err);
typedef void (*wpd_exit_fn)(wpd_ctr *c, int exit_code, const wpd_error *err, void *arg);
WPD_EXPORT wpd_hop *wpd_ctr_exit_code_async(wpd_ctr *c, wpd_exit_fn cb, void *arg);
/* Forced remove with volumes; NULL-safe; the pointer is invalid afterwards
 * (also when -1 is returned: the session's close and the sweep retry). */
WPD_EXPORT int wpd_ctr_terminate(wpd_ctr *c, wpd_error *err);
WPD_EXPORT wpd_hop *wpd_ctr_terminate_async(wpd_ctr *c, wpd_harness_done_fn cb, void *arg);

/* ---- networks (labelled like containers) -------------------------------
 * name NULL: generated. */
WPD_EXPORT wpd_net *wpd_net_create(wpd_session *s, const char *name, wpd_error *err);
WPD_EXPORT const char *wpd_net_name(const wpd_net *n);
WPD_EXPORT int wpd_net_remove(wpd_net *n, wpd_error *err);
typedef void (*wpd_net_fn)(wpd_net *n, const wpd_error *err, void *arg);
WPD_EXPORT wpd_hop *wpd_net_create_async(wpd_session *s, const char *name, wpd_net_fn cb,
                                         void *arg);
/* The network is freed before cb runs, also when the removal failed. */
WPD_EXPORT wpd_hop *wpd_net_remove_async(wpd_net *n, wpd_harness_done_fn cb, void *arg);

/* ---- the sweep by hand (`wpdock cleanup --harness [--session ID]`) ------
 * On a connected engine: session_id NULL removes what carries
 * io.wpdock.session and belongs to a dead owner (a process of this host and
 * boot that is gone or was replaced, another boot of this host) or, when
 * the owner cannot be asked (another host), whose io.wpdock.expires passed
 * - never a live owner's; with session_id, all of
 * that session's containers (forcibly, with volumes), volumes and networks.
 * dry_run only lists. fn (may be NULL) is called for each. Runs the
 * engine's reactor until done. Returns 0, or -1 when listing failed. */
WPD_EXPORT int wpd_harness_sweep(wpd_engine *e, const char *session_id, bool dry_run,
                                 wpd_leftover_fn fn, void *arg, size_t *found, wpd_error *err);

#ifdef __cplusplus
}
#endif
#endif
