/* ops.c - what a test does with a running container: its address, exec,
 * logs, copy in and out, stop, exit code and terminate. Exec and terminate
 * are operations in flight (hops) with async forms; the others run the
 * session's reactor until their one engine call is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness_private.h"

const char *wpd_ctr_id(const wpd_ctr *c)
{
    return c ? c->id : NULL;
}

const char *wpd_ctr_host(const wpd_ctr *c)
{
    return c ? c->host : NULL;
}

wpd_session *wpd_ctr_session(const wpd_ctr *c)
{
    return c ? c->s : NULL;
}

int wpd_ctr_port(const wpd_ctr *c, const char *ctr_port)
{
    char key[24];
    if (!c || hx_port_key(ctr_port, key, NULL, NULL) != 0)
        return -1;
    for (size_t i = 0; i < c->n_ports; i++)
        if (strcmp(c->ports[i].key, key) == 0)
            return c->ports[i].host_port;
    return -1;
}

/* ---- exec ------------------------------------------------------------------ */

typedef struct exec_op {
    wpd_hop h;
    wpd_ctr *c;
    wpd_exec_fn cb;
    void *arg;
    wpd_call *call;
    char *exec_id;
    char **argv;
    size_t argc;
    wpd_buf out, errb;
    int tries;
    wpd_exec_result res;
} exec_op;

static void exec_fail(exec_op *x, const char *what, const wpd_error *err)
{
    wpd_error e = *err;
    wpd_error_prefix(&e, "wpd_ctr_exec: %s: %s %s", x->argv[0], x->c->short_id, what);
    hx_hop_finish(&x->h, &e);
}

static void on_x_inspect(void *arg, const wpd_exec_info *info, const wpd_error *err)
{
    exec_op *x = arg;
    x->call = NULL;
    if (err) {
        exec_fail(x, "inspect", err);
        return;
    }
    if ((info->running || !info->has_exit_code) && ++x->tries < 100) {
        x->call = wpd_exec_inspect(x->h.s->e, x->exec_id, on_x_inspect, x);
        return;
    }
    x->res.exit_code = (int)info->exit_code;
    hx_hop_finish(&x->h, NULL);
}

static int on_x_data(void *arg, int stream, const char *data, size_t len)
{
    exec_op *x = arg;
    wpd_buf_append(stream == 2 ? &x->errb : &x->out, data, len);
    return 0;
}

static void on_x_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    exec_op *x = arg;
    (void)end;
    x->call = NULL;
    if (err) {
        exec_fail(x, "output", err);
        return;
    }
    x->call = wpd_exec_inspect(x->h.s->e, x->exec_id, on_x_inspect, x);
}

static void on_x_created(void *arg, const char *id, const wpd_error *err)
{
    exec_op *x = arg;
    x->call = NULL;
    if (err) {
        exec_fail(x, "create", err);
        return;
    }
    x->exec_id = wpd_xstrdup(id);
    wpd_output_cbs cbs = {.data = on_x_data, .done = on_x_done, .arg = x};
    x->call = wpd_exec_start(x->h.s->e, id, false, &cbs);
}

static void x_cancel(wpd_hop *h)
{
    exec_op *x = (exec_op *)h;
    if (x->call) {
        wpd_call_abandon(x->call);
        x->call = NULL;
    }
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_CANCELED, 0, "wpd_ctr_exec: canceled");
    hx_hop_finish(h, &e);
}

static void x_deliver(wpd_hop *h)
{
    exec_op *x = (exec_op *)h;
    if (!h->failed) {
        x->res.out = x->out.data ? x->out.data : "";
        x->res.out_len = x->out.len;
        x->res.err = x->errb.data ? x->errb.data : "";
        x->res.err_len = x->errb.len;
    }
    x->cb(x->c, h->failed ? NULL : &x->res, h->failed ? &h->err : NULL, x->arg);
}

static void x_destroy(wpd_hop *h)
{
    exec_op *x = (exec_op *)h;
    if (x->call)
        wpd_call_abandon(x->call);
    free(x->exec_id);
    for (size_t i = 0; i < x->argc; i++)
        free(x->argv[i]);
    free(x->argv);
    wpd_buf_free(&x->out);
    wpd_buf_free(&x->errb);
    free(x);
}

wpd_hop *wpd_ctr_exec_async(wpd_ctr *c, const char *const *argv, wpd_exec_fn cb, void *arg)
{
    if (!c || !cb || getpid() != c->s->pid)
        return NULL;
    exec_op *x = wpd_xcalloc(1, sizeof *x);
    hx_hop_init(&x->h, c->s);
    x->h.cancel = x_cancel;
    x->h.deliver = x_deliver;
    x->h.destroy = x_destroy;
    x->c = c;
    x->cb = cb;
    x->arg = arg;
    while (argv && argv[x->argc])
        x->argc++;
    x->argv = wpd_xcalloc(x->argc + 1, sizeof *x->argv);
    for (size_t i = 0; i < x->argc; i++)
        x->argv[i] = wpd_xstrdup(argv[i]);
    if (!x->argc) {
        x->argv[0] = wpd_xstrdup("");
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_USAGE, 0, "wpd_ctr_exec: the argv is empty");
        hx_hop_finish(&x->h, &e);
        return &x->h;
    }
    wpd_exec_spec es = {.cmd = (const char *const *)x->argv,
                        .n_cmd = x->argc,
                        .attach_stdout = true,
                        .attach_stderr = true};
    x->call = wpd_exec_create(c->s->e, c->id, &es, on_x_created, x);
    return &x->h;
}

typedef struct exec_sync {
    volatile bool done;
    bool failed;
    wpd_error err;
    wpd_exec_result *r;
} exec_sync;

static char *dup_bytes(const char *p, size_t n)
{
    char *o = wpd_xmalloc(n + 1);
    if (n)
        memcpy(o, p, n);
    o[n] = '\0';
    return o;
}

static void on_exec_sync(wpd_ctr *c, const wpd_exec_result *r, const wpd_error *err, void *arg)
{
    exec_sync *es = arg;
    (void)c;
    if (err) {
        es->failed = true;
        es->err = *err;
    } else {
        es->r->exit_code = r->exit_code;
        es->r->out = dup_bytes(r->out, r->out_len);
        es->r->out_len = r->out_len;
        es->r->err = dup_bytes(r->err, r->err_len);
        es->r->err_len = r->err_len;
    }
    es->done = true;
}

int wpd_ctr_exec(wpd_ctr *c, const char *const *argv, wpd_exec_result *r, wpd_error *err)
{
    if (!c)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_ctr_exec: the container is NULL");
    if (hx_check(c->s, true, "wpd_ctr_exec", err) != 0)
        return -1;
    if (!r)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_ctr_exec: the result is NULL");
    memset(r, 0, sizeof *r);
    exec_sync es = {.r = r};
    wpd_ctr_exec_async(c, argv, on_exec_sync, &es);
    if (hx_run_until(c->s, &es.done, err) != 0)
        return -1;
    if (es.failed) {
        if (err)
            *err = es.err;
        return -1;
    }
    return 0;
}

void wpd_exec_result_clear(wpd_exec_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* ---- one engine call as an operation: logs, copy in/out, stop ------------------- */

enum { ONE_LOGS, ONE_COPY_IN, ONE_COPY_OUT, ONE_STOP, ONE_EXIT };

typedef struct one_op {
    wpd_hop h;
    int kind;
    wpd_ctr *c;
    wpd_call *call;
    char *path;
    wpd_buf data;
    bool is_dir;
    char *out; /* copy out: the file's contents */
    size_t out_len;
    wpd_data_fn dcb;
    wpd_harness_done_fn cb;
    wpd_exit_fn ecb;
    int exit_code;
    void *arg;
} one_op;

static const char *const one_names[] = {"wpd_ctr_logs", "wpd_ctr_copy_in", "wpd_ctr_copy_out",
                                        "wpd_ctr_stop", "wpd_ctr_exit_code"};

static void one_finish(one_op *o, const wpd_error *err)
{
    o->call = NULL;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "%s: %s%s%s", one_names[o->kind], o->c->short_id, o->path ? " " : "",
                         o->path ? o->path : "");
        hx_hop_finish(&o->h, &e);
        return;
    }
    hx_hop_finish(&o->h, NULL);
}

static int on_o_data(void *arg, int stream, const char *data, size_t len)
{
    one_op *o = arg;
    (void)stream;
    wpd_buf_append(&o->data, data, len);
    return 0;
}

static void on_o_stream_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    (void)end;
    one_finish(arg, err);
}

static void on_o_done(void *arg, const wpd_error *err)
{
    one_finish(arg, err);
}

static void on_o_change(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome;
    one_finish(arg, err);
}

static int on_o_get_data(void *arg, const char *data, size_t len)
{
    one_op *o = arg;
    wpd_buf_append(&o->data, data, len);
    return 0;
}

static void on_o_get_stat(void *arg, const wpd_path_stat *st)
{
    ((one_op *)arg)->is_dir = st->is_dir;
}

/* The file in the archive copy out received; 0 or -1 with err. */
static int untar(one_op *o, wpd_error *err)
{
    if (o->is_dir)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "is a directory");
    wpd_arena *a = wpd_arena_new();
    size_t off = 0;
    wpd_tar_entry ent;
    int rc = -1;
    for (;;) {
        int k = wpd_tar_next(o->data.data ? o->data.data : "", o->data.len, &off, a, &ent, err);
        if (k < 0)
            break;
        if (k == 0) {
            wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "the engine's archive holds no file");
            break;
        }
        if (ent.type == '0') {
            o->out = wpd_xmalloc((size_t)ent.size + 1);
            memcpy(o->out, ent.data, (size_t)ent.size);
            o->out[ent.size] = '\0';
            o->out_len = (size_t)ent.size;
            rc = 0;
            break;
        }
        if (ent.type == '2') {
            wpd_error_set(err, WPD_ERR_USAGE, 0, "is a symbolic link (to %s)",
                          ent.link_name ? ent.link_name : "?");
            break;
        }
    }
    wpd_arena_free(a);
    return rc;
}

static void on_o_get_done(void *arg, const wpd_error *err)
{
    one_op *o = arg;
    wpd_error e;
    if (!err && untar(o, &e) != 0)
        err = &e;
    one_finish(o, err);
}

static void o_cancel(wpd_hop *h)
{
    one_op *o = (one_op *)h;
    if (o->call) {
        wpd_call_abandon(o->call);
        o->call = NULL;
    }
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_CANCELED, 0, "canceled");
    one_finish(o, &e);
}

static void o_deliver(wpd_hop *h)
{
    one_op *o = (one_op *)h;
    const wpd_error *err = h->failed ? &h->err : NULL;
    if (o->kind == ONE_LOGS)
        o->dcb(o->c, err ? NULL : wpd_buf_cstr(&o->data), err ? 0 : o->data.len, err, o->arg);
    else if (o->kind == ONE_COPY_OUT)
        o->dcb(o->c, err ? NULL : o->out, err ? 0 : o->out_len, err, o->arg);
    else if (o->kind == ONE_EXIT)
        o->ecb(o->c, err ? -1 : o->exit_code, err, o->arg);
    else if (o->cb)
        o->cb(err, o->arg);
}

static void o_destroy(wpd_hop *h)
{
    one_op *o = (one_op *)h;
    if (o->call)
        wpd_call_abandon(o->call);
    free(o->path);
    free(o->out);
    wpd_buf_free(&o->data);
    free(o);
}

static one_op *one_new(wpd_ctr *c, int kind, const char *path, void *arg)
{
    if (!c || getpid() != c->s->pid)
        return NULL;
    one_op *o = wpd_xcalloc(1, sizeof *o);
    hx_hop_init(&o->h, c->s);
    o->h.cancel = o_cancel;
    o->h.deliver = o_deliver;
    o->h.destroy = o_destroy;
    o->kind = kind;
    o->c = c;
    o->arg = arg;
    o->path = path ? wpd_xstrdup(path) : NULL;
    return o;
}

static wpd_hop *one_usage(one_op *o, const char *msg)
{
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_USAGE, 0, "%s", msg);
    one_finish(o, &e);
    return &o->h;
}

wpd_hop *wpd_ctr_logs_async(wpd_ctr *c, wpd_data_fn cb, void *arg)
{
    one_op *o = cb ? one_new(c, ONE_LOGS, NULL, arg) : NULL;
    if (!o)
        return NULL;
    o->dcb = cb;
    wpd_logs_opts lo = {0};
    wpd_output_cbs cbs = {.data = on_o_data, .done = on_o_stream_done, .arg = o};
    o->call = wpd_engine_ctr_logs(c->s->e, c->id, &lo, &cbs);
    return &o->h;
}

wpd_hop *wpd_ctr_copy_in_async(wpd_ctr *c, const char *ctr_path, const void *data, size_t len,
                               unsigned mode, wpd_harness_done_fn cb, void *arg)
{
    one_op *o = one_new(c, ONE_COPY_IN, ctr_path ? ctr_path : "(null)", arg);
    if (!o)
        return NULL;
    o->cb = cb;
    if (!ctr_path || ctr_path[0] != '/' || !ctr_path[1] || ctr_path[strlen(ctr_path) - 1] == '/')
        return one_usage(o, "not an absolute file path");
    if (!data && len)
        return one_usage(o, "data is NULL");
    wpd_tar_file tf = {.name = ctr_path + 1,
                       .mode = mode & 07777,
                       .mtime = (int64_t)time(NULL),
                       .data = data ? data : "",
                       .len = len};
    wpd_buf tar = WPD_BUF_INIT;
    wpd_error e;
    if (wpd_tar_one_file(&tf, &tar, &e) != 0) {
        wpd_buf_free(&tar);
        one_finish(o, &e);
        return &o->h;
    }
    o->call = wpd_archive_put(c->s->e, c->id, "/", tar.data, tar.len, on_o_done, o);
    wpd_buf_free(&tar);
    return &o->h;
}

wpd_hop *wpd_ctr_copy_out_async(wpd_ctr *c, const char *ctr_path, wpd_data_fn cb, void *arg)
{
    one_op *o = cb ? one_new(c, ONE_COPY_OUT, ctr_path ? ctr_path : "(null)", arg) : NULL;
    if (!o)
        return NULL;
    o->dcb = cb;
    if (!ctr_path || ctr_path[0] != '/')
        return one_usage(o, "not an absolute path");
    wpd_archive_get_cbs cbs = {
        .stat = on_o_get_stat, .data = on_o_get_data, .done = on_o_get_done, .arg = o};
    o->call = wpd_archive_get(c->s->e, c->id, ctr_path, &cbs);
    return &o->h;
}

wpd_hop *wpd_ctr_stop_async(wpd_ctr *c, long grace_ms, wpd_harness_done_fn cb, void *arg)
{
    one_op *o = one_new(c, ONE_STOP, NULL, arg);
    if (!o)
        return NULL;
    o->cb = cb;
    long secs = grace_ms <= 0 ? 0 : (grace_ms + 999) / 1000;
    o->call = wpd_engine_ctr_stop(c->s->e, c->id, secs, on_o_change, o);
    return &o->h;
}

static void on_o_inspect(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    one_op *o = arg;
    if (!err && info->running) {
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_USAGE, 0, "still running (stop it or wait for its exit first)");
        one_finish(o, &e);
        return;
    }
    if (!err)
        o->exit_code = (int)info->exit_code;
    one_finish(o, err);
}

wpd_hop *wpd_ctr_exit_code_async(wpd_ctr *c, wpd_exit_fn cb, void *arg)
{
    one_op *o = cb ? one_new(c, ONE_EXIT, NULL, arg) : NULL;
    if (!o)
        return NULL;
    o->ecb = cb;
    o->call = wpd_ctr_inspect(c->s->e, c->id, on_o_inspect, o);
    return &o->h;
}

/* ---- the blocking forms ------------------------------------------------------- */

typedef struct one_sync {
    volatile bool done;
    bool failed;
    wpd_error err;
    char *data;
    size_t len;
} one_sync;

static void on_sync_data(wpd_ctr *c, const char *data, size_t len, const wpd_error *err, void *arg)
{
    one_sync *os = arg;
    (void)c;
    if (err) {
        os->failed = true;
        os->err = *err;
    } else {
        os->data = dup_bytes(data, len);
        os->len = len;
    }
    os->done = true;
}

static void on_sync_done(const wpd_error *err, void *arg)
{
    one_sync *os = arg;
    if (err) {
        os->failed = true;
        os->err = *err;
    }
    os->done = true;
}

static int check_ctr(wpd_ctr *c, const char *what, wpd_error *err)
{
    if (!c)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: the container is NULL", what);
    return hx_check(c->s, true, what, err);
}

static int sync_wait(wpd_ctr *c, one_sync *os, char **data, size_t *len, wpd_error *err)
{
    if (hx_run_until(c->s, &os->done, err) != 0)
        return -1;
    if (os->failed) {
        if (err)
            *err = os->err;
        return -1;
    }
    if (data)
        *data = os->data;
    else
        free(os->data);
    if (len)
        *len = os->len;
    return 0;
}

int wpd_ctr_logs(wpd_ctr *c, char **buf, size_t *len, wpd_error *err)
{
    if (check_ctr(c, "wpd_ctr_logs", err) != 0)
        return -1;
    one_sync os = {0};
    wpd_ctr_logs_async(c, on_sync_data, &os);
    return sync_wait(c, &os, buf, len, err);
}

int wpd_ctr_copy_in(wpd_ctr *c, const char *ctr_path, const void *data, size_t len, unsigned mode,
                    wpd_error *err)
{
    if (check_ctr(c, "wpd_ctr_copy_in", err) != 0)
        return -1;
    one_sync os = {0};
    wpd_ctr_copy_in_async(c, ctr_path, data, len, mode, on_sync_done, &os);
    return sync_wait(c, &os, NULL, NULL, err);
}

int wpd_ctr_copy_out(wpd_ctr *c, const char *ctr_path, char **data, size_t *len, wpd_error *err)
{
    if (check_ctr(c, "wpd_ctr_copy_out", err) != 0)
        return -1;
    one_sync os = {0};
    wpd_ctr_copy_out_async(c, ctr_path, on_sync_data, &os);
    return sync_wait(c, &os, data, len, err);
}

int wpd_ctr_stop(wpd_ctr *c, long grace_ms, wpd_error *err)
{
    if (check_ctr(c, "wpd_ctr_stop", err) != 0)
        return -1;
    one_sync os = {0};
    wpd_ctr_stop_async(c, grace_ms, on_sync_done, &os);
    return sync_wait(c, &os, NULL, NULL, err);
}

static void on_sync_exit(wpd_ctr *c, int exit_code, const wpd_error *err, void *arg)
{
    one_sync *os = arg;
    (void)c;
    if (err) {
        os->failed = true;
        os->err = *err;
    }
    os->len = (size_t)(unsigned)exit_code;
    os->done = true;
}

int wpd_ctr_exit_code(wpd_ctr *c, int *exit_code, wpd_error *err)
{
    if (check_ctr(c, "wpd_ctr_exit_code", err) != 0)
        return -1;
    one_sync os = {0};
    wpd_ctr_exit_code_async(c, on_sync_exit, &os);
    if (sync_wait(c, &os, NULL, NULL, err) != 0)
        return -1;
    if (exit_code)
        *exit_code = (int)(unsigned)os.len;
    return 0;
}

/* ---- terminate ------------------------------------------------------------------ */

typedef struct term_op {
    wpd_hop h;
    wpd_ctr *c;
    wpd_harness_done_fn cb;
    void *arg;
    bool removed;
} term_op;

static void on_t_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    term_op *t = arg;
    (void)outcome;
    if (err && !wpd_dialect_no_such_container(err)) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "wpd_ctr_terminate: %s", t->c->short_id);
        hx_hop_finish(&t->h, &e);
        return;
    }
    t->removed = true;
    if (t->h.canceled) {
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_CANCELED, 0, "wpd_ctr_terminate: canceled (%s was removed)",
                      t->c->short_id);
        hx_hop_finish(&t->h, &e);
        return;
    }
    hx_hop_finish(&t->h, NULL);
}

static void t_cancel(wpd_hop *h)
{
    (void)h; /* the removal goes on; the callback reports the cancel */
}

static void t_deliver(wpd_hop *h)
{
    term_op *t = (term_op *)h;
    if (t->removed)
        hx_ctr_free(t->c); /* else it stays in the session: close retries */
    t->c = NULL;
    if (t->cb)
        t->cb(h->failed ? &h->err : NULL, t->arg);
}

static void t_destroy(wpd_hop *h)
{
    free(h);
}

wpd_hop *wpd_ctr_terminate_async(wpd_ctr *c, wpd_harness_done_fn cb, void *arg)
{
    if (!c || getpid() != c->s->pid)
        return NULL;
    term_op *t = wpd_xcalloc(1, sizeof *t);
    hx_hop_init(&t->h, c->s);
    t->h.cancel = t_cancel;
    t->h.deliver = t_deliver;
    t->h.destroy = t_destroy;
    t->c = c;
    t->cb = cb;
    t->arg = arg;
    hx_follow_stop(c);
    wpd_ctr_remove(c->s->e, c->id, true, true, on_t_removed, t);
    return &t->h;
}

typedef struct term_sync {
    volatile bool done;
    bool failed;
    wpd_error err;
} term_sync;

static void on_term_sync(const wpd_error *err, void *arg)
{
    term_sync *ts = arg;
    if (err) {
        ts->failed = true;
        ts->err = *err;
    }
    ts->done = true;
}

int wpd_ctr_terminate(wpd_ctr *c, wpd_error *err)
{
    if (!c)
        return 0;
    if (hx_check(c->s, true, "wpd_ctr_terminate", err) != 0)
        return -1;
    term_sync ts = {0};
    wpd_session *s = c->s;
    wpd_ctr_terminate_async(c, on_term_sync, &ts);
    if (hx_run_until(s, &ts.done, err) != 0)
        return -1;
    if (ts.failed) {
        if (err)
            *err = ts.err;
        return -1;
    }
    return 0;
}
