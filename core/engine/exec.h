/* exec.h - typed exec calls of the Engine API: create a process in a
 * running container, start it with its output demultiplexed, inspect its
 * state and exit code (see api.h for the rules every call follows).
 *
 *   POST /containers/{id}/exec   -> exec id       (wpd_exec_create)
 *   POST /exec/{id}/start        -> output stream (wpd_exec_start)
 *   GET  /exec/{id}/json         -> state         (wpd_exec_inspect)
 *
 * The start call ends when the process has ended (the engine closes the
 * stream); its exit code is then in wpd_exec_inspect. */
#ifndef WPDOCK_ENGINE_EXEC_H
#define WPDOCK_ENGINE_EXEC_H

#include "engine/api.h"
#include "util/arena.h"
#include "util/buf.h"

/* What to run. cmd is the argv (at least one element); env entries are
 * "NAME=value"; user ("uid[:gid]" or a name) and working_dir NULL or ""
 * keep the container's. tty: one raw stream instead of framed
 * stdout/stderr (the start call must be told the same). */
typedef struct wpd_exec_spec {
    const char *const *cmd;
    size_t n_cmd;
    const char *const *env;
    size_t n_env;
    const char *user;
    const char *working_dir;
    bool attach_stdout, attach_stderr;
    bool tty;
    bool privileged;
} wpd_exec_spec;

/* The create body: {"AttachStdin":false,"AttachStdout":..,"AttachStderr":..,
 * "Tty":..,"Cmd":[..][,"Env":[..]][,"User":..][,"WorkingDir":..]
 * [,"Privileged":true]}. Pure, for tests. */
void wpd_exec_create_body(const wpd_exec_spec *spec, wpd_buf *out);
/* The create answer {"Id":".."} -> *id (in a); an answer without an id is
 * a WPD_ERR_PROTOCOL error (an exec has no other name). Pure. */
int wpd_exec_create_parse(const char *body, size_t len, wpd_arena *a, const char **id,
                          wpd_error *err);

/* 404: no such container; a stopped container is refused (Docker 409,
 * Podman 500, see wpd_dialect_exec_not_running). An empty cmd fails with
 * WPD_ERR_INPUT without a request. */
typedef void (*wpd_exec_create_fn)(void *arg, const char *id, const wpd_error *err);
wpd_call *wpd_exec_create(wpd_engine *e, const char *container, const wpd_exec_spec *spec,
                          wpd_exec_create_fn done, void *arg);

/* The start body {"Detach":false,"Tty":<tty>}. Pure, for tests. */
void wpd_exec_start_body(bool tty, wpd_buf *out);
/* Start the exec and stream its output to cbs until the process ends. tty
 * must match the spec it was created with. 404: no such exec. An exec
 * runs once: Podman refuses a second start (500 "exec session state
 * improper"); Docker 20.10 answers 200 and writes "Error: Exec command
 * <id> has already run" to the stdout stream, so done reports no error. */
wpd_call *wpd_exec_start(wpd_engine *e, const char *exec_id, bool tty, const wpd_output_cbs *cbs);

/* ---- inspect */
typedef struct wpd_exec_info {
    const char *id;
    const char *container_id;
    bool running;
    /* false while the engine reports no exit code: Docker's "ExitCode":null
     * before the process ended (Podman reports 0 then) */
    bool has_exit_code;
    int64_t exit_code;
    int64_t pid; /* 0 when unknown (Podman clears it after the end) */
    bool tty;
} wpd_exec_info;
typedef void (*wpd_exec_inspect_fn)(void *arg, const wpd_exec_info *info, const wpd_error *err);
/* 404: no such exec. */
wpd_call *wpd_exec_inspect(wpd_engine *e, const char *exec_id, wpd_exec_inspect_fn done, void *arg);
/* GET /exec/{id}/json body -> info (strings in a). Pure, for tests. */
int wpd_exec_info_parse(const char *body, size_t len, wpd_arena *a, wpd_exec_info *out,
                        wpd_error *err);

#endif
