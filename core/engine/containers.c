/* containers.c - container lifecycle calls: create, start, stop, kill,
 * remove, attach, logs and wait (inspect and list: container_info.c). */
#include "engine/containers.h"

#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/parse.h"
#include "engine/stream.h"

/* "/containers/<escaped name><suffix>" */
static char *ctr_path(const char *name, const char *suffix)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/");
    wpd_path_escape(&p, name);
    wpd_buf_puts(&p, suffix);
    return wpd_buf_steal(&p);
}

/* ---- state changes: start, stop, kill, remove ------------------------ */

typedef struct change_call {
    wpd_call base;
    wpd_change_op op;
    wpd_change_fn done;
    void *arg;
} change_call;

static void change_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    change_call *cc = (change_call *)c;
    wpd_change outcome = WPD_CHANGE_DONE;
    if (err && wpd_dialect_harmless(cc->op, err, &outcome))
        err = NULL;
    else if (!err && res && res->status == 304)
        outcome = WPD_CHANGE_ALREADY;
    cc->done(cc->arg, err ? WPD_CHANGE_DONE : outcome, err);
}

static const wpd_call_type change_type = {.complete = change_complete};

wpd_call *wpd_change_send(wpd_engine *e, wpd_change_op op, const char *method, char *path,
                          wpd_change_fn done, void *arg)
{
    change_call *cc = wpd_call_new(e, &change_type, sizeof *cc);
    cc->op = op;
    cc->done = done;
    cc->arg = arg;
    wpd_call_req rq = {.method = method, .path = path};
    wpd_call_send(&cc->base, &rq);
    free(path);
    return &cc->base;
}

wpd_call *wpd_ctr_start(wpd_engine *e, const char *name, wpd_change_fn done, void *arg)
{
    return wpd_change_send(e, WPD_CHANGE_OP_START, "POST", ctr_path(name, "/start"), done, arg);
}

wpd_call *wpd_ctr_stop(wpd_engine *e, const char *name, long timeout_s, wpd_change_fn done,
                       void *arg)
{
    char *path = ctr_path(name, "/stop");
    if (timeout_s >= 0) {
        char *p = wpd_xasprintf("%s?t=%ld", path, timeout_s);
        free(path);
        path = p;
    }
    return wpd_change_send(e, WPD_CHANGE_OP_STOP, "POST", path, done, arg);
}

wpd_call *wpd_ctr_kill(wpd_engine *e, const char *name, const char *signal, wpd_change_fn done,
                       void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/");
    wpd_path_escape(&p, name);
    wpd_buf_puts(&p, "/kill?signal=");
    wpd_path_escape(&p, signal ? signal : "KILL");
    return wpd_change_send(e, WPD_CHANGE_OP_KILL, "POST", wpd_buf_steal(&p), done, arg);
}

wpd_call *wpd_ctr_remove(wpd_engine *e, const char *name, bool force, bool volumes,
                         wpd_change_fn done, void *arg)
{
    const char *q = force && volumes ? "?force=1&v=1" : force ? "?force=1" : volumes ? "?v=1" : "";
    return wpd_change_send(e, WPD_CHANGE_OP_REMOVE, "DELETE", ctr_path(name, q), done, arg);
}

/* ---- create ----------------------------------------------------------- */

/* {"Id":..,"Warnings":[..]}; the name addresses the container, so an
 * unreadable answer is no failure */
static int created_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    (void)err;
    wpd_ctr_created *c = r;
    wpd_json j;
    c->id = "";
    if (wpd_json_parse_in(&j, body ? body : "", body ? len : 0, a, NULL) == 0) {
        c->id = wpd_resp_str(&j, 0, "Id", a);
        c->n_warnings = wpd_resp_strings(&j, wpd_json_get(&j, 0, "Warnings"), a, &c->warnings);
    }
    wpd_json_free(&j);
    return 0;
}

static void created_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    ((wpd_ctr_create_fn)done)(arg, r, err);
}

static const wpd_result_type created_type = {sizeof(wpd_ctr_created), created_parse, created_emit};

wpd_call *wpd_ctr_create(wpd_engine *e, const char *name, const char *body, wpd_ctr_create_fn done,
                         void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/create");
    if (name && *name) {
        wpd_buf_puts(&p, "?name=");
        wpd_path_escape(&p, name);
    }
    wpd_call_req rq = {.method = "POST", .path = wpd_buf_cstr(&p), .body = body ? body : "{}"};
    wpd_call *c = wpd_result_send(e, &created_type, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&p);
    return c;
}

/* ---- attach and logs -------------------------------------------------- */

wpd_call *wpd_ctr_attach(wpd_engine *e, const char *name, bool tty, const wpd_output_cbs *cbs)
{
    char *path = ctr_path(name, "/attach?stream=1&stdout=1&stderr=1");
    wpd_call_req rq = {.method = "POST", .path = path};
    wpd_call *c = wpd_stream_open(e, &rq, tty, cbs);
    free(path);
    return c;
}

wpd_call *wpd_ctr_logs(wpd_engine *e, const char *name, const wpd_logs_opts *o,
                       const wpd_output_cbs *cbs)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/");
    wpd_path_escape(&p, name);
    wpd_buf_puts(&p, "/logs?");
    if (o->follow)
        wpd_buf_puts(&p, "follow=1&");
    wpd_buf_printf(&p, "stderr=%d&stdout=%d", o->no_stderr ? 0 : 1, o->no_stdout ? 0 : 1);
    if (o->tail > 0)
        wpd_buf_printf(&p, "&tail=%ld", o->tail);
    wpd_call_req rq = {.method = "GET", .path = wpd_buf_cstr(&p)};
    wpd_call *c = wpd_stream_open(e, &rq, o->tty, cbs);
    wpd_buf_free(&p);
    return c;
}

/* ---- wait ------------------------------------------------------------- */

int wpd_ctr_wait_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_waited *out,
                       wpd_error *err)
{
    wpd_json j;
    out->status_code = 0;
    out->status_known = false;
    out->error = "";
    if (wpd_resp_body(&j, body, len, "container wait", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) == WPD_JSON_NUMBER) { /* libpod: a bare exit code */
        out->status_known = wpd_json_int64(&j, 0, &out->status_code) == 0;
    } else {
        out->status_known = wpd_json_get_int64(&j, 0, "StatusCode", &out->status_code) == 0;
        out->error = wpd_resp_str(&j, 0, "Error.Message", a);
    }
    wpd_json_free(&j);
    return 0;
}

typedef struct wait_call {
    wpd_call base;
    wpd_ctr_wait_fn done;
    void *arg;
} wait_call;

static void wait_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    wait_call *w = (wait_call *)c;
    if (err) {
        w->done(w->arg, NULL, err);
        return;
    }
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_waited r;
    wpd_error e;
    /* an unreadable answer still means the wait is over */
    wpd_ctr_wait_parse(res->body.data, res->body.len, a, &r, &e);
    w->done(w->arg, &r, NULL);
    wpd_arena_free(a);
}

static void wait_cleanup(wpd_call *c)
{
    (*wpd_engine_waits(c->e))--;
}

static const wpd_call_type wait_type = {.complete = wait_complete, .cleanup = wait_cleanup};

wpd_call *wpd_ctr_wait(wpd_engine *e, const char *name, wpd_wait_cond cond, wpd_ctr_wait_fn done,
                       void *arg)
{
    wait_call *w = wpd_call_new(e, &wait_type, sizeof *w);
    w->done = done;
    w->arg = arg;
    int *waits = wpd_engine_waits(e);
    ++*waits;
    wpd_buf p = WPD_BUF_INIT;
    bool unversioned;
    wpd_dialect_wait_path(wpd_engine_get_kind(e), wpd_engine_libpod_prefix(e), name, cond, *waits,
                          &p, &unversioned);
    wpd_call_req rq = {.method = "POST", .path = wpd_buf_cstr(&p), .unversioned = unversioned};
    wpd_call_send(&w->base, &rq);
    wpd_buf_free(&p);
    return &w->base;
}
