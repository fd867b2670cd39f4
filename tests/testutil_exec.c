/* testutil_exec.c - `wpdock exec` runs: starting wpdock against the engine
 * under test, parsing its JSON event lines as they arrive and checking them
 * against their documented shape and order, and looking up events. */
#define _GNU_SOURCE
#include "testutil.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "testutil_private.h"

/* The CLI under test (integration tests define it). */
#ifndef WPDOCK_CLI
#define WPDOCK_CLI "wpdock"
#endif

/* ------------------------------------------------------------------------
 * wpdock exec runs */

char *tu_shorten(const char *s)
{
    size_t n = strlen(s);
    return n <= 300 ? wpd_xstrdup(s) : wpd_xasprintf("%.300s... (%zu bytes)", s, n);
}

/* The documented keys in their order. "engine" (the engine's name, right
 * after "workflow") is an addition of wpdock's multi-engine mode. */
static const char *const wf_keys[] = {"event",  "workflow", "engine", "workflow_id",
                                      "status", "error",    NULL};
static const char *const step_keys[] = {"event",   "workflow", "engine",    "step",
                                        "uuid",    "status",   "exit_code", "oom_killed",
                                        "started", "finished", "error",     NULL};
static const char *const log_keys[] = {"event",  "workflow", "engine", "step",
                                       "stream", "line",     NULL};
/* Image pulls (wpdock's help documents them; a test image is normally
 * present, so they are rare). */
static const char *const pull_keys[] = {"event", "workflow", "engine",  "step",  "image",
                                        "layer", "status",   "current", "total", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* Parse one event line and check it against the documented shape:
 * exactly the documented keys, in the documented order, with the
 * documented types and values. */
static void parse_event(tu_exec *x, const char *line, size_t len)
{
    char *raw = wpd_xstrndup(line, len);
    char *shown = tu_shorten(raw);
    wpd_json j;
    wpd_error err;
    ck_assert_msg(wpd_json_parse(&j, raw, len, &err) == 0, "stdout line is not JSON (%s): %s",
                  err.message, shown);
    ck_assert_msg(wpd_json_type_of(&j, 0) == WPD_JSON_OBJECT, "not a JSON object: %s", shown);
    char *kind = wpd_json_get_str(&j, 0, "event");
    ck_assert_msg(kind != NULL, "no \"event\": %s", shown);
    tu_event ev;
    memset(&ev, 0, sizeof ev);
    const char *const *keys;
    if (strcmp(kind, "workflow") == 0) {
        ev.kind = TU_EV_WORKFLOW;
        keys = wf_keys;
    } else if (strcmp(kind, "step") == 0) {
        ev.kind = TU_EV_STEP;
        keys = step_keys;
    } else if (strcmp(kind, "log") == 0) {
        ev.kind = TU_EV_LOG;
        keys = log_keys;
    } else if (strcmp(kind, "pull") == 0) {
        ev.kind = TU_EV_PULL;
        keys = pull_keys;
    } else {
        ck_abort_msg("unexpected event kind \"%s\": %s", kind, shown);
        return;
    }
    free(kind);
    int last = -1;
    int tok = 1;
    for (int k = 0; k < j.toks[0].size; k++) {
        char *key = wpd_json_str(&j, tok);
        int pos = -1;
        for (int i = 0; keys[i]; i++)
            if (strcmp(keys[i], key) == 0)
                pos = i;
        ck_assert_msg(pos >= 0, "undocumented key \"%s\": %s", key, shown);
        ck_assert_msg(pos > last, "key \"%s\" out of the documented order (or twice): %s", key,
                      shown);
        last = pos;
        int v = tok + 1;
        int t = wpd_json_type_of(&j, v);
        if (strcmp(key, "current") == 0 || strcmp(key, "total") == 0) {
            int64_t n = 0;
            ck_assert_msg(wpd_json_int64(&j, v, &n) == 0, "\"%s\" is not an integer: %s", key,
                          shown);
        } else if (strcmp(key, "exit_code") == 0 || strcmp(key, "started") == 0 ||
                   strcmp(key, "finished") == 0) {
            int64_t n = 0;
            ck_assert_msg(wpd_json_int64(&j, v, &n) == 0, "\"%s\" is not an integer: %s", key,
                          shown);
            if (key[0] == 'e') {
                ev.has_exit_code = 1;
                ev.exit_code = (int)n;
            } else if (key[0] == 's') {
                ev.started = n;
            } else {
                ev.finished = n;
            }
        } else if (strcmp(key, "oom_killed") == 0) {
            bool b = false;
            ck_assert_msg(wpd_json_bool(&j, v, &b) == 0, "\"oom_killed\" is not a boolean: %s",
                          shown);
            ev.has_oom = 1;
            ev.oom_killed = b;
        } else {
            ck_assert_msg(t == WPD_JSON_STRING, "\"%s\" is not a string: %s", key, shown);
            size_t n = 0;
            char *s = wpd_json_strn(&j, v, &n);
            if (strcmp(key, "workflow") == 0)
                ev.workflow = s;
            else if (strcmp(key, "workflow_id") == 0)
                ev.workflow_id = s;
            else if (strcmp(key, "status") == 0)
                ev.status = s;
            else if (strcmp(key, "error") == 0)
                ev.error = s;
            else if (strcmp(key, "step") == 0)
                ev.step = s;
            else if (strcmp(key, "uuid") == 0)
                ev.uuid = s;
            else if (strcmp(key, "stream") == 0)
                ev.stream = s;
            else if (strcmp(key, "line") == 0) {
                ev.line = s;
                ev.line_len = n;
            } else
                free(s);
        }
        free(key);
        tok = wpd_json_skip(&j, tok);
    }
    wpd_json_free(&j);
    ck_assert_msg(ev.workflow != NULL, "no \"workflow\": %s", shown);
    static const char *const wf_status[] = {"started",  "success", "failure",
                                            "canceled", "error",   NULL};
    static const char *const step_status[] = {"started",  "success", "failure", "skipped",
                                              "canceled", "error",   NULL};
    static const char *const streams[] = {"stdout", "stderr", NULL};
    long long lo = x->t_spawn_ms / 1000 - 1, hi = tu_now_ms() / 1000 + 1;
    switch (ev.kind) {
    case TU_EV_WORKFLOW:
        ck_assert_msg(ev.status && one_of(ev.status, wf_status), "bad workflow status: %s", shown);
        ck_assert_msg(ev.workflow_id && tu_ulid_ms(ev.workflow_id) > 0 &&
                          strlen(ev.workflow_id) == 26,
                      "no ULID \"workflow_id\": %s", shown);
        if (strcmp(ev.status, "started") == 0 || strcmp(ev.status, "success") == 0)
            ck_assert_msg(!ev.error, "%s workflow with an error: %s", ev.status, shown);
        else if (strcmp(ev.status, "canceled") != 0)
            ck_assert_msg(ev.error && *ev.error, "%s workflow without an error: %s", ev.status,
                          shown);
        break;
    case TU_EV_STEP:
        ck_assert_msg(ev.step && ev.uuid && *ev.uuid, "step event without step/uuid: %s", shown);
        ck_assert_msg(ev.status && one_of(ev.status, step_status), "bad step status: %s", shown);
        if (strcmp(ev.status, "started") == 0) {
            ck_assert_msg(!ev.has_exit_code && !ev.has_oom && !ev.finished && !ev.error,
                          "a started event with results: %s", shown);
            ck_assert_msg(ev.started, "a started event without \"started\": %s", shown);
        } else if (strcmp(ev.status, "skipped") == 0) {
            ck_assert_msg(!ev.has_exit_code && !ev.has_oom, "a skipped step with an exit code: %s",
                          shown);
        } else if (strcmp(ev.status, "success") == 0) {
            ck_assert_msg(!ev.error, "a successful step with an error: %s", shown);
        } else {
            ck_assert_msg(ev.error && *ev.error, "a %s step without an error: %s", ev.status,
                          shown);
        }
        if (ev.started)
            ck_assert_msg(ev.started >= lo && ev.started <= hi,
                          "\"started\" is not the time of this run (%lld..%lld): %s", lo, hi,
                          shown);
        if (ev.finished)
            ck_assert_msg(ev.finished >= ev.started && ev.finished <= hi,
                          "\"finished\" is before \"started\" or in the future: %s", shown);
        break;
    case TU_EV_LOG:
        ck_assert_msg(ev.step && ev.line, "log event without step/line: %s", shown);
        ck_assert_msg(ev.stream && one_of(ev.stream, streams), "bad stream: %s", shown);
        break;
    case TU_EV_PULL:
        ck_assert_msg(ev.step && ev.status, "pull event without step/status: %s", shown);
        break;
    }
    if (ev.kind != TU_EV_LOG || strlen(raw) < 4096)
        ev.raw = raw;
    else
        free(raw); /* the text is kept in ev.line */
    free(shown);
    x->ev = wpd_xrealloc(x->ev, (x->n_ev + 1) * sizeof *x->ev);
    x->ev[x->n_ev++] = ev;
}

static void exec_parse_new(tu_exec *x)
{
    tu_proc *p = &x->proc;
    if (p->out_len && !x->t_first_ms)
        x->t_first_ms = tu_now_ms();
    while (x->json && x->parsed < p->out_len) {
        const char *start = p->out + x->parsed;
        const char *nl = memchr(start, '\n', p->out_len - x->parsed);
        if (!nl)
            return;
        parse_event(x, start, (size_t)(nl - start));
        x->parsed = (size_t)(nl - p->out) + 1;
    }
}

static void env_push(const char ***env, size_t *n, const char *entry)
{
    *env = wpd_xrealloc(*env, (*n + 2) * sizeof **env);
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
}

void tu_exec_start(tu_exec *x, const char *const *args, const char *const *extra_env)
{
    tu_exec_start_prog(x, WPDOCK_CLI, args, extra_env);
}

void tu_exec_start_prog(tu_exec *x, const char *prog, const char *const *args,
                        const char *const *extra_env)
{
    extern char **environ;
    memset(x, 0, sizeof *x);
    const char **env = NULL;
    size_t n_env = 0;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "DOCKER_", 7) == 0 || strncmp(*e, "WOODPECKER_", 11) == 0 ||
            strncmp(*e, "CONTAINER_HOST=", 15) == 0)
            continue;
        env_push(&env, &n_env, *e);
    }
    char *host = wpd_xasprintf("DOCKER_HOST=%s", tu_engine_host());
    char *certs = NULL;
    env_push(&env, &n_env, host);
    if (tu_engine_cert_path()) {
        certs = wpd_xasprintf("DOCKER_CERT_PATH=%s", tu_engine_cert_path());
        env_push(&env, &n_env, certs);
        env_push(&env, &n_env, "DOCKER_TLS_VERIFY=1");
    }
    for (size_t i = 0; extra_env && extra_env[i]; i++) {
        /* an extra entry replaces one of the same name */
        size_t kl = strcspn(extra_env[i], "=") + 1;
        for (size_t k = 0; k < n_env;) {
            if (strncmp(env[k], extra_env[i], kl) == 0) {
                memmove(&env[k], &env[k + 1], (n_env - k) * sizeof *env);
                n_env--;
            } else {
                k++;
            }
        }
        env_push(&env, &n_env, extra_env[i]);
    }
    const char **argv = NULL;
    size_t n_argv = 0;
    env_push(&argv, &n_argv, prog);
    for (size_t i = 0; args[i]; i++) {
        env_push(&argv, &n_argv, args[i]);
        if ((strcmp(args[i], "--log-format") == 0 && args[i + 1] &&
             strcmp(args[i + 1], "json") == 0) ||
            strcmp(args[i], "--log-format=json") == 0)
            x->json = 1;
    }
    x->t_spawn_ms = tu_now_ms();
    int rc = tu_proc_start(&x->proc, argv, env);
    free(argv);
    free(env);
    free(host);
    free(certs);
    ck_assert_msg(rc == 0, "cannot start %s", prog);
}

static bool has_log(const tu_exec *x, const char *step, const char *line)
{
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 && strcmp(e->line, line) == 0)
            return true;
    }
    return false;
}

void tu_exec_wait_log(tu_exec *x, const char *step, const char *line, int timeout_ms)
{
    long long end = tu_now_ms() + timeout_ms;
    for (;;) {
        exec_parse_new(x);
        if (has_log(x, step, line))
            return;
        char *err = tu_shorten(x->proc.err);
        ck_assert_msg(x->proc.out_fd >= 0,
                      "wpdock ended its output before step %s printed \"%s\"; stderr: %s", step,
                      line, err);
        ck_assert_msg(tu_now_ms() < end, "step %s did not print \"%s\" within %d ms; stderr: %s",
                      step, line, timeout_ms, err);
        free(err);
        tu_proc_pump(&x->proc, 100);
    }
}

/* Order of the events: one workflow "started" first, one final workflow
 * event last; per step at most one "started" before exactly one final
 * event, its logs in between; one uuid per step name. */
static void check_sequence(const tu_exec *x)
{
    if (x->n_ev == 0)
        return;
    ck_assert_msg(x->ev[0].kind == TU_EV_WORKFLOW && strcmp(x->ev[0].status, "started") == 0,
                  "the first event is not the workflow start: %s", x->ev[0].raw);
    const tu_event *lastev = &x->ev[x->n_ev - 1];
    ck_assert_msg(lastev->kind == TU_EV_WORKFLOW && strcmp(lastev->status, "started") != 0,
                  "the last event is not the workflow result: %s",
                  lastev->raw ? lastev->raw : lastev->line);
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        ck_assert_msg(strcmp(e->workflow, x->ev[0].workflow) == 0,
                      "events of several workflows in a one-file run");
        if (i > 0 && i + 1 < x->n_ev)
            ck_assert_msg(e->kind != TU_EV_WORKFLOW, "a workflow event in the middle: %s", e->raw);
        if (e->kind == TU_EV_WORKFLOW)
            continue;
        long started_at = -1, final_at = -1;
        int n_started = 0, n_final = 0;
        for (size_t k = 0; k < x->n_ev; k++) {
            const tu_event *o = &x->ev[k];
            if (o->kind != TU_EV_STEP || strcmp(o->step, e->step) != 0)
                continue;
            if (strcmp(o->status, "started") == 0) {
                n_started++;
                started_at = (long)k;
            } else {
                n_final++;
                final_at = (long)k;
            }
            if (e->kind == TU_EV_STEP)
                ck_assert_msg(strcmp(o->uuid, e->uuid) == 0, "step %s has two uuids", e->step);
        }
        ck_assert_msg(n_final == 1, "step %s has %d final events", e->step, n_final);
        ck_assert_msg(n_started <= 1, "step %s started %d times", e->step, n_started);
        ck_assert_msg(started_at < final_at, "step %s: final event before \"started\"", e->step);
        if (e->kind == TU_EV_LOG || e->kind == TU_EV_PULL)
            ck_assert_msg(started_at >= 0 && (long)i > started_at && (long)i < final_at,
                          "a %s event of step %s outside its started..final events",
                          e->kind == TU_EV_LOG ? "log" : "pull", e->step);
    }
}

int tu_exec_finish(tu_exec *x, int timeout_ms)
{
    x->status = tu_proc_finish(&x->proc, timeout_ms);
    x->t_end_ms = tu_now_ms();
    exec_parse_new(x);
    if (!x->t_first_ms)
        x->t_first_ms = x->t_end_ms;
    char *err = tu_shorten(x->proc.err);
    ck_assert_msg(x->status >= 0, "wpdock did not finish within %d ms; stderr: %s", timeout_ms,
                  err);
    if (x->json)
        ck_assert_msg(x->parsed == x->proc.out_len, "stdout does not end with a newline");
    free(err);
    check_sequence(x);
    return x->status;
}

int tu_exec_run(tu_exec *x, const char *const *args, const char *const *extra_env, int timeout_ms)
{
    tu_exec_start(x, args, extra_env);
    return tu_exec_finish(x, timeout_ms);
}

void tu_exec_watch_name(tu_exec *x, const char *name)
{
    x->names = wpd_xrealloc(x->names, (x->n_names + 1) * sizeof *x->names);
    x->names[x->n_names++] = wpd_xstrdup(name);
}

const tu_event *tu_exec_step(const tu_exec *x, const char *step)
{
    const tu_event *r = NULL;
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].step, step) == 0 &&
            strcmp(x->ev[i].status, "started") != 0)
            r = &x->ev[i];
    return r;
}

const tu_event *tu_exec_step_started(const tu_exec *x, const char *step)
{
    for (size_t i = 0; i < x->n_ev; i++)
        if (x->ev[i].kind == TU_EV_STEP && strcmp(x->ev[i].step, step) == 0 &&
            strcmp(x->ev[i].status, "started") == 0)
            return &x->ev[i];
    return NULL;
}

const tu_event *tu_exec_workflow(const tu_exec *x)
{
    for (size_t i = x->n_ev; i-- > 0;)
        if (x->ev[i].kind == TU_EV_WORKFLOW && strcmp(x->ev[i].status, "started") != 0)
            return &x->ev[i];
    return NULL;
}

size_t tu_exec_count_lines(const tu_exec *x, const char *step, const char *stream, const char *line)
{
    size_t n = 0;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            (!stream || strcmp(e->stream, stream) == 0) && (!line || strcmp(e->line, line) == 0))
            n++;
    }
    return n;
}

char *tu_exec_join_lines(const tu_exec *x, const char *step, const char *stream)
{
    wpd_buf b = WPD_BUF_INIT;
    for (size_t i = 0; i < x->n_ev; i++) {
        const tu_event *e = &x->ev[i];
        if (e->kind == TU_EV_LOG && strcmp(e->step, step) == 0 &&
            (!stream || strcmp(e->stream, stream) == 0)) {
            wpd_buf_append(&b, e->line, e->line_len);
            wpd_buf_putc(&b, '\n');
        }
    }
    return wpd_buf_steal(&b);
}

void tu_exec_free(tu_exec *x)
{
    tu_proc_free(&x->proc);
    for (size_t i = 0; i < x->n_ev; i++) {
        tu_event *e = &x->ev[i];
        free(e->raw);
        free(e->workflow);
        free(e->workflow_id);
        free(e->status);
        free(e->error);
        free(e->step);
        free(e->uuid);
        free(e->stream);
        free(e->line);
    }
    free(x->ev);
    for (size_t i = 0; i < x->n_names; i++)
        free(x->names[i]);
    free(x->names);
    memset(x, 0, sizeof *x);
}

int tu_cli(const char *env, const char *args, char **out, char **err)
{
    char errfile[] = "/tmp/wpdock-cli-err-XXXXXX";
    int fd = mkstemp(errfile);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *cmd = wpd_xasprintf("env -u WOODPECKER_BACKEND_DOCKER_HOST %s '%s' %s 2>'%s'",
                              env ? env : "", WPDOCK_CLI, args, errfile);
    int rc = tu_run(cmd, 0, out);
    free(cmd);
    *err = tu_read_file(errfile, NULL);
    unlink(errfile);
    ck_assert_ptr_nonnull(*err);
    ck_assert_msg(!strstr(*err, "Sanitizer"), "sanitizer report: %s", *err);
    return rc;
}
