/* testutil_proc.c - child processes with their stdout and stderr
 * captured, and the guardian that interrupts a child when the test process
 * ends in the middle. */
#define _GNU_SOURCE
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Child processes */

static void guard_release(tu_proc *p)
{
    if (p->life_fd >= 0) {
        ssize_t w = write(p->life_fd, "d", 1);
        (void)w;
        close(p->life_fd);
        p->life_fd = -1;
    }
    if (p->guard_pid > 0) {
        waitpid(p->guard_pid, NULL, 0);
        p->guard_pid = 0;
    }
}

static int proc_reap(tu_proc *p, int block_ms)
{
    long long end = tu_now_ms() + block_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || r < 0) {
            if (r == p->pid)
                p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            p->pid = 0;
            guard_release(p);
            return 1;
        }
        if (tu_now_ms() >= end)
            return 0;
        tu_proc_pump(p, 10);
    }
}

/* Interrupt a child the way a user would (so that wpdock still removes
 * what it created), a second time to skip grace periods, then kill it if it
 * does not end. */
static void proc_abort(tu_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGINT);
    if (proc_reap(p, 1000))
        return;
    kill(p->pid, SIGINT);
    if (proc_reap(p, 60000))
        return;
    kill(p->pid, SIGKILL);
    proc_reap(p, 5000);
}

/* The guardian: a process that outlives a test process which ends in the
 * middle (a failed assertion ends it with _exit, a timeout with SIGKILL).
 * It holds the read ends of the child's pipes, so the child can go on
 * writing, and waits on the lifeline: a 'd' means the child is done; EOF
 * without it means the test is gone, and the child is interrupted like in
 * proc_abort, its output drained until it ends. */
static void guard_run(pid_t child, int life, int out, int err)
{
    for (int fd = 3; fd < 1024; fd++)
        if (fd != life && fd != out && fd != err)
            close(fd);
    char c = 0;
    ssize_t r;
    do
        r = read(life, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == 'd')
        _exit(0);
    tu_proc p;
    memset(&p, 0, sizeof p);
    p.pid = child;
    p.out_fd = out;
    p.err_fd = err;
    p.life_fd = -1;
    p.out = calloc(1, 1);
    p.err = calloc(1, 1);
    p.out_cap = p.err_cap = 1;
    long long steps[] = {1000, 60000, 5000};
    int sigs[] = {SIGINT, SIGINT, SIGKILL};
    for (int i = 0; i < 3; i++) {
        kill(child, sigs[i]);
        long long end = tu_now_ms() + steps[i];
        while (tu_now_ms() < end)
            if (tu_proc_pump(&p, 100))
                _exit(0); /* the child closed its output: it is ending */
    }
    _exit(0);
}

int tu_proc_start(tu_proc *p, const char *const *argv, const char *const *env)
{
    memset(p, 0, sizeof *p);
    p->status = -1;
    p->out_fd = p->err_fd = p->life_fd = -1;
    int o[2], e[2], life[2];
    if (pipe(o) != 0)
        return -1;
    if (pipe(e) != 0 || pipe(life) != 0) {
        close(o[0]);
        close(o[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* out of the test's process group: Check kills that group when a
         * test ends, which would leave the child no chance to clean up */
        setsid();
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        static const int sigs[] = {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        extern char **environ;
        execve(argv[0], (char *const *)argv, env ? (char *const *)env : environ);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    fcntl(o[0], F_SETFL, O_NONBLOCK);
    fcntl(e[0], F_SETFL, O_NONBLOCK);
    pid_t guard = fork();
    if (guard == 0) {
        setsid();
        close(life[1]);
        guard_run(pid, life[0], o[0], e[0]);
    }
    close(life[0]);
    fcntl(o[0], F_SETFD, FD_CLOEXEC);
    fcntl(e[0], F_SETFD, FD_CLOEXEC);
    fcntl(life[1], F_SETFD, FD_CLOEXEC);
    p->pid = pid;
    p->guard_pid = guard > 0 ? guard : 0;
    p->life_fd = life[1];
    p->out_fd = o[0];
    p->err_fd = e[0];
    p->out = calloc(1, 1);
    p->err = calloc(1, 1);
    p->out_cap = p->err_cap = 1;
    return 0;
}

static void proc_read(int *fd, char **buf, size_t *len, size_t *cap)
{
    for (;;) {
        if (*cap - *len < 65537) {
            *cap = (*cap + 65537) * 2;
            *buf = realloc(*buf, *cap);
        }
        ssize_t r = read(*fd, *buf + *len, *cap - *len - 1);
        if (r > 0) {
            *len += (size_t)r;
            (*buf)[*len] = '\0';
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(*fd);
        *fd = -1;
        return;
    }
}

int tu_proc_pump(tu_proc *p, int timeout_ms)
{
    struct pollfd fds[2];
    int n = 0;
    if (p->out_fd >= 0)
        fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
    if (p->err_fd >= 0)
        fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
    if (n == 0)
        return 1;
    if (poll(fds, (nfds_t)n, timeout_ms) > 0) {
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == p->out_fd)
                proc_read(&p->out_fd, &p->out, &p->out_len, &p->out_cap);
            else
                proc_read(&p->err_fd, &p->err, &p->err_len, &p->err_cap);
        }
    }
    return p->out_fd < 0 && p->err_fd < 0;
}

int tu_proc_finish(tu_proc *p, int timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    while (p->pid > 0 && !tu_proc_pump(p, 50)) {
        if (tu_now_ms() >= end) {
            proc_abort(p);
            return -1;
        }
    }
    long long left = end - tu_now_ms();
    if (p->pid > 0 && !proc_reap(p, left > 0 ? (int)left : 0)) {
        proc_abort(p);
        return -1;
    }
    /* output written just before the exit */
    while (!tu_proc_pump(p, 0))
        ;
    return p->status;
}

void tu_proc_signal(tu_proc *p, int sig)
{
    if (p->pid > 0)
        kill(p->pid, sig);
}

void tu_proc_free(tu_proc *p)
{
    proc_abort(p);
    guard_release(p);
    if (p->out_fd >= 0)
        close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
    p->out_fd = p->err_fd = p->life_fd = -1;
}
