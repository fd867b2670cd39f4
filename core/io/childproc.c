/* childproc.c - a child process with its stdin, stdout and stderr driven
 * by libevent events on the reactor's event_base: spawn (posix_spawn, own
 * process group, default signal dispositions), feed stdin, collect output,
 * reap with waitpid(WNOHANG) once both output pipes are at EOF, kill the
 * process group on timeout or cancel. The result is delivered from a
 * zero-delay timer so the callback never runs inside a call of ours.
 *
 * stdin is one end of a socketpair rather than a pipe: send() with
 * MSG_NOSIGNAL then reports a child that stopped reading as EPIPE instead
 * of raising SIGPIPE in this process. */
#define _GNU_SOURCE
#include "io/childproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "io/reactor.h"

extern char **environ;

typedef struct child_stream {
    wpd_child *c;
    int fd; /* -1 once closed */
    struct event *ev;
    wpd_buf buf;
    bool truncated;
} child_stream;

struct wpd_child {
    wpd_reactor *r;
    char *path;
    pid_t pid;
    bool reaped;
    int wstatus;

    int in_fd;
    struct event *in_ev;
    char *input;
    size_t input_len, input_off;

    child_stream out, err;
    size_t max_output;

    long timeout_ms;
    wpd_timer *timeout_timer;
    wpd_timer *reap_timer;
    long reap_delay_ms;
    wpd_timer *deliver_timer;

    bool ended;      /* result fixed; delivery pending */
    bool in_done;    /* inside the done callback */
    bool started_ok; /* the child was spawned */
    bool failed;
    wpd_error error;

    wpd_child_done_fn done;
    void *arg;
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void stream_close(child_stream *s)
{
    if (s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    close_fd(&s->fd);
}

static void stdin_close(wpd_child *c)
{
    if (c->in_ev) {
        event_free(c->in_ev);
        c->in_ev = NULL;
    }
    close_fd(&c->in_fd);
}

static void close_all(wpd_child *c)
{
    stdin_close(c);
    stream_close(&c->out);
    stream_close(&c->err);
}

/* Kill the whole process group (the child leads it). Only while the child
 * is not reaped: until then its pid, and so the group id, cannot be reused. */
static void kill_group(wpd_child *c)
{
    if (c->pid > 0 && !c->reaped) {
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);
    }
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Move fd above the standard descriptors (keeping O_CLOEXEC) so that the
 * dup2 onto 0/1/2 in the child is never a no-op that keeps close-on-exec. */
static int above_std(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return nfd;
}

static void deliver(void *arg);

/* The result is fixed: stop everything and deliver from the loop. */
static void end(wpd_child *c)
{
    if (c->ended)
        return;
    c->ended = true;
    close_all(c);
    wpd_timer_stop(c->timeout_timer);
    wpd_timer_stop(c->reap_timer);
    wpd_timer_start(c->deliver_timer, 0);
}

static void try_reap(wpd_child *c)
{
    for (;;) {
        int st = 0;
        pid_t rc = waitpid(c->pid, &st, WNOHANG);
        if (rc == c->pid) {
            c->reaped = true;
            c->wstatus = st;
            end(c);
            return;
        }
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            /* somebody else reaped it (SIGCHLD ignored?) */
            int e = errno;
            c->reaped = true;
            c->wstatus = -1;
            if (!c->failed) {
                c->failed = true;
                wpd_error_set(&c->error, WPD_ERR_IO, 0, "cannot get the exit status of %s: %s",
                              c->path, strerror(e));
            }
            end(c);
            return;
        }
        break;
    }
    /* still running: poll again soon (the child usually exits right
     * after closing its output) */
    wpd_timer_start(c->reap_timer, c->reap_delay_ms);
    if (c->reap_delay_ms < 50)
        c->reap_delay_ms *= 2;
}

static void on_reap_timer(void *arg)
{
    try_reap(arg);
}

static void maybe_reap(wpd_child *c)
{
    if (c->out.fd < 0 && c->err.fd < 0 && !c->ended && !wpd_timer_pending(c->reap_timer))
        try_reap(c);
}

static void on_stream(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    child_stream *s = arg;
    wpd_child *c = s->c;
    char chunk[16384];
    for (int round = 0; round < 8; round++) {
        ssize_t n = read(s->fd, chunk, sizeof chunk);
        if (n > 0) {
            size_t room = c->max_output > s->buf.len ? c->max_output - s->buf.len : 0;
            size_t keep = (size_t)n < room ? (size_t)n : room;
            if (keep)
                wpd_buf_append(&s->buf, chunk, keep);
            if (keep < (size_t)n)
                s->truncated = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        /* EOF, or an error that ends this stream */
        stream_close(s);
        maybe_reap(c);
        return;
    }
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wpd_child *c = arg;
    while (c->input_off < c->input_len) {
        ssize_t n =
            send(c->in_fd, c->input + c->input_off, c->input_len - c->input_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->input_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        break; /* the child stopped reading: not our failure */
    }
    stdin_close(c);
}

static void on_timeout(void *arg)
{
    wpd_child *c = arg;
    if (c->ended)
        return;
    c->failed = true;
    wpd_error_set(&c->error, WPD_ERR_TIMEOUT, 0, "timed out after %g s",
                  (double)c->timeout_ms / 1000.0);
    kill_group(c);
    close_all(c);
    try_reap(c);
}

static void child_free(wpd_child *c)
{
    close_all(c);
    wpd_timer_free(c->timeout_timer);
    wpd_timer_free(c->reap_timer);
    wpd_timer_free(c->deliver_timer);
    wpd_buf_free(&c->out.buf);
    wpd_buf_free(&c->err.buf);
    free(c->input);
    free(c->path);
    free(c);
}

static void deliver(void *arg)
{
    wpd_child *c = arg;
    wpd_child_result res = {0};
    const wpd_child_result *resp = NULL;
    if (c->started_ok) {
        res.exit_code = -1;
        if (c->reaped && c->wstatus != -1) {
            if (WIFEXITED(c->wstatus)) {
                res.exited = true;
                res.exit_code = WEXITSTATUS(c->wstatus);
            } else if (WIFSIGNALED(c->wstatus)) {
                res.term_signal = WTERMSIG(c->wstatus);
            }
        }
        res.out = wpd_buf_cstr(&c->out.buf);
        res.out_len = c->out.buf.len;
        res.out_truncated = c->out.truncated;
        res.err = wpd_buf_cstr(&c->err.buf);
        res.err_len = c->err.buf.len;
        res.err_truncated = c->err.truncated;
        resp = &res;
    }
    c->in_done = true;
    c->done(c->arg, resp, c->failed ? &c->error : NULL);
    child_free(c);
}

static int spawn(wpd_child *c, const wpd_child_spec *spec)
{
    int in_sv[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    int rc = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0 ||
        pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0) {
        rc = errno;
        goto out;
    }
    int *all[] = {&in_sv[0], &in_sv[1], &out_p[0], &out_p[1], &err_p[0], &err_p[1]};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        *all[i] = above_std(*all[i]);
        if (*all[i] < 0) {
            rc = errno;
            goto out;
        }
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in_sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
    sigset_t all_sigs, none;
    sigfillset(&all_sigs);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &all_sigs);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
    const char *default_argv[] = {c->path, NULL};
    char *const *argv = (char *const *)(spec->argv ? spec->argv : default_argv);
    char *const *envp = spec->envp ? (char *const *)spec->envp : environ;
    pid_t pid = 0;
    rc = posix_spawn(&pid, c->path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0)
        goto out;
    c->pid = pid;
    c->in_fd = in_sv[0];
    c->out.fd = out_p[0];
    c->err.fd = err_p[0];
    in_sv[0] = out_p[0] = err_p[0] = -1;
    set_nonblock(c->in_fd);
    set_nonblock(c->out.fd);
    set_nonblock(c->err.fd);

out:
    for (int i = 0; i < 2; i++) {
        close_fd(&in_sv[i]);
        close_fd(&out_p[i]);
        close_fd(&err_p[i]);
    }
    return rc;
}

wpd_child *wpd_child_start(wpd_reactor *r, const wpd_child_spec *spec)
{
    wpd_child *c = wpd_xcalloc(1, sizeof *c);
    c->r = r;
    c->path = wpd_xstrdup(spec->path ? spec->path : "");
    c->in_fd = -1;
    c->out.fd = c->err.fd = -1;
    c->out.c = c->err.c = c;
    c->max_output = spec->max_output ? spec->max_output : WPD_CHILD_MAX_OUTPUT;
    c->timeout_ms = spec->timeout_ms;
    c->reap_delay_ms = 1;
    c->done = spec->done;
    c->arg = spec->arg;
    c->timeout_timer = wpd_timer_new(r, on_timeout, c);
    c->reap_timer = wpd_timer_new(r, on_reap_timer, c);
    c->deliver_timer = wpd_timer_new(r, deliver, c);
    if (spec->input_len) {
        c->input = wpd_xmalloc(spec->input_len);
        memcpy(c->input, spec->input, spec->input_len);
        c->input_len = spec->input_len;
    }

    int rc = spawn(c, spec);
    if (rc != 0) {
        c->failed = true;
        wpd_error_set(&c->error, WPD_ERR_IO, 0, "cannot run %s: %s", c->path, strerror(rc));
        end(c);
        return c;
    }
    c->started_ok = true;

    struct event_base *base = wpd_reactor_base(r);
    c->out.ev = event_new(base, c->out.fd, EV_READ | EV_PERSIST, on_stream, &c->out);
    c->err.ev = event_new(base, c->err.fd, EV_READ | EV_PERSIST, on_stream, &c->err);
    event_add(c->out.ev, NULL);
    event_add(c->err.ev, NULL);
    if (c->input_len) {
        c->in_ev = event_new(base, c->in_fd, EV_WRITE | EV_PERSIST, on_stdin, c);
        event_add(c->in_ev, NULL);
    } else {
        stdin_close(c);
    }
    if (c->timeout_ms > 0)
        wpd_timer_start(c->timeout_timer, c->timeout_ms);
    return c;
}

void wpd_child_cancel(wpd_child *c)
{
    if (!c || c->in_done || c->ended)
        return;
    c->failed = true;
    wpd_error_set(&c->error, WPD_ERR_CANCELED, 0, "canceled");
    kill_group(c);
    close_all(c);
    wpd_timer_stop(c->timeout_timer);
    try_reap(c);
}

void wpd_child_abort(wpd_child *c)
{
    if (!c || c->in_done)
        return;
    kill_group(c);
    close_all(c);
    if (c->pid > 0 && !c->reaped) {
        int st;
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
            ;
        c->reaped = true;
    }
    child_free(c);
}

pid_t wpd_child_pid(const wpd_child *c)
{
    return c ? c->pid : 0;
}
