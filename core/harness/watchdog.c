/* watchdog.c - the second layer of reaping: a process forked at session
 * open that leaves the test's process group and session (setsid), so
 * Check's killpg() after a forked test does not take it, and waits on a
 * socket to the test process. When that closes without a disarm (the test
 * process died, even by SIGKILL), it removes everything labelled with the
 * session through its own reactor and engine connection, then exits. A
 * disarmed watchdog exits at once; the library reaps it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness_private.h"

/* Close every descriptor but keep (the test's pipes must not stay open
 * in the watchdog: a reader waiting for their end would wait for it). */
static void close_others(int keep)
{
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        if (devnull > 2 && devnull != keep)
            close(devnull);
    }
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        for (int fd = 3; fd < 4096; fd++)
            if (fd != keep)
                close(fd);
        return;
    }
    int fds[4096];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 4096) {
        int fd = atoi(de->d_name);
        if (fd > 2 && fd != keep && fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
}

static void reap(const char *endpoint, const char *id)
{
    for (int round = 0; round < 2; round++) {
        if (round) {
            /* a create the test process sent just before it died may
             * complete after the first pass listed */
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
        wpd_error err;
        wpd_reactor *r = wpd_reactor_new(&err);
        if (!r)
            continue;
        wpd_plugin_registry *reg = wpd_plugins_load(NULL);
        wpd_engine *e = reg ? wpd_engine_new(r, reg, "watchdog", endpoint, NULL, NULL, &err) : NULL;
        if (e && wpd_engine_connect_sync(e, &err) == 0)
            hx_sweep_run(e, id, false, NULL, NULL, NULL, &err);
        if (e)
            wpd_engine_free(e);
        if (reg)
            wpd_plugins_free(reg);
        wpd_reactor_free(r);
    }
}

static _Noreturn void watchdog_main(int fd, const char *endpoint, const char *id)
{
    setsid();
    close_others(fd);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 1 && c == 'D')
            _exit(0);
        if (n == 1)
            continue;
        break; /* EOF or error: the test process is gone */
    }
    reap(endpoint, id);
    _exit(0);
}

int hx_watchdog_start(wpd_session *s, wpd_error *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return wpd_error_set(err, WPD_ERR_IO, 0, "watchdog: socketpair: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return wpd_error_set(err, WPD_ERR_IO, 0, "watchdog: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[1]);
        watchdog_main(sv[0], s->endpoint, s->id);
    }
    close(sv[0]);
    s->wd_fd = sv[1];
    s->wd_pid = pid;
    return 0;
}

void hx_watchdog_disarm(wpd_session *s)
{
    if (s->wd_fd < 0)
        return;
    (void)!send(s->wd_fd, "D", 1, MSG_NOSIGNAL);
    close(s->wd_fd);
    s->wd_fd = -1;
    while (waitpid(s->wd_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    s->wd_pid = 0;
}
