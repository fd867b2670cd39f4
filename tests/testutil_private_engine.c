/* testutil_private_engine.c - engines a test program starts for itself:
 * starting and stopping them through tests/helpers/private-engine (with a
 * guardian that stops them when the program ends early), the faults the
 * tests inject, and what such an engine holds of wpdock's. */
#define _GNU_SOURCE
#include "testutil_private_engine.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"

#define HELPER TEST_DATA_DIR "/../helpers/private-engine"

long long tu_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the helper with `args`; its output (stdout and stderr) in *out. */
static int helper(const char *args, char **out)
{
    char *cmd = wpd_xasprintf("'%s' %s", HELPER, args);
    int st = tu_run(cmd, 1, out);
    free(cmd);
    return st;
}

static void helper_ok(const tu_pe *pe, const char *what, const char *extra)
{
    char *args = wpd_xasprintf("%s '%s'%s%s", what, pe->dir, extra ? " " : "", extra ? extra : "");
    char *out = NULL;
    int st = helper(args, &out);
    size_t n = out ? strlen(out) : 0;
    ck_assert_msg(st == 0, "private-engine %s failed (%d): %s", args, st,
                  out + (n > 1500 ? n - 1500 : 0));
    free(out);
    free(args);
}

/* The guardian: when this process ends without tu_pe_stop (the lifeline
 * closes without a 'd'), the engine is stopped and its directory removed. */
static void guard_run(int life, const char *dir)
{
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    for (int fd = 3; fd < 1024; fd++)
        if (fd != life)
            close(fd);
    char c = 0;
    ssize_t r;
    do
        r = read(life, &c, 1);
    while (r < 0 && errno == EINTR);
    if (r == 1 && c == 'd')
        _exit(0);
    execl(HELPER, HELPER, "stop", dir, (char *)NULL);
    _exit(127);
}

int tu_pe_start(tu_pe *pe, const char *kind)
{
    memset(pe, 0, sizeof *pe);
    pe->life_fd = -1;
    snprintf(pe->kind, sizeof pe->kind, "%s", kind);
    snprintf(pe->dir, sizeof pe->dir, "%s/wpdpe-XXXXXX", tu_env("TMPDIR", "/tmp"));
    if (!mkdtemp(pe->dir)) {
        fprintf(stderr, "private %s engine: mkdtemp %s: %s\n", kind, pe->dir, strerror(errno));
        return -1;
    }
    int life[2];
    if (pipe(life) != 0) {
        fprintf(stderr, "private %s engine: pipe: %s\n", kind, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t g = fork();
    if (g == 0) {
        setsid();
        close(life[1]);
        guard_run(life[0], pe->dir);
    }
    close(life[0]);
    fcntl(life[1], F_SETFD, FD_CLOEXEC);
    pe->guard_pid = g > 0 ? g : 0;
    pe->life_fd = life[1];
    char *args = wpd_xasprintf("start %s '%s'", kind, pe->dir);
    char *out = NULL;
    long long t0 = tu_mono_ms();
    int st = helper(args, &out);
    free(args);
    const char *host = out ? strstr(out, "unix://") : NULL;
    if (st != 0 || !host) {
        fprintf(stderr, "private %s engine: tests/helpers/private-engine start failed (%d):\n%s\n",
                kind, st, out ? out : "");
        free(out);
        tu_pe_stop(pe);
        return -1;
    }
    size_t n = strcspn(host, "\r\n");
    snprintf(pe->host, sizeof pe->host, "%.*s", (int)n, host);
    free(out);
    fprintf(stderr, "private %s engine at %s (ready in %lld ms)\n", kind, pe->host,
            tu_mono_ms() - t0);
    return 0;
}

void tu_pe_stop(tu_pe *pe)
{
    if (!pe->dir[0])
        return;
    char *args = wpd_xasprintf("stop '%s'", pe->dir);
    char *out = NULL;
    if (helper(args, &out) != 0)
        fprintf(stderr, "private-engine %s: %s\n", args, out);
    free(out);
    free(args);
    if (pe->life_fd >= 0) {
        ssize_t w = write(pe->life_fd, "d", 1);
        (void)w;
        close(pe->life_fd);
        pe->life_fd = -1;
    }
    if (pe->guard_pid > 0)
        waitpid(pe->guard_pid, NULL, 0);
    pe->guard_pid = 0;
    pe->dir[0] = '\0';
}

void tu_pe_use(const tu_pe *pe)
{
    setenv("WPDOCK_TEST_ENGINE_HOST", pe->host, 1);
    setenv("WPDOCK_TEST_ENGINE_KIND", pe->kind, 1);
    unsetenv("WPDOCK_TEST_ENGINE_CERT_PATH");
}

void tu_pe_signal(const tu_pe *pe, const char *sig)
{
    helper_ok(pe, "signal", sig);
}

void tu_pe_down(const tu_pe *pe)
{
    helper_ok(pe, "down", NULL);
}

void tu_pe_up(const tu_pe *pe)
{
    helper_ok(pe, "up", NULL);
}

void tu_pe_hide_socket(const tu_pe *pe)
{
    helper_ok(pe, "hide-socket", NULL);
}

void tu_pe_show_socket(const tu_pe *pe)
{
    helper_ok(pe, "show-socket", NULL);
}

int tu_pe_pid(const tu_pe *pe)
{
    char *args = wpd_xasprintf("pid '%s'", pe->dir);
    char *out = NULL;
    int st = helper(args, &out);
    int pid = st == 0 && out ? atoi(out) : 0;
    free(out);
    free(args);
    return pid;
}

/* ------------------------------------------------------------------------
 * What the engine holds */

static wpd_json *get_json(const char *path, wpd_json *j, char **body)
{
    long st = tu_engine_request("GET", path, NULL, body);
    ck_assert_msg(st == 200, "GET %s on %s: %ld %s", path, tu_engine_host(), st, *body);
    wpd_error err;
    ck_assert_msg(wpd_json_parse(j, *body, strlen(*body), &err) == 0, "GET %s: %s", path,
                  err.message);
    return j;
}

static char *filtered(const char *path, const char *label)
{
    char *f = wpd_xasprintf("{\"label\":[\"%s\"]}", label);
    char *esc = tu_url_escape(f);
    char *url = wpd_xasprintf("%s%sfilters=%s", path, strchr(path, '?') ? "&" : "?", esc);
    free(esc);
    free(f);
    return url;
}

/* Docker 20.10's stale endpoint count (moby#43286): a network without
 * containers that the engine refuses to remove for its "active endpoints". */
static bool stale_network(const char *name)
{
    if (strcmp(tu_engine_kind(), "docker") != 0)
        return false;
    char *esc = tu_url_escape(name);
    char *url = wpd_xasprintf("/networks/%s", esc);
    char *body = NULL, *info = NULL;
    bool stale =
        tu_engine_request("DELETE", url, NULL, &body) >= 400 && strstr(body, "active endpoints") &&
        tu_engine_request("GET", url, NULL, &info) == 200 && strstr(info, "\"Containers\":{}");
    if (stale)
        fprintf(stderr,
                "warning: network %s stays behind: Docker's stale endpoint count (moby#43286); "
                "no container is attached\n",
                name);
    free(body);
    free(info);
    free(url);
    free(esc);
    return stale;
}

char *tu_pe_objects(void)
{
    wpd_buf found = WPD_BUF_INIT;
    static const struct {
        const char *kind, *path, *label, *array, *name, *state;
    } lists[] = {
        {"container", "/containers/json?all=1", "wp_uuid", NULL, "Names.0", "State"},
        {"network", "/networks", "wp_workflow", NULL, "Name", NULL},
        {"volume", "/volumes", "wp_workflow", "Volumes", "Name", NULL},
    };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        char *url = filtered(lists[l].path, lists[l].label);
        char *body = NULL;
        wpd_json j;
        get_json(url, &j, &body);
        int arr = lists[l].array ? wpd_json_path(&j, 0, lists[l].array) : 0;
        for (int i = 0;; i++) {
            int el = wpd_json_at(&j, arr, i);
            if (el < 0)
                break;
            char *name = wpd_json_get_str(&j, el, lists[l].name);
            char *state = lists[l].state ? wpd_json_get_str(&j, el, lists[l].state) : NULL;
            const char *shown = name ? (name[0] == '/' ? name + 1 : name) : "?";
            if (l != 1 || !name || !stale_network(name))
                wpd_buf_printf(&found, "%s%s %s%s%s%s", found.len ? "; " : "", lists[l].kind, shown,
                               state ? " (" : "", state ? state : "", state ? ")" : "");
            free(name);
            free(state);
        }
        wpd_json_free(&j);
        free(body);
        free(url);
    }
    return wpd_buf_steal(&found);
}

void tu_pe_assert_empty(const char *when)
{
    char *left = tu_pe_objects();
    ck_assert_msg(!*left, "%s: left on %s: %s", when, tu_engine_host(), left);
    free(left);
}

static void delete_all(const char *path, const char *label, const char *array, const char *key,
                       const char *del_fmt)
{
    char *url = filtered(path, label);
    char *body = NULL;
    wpd_json j;
    get_json(url, &j, &body);
    int arr = array ? wpd_json_path(&j, 0, array) : 0;
    for (int i = 0;; i++) {
        int el = wpd_json_at(&j, arr, i);
        if (el < 0)
            break;
        char *v = wpd_json_get_str(&j, el, key);
        if (!v)
            continue;
        char *esc = tu_url_escape(v);
        char *del = wpd_xasprintf(del_fmt, esc);
        char *out = NULL;
        tu_engine_request("DELETE", del, NULL, &out);
        free(out);
        free(del);
        free(esc);
        free(v);
    }
    wpd_json_free(&j);
    free(body);
    free(url);
}

void tu_pe_reset(const tu_pe *pe)
{
    tu_pe_use(pe);
    tu_pe_show_socket(pe);
    if (!tu_pe_pid(pe))
        tu_pe_up(pe);
    tu_pe_signal(pe, "CONT");
    delete_all("/containers/json?all=1", "wp_uuid", NULL, "Id", "/containers/%s?force=1&v=1");
    delete_all("/volumes", "wp_workflow", "Volumes", "Name", "/volumes/%s?force=1");
    delete_all("/networks", "wp_workflow", NULL, "Name", "/networks/%s");
}

/* ------------------------------------------------------------------------
 * Workflow ids */

char *tu_pe_workflow_id(const tu_exec *x)
{
    static const char key[] = "\"workflow_id\":\"";
    const char *uuid = NULL;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        const char *at = e->kind == TU_EV_WORKFLOW && e->raw ? strstr(e->raw, key) : NULL;
        if (at) {
            at += sizeof key - 1;
            return wpd_xstrndup(at, strcspn(at, "\""));
        }
        if (e->kind == TU_EV_STEP && !uuid)
            uuid = e->uuid;
    }
    if (!uuid)
        return NULL;
    /* from the engine: the label of a network the step's container is on */
    char *esc = tu_url_escape(uuid);
    char *url = wpd_xasprintf("/containers/wp_%s/json", esc);
    char *body = NULL, *id = NULL;
    if (tu_engine_request("GET", url, NULL, &body) == 200) {
        wpd_json j;
        wpd_error err;
        if (wpd_json_parse(&j, body, strlen(body), &err) == 0) {
            int nets = wpd_json_path(&j, 0, "NetworkSettings.Networks");
            char *net = nets >= 0 && j.toks[nets].size > 0 ? wpd_json_str(&j, nets + 1) : NULL;
            if (net) {
                char *nesc = tu_url_escape(net);
                char *nurl = wpd_xasprintf("/networks/%s", nesc);
                char *nbody = NULL;
                wpd_json nj;
                if (tu_engine_request("GET", nurl, NULL, &nbody) == 200 &&
                    wpd_json_parse(&nj, nbody, strlen(nbody), &err) == 0) {
                    id = wpd_json_get_str(&nj, 0, "Labels.wp_workflow");
                    wpd_json_free(&nj);
                }
                free(nbody);
                free(nurl);
                free(nesc);
                free(net);
            }
            wpd_json_free(&j);
        }
    }
    free(body);
    free(url);
    free(esc);
    return id;
}
