/* test_exec_container.c - what the engine really holds for the steps that
 * `wpdock exec` runs: labels, environment, user, binds, working directory,
 * network aliases, the global --network and tmpfs mounts. A step prints
 * "ready" and then waits for a file in a bind-mounted control directory, so
 * the test can inspect the running container before letting it finish; the
 * step also reports what it sees from inside. Engine selection as in
 * testutil.h; an unreachable engine fails the tests. */
#define _GNU_SOURCE
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
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
static void bind_ctl(struct wpd_jsonw *w, const char *ctl, const char *const *more)
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

static void inspect(held *h, const char *uuid)
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
static void hold(held *h, const char *step, const char *const *flags)
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
static int release(held *h)
{
    char *go = wpd_xasprintf("%s/go", h->ctl);
    tu_write_file(go, "", 0);
    free(go);
    return tu_exec_finish(&h->x, RUN_TIMEOUT_MS);
}

static void held_free(held *h)
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

static char *jstr(const held *h, const char *path)
{
    char *s = wpd_json_get_str(&h->j, 0, path);
    ck_assert_msg(s != NULL, "inspect has no string %s", path);
    return s;
}

static void assert_jstr(const held *h, const char *path, const char *want)
{
    char *s = jstr(h, path);
    ck_assert_msg(strcmp(s, want) == 0, "inspect %s = \"%s\", expected \"%s\"", path, s, want);
    free(s);
}

/* Does HostConfig.Binds hold the bind `src:dst[:mode]`? Podman reports
 * binds with its defaults appended ("src:dst:ro,rprivate,rbind"), so there
 * the mode only has to be among the options. */
static bool has_bind(const held *h, const char *src, const char *dst, const char *mode)
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
static bool jarr_has(const held *h, const char *path, const char *want)
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
static char *jarr_env(const held *h, const char *path, const char *key)
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

static void assert_success(const held *h, int rc, const char *step)
{
    ck_assert_msg(rc == 0, "exit status %d; stderr: %s", rc, h->x.proc.err);
    const tu_event *e = tu_exec_step(&h->x, step);
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strcmp(e->status, "success") == 0, "step %s: %s (%s)", step, e->status,
                  e->error ? e->error : "");
}

static void assert_line(const held *h, const char *step, const char *line)
{
    ck_assert_msg(tu_exec_count_lines(&h->x, step, "stdout", line) == 1,
                  "step %s did not print \"%s\" once; output:\n%.3000s", step, line, h->x.proc.out);
}

/* The first stdout line of step that starts with prefix, or NULL. */
static const char *line_starting(const held *h, const char *step, const char *prefix)
{
    for (size_t i = 0; i < h->x.n_ev; i++) {
        const tu_event *e = &h->x.ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            strcmp(e->stream, "stdout") == 0 && strncmp(e->line, prefix, strlen(prefix)) == 0)
            return e->line;
    }
    return NULL;
}

static void held_init(held *h)
{
    memset(h, 0, sizeof *h);
    h->ctl = tu_mkdtemp();
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_labels)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "labelled", 0, (const char *const[]){"echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "labelled", NULL);
    const char *uuid = tu_exec_step_started(&h.x, "labelled")->uuid;
    char *name = wpd_xasprintf("/wp_%s", uuid);
    assert_jstr(&h, "Name", name);
    free(name);
    assert_jstr(&h, "Config.Labels.wp_uuid", uuid);
    assert_jstr(&h, "Config.Labels.wp_step", "labelled");
    assert_jstr(&h, "Config.Image", tu_test_image());
    bool running = false;
    wpd_json_get_bool(&h.j, 0, "State.Running", &running);
    ck_assert(running);
    assert_success(&h, release(&h), "labelled");
    held_free(&h);
}
END_TEST

START_TEST(test_environment)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "envy", 0, (const char *const[]){"env | sort", "echo ready", HOLD_CMD, NULL});
    tu_wf_env(b, (const char *const[]){"USER_VAR", "hello world", "TRICKY", "a\"b$c d='e'", NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "envy", NULL);
    const tu_event *started = tu_exec_step_started(&h.x, "envy");
    char step_started[32];
    snprintf(step_started, sizeof step_started, "%lld", started->started);

    /* what the engine holds */
    static const char *const want[][2] = {
        {"USER_VAR", "hello world"},       {"TRICKY", "a\"b$c d='e'"},
        {"CI_PIPELINE_STATUS", "success"}, {"CI_STEP_NAME", "envy"},
        {"CI_STEP_TYPE", "commands"},      {"SHELL", "/bin/sh"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *v = jarr_env(&h, "Config.Env", want[i][0]);
        ck_assert_msg(v != NULL, "Config.Env has no %s", want[i][0]);
        ck_assert_str_eq(v, want[i][1]);
        free(v);
    }
    char *v = jarr_env(&h, "Config.Env", "CI_STEP_STARTED");
    ck_assert_msg(v != NULL, "Config.Env has no CI_STEP_STARTED");
    ck_assert_str_eq(v, step_started);
    free(v);
    v = jarr_env(&h, "Config.Env", "CI_PIPELINE_STARTED");
    ck_assert_msg(v != NULL, "Config.Env has no CI_PIPELINE_STARTED");
    long long pipeline_started = atoll(v);
    free(v);
    ck_assert_msg(pipeline_started >= h.x.t_spawn_ms / 1000 - 1 &&
                      pipeline_started <= started->started,
                  "CI_PIPELINE_STARTED %lld is not the run's start", pipeline_started);
    v = jarr_env(&h, "Config.Env", "CI_SCRIPT");
    ck_assert_msg(v && *v, "Config.Env has no CI_SCRIPT");
    free(v);
    assert_success(&h, release(&h), "envy");

    /* what the step saw */
    assert_line(&h, "envy", "USER_VAR=hello world");
    assert_line(&h, "envy", "TRICKY=a\"b$c d='e'");
    assert_line(&h, "envy", "CI_PIPELINE_STATUS=success");
    assert_line(&h, "envy", "CI_STEP_NAME=envy");
    assert_line(&h, "envy", "CI_STEP_TYPE=commands");
    char *line = wpd_xasprintf("CI_STEP_STARTED=%s", step_started);
    assert_line(&h, "envy", line);
    free(line);
    line = wpd_xasprintf("CI_PIPELINE_STARTED=%lld", pipeline_started);
    assert_line(&h, "envy", line);
    free(line);
    /* the script removes CI_SCRIPT before the commands run (spec 3.1) */
    ck_assert_ptr_null(line_starting(&h, "envy", "CI_SCRIPT="));
    held_free(&h);
}
END_TEST

/* backend_options.docker.user, as a string and as a number (decoded
 * weakly, spec 2.3.1); without it the image's user (root). */
static void user_option(struct wpd_jsonw *w, const char *s, long n)
{
    wpd_jw_key(w, "backend_options");
    wpd_jw_obj_begin(w);
    wpd_jw_key(w, "docker");
    wpd_jw_obj_begin(w);
    if (s)
        wpd_jw_kstr(w, "user", s);
    else
        wpd_jw_kint(w, "user", n);
    wpd_jw_obj_end(w);
    wpd_jw_obj_end(w);
}

START_TEST(test_user)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "as-1000", 0, (const char *const[]){"id -u", "echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    user_option(tu_wf_json(b), "1000", 0);
    tu_wf_step(b, "as-number", 0, (const char *const[]){"id -u", NULL});
    user_option(tu_wf_json(b), NULL, 1000);
    tu_wf_step(b, "as-default", 0, (const char *const[]){"id -u", NULL});
    h.path = tu_wf_save(b);
    hold(&h, "as-1000", NULL);
    assert_jstr(&h, "Config.User", "1000");
    int rc = release(&h);
    assert_success(&h, rc, "as-1000");
    assert_success(&h, rc, "as-number");
    assert_success(&h, rc, "as-default");
    assert_line(&h, "as-1000", "1000");
    assert_line(&h, "as-number", "1000");
    assert_line(&h, "as-default", "0");
    held_free(&h);
}
END_TEST

START_TEST(test_binds)
{
    held h;
    held_init(&h);
    char *in = tu_mkdtemp();
    char *f = wpd_xasprintf("%s/hello.txt", in);
    tu_write_file(f, "content from the host\n", 22);
    free(f);
    char *ro = wpd_xasprintf("%s:/mnt/in:ro", in);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "binder", 0,
               (const char *const[]){"cat /mnt/in/hello.txt",
                                     "touch /mnt/in/new 2>/dev/null && echo writable || echo "
                                     "read-only",
                                     "echo written by the step > /ctl/result.txt", "echo ready",
                                     HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, (const char *const[]){ro, NULL});
    h.path = tu_wf_save(b);
    hold(&h, "binder", NULL);
    ck_assert_msg(has_bind(&h, in, "/mnt/in", "ro"), "HostConfig.Binds lacks %s", ro);
    ck_assert_msg(has_bind(&h, h.ctl, "/ctl", NULL), "HostConfig.Binds lacks %s:/ctl", h.ctl);
    /* the mount as the engine set it up */
    bool found = false;
    int mounts = wpd_json_path(&h.j, 0, "Mounts");
    for (int i = 0;; i++) {
        int m = wpd_json_at(&h.j, mounts, i);
        if (m < 0)
            break;
        char *dst = wpd_json_get_str(&h.j, m, "Destination");
        if (dst && strcmp(dst, "/mnt/in") == 0) {
            char *src = wpd_json_get_str(&h.j, m, "Source");
            bool rw = true;
            wpd_json_get_bool(&h.j, m, "RW", &rw);
            ck_assert_str_eq(src, in);
            ck_assert_msg(!rw, "/mnt/in is writable");
            free(src);
            found = true;
        }
        free(dst);
    }
    ck_assert_msg(found, "no mount at /mnt/in");
    assert_success(&h, release(&h), "binder");
    assert_line(&h, "binder", "content from the host");
    assert_line(&h, "binder", "read-only");
    f = wpd_xasprintf("%s/result.txt", h.ctl);
    char *got = tu_read_file(f, NULL);
    ck_assert_msg(got != NULL, "the step's file is not on the host");
    ck_assert_str_eq(got, "written by the step\n");
    free(got);
    free(f);
    tu_rm_rf(in);
    free(in);
    free(ro);
    held_free(&h);
}
END_TEST

START_TEST(test_workdir)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "in-subdir", 0, (const char *const[]){"pwd", "echo ready", HOLD_CMD, NULL});
    wpd_jw_kstr(tu_wf_json(b), "workspace_base", "/ws-base");
    wpd_jw_kstr(tu_wf_json(b), "working_dir", "/ws-base/sub/dir");
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    tu_wf_stage(b);
    /* no workspace_base/working_dir: the defaults of a hand-written
     * workflow, /woodpecker with the workflow volume; the directory made
     * in the first step is in that volume */
    tu_wf_step(b, "defaults", 0, (const char *const[]){"pwd", NULL});
    tu_wf_step(b, "shared", 0, (const char *const[]){"ls /ws-base", NULL});
    wpd_jw_kstr(tu_wf_json(b), "workspace_base", "/ws-base");
    h.path = tu_wf_save(b);
    hold(&h, "in-subdir", NULL);
    /* the container starts in workspace_base; the script changes into
     * working_dir (spec 3.3) */
    assert_jstr(&h, "Config.WorkingDir", "/ws-base");
    bool vol = false;
    int mounts = wpd_json_path(&h.j, 0, "Mounts");
    for (int i = 0;; i++) {
        int m = wpd_json_at(&h.j, mounts, i);
        if (m < 0)
            break;
        char *dst = wpd_json_get_str(&h.j, m, "Destination");
        char *type = wpd_json_get_str(&h.j, m, "Type");
        char *name = wpd_json_get_str(&h.j, m, "Name");
        if (dst && strcmp(dst, "/ws-base") == 0) {
            ck_assert_msg(type && strcmp(type, "volume") == 0, "/ws-base is a %s mount",
                          type ? type : "?");
            ck_assert_msg(name && strncmp(name, "wp_", 3) == 0, "/ws-base holds volume %s",
                          name ? name : "?");
            vol = true;
        }
        free(dst);
        free(type);
        free(name);
    }
    ck_assert_msg(vol, "no workflow volume at /ws-base");
    int rc = release(&h);
    assert_success(&h, rc, "in-subdir");
    assert_success(&h, rc, "defaults");
    assert_success(&h, rc, "shared");
    assert_line(&h, "in-subdir", "/ws-base/sub/dir");
    assert_line(&h, "defaults", "/woodpecker");
    assert_line(&h, "shared", "sub");
    held_free(&h);
}
END_TEST

START_TEST(test_tmpfs)
{
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "tmp", 0,
               (const char *const[]){"grep ' /scratch ' /proc/mounts",
                                     "grep ' /sized ' /proc/mounts", "echo ready", HOLD_CMD, NULL});
    struct wpd_jsonw *w = tu_wf_json(b);
    wpd_jw_key(w, "tmpfs");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "/scratch");
    wpd_jw_str(w, "/sized:size=1m");
    wpd_jw_arr_end(w);
    bind_ctl(w, h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "tmp", NULL);
    if (tu_engine_is_podman()) {
        /* Podman lists its default options too */
        char *o = jstr(&h, "HostConfig.Tmpfs./scratch");
        free(o);
        o = jstr(&h, "HostConfig.Tmpfs./sized");
        ck_assert_contains(o, "size=1m");
        free(o);
    } else {
        assert_jstr(&h, "HostConfig.Tmpfs./scratch", "");
        assert_jstr(&h, "HostConfig.Tmpfs./sized", "size=1m");
    }
    assert_success(&h, release(&h), "tmp");
    const char *l = line_starting(&h, "tmp", "tmpfs /scratch tmpfs ");
    ck_assert_msg(l != NULL, "/proc/mounts shows no tmpfs at /scratch:\n%.3000s", h.x.proc.out);
    l = line_starting(&h, "tmp", "tmpfs /sized tmpfs ");
    ck_assert_msg(l != NULL, "/proc/mounts shows no tmpfs at /sized");
    ck_assert_contains(l, "size=1024k");
    held_free(&h);
}
END_TEST

/* A service with two aliases on a network the workflow names itself (as
 * Woodpecker's compiler does), reached by another step through an alias. */
START_TEST(test_network_aliases)
{
    held h;
    held_init(&h);
    char id[27];
    tu_ulid_lower(id);
    char *net = wpd_xasprintf("wp_%s_default", id);
    char *vol_bind = wpd_xasprintf("%s:/woodpecker", net);
    tu_wf *b = tu_wf_new();
    struct wpd_jsonw *w = tu_wf_json(b);
    tu_wf_step(b, "svc", TU_SERVICE,
               (const char *const[]){"mkdir -p /srv && echo reached through an alias > "
                                     "/srv/index.html",
                                     "httpd -f -p 8080 -h /srv", NULL});
    wpd_jw_kstr(w, "workspace_base", "/woodpecker");
    wpd_jw_kstr(w, "working_dir", "/woodpecker");
    wpd_jw_key(w, "volumes");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, vol_bind);
    wpd_jw_arr_end(w);
    wpd_jw_key(w, "networks");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", net);
    wpd_jw_key(w, "aliases");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "svc");
    wpd_jw_str(w, "database-alias");
    wpd_jw_arr_end(w);
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    tu_wf_stage(b);
    tu_wf_step(b, "client", 0,
               (const char *const[]){"echo ready", HOLD_CMD,
                                     "nslookup database-alias >/dev/null && echo resolved",
                                     "for i in $(seq 1 40); do wget -q -O - "
                                     "http://database-alias:8080/ && exit 0; sleep 0.25; done; "
                                     "exit 1",
                                     NULL});
    wpd_jw_kstr(w, "workspace_base", "/woodpecker");
    wpd_jw_kstr(w, "working_dir", "/woodpecker");
    bind_ctl(w, h.ctl, (const char *const[]){vol_bind, NULL});
    wpd_jw_key(w, "networks");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", net);
    wpd_jw_key(w, "aliases");
    wpd_jw_arr_begin(w);
    wpd_jw_str(w, "client");
    wpd_jw_arr_end(w);
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    tu_wf_end_pipeline(b);
    wpd_jw_kstr(w, "network", net);
    wpd_jw_kstr(w, "volume", net);
    h.path = tu_wf_save(b);
    hold(&h, "client", (const char *const[]){"--stop-timeout", "2", NULL});
    tu_exec_watch_name(&h.x, net);
    /* inspect the service, not the held client */
    wpd_json_free(&h.j);
    free(h.body);
    h.body = NULL;
    inspect(&h, tu_exec_step_started(&h.x, "svc")->uuid);
    char *aliases = wpd_xasprintf("NetworkSettings.Networks.%s.Aliases", net);
    ck_assert_msg(jarr_has(&h, aliases, "database-alias"), "the service has no alias on %s", net);
    ck_assert_msg(jarr_has(&h, aliases, "svc"), "the service has no alias svc on %s", net);
    free(aliases);
    int rc = release(&h);
    assert_success(&h, rc, "client");
    assert_line(&h, "client", "resolved");
    assert_line(&h, "client", "reached through an alias");
    free(vol_bind);
    free(net);
    held_free(&h);
}
END_TEST

/* --network NAME: an existing network every step also joins. It is made
 * (and removed) outside the forked test, so it goes even when a test
 * fails. */
static char global_net[64];

static void global_net_setup(void)
{
    char id[27];
    tu_ulid_lower(id);
    snprintf(global_net, sizeof global_net, "wpdock-test-%s", id);
    char *body = wpd_xasprintf("{\"Name\":\"%s\",\"Driver\":\"bridge\"}", global_net);
    char *res = NULL;
    long st = tu_engine_request("POST", "/networks/create", body, &res);
    if (st != 201)
        fprintf(stderr, "creating network %s: %ld %s\n", global_net, st, res);
    free(body);
    free(res);
}

static void global_net_teardown(void)
{
    char *url = wpd_xasprintf("/networks/%s", global_net);
    tu_engine_request("DELETE", url, NULL, NULL);
    free(url);
}

START_TEST(test_global_network)
{
    char *url = wpd_xasprintf("/networks/%s", global_net);
    long st = tu_engine_request("GET", url, NULL, NULL);
    ck_assert_msg(st == 200, "network %s was not created (%ld)", global_net, st);
    held h;
    held_init(&h);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "joined", 0, (const char *const[]){"echo ready", HOLD_CMD, NULL});
    bind_ctl(tu_wf_json(b), h.ctl, NULL);
    h.path = tu_wf_save(b);
    hold(&h, "joined", (const char *const[]){"--network", global_net, NULL});
    char *key = wpd_xasprintf("NetworkSettings.Networks.%s.NetworkID", global_net);
    char *v = jstr(&h, key);
    free(v);
    free(key);
    /* and still on the workflow's own network */
    bool own = false;
    int nets = wpd_json_path(&h.j, 0, "NetworkSettings.Networks");
    for (int k = 0, tok = nets + 1; nets >= 0 && k < h.j.toks[nets].size; k++) {
        char *name = wpd_json_str(&h.j, tok);
        if (name && strncmp(name, "wp_", 3) == 0)
            own = true;
        free(name);
        tok = wpd_json_skip(&h.j, tok);
    }
    ck_assert_msg(own, "the step is not on its workflow network");
    /* what the network itself lists */
    char *body = NULL;
    st = tu_engine_request("GET", url, NULL, &body);
    ck_assert_int_eq(st, 200);
    char *cid = jstr(&h, "Id");
    ck_assert_contains(body, cid);
    free(cid);
    free(body);
    assert_success(&h, release(&h), "joined");
    /* the network is the operator's: wpdock leaves it in place */
    ck_assert_int_eq(tu_engine_request("GET", url, NULL, NULL), 200);
    free(url);
    held_free(&h);
}
END_TEST

static Suite *exec_container_suite(void)
{
    Suite *s = suite_create("exec-container");
    TCase *tc = tcase_create("container");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_labels);
    tcase_add_test(tc, test_environment);
    tcase_add_test(tc, test_user);
    tcase_add_test(tc, test_binds);
    tcase_add_test(tc, test_workdir);
    tcase_add_test(tc, test_tmpfs);
    tcase_add_test(tc, test_network_aliases);
    suite_add_tcase(s, tc);
    TCase *net = tcase_create("global-network");
    tcase_set_timeout(net, 300);
    tcase_add_unchecked_fixture(net, global_net_setup, global_net_teardown);
    tcase_add_test(net, test_global_network);
    suite_add_tcase(s, net);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_container_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
