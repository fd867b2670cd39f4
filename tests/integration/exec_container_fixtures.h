/* exec_container_fixtures.h - what the exec container tests share: a run
 * whose step prints "ready" and then waits for a file in a bind-mounted
 * control directory, so that the test can inspect the running container
 * before letting it finish, and assertions on the inspect answer and on
 * the step's output. */
#ifndef WPDOCK_TEST_EXEC_CONTAINER_FIXTURES_H
#define WPDOCK_TEST_EXEC_CONTAINER_FIXTURES_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "util/jsonw.h"
#include "testutil.h"

#define RUN_TIMEOUT_MS 120000
#define READY_TIMEOUT_MS 60000
/* waits at most 60 s for /ctl/go */
#define HOLD_CMD "i=0; while [ ! -e /ctl/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%.600s\" does not contain \"%s\"", (hay),    \
                  (needle))

/* One run with a held step. */
typedef struct held {
    tu_exec x;
    char *ctl;  /* host side of /ctl */
    char *path; /* the workflow file */
    char *body; /* inspect of the held container */
    wpd_json j;
} held;

/* Start the bind list of a step with the control directory. */
static inline void bind_ctl(struct wpd_jsonw *w, const char *ctl, const char *const *more)
{
    char *b = wpd_xasprintf("%s:/ctl", ctl);
    wpd_jw_key(w, "volumes");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, b);
    for (size_t i = 0; more && more[i]; i++)
        wpd_jw_str(w, more[i]);
    wpd_jw_arr_end(w);
    free(b);
}

static inline void inspect(held *h, const char *uuid)
{
    char *url = wpd_xasprintf("/containers/wp_%s/json", uuid);
    long st = tu_engine_request("GET", url, NULL, &h->body);
    ck_assert_msg(st == 200, "GET %s: %ld %s", url, st, h->body);
    free(url);
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&h->j, h->body, strlen(h->body), &err) == 0, "inspect: %s",
                  err.message);
}

/* Start the run and wait until `step` is held; inspect its container. */
static inline void hold(held *h, const char *step, const char *const *flags)
{
    const char *args[16];
    size_t n = 0;
    args[n++] = "exec";
    args[n++] = "--log-format";
    args[n++] = "json";
    for (size_t i = 0; flags && flags[i]; i++)
        args[n++] = flags[i];
    args[n++] = h->path;
    args[n] = NULL;
    tu_exec_start(&h->x, args, NULL);
    tu_exec_wait_log(&h->x, step, "ready", READY_TIMEOUT_MS);
    const tu_event *e = tu_exec_step_started(&h->x, step);
    ck_assert_ptr_nonnull(e);
    inspect(h, e->uuid);
}

/* Let the held step go on and wait for the end of the run. */
static inline int release(held *h)
{
    char *go = wpd_xasprintf("%s/go", h->ctl);
    tu_write_file(go, "", 0);
    free(go);
    return tu_exec_finish(&h->x, RUN_TIMEOUT_MS);
}

static inline void held_free(held *h)
{
    tu_exec_assert_clean(&h->x);
    tu_exec_free(&h->x);
    wpd_json_free(&h->j);
    free(h->body);
    tu_rm_rf(h->ctl);
    free(h->ctl);
    unlink(h->path);
    free(h->path);
}

static inline char *jstr(const held *h, const char *path)
{
    char *s = wpd_json_get_str(&h->j, 0, path);
    ck_assert_msg(s != NULL, "inspect has no string %s", path);
    return s;
}

static inline void assert_jstr(const held *h, const char *path, const char *want)
{
    char *s = jstr(h, path);
    ck_assert_msg(strcmp(s, want) == 0, "inspect %s = \"%s\", expected \"%s\"", path, s, want);
    free(s);
}

/* Does HostConfig.Binds hold the bind `src:dst[:mode]`? Podman reports
 * binds with its defaults appended ("src:dst:ro,rprivate,rbind"), so there
 * the mode only has to be among the options. */
static inline bool has_bind(const held *h, const char *src, const char *dst, const char *mode)
{
    char *want =
        mode ? wpd_xasprintf("%s:%s:%s", src, dst, mode) : wpd_xasprintf("%s:%s", src, dst);
    char *prefix = wpd_xasprintf("%s:%s", src, dst);
    int arr = wpd_json_path(&h->j, 0, "HostConfig.Binds");
    bool found = false;
    for (int i = 0; !found; i++) {
        int el = wpd_json_at(&h->j, arr, i);
        if (el < 0)
            break;
        char *s = wpd_json_str(&h->j, el);
        if (s && strcmp(s, want) == 0)
            found = true;
        else if (s && tu_engine_is_podman() && strncmp(s, prefix, strlen(prefix)) == 0) {
            const char *opts = s + strlen(prefix);
            found = *opts == '\0' || (*opts == ':' && (!mode || strstr(opts, mode)));
        }
        free(s);
    }
    free(want);
    free(prefix);
    return found;
}

/* Does the string array at `path` hold `want`? */
static inline bool jarr_has(const held *h, const char *path, const char *want)
{
    int arr = wpd_json_path(&h->j, 0, path);
    for (int i = 0;; i++) {
        int el = wpd_json_at(&h->j, arr, i);
        if (el < 0)
            return false;
        if (wpd_json_streq(&h->j, el, want))
            return true;
    }
}

/* The value of KEY in the string array at path ("KEY=VALUE" entries). */
static inline char *jarr_env(const held *h, const char *path, const char *key)
{
    int arr = wpd_json_path(&h->j, 0, path);
    size_t kl = strlen(key);
    for (int i = 0;; i++) {
        int el = wpd_json_at(&h->j, arr, i);
        if (el < 0)
            return NULL;
        char *s = wpd_json_str(&h->j, el);
        if (s && strncmp(s, key, kl) == 0 && s[kl] == '=') {
            char *v = wpd_xstrdup(s + kl + 1);
            free(s);
            return v;
        }
        free(s);
    }
}

static inline void assert_success(const held *h, int rc, const char *step)
{
    ck_assert_msg(rc == 0, "exit status %d; stderr: %s", rc, h->x.proc.err);
    const tu_event *e = tu_exec_step(&h->x, step);
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strcmp(e->status, "success") == 0, "step %s: %s (%s)", step, e->status,
                  e->error ? e->error : "");
}

static inline void assert_line(const held *h, const char *step, const char *line)
{
    ck_assert_msg(tu_exec_count_lines(&h->x, step, "stdout", line) == 1,
                  "step %s did not print \"%s\" once; output:\n%.3000s", step, line, h->x.proc.out);
}

/* The first stdout line of step that starts with prefix, or NULL. */
static inline const char *line_starting(const held *h, const char *step, const char *prefix)
{
    for (size_t i = 0; i < h->x.n_ev; i++) {
        const tu_event *e = &h->x.ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            strcmp(e->stream, "stdout") == 0 && strncmp(e->line, prefix, strlen(prefix)) == 0)
            return e->line;
    }
    return NULL;
}

static inline void held_init(held *h)
{
    memset(h, 0, sizeof *h);
    h->ctl = tu_mkdtemp();
}

#endif
