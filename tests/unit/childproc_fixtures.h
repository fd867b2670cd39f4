/* childproc_fixtures.h - for tests that run child processes on a real
 * reactor: open file descriptors and children left behind, a monotonic
 * clock in milliseconds, a new reactor. */
#ifndef WPDOCK_TEST_CHILDPROC_FIXTURES_H
#define WPDOCK_TEST_CHILDPROC_FIXTURES_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#include <wpdock/reactor.h>

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static inline void assert_no_children(void)
{
    errno = 0;
    pid_t p = waitpid(-1, NULL, WNOHANG);
    ck_assert_msg(p == -1 && errno == ECHILD, "a child process was left behind (waitpid %d)",
                  (int)p);
}

static inline long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline wpd_reactor *new_reactor(void)
{
    wpd_error err = {0};
    wpd_reactor *r = wpd_reactor_new(&err);
    ck_assert_msg(r != NULL, "%s", err.message);
    return r;
}

#endif
