/* harness_bench.c - time from wpd_ctr_run to ready for busybox httpd with a
 * port wait (ready = mapped, listening inside, host connect).
 *
 *   harness_bench seq N IMAGE   N runs one after another: one line "ms" each
 *   harness_bench par N IMAGE   N wpd_ctr_run_async at once: each run's ms,
 *                               then "total ms" (first start to last ready)
 *
 * The endpoint is DOCKER_HOST's (or the default socket); containers are
 * terminated after each measurement (not timed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wpdock/harness.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static wpd_spec *httpd_spec(const char *image)
{
    wpd_spec *sp = wpd_spec_new(image);
    const char *cmd[] = {"httpd", "-f", "-p", "8080", "-h", "/", NULL};
    wpd_spec_cmd(sp, cmd);
    wpd_spec_wait(sp, wpd_wait_port("8080"));
    return sp;
}

typedef struct slot {
    long long t0, t1;
    wpd_ctr *c;
    int failed;
} slot;

static int left;
static volatile bool all_done;

static void on_ready(wpd_ctr *c, const wpd_error *err, void *arg)
{
    slot *sl = arg;
    sl->t1 = now_ms();
    sl->c = c;
    if (err) {
        fprintf(stderr, "harness_bench: %s\n", err->message);
        sl->failed = 1;
    }
    if (--left == 0)
        all_done = true;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "seq") != 0 && strcmp(argv[1], "par") != 0)) {
        fprintf(stderr, "usage: harness_bench seq|par N IMAGE\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > 256) {
        fprintf(stderr, "harness_bench: N must be 1-256\n");
        return 2;
    }
    wpd_error err;
    wpd_session *s = wpd_session_open(NULL, &err);
    if (!s) {
        fprintf(stderr, "harness_bench: %s\n", err.message);
        return 1;
    }
    wpd_spec *sp = httpd_spec(argv[3]);
    int rc = 0;
    if (strcmp(argv[1], "seq") == 0) {
        for (int i = 0; i < n && rc == 0; i++) {
            long long t0 = now_ms();
            wpd_ctr *c = wpd_ctr_run(s, sp, &err);
            long long t1 = now_ms();
            if (!c) {
                fprintf(stderr, "harness_bench: %s\n", err.message);
                rc = 1;
                break;
            }
            printf("%lld\n", t1 - t0);
            fflush(stdout);
            if (wpd_ctr_terminate(c, &err) != 0) {
                fprintf(stderr, "harness_bench: %s\n", err.message);
                rc = 1;
            }
        }
    } else {
        slot *sl = calloc((size_t)n, sizeof *sl);
        left = n;
        long long t0 = now_ms();
        for (int i = 0; i < n; i++) {
            sl[i].t0 = now_ms();
            wpd_ctr_run_async(s, sp, on_ready, &sl[i]);
        }
        wpd_reactor_run_until(wpd_session_reactor(s), &all_done);
        long long last = 0;
        for (int i = 0; i < n; i++) {
            if (sl[i].failed)
                rc = 1;
            printf("%lld\n", sl[i].t1 - sl[i].t0);
            if (sl[i].t1 > last)
                last = sl[i].t1;
        }
        printf("total %lld\n", last - t0);
        free(sl);
    }
    wpd_spec_free(sp);
    if (wpd_session_close(s, &err) != 0) {
        fprintf(stderr, "harness_bench: %s\n", err.message);
        rc = 1;
    }
    return rc;
}
