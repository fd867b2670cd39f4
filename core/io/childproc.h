/* childproc.h - a short-lived child process driven by the reactor: its
 * stdin is fed from memory and then closed, stdout and stderr are
 * collected (capped), the child is reaped without blocking, and a timeout
 * kills it. Used to run docker credential helpers without stopping the
 * loop (other steps keep running while a helper works).
 *
 * The child runs in its own process group; a timeout or a cancel sends
 * SIGKILL to that group, so grandchildren holding the pipes open die too.
 * Every descriptor is opened with O_CLOEXEC, and every child is reaped. */
#ifndef WPDOCK_CHILDPROC_H
#define WPDOCK_CHILDPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <wpdock/error.h>
#include <wpdock/reactor.h>

typedef struct wpd_child wpd_child;

/* What the child did. Valid only during the done callback. */
typedef struct wpd_child_result {
    bool exited;     /* ended with exit(): exit_code is valid */
    int exit_code;   /* -1 unless exited */
    int term_signal; /* the signal that ended it, 0 unless killed */
    const char *out; /* stdout bytes, NUL-terminated (never NULL) */
    size_t out_len;
    bool out_truncated; /* more than max_output bytes arrived; the rest was dropped */
    const char *err;    /* stderr bytes, NUL-terminated (never NULL) */
    size_t err_len;
    bool err_truncated;
} wpd_child_result;

/* Called exactly once, from the loop (never from inside wpd_child_start
 * or wpd_child_cancel). err == NULL: the child ran and ended (any exit
 * status; res filled). err != NULL: it could not be started (WPD_ERR_IO,
 * res NULL), ran out of time (WPD_ERR_TIMEOUT, "timed out after N s"),
 * or was cancelled (WPD_ERR_CANCELED); in the last two cases res holds
 * what it wrote before it was killed. The wpd_child is freed right after
 * this returns. */
typedef void (*wpd_child_done_fn)(void *arg, const wpd_child_result *res, const wpd_error *err);

typedef struct wpd_child_spec {
    const char *path;        /* the program file; no PATH search */
    const char *const *argv; /* argv[0]..., NULL-terminated; NULL = {path, NULL} */
    const char *const *envp; /* NULL = this process's environment */
    const void *input;       /* written to the child's stdin, which is then closed */
    size_t input_len;
    long timeout_ms;        /* 0 = no limit */
    size_t max_output;      /* per stream; 0 = WPD_CHILD_MAX_OUTPUT */
    wpd_child_done_fn done; /* required */
    void *arg;
} wpd_child_spec;

#define WPD_CHILD_MAX_OUTPUT (64 * 1024)

/* Start the child. Never returns NULL; a failure to start is reported
 * through done. path and input are copied (argv and envp are used only
 * during the call). The handle is valid until done has returned. */
wpd_child *wpd_child_start(wpd_reactor *r, const wpd_child_spec *spec);
/* Kill the child (if it still runs); done follows once with
 * WPD_ERR_CANCELED unless the child had already ended. A no-op from
 * inside done. */
void wpd_child_cancel(wpd_child *c);
/* Kill and reap the child at once and free the handle, without calling
 * done (for owners that are being freed). */
void wpd_child_abort(wpd_child *c);
/* The child's process id (0 when it never started). */
pid_t wpd_child_pid(const wpd_child *c);

#endif
