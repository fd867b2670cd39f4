/* hostile_fixtures.h - what the hostile-input tests need to prove that a
 * refused input touched nothing: a recording proxy in front of the engine's
 * unix socket (a child process that forwards every connection and writes
 * the request line of every request to a log), and a runner that starts
 * `wpdock exec` with a time limit and reports its exit status, output and
 * peak memory (the child's own rusage). */
#ifndef WPDOCK_TEST_HOSTILE_FIXTURES_H
#define WPDOCK_TEST_HOSTILE_FIXTURES_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* ---- recording proxy ------------------------------------------------------ */

#define PROXY_MAX_CONNS 32

typedef struct proxy {
    int pid;
    char sock[256]; /* where clients connect */
    char log[256];  /* one "METHOD /path" line per request seen */
} proxy;

static inline int unix_connect(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return -1;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Write the request lines that start in buf (a client's bytes) to log;
 * *bol says whether the previous chunk ended a line. */
static inline void proxy_note(FILE *log, const char *buf, size_t n, bool *bol)
{
    static const char *const methods[] = {"GET /", "HEAD /", "POST /", "PUT /", "DELETE /"};
    for (size_t i = 0; i < n; i++) {
        if (*bol) {
            for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
                size_t ml = strlen(methods[m]);
                if (n - i >= ml && memcmp(buf + i, methods[m], ml) == 0) {
                    size_t e = i;
                    while (e < n && buf[e] != '\r' && buf[e] != '\n')
                        e++;
                    fprintf(log, "%.*s\n", (int)(e - i), buf + i);
                    fflush(log);
                }
            }
        }
        *bol = buf[i] == '\n';
    }
}

static inline void proxy_serve(int lfd, const char *upstream, const char *logpath)
{
    FILE *log = fopen(logpath, "a");
    struct pollfd pf[1 + 2 * PROXY_MAX_CONNS];
    int peer[1 + 2 * PROXY_MAX_CONNS];
    bool bol[1 + 2 * PROXY_MAX_CONNS];
    nfds_t n = 1;
    pf[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
    for (;;) {
        if (poll(pf, n, -1) < 0 && errno != EINTR)
            _exit(1);
        if ((pf[0].revents & POLLIN) && n + 2 <= 1 + 2 * PROXY_MAX_CONNS) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            int u = c >= 0 ? unix_connect(upstream) : -1;
            if (c >= 0 && u >= 0) {
                pf[n] = (struct pollfd){.fd = c, .events = POLLIN};
                pf[n + 1] = (struct pollfd){.fd = u, .events = POLLIN};
                peer[n] = (int)n + 1, peer[n + 1] = (int)n;
                bol[n] = true, bol[n + 1] = true;
                n += 2;
            } else if (c >= 0) {
                close(c);
            }
        }
        for (nfds_t i = 1; i < n; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t r = read(pf[i].fd, buf, sizeof buf);
            int o = peer[i];
            if (r > 0) {
                if (i % 2 == 1) /* client side */
                    proxy_note(log, buf, (size_t)r, &bol[i]);
                for (ssize_t w = 0; w < r;) {
                    ssize_t k = write(pf[o].fd, buf + w, (size_t)(r - w));
                    if (k <= 0)
                        break;
                    w += k;
                }
                continue;
            }
            /* one side closed: close the pair, move the last pair here */
            nfds_t a = i % 2 == 1 ? i : i - 1;
            close(pf[a].fd);
            close(pf[a + 1].fd);
            if (a + 2 < n) {
                pf[a] = pf[n - 2], pf[a + 1] = pf[n - 1];
                bol[a] = bol[n - 2], bol[a + 1] = bol[n - 1];
                peer[a] = (int)a + 1, peer[a + 1] = (int)a;
            }
            n -= 2;
            break; /* the array changed: poll again */
        }
    }
}

/* Start a proxy in dir in front of the engine socket `upstream`. */
static inline void proxy_start(proxy *p, const char *dir, const char *upstream)
{
    snprintf(p->sock, sizeof p->sock, "%s/proxy.sock", dir);
    snprintf(p->log, sizeof p->log, "%s/requests.log", dir);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(p->sock), sizeof sun.sun_path);
    memcpy(sun.sun_path, p->sock, strlen(p->sock) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
    ck_assert_int_eq(listen(lfd, 64), 0);
    tu_write_file(p->log, "", 0);
    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        proxy_serve(lfd, upstream, p->log);
        _exit(0);
    }
    close(lfd);
}

static inline void proxy_stop(proxy *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

/* The requests seen so far (malloc'd, "" when none). */
static inline char *proxy_requests(const proxy *p)
{
    char *s = tu_read_file(p->log, NULL);
    return s ? s : strdup("");
}

/* ---- one `wpdock exec` run with limits ----------------------------------- */

typedef struct hostile_run {
    int status;   /* exit status, 128+signal, -1 when it had to be killed */
    long maxrss;  /* peak resident memory, KiB */
    long long ms; /* wall time */
    char *out;    /* stdout */
    char *err;    /* stderr */
} hostile_run;

/* Run argv with env (NULL-terminated "K=V", replacing the environment) and
 * stdin from `stdin_path` (NULL: /dev/null); kill it after timeout_ms. */
static inline void hostile_exec(hostile_run *hr, const char *dir, const char *const *argv,
                                const char *const *env, const char *stdin_path, int timeout_ms)
{
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/out.txt", dir);
    snprintf(errp, sizeof errp, "%s/err.txt", dir);
    long long t0 = tu_now_ms();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in, 0), dup2(out, 1), dup2(err, 2);
        execve(argv[0], (char *const *)argv, (char *const *)env);
        _exit(127);
    }
    struct rusage ru;
    int st = 0;
    memset(&ru, 0, sizeof ru);
    hr->status = -1;
    for (;;) {
        pid_t r = wait4(pid, &st, WNOHANG, &ru);
        if (r == pid) {
            hr->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (tu_now_ms() - t0 > timeout_ms) {
            kill(pid, SIGKILL);
            wait4(pid, &st, 0, &ru);
            break;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    hr->ms = tu_now_ms() - t0;
    hr->maxrss = ru.ru_maxrss;
    hr->out = tu_read_file(outp, NULL);
    hr->err = tu_read_file(errp, NULL);
    if (!hr->out)
        hr->out = strdup("");
    if (!hr->err)
        hr->err = strdup("");
}

static inline void hostile_run_free(hostile_run *hr)
{
    free(hr->out);
    free(hr->err);
}

/* The first byte a terminal would act on (a control character other than
 * newline, or ESC), or -1. */
static inline long first_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            return (long)(p - (const unsigned char *)s);
    return -1;
}

#endif
