/* backend.c - the backend operations of spec section 2 as small state
 * machines over engine calls: each wpd_op runs one request at a time and
 * moves to its next state from the request's completion. */
#define _GNU_SOURCE
#include "woodpecker/backend.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "woodpecker/convert.h"
#include "engine/credentials.h"
#include "engine/engine.h"
#include "util/json.h"
#include "engine/stdcopy.h"

struct wpd_backend {
    wpd_engine *engine;
    const wpd_settings *settings;
    wpd_notice_fn notice;
    void *notice_arg;
    bool hurry;
    wpd_op *ops; /* every op in flight */
    size_t n_ops;
};

typedef enum op_kind {
    OP_SETUP,
    OP_START,
    OP_TAIL,
    OP_WAIT,
    OP_STOP,
    OP_DESTROY,
    OP_DESTROY_WF
} op_kind;

typedef void (*op_next_fn)(wpd_op *op, const wpd_http_response *res, const wpd_error *err);

struct wpd_op {
    wpd_backend *b;
    op_kind kind;
    wpd_op *prev, *next;
    wpd_http_request *req;
    op_next_fn next_fn;
    wpd_timer *timer; /* deferred completion, retries */
    bool canceled;
    bool finished;
    wpd_error result;
    bool failed;

    wpd_op_done_fn done;
    wpd_wait_done_fn wait_done;
    void *arg;

    const wpd_step *step;
    const wpd_workflow *wf;
    char *name; /* container name wp_<uuid>, URL-safe (uuid is validated) */

    /* start */
    char *create_body;
    char *auth_header; /* "X-Registry-Auth: ..." or NULL */
    wpd_image_ref ref;
    bool have_ref;
    bool pulled;
    bool created_once;
    size_t connect_index;
    wpd_pull_fn pull_fn;
    void *pull_arg;
    wpd_buf pull_line;
    char *pull_error;
    void (*after_pull)(wpd_op *op, const wpd_error *err);
    wpd_cred_request *cred; /* credentials being resolved for the first pull */
    bool auth_resolved;

    /* tail */
    wpd_output_fn output;
    wpd_stdcopy demux;
    bool demux_failed;
    wpd_error demux_err;
    bool attach;           /* Podman: output from attach, opened before start */
    bool adopted;          /* wpd_backend_tail_step took over this attach */
    bool parked;           /* finished before it was adopted */
    wpd_buf pending_raw;   /* attach bytes that arrived before adoption */
    wpd_op *pretail;       /* start op: the attach opened for this step */
    wpd_op *owner;         /* attach op: the start op waiting for its headers */
    uint64_t sent_hash[3]; /* per stream: FNV-1a of the bytes delivered */
    uint64_t sent_len[3];
    wpd_stdcopy recon; /* post-exit re-read (reconciliation) */
    uint64_t recon_hash[3];
    uint64_t recon_len[3];
    bool recon_diverged;
    bool attach_broken; /* the attach stream ended with an error */
    bool track_sent;    /* hash delivered bytes: a reconciliation may need them */
    bool discard;       /* attach not trusted: deliver only the post-exit read */

    /* wait */
    wpd_step_result wres;

    /* stop / destroy */
    int phase; /* 0 stop, 1 kill, 2 remove */
    bool stopping;
    bool want_remove;
    wpd_error stop_err;
    bool stop_failed;

    /* destroy workflow */
    size_t pending_children;
    int attempts; /* setup: network creates; teardown: volume removals */
    int network_attempts;
    wpd_op **children;
    size_t n_children;
};

/* ------------------------------------------------------------------ util */

void wpd_url_escape(wpd_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            wpd_buf_putc(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            wpd_buf_append(out, e, 3);
        }
    }
}

static bool contains_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

bool wpd_teardown_harmless(const char *phase, const wpd_error *err)
{
    if (!err || err->kind == WPD_OK)
        return true;
    if (err->kind != WPD_ERR_ENGINE)
        return false;
    const char *m = err->message;
    if (err->status == 404 || contains_ci(m, "no such container"))
        return true;
    if (strcmp(phase, "stop") == 0)
        return err->status == 304 || contains_ci(m, "is not running");
    if (strcmp(phase, "kill") == 0) {
        if (err->status == 409)
            return true;
        /* Podman 4.3 answers 500 for a kill of a stopped container */
        return contains_ci(m, "is not running") || contains_ci(m, "can only kill running") ||
               contains_ci(m, "container state improper");
    }
    if (strcmp(phase, "remove") == 0)
        return contains_ci(m, "removal of container") && contains_ci(m, "already in progress");
    return false;
}

/* ------------------------------------------------------------ op basics */

static void op_link(wpd_op *op)
{
    wpd_backend *b = op->b;
    op->next = b->ops;
    if (b->ops)
        b->ops->prev = op;
    b->ops = op;
    b->n_ops++;
}

static void op_unlink(wpd_op *op)
{
    wpd_backend *b = op->b;
    if (op->prev)
        op->prev->next = op->next;
    else
        b->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    b->n_ops--;
}

static void op_free(wpd_op *op)
{
    wpd_credentials_abort(op->cred);
    wpd_timer_free(op->timer);
    free(op->name);
    free(op->create_body);
    free(op->auth_header);
    if (op->have_ref)
        wpd_image_ref_free(&op->ref);
    wpd_buf_free(&op->pull_line);
    free(op->pull_error);
    if (op->kind == OP_TAIL) {
        wpd_stdcopy_free(&op->demux);
        wpd_stdcopy_free(&op->recon);
        wpd_buf_free(&op->pending_raw);
    }
    free(op->children);
    free(op);
}

static void op_deliver(void *arg)
{
    wpd_op *op = arg;
    if (op->kind == OP_TAIL && op->attach && !op->adopted) {
        op->parked = true; /* delivered when wpd_backend_tail_step adopts it */
        return;
    }
    const wpd_error *err = op->failed ? &op->result : NULL;
    op_unlink(op);
    if (op->kind == OP_WAIT)
        op->wait_done(op->arg, err ? NULL : &op->wres, err);
    else
        op->done(op->arg, err);
    op_free(op);
}

/* Finish the op; the callback runs from the loop. */
static void op_finish(wpd_op *op, const wpd_error *err)
{
    if (op->finished)
        return;
    op->finished = true;
    if (err) {
        op->failed = true;
        op->result = *err;
    }
    if (op->canceled && (!err || err->kind != WPD_ERR_CANCELED)) {
        op->failed = true;
        wpd_error_set(&op->result, WPD_ERR_CANCELED, 0, "Canceled");
    }
    wpd_timer_free(op->timer);
    op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), op_deliver, op);
    wpd_timer_start(op->timer, 0);
}

static wpd_op *op_new(wpd_backend *b, op_kind kind, const wpd_step *step)
{
    wpd_op *op = wpd_xcalloc(1, sizeof *op);
    op->b = b;
    op->kind = kind;
    op->step = step;
    if (step) {
        wpd_buf n = WPD_BUF_INIT;
        wpd_container_name(step, &n);
        op->name = wpd_buf_steal(&n);
    }
    op_link(op);
    return op;
}

static void op_http_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    wpd_op *op = arg;
    op->req = NULL;
    if (op->canceled && op->kind != OP_DESTROY && op->kind != OP_DESTROY_WF &&
        op->kind != OP_STOP) {
        wpd_error c;
        wpd_error_set(&c, WPD_ERR_CANCELED, 0, "Canceled");
        op_finish(op, &c);
        return;
    }
    op->next_fn(op, res, err);
}

typedef struct op_request {
    bool unversioned; /* path already carries its API prefix (libpod) */
    const char *method;
    const char *path;
    const char *body;
    const char *const *headers;
    wpd_http_data_fn on_data;
    wpd_http_headers_fn on_headers;
} op_request;

static void op_call(wpd_op *op, const op_request *rq, op_next_fn next)
{
    op->next_fn = next;
    wpd_engine_call c = {
        .unversioned = rq->unversioned,
        .method = rq->method,
        .path = rq->path,
        .body = rq->body,
        .headers = rq->headers,
        .on_data = rq->on_data,
        .on_headers = rq->on_headers,
        .on_done = op_http_done,
        .arg = op,
    };
    op->req = wpd_engine_call_start(op->b->engine, &c);
}

static void drop_pretail(wpd_op *op);

void wpd_op_cancel(wpd_op *op)
{
    if (!op || op->finished || op->canceled)
        return;
    op->canceled = true;
    if (op->kind == OP_START) {
        drop_pretail(op);
        if (op->cred) {
            wpd_credentials_cancel(op->cred);
            return;
        }
    }
    /* Teardown operations are never cut short: they are what cleans up. */
    if (op->kind == OP_DESTROY || op->kind == OP_DESTROY_WF || op->kind == OP_STOP)
        return;
    if (op->req)
        wpd_http_cancel(op->req);
    else if (op->timer && wpd_timer_pending(op->timer)) {
        wpd_error c;
        wpd_error_set(&c, WPD_ERR_CANCELED, 0, "Canceled");
        op_finish(op, &c);
    }
}

static void notice(wpd_op *op, const char *msg)
{
    if (op->b->notice)
        op->b->notice(op->b->notice_arg, op->step, msg);
}

/* --------------------------------------------------------------- backend */

wpd_backend *wpd_backend_new(wpd_engine *engine, const wpd_settings *settings)
{
    wpd_backend *b = wpd_xcalloc(1, sizeof *b);
    b->engine = engine;
    b->settings = settings;
    return b;
}

void wpd_backend_free(wpd_backend *b)
{
    if (!b)
        return;
    /* ops still in flight are abandoned without callbacks */
    while (b->ops) {
        wpd_op *op = b->ops;
        if (op->req)
            wpd_http_cancel(op->req);
        op->req = NULL;
        op_unlink(op);
        op_free(op);
    }
    free(b);
}

void wpd_backend_set_notice(wpd_backend *b, wpd_notice_fn fn, void *arg)
{
    b->notice = fn;
    b->notice_arg = arg;
}

wpd_engine *wpd_backend_engine(const wpd_backend *b)
{
    return b->engine;
}

size_t wpd_backend_ops(const wpd_backend *b)
{
    return b->n_ops;
}

/* ------------------------------------------------------- SetupWorkflow */

static void setup_create_network(wpd_op *op);

static void setup_retry_network(void *arg)
{
    setup_create_network(arg);
}

static void setup_network_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err && err->kind == WPD_ERR_ENGINE && err->status >= 500 && op->attempts < 3) {
        /* Podman's netavark sometimes fails a network create that runs
         * beside others ("route ip+net: no such network interface"):
         * transient, so try again shortly */
        long delay = 200L << op->attempts;
        if (!op->timer)
            op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), setup_retry_network, op);
        wpd_timer_start(op->timer, delay);
        return;
    }
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "creating network %s", op->wf->network);
        op_finish(op, &e);
        return;
    }
    op_finish(op, NULL);
}

static void setup_create_network(wpd_op *op)
{
    op->attempts++;
    char *body =
        wpd_convert_network_body(op->wf->network, op->b->settings->enable_ipv6, op->wf->id);
    op_request rq = {.method = "POST", .path = "/networks/create", .body = body};
    op_call(op, &rq, setup_network_done);
    free(body);
}

static void setup_volume_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "creating volume %s", op->wf->volume);
        op_finish(op, &e);
        return;
    }
    setup_create_network(op);
}

wpd_op *wpd_backend_setup_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                   void *arg)
{
    wpd_op *op = op_new(b, OP_SETUP, NULL);
    op->wf = wf;
    op->done = done;
    op->arg = arg;
    char *body = wpd_convert_volume_body(wf->volume, wf->id);
    op_request rq = {.method = "POST", .path = "/volumes/create", .body = body};
    op_call(op, &rq, setup_volume_done);
    free(body);
    return op;
}

/* ------------------------------------------------------------ StartStep */

static void start_create(wpd_op *op);
static void start_connect_next(wpd_op *op);
static void start_run(wpd_op *op);

static void pull_handle_line(wpd_op *op, const char *line, size_t len)
{
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    if (!len)
        return;
    wpd_json j;
    if (wpd_json_parse(&j, line, len, NULL) != 0)
        return;
    char *error = wpd_json_get_str(&j, 0, "errorDetail.message");
    if (!error)
        error = wpd_json_get_str(&j, 0, "error");
    if (error) {
        free(op->pull_error);
        op->pull_error = error;
    } else if (op->pull_fn) {
        char *id = wpd_json_get_str(&j, 0, "id");
        char *status = wpd_json_get_str(&j, 0, "status");
        wpd_pull_progress p = {id ? id : "", status ? status : "", 0, 0};
        wpd_json_get_int64(&j, 0, "progressDetail.current", &p.current);
        wpd_json_get_int64(&j, 0, "progressDetail.total", &p.total);
        op->pull_fn(op->pull_arg, &p);
        free(id);
        free(status);
    }
    wpd_json_free(&j);
}

static int pull_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    wpd_op *op = arg;
    wpd_buf_append(&op->pull_line, data, len);
    size_t start = 0;
    for (size_t i = 0; i < op->pull_line.len; i++) {
        if (op->pull_line.data[i] == '\n') {
            pull_handle_line(op, op->pull_line.data + start, i - start);
            start = i + 1;
        }
    }
    wpd_buf_consume(&op->pull_line, start);
    return 0;
}

static void pull_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (op->pull_line.len) {
        pull_handle_line(op, op->pull_line.data, op->pull_line.len);
        wpd_buf_reset(&op->pull_line);
    }
    wpd_error e;
    if (err) {
        e = *err;
    } else if (op->pull_error) {
        /* errors inside the progress stream (Podman reports every pull
         * failure this way, with HTTP 200) */
        wpd_error_set(&e, WPD_ERR_ENGINE, 0, "%s", op->pull_error);
    }
    op->pulled = true;
    if (err || op->pull_error) {
        wpd_error_prefix(&e, "pulling image %s", op->step->image);
        op->after_pull(op, &e);
    } else {
        op->after_pull(op, NULL);
    }
}

static void start_pull(wpd_op *op, void (*after)(wpd_op *, const wpd_error *));

static void on_credentials(void *arg, const char *auth, const wpd_error *err)
{
    wpd_op *op = arg;
    op->cred = NULL;
    op->auth_resolved = true;
    if (err) {
        wpd_error e = *err;
        if (e.kind != WPD_ERR_CANCELED)
            wpd_error_prefix(&e, "pulling image %s", op->step->image);
        op_finish(op, &e);
        return;
    }
    if (auth)
        op->auth_header = wpd_xasprintf("X-Registry-Auth: %s", auth);
    start_pull(op, op->after_pull);
}

/* Pull the step's image; credentials (auth_config, then the Docker config
 * file and its helpers) are resolved once, before the first pull, so no
 * helper runs for steps that never pull. */
static void start_pull(wpd_op *op, void (*after)(wpd_op *, const wpd_error *))
{
    op->after_pull = after;
    if (!op->auth_resolved) {
        op->cred = wpd_credentials_resolve(wpd_engine_reactor(op->b->engine), op->step->image,
                                           op->step->auth_username, op->step->auth_password, NULL,
                                           on_credentials, op);
        return;
    }
    free(op->pull_error);
    op->pull_error = NULL;
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/images/create?fromImage=");
    wpd_url_escape(&path, op->ref.from_image);
    wpd_buf_puts(&path, "&tag=");
    wpd_url_escape(&path, op->ref.tag);
    const char *headers[2] = {op->auth_header, NULL};
    op_request rq = {.method = "POST",
                     .path = wpd_buf_cstr(&path),
                     .headers = op->auth_header ? headers : NULL,
                     .on_data = pull_data};
    op_call(op, &rq, pull_done);
    wpd_buf_free(&path);
}

static void after_first_pull(wpd_op *op, const wpd_error *err)
{
    if (err) {
        if (op->step->auth_password && *op->step->auth_password) {
            op_finish(op, err);
            return;
        }
        char *msg = wpd_xasprintf("%s; trying to create the container anyway", err->message);
        notice(op, msg);
        free(msg);
    }
    start_create(op);
}

static void after_retry_pull(wpd_op *op, const wpd_error *err)
{
    if (err) {
        op_finish(op, err);
        return;
    }
    start_create(op);
}

static void drop_done(void *arg, const wpd_error *err)
{
    (void)arg;
    (void)err;
}

/* The start failed or was cancelled: nobody will adopt its attach. */
static void drop_pretail(wpd_op *op)
{
    wpd_op *t = op->pretail;
    op->pretail = NULL;
    if (!t)
        return;
    t->owner = NULL;
    t->adopted = true;
    t->done = drop_done;
    if (t->parked) {
        t->parked = false;
        t->finished = false;
        op_finish(t, NULL);
    } else {
        wpd_op_cancel(t);
    }
}

static void start_started(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err)
        drop_pretail(op);
    op->pretail = NULL;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "starting container %s", op->name);
        op_finish(op, &e);
        return;
    }
    op_finish(op, NULL);
}

static void start_start(wpd_op *op)
{
    char *path = wpd_xasprintf("/containers/%s/start", op->name);
    op_request rq = {.method = "POST", .path = path};
    op_call(op, &rq, start_started);
    free(path);
}

static void start_connected(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err) {
        size_t i = op->connect_index - 1;
        const char *net =
            i < op->step->n_networks ? op->step->networks[i].name : op->b->settings->network;
        wpd_error e = *err;
        wpd_error_prefix(&e, "connecting %s to network %s", op->name, net);
        op_finish(op, &e);
        return;
    }
    start_connect_next(op);
}

static void start_connect_next(wpd_op *op)
{
    const wpd_step *s = op->step;
    size_t i = op->connect_index++;
    const char *net = NULL;
    char *body = NULL;
    if (i < s->n_networks) {
        net = s->networks[i].name;
        body = wpd_convert_connect_body(op->name, &s->networks[i].aliases);
    } else if (i == s->n_networks && op->b->settings->network && *op->b->settings->network) {
        net = op->b->settings->network;
        body = wpd_convert_connect_body(op->name, NULL);
    } else {
        start_run(op);
        return;
    }
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/networks/");
    wpd_url_escape(&path, net);
    wpd_buf_puts(&path, "/connect");
    op_request rq = {.method = "POST", .path = wpd_buf_cstr(&path), .body = body};
    op_call(op, &rq, start_connected);
    wpd_buf_free(&path);
    free(body);
}

static void start_created(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err) {
        if (err->kind == WPD_ERR_ENGINE && err->status == 404 && !op->created_once) {
            /* image missing: pull (regardless of `pull`) and create once more */
            op->created_once = true;
            start_pull(op, after_retry_pull);
            return;
        }
        wpd_error e = *err;
        if (err->kind == WPD_ERR_ENGINE && err->status == 409)
            wpd_error_prefix(&e,
                             "creating container %s (a container of that name already "
                             "exists: is the step uuid reused?)",
                             op->name);
        else
            wpd_error_prefix(&e, "creating container %s", op->name);
        op_finish(op, &e);
        return;
    }
    op->created_once = true;
    if (op->step->network_mode && *op->step->network_mode) {
        start_run(op);
        return;
    }
    start_connect_next(op);
}

static void start_create(wpd_op *op)
{
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/containers/create?name=");
    wpd_url_escape(&path, op->name);
    op_request rq = {.method = "POST", .path = wpd_buf_cstr(&path), .body = op->create_body};
    op_call(op, &rq, start_created);
    wpd_buf_free(&path);
}

wpd_op *wpd_backend_start_step(wpd_backend *b, const wpd_step *step, const wpd_kv *env,
                               size_t n_env, wpd_pull_fn pull, void *pull_arg, wpd_op_done_fn done,
                               void *arg)
{
    wpd_op *op = op_new(b, OP_START, step);
    op->done = done;
    op->arg = arg;
    op->pull_fn = pull;
    op->pull_arg = pull_arg;
    wpd_error err;
    op->create_body = wpd_convert_create_body(step, env, n_env, b->settings, &err);
    if (!op->create_body) {
        op_finish(op, &err);
        return op;
    }
    if (wpd_image_ref_parse(step->image, &op->ref, &err) != 0) {
        op_finish(op, &err);
        return op;
    }
    op->have_ref = true;
    if (step->pull)
        start_pull(op, after_first_pull);
    else
        start_create(op);
    return op;
}

/* ------------------------------------------------------------- TailStep
 *
 * The output is read from an attach opened BEFORE the container starts
 * (complete by construction, as `docker run` does), not from
 * `logs?follow=1` after start as the Go reference does: Podman's follow
 * stream silently drops data in the middle (podman#21914), and Docker's
 * follow of a json-file log relays about ten times slower than attach
 * (measured: 1M short lines 48 s vs 5 s).
 * Reconciliation (Podman): when the attach stream breaks off (an error, or
 * EOF inside a frame) or delivered nothing at all (seen under load with
 * 32 short steps at once: the attach came up after the step had ended;
 * reading an empty log again costs nothing), the logs are read once more without follow after
 * the container ended; the bytes that match what was delivered are
 * skipped (checked by length and FNV-1a hash per stream) and the rest is
 * delivered, so every byte arrives exactly once and in order. It is not
 * done after a clean end of the attach: Podman's non-follow logs endpoint
 * is slow (1M short lines: 32 s, against 2.6 s for the attach itself).
 * wpd_backend_tail_step without a preceding start falls back to follow. */

static uint64_t fnv1a(uint64_t h, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#define FNV_OFFSET 14695981039346656037ULL

static int tail_sink(void *arg, int stream, const char *data, size_t len)
{
    wpd_op *op = arg;
    if (op->discard)
        return 0; /* delivered from the post-exit read instead */
    int s = stream == 2 ? 2 : 1;
    if (op->track_sent) /* only when a reconciliation may compare */
        op->sent_hash[s] = fnv1a(op->sent_hash[s], data, len);
    op->sent_len[s] += len;
    op->output(op->arg, stream, data, len);
    return 0;
}

static int tail_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    wpd_op *op = arg;
    if (op->demux_failed)
        return 1;
    if (!op->output) { /* attach not adopted yet: keep the bytes */
        wpd_buf_append(&op->pending_raw, data, len);
        return 0;
    }
    if (wpd_stdcopy_feed(&op->demux, data, len, tail_sink, op, &op->demux_err) != 0) {
        op->demux_failed = true;
        return 1;
    }
    return 0;
}

/* Reconciliation: the complete log, compared stream by stream with what was
 * delivered; bytes past the delivered prefix are delivered now. */
static int recon_sink(void *arg, int stream, const char *data, size_t len)
{
    wpd_op *op = arg;
    int s = stream == 2 ? 2 : 1;
    if (op->recon_diverged)
        return 0;
    if (op->recon_len[s] < op->sent_len[s]) {
        size_t take = (size_t)(op->sent_len[s] - op->recon_len[s]);
        if (take > len)
            take = len;
        op->recon_hash[s] = fnv1a(op->recon_hash[s], data, take);
        op->recon_len[s] += take;
        data += take;
        len -= take;
        if (op->recon_len[s] == op->sent_len[s] && op->recon_hash[s] != op->sent_hash[s]) {
            op->recon_diverged = true;
            return 0;
        }
    }
    if (len) {
        op->recon_len[s] += len;
        op->output(op->arg, stream, data, len);
    }
    return 0;
}

static int recon_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    wpd_op *op = arg;
    if (wpd_stdcopy_feed(&op->recon, data, len, recon_sink, op, &op->demux_err) != 0)
        return 1;
    return 0;
}

static void recon_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (op->recon_diverged)
        notice(op, "the log read after the step ended differs from the attached stream; "
                   "the output shown may be incomplete");
    else if (err)
        notice(op, err->message);
    op_finish(op, NULL);
}

static void start_start(wpd_op *op);

static void tail_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (op->owner) {
        /* the attach ended before it was in place (e.g. the engine refused
         * it): start anyway; adoption falls back to following the logs */
        wpd_op *start = op->owner;
        op->owner = NULL;
        wpd_timer_stop(start->timer);
        op->adopted = false;
        start_start(start);
    }
    if (op->demux_failed) {
        op_finish(op, &op->demux_err);
        return;
    }
    if (err && op->attach && op->output && err->kind != WPD_ERR_CANCELED &&
        op->b->settings->reconcile_logs != WPD_RECONCILE_NEVER &&
        (wpd_engine_get_kind(op->b->engine) == WPD_ENGINE_PODMAN ||
         op->b->settings->reconcile_logs == WPD_RECONCILE_ALWAYS)) {
        /* the attach broke off: the post-exit read below fills the gap */
        op->attach_broken = true;
        err = NULL;
    }
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "reading logs of %s", op->name);
        op_finish(op, &e);
        return;
    }
    bool mid_frame = (op->demux.hdr_len > 0 && op->demux.hdr_len < 8) ||
                     (op->demux.hdr_len == 8 && op->demux.remaining > 0);
    wpd_error e;
    if (wpd_stdcopy_finish(&op->demux, &e) != 0) {
        op_finish(op, &e);
        return;
    }
    wpd_reconcile policy = op->b->settings->reconcile_logs;
    bool podman = wpd_engine_get_kind(op->b->engine) == WPD_ENGINE_PODMAN;
    if (op->attach && op->output &&
        (policy == WPD_RECONCILE_ALWAYS || (policy == WPD_RECONCILE_AUTO && podman &&
                                            (mid_frame || op->attach_broken || op->discard ||
                                             op->sent_len[1] + op->sent_len[2] == 0)))) {
        wpd_stdcopy_init(&op->recon);
        op->recon_hash[1] = op->recon_hash[2] = FNV_OFFSET;
        char *path = wpd_xasprintf("/containers/%s/logs?stderr=1&stdout=1", op->name);
        op_request rq = {.method = "GET", .path = path, .on_data = recon_data};
        op_call(op, &rq, recon_done);
        free(path);
        return;
    }
    op_finish(op, NULL);
}

static wpd_op *tail_new(wpd_backend *b, const wpd_step *step)
{
    wpd_op *op = op_new(b, OP_TAIL, step);
    wpd_stdcopy_init(&op->demux);
    op->sent_hash[1] = op->sent_hash[2] = FNV_OFFSET;
    wpd_reconcile policy = b->settings->reconcile_logs;
    op->track_sent =
        policy == WPD_RECONCILE_ALWAYS ||
        (policy == WPD_RECONCILE_AUTO && wpd_engine_get_kind(b->engine) == WPD_ENGINE_PODMAN);
    return op;
}

/* Podman: the attach's response headers mean it is in place; start now. */

static void attach_headers(wpd_http_request *req, const wpd_http_response *res, void *arg)
{
    (void)req;
    (void)res;
    wpd_op *t = arg;
    wpd_op *start = t->owner;
    t->owner = NULL;
    if (start && !start->finished) {
        wpd_timer_stop(start->timer);
        start_start(start);
    }
}

static void attach_timeout(void *arg)
{
    wpd_op *start = arg;
    bool podman = wpd_engine_get_kind(start->b->engine) == WPD_ENGINE_PODMAN;
    if (start->pretail) {
        start->pretail->owner = NULL;
        /* Podman (32 attaches at once keep it busy for seconds) may set the
         * attach up after the step began: its stream cannot be trusted to
         * be complete, so the output is taken from the log after the step */
        start->pretail->discard =
            podman && start->b->settings->reconcile_logs != WPD_RECONCILE_NEVER;
    }
    if (!podman || start->b->settings->reconcile_logs == WPD_RECONCILE_NEVER)
        notice(start, "the engine did not confirm the log attach within 10 s; starting anyway");
    start_start(start);
}

static void start_attach(wpd_op *start)
{
    wpd_op *t = tail_new(start->b, start->step);
    t->attach = true;
    t->owner = start;
    start->pretail = t;
    char *path = wpd_xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1", t->name);
    op_request rq = {
        .method = "POST", .path = path, .on_data = tail_data, .on_headers = attach_headers};
    op_call(t, &rq, tail_done);
    free(path);
    start->timer = wpd_timer_new(wpd_engine_reactor(start->b->engine), attach_timeout, start);
    wpd_timer_start(start->timer, 10000);
}

/* After create and network connects: attach, then start. */
static void start_run(wpd_op *op)
{
    start_attach(op);
}

static wpd_op *find_pretail(wpd_backend *b, const wpd_step *step)
{
    for (wpd_op *op = b->ops; op; op = op->next)
        if (op->kind == OP_TAIL && op->attach && !op->adopted && op->step == step)
            return op;
    return NULL;
}

wpd_op *wpd_backend_tail_step(wpd_backend *b, const wpd_step *step, wpd_output_fn output,
                              wpd_op_done_fn done, void *arg)
{
    wpd_op *op = find_pretail(b, step);
    if (op && op->parked && op->failed && !op->pending_raw.len) {
        /* the attach never worked: drop it and follow the logs instead */
        op_unlink(op);
        op_free(op);
        op = NULL;
    }
    if (op) {
        op->adopted = true;
        op->done = done;
        op->arg = arg;
        op->output = output;
        if (op->pending_raw.len &&
            wpd_stdcopy_feed(&op->demux, op->pending_raw.data, op->pending_raw.len, tail_sink, op,
                             &op->demux_err) != 0)
            op->demux_failed = true;
        wpd_buf_free(&op->pending_raw);
        if (op->parked) {
            /* the stream ended before adoption: run its ending now */
            op->parked = false;
            op->finished = false;
            bool failed = op->failed;
            wpd_error r = op->result;
            op->failed = false;
            if (op->demux_failed)
                op_finish(op, &op->demux_err);
            else if (failed)
                op_finish(op, &r);
            else
                tail_done(op, NULL, NULL);
        }
        return op;
    }
    op = tail_new(b, step);
    op->done = done;
    op->arg = arg;
    op->output = output;
    char *path = wpd_xasprintf("/containers/%s/logs?follow=1&stderr=1&stdout=1", op->name);
    op_request rq = {.method = "GET", .path = path, .on_data = tail_data};
    op_call(op, &rq, tail_done);
    free(path);
    return op;
}

/* ------------------------------------------------------------- WaitStep */

static void wait_inspected(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "inspecting container %s", op->name);
        op_finish(op, &e);
        return;
    }
    wpd_json j;
    wpd_error e;
    if (wpd_json_parse(&j, res->body.data, res->body.len, &e) != 0) {
        wpd_error_prefix(&e, "inspecting container %s", op->name);
        op_finish(op, &e);
        return;
    }
    int64_t code = 0;
    bool oom = false;
    wpd_json_get_int64(&j, 0, "State.ExitCode", &code);
    wpd_json_get_bool(&j, 0, "State.OOMKilled", &oom);
    wpd_json_free(&j);
    if (code == 4294967295LL)
        code = -1;
    op->wres.exit_code = (int)code;
    op->wres.oom_killed = oom;
    op_finish(op, NULL);
}

static void wait_waited(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "waiting for container %s", op->name);
        op_finish(op, &e);
        return;
    }
    wpd_json j;
    if (wpd_json_parse(&j, res->body.data, res->body.len, NULL) == 0) {
        char *msg = wpd_json_get_str(&j, 0, "Error.Message");
        wpd_json_free(&j);
        if (msg && *msg) {
            wpd_error e;
            wpd_error_set(&e, WPD_ERR_ENGINE, 0, "ContainerWait error: %s", msg);
            free(msg);
            op_finish(op, &e);
            return;
        }
        free(msg);
    }
    char *path = wpd_xasprintf("/containers/%s/json", op->name);
    op_request rq = {.method = "GET", .path = path};
    op_call(op, &rq, wait_inspected);
    free(path);
}

wpd_op *wpd_backend_wait_step(wpd_backend *b, const wpd_step *step, wpd_wait_done_fn done,
                              void *arg)
{
    wpd_op *op = op_new(b, OP_WAIT, step);
    op->wait_done = done;
    op->arg = arg;
    char *path;
    op_request rq = {.method = "POST"};
    if (wpd_engine_get_kind(b->engine) == WPD_ENGINE_PODMAN) {
        /* Podman's compat wait polls every 250 ms; libpod's wait polls at
         * the interval we ask for (its body is a bare exit code) */
        path = wpd_xasprintf("%s/containers/%s/wait?condition=exited&condition=stopped"
                             "&interval=20ms",
                             wpd_engine_libpod_prefix(b->engine), op->name);
        rq.unversioned = true;
    } else {
        path = wpd_xasprintf("/containers/%s/wait", op->name);
    }
    rq.path = path;
    op_call(op, &rq, wait_waited);
    free(path);
    return op;
}

/* ------------------------------------------- StopStep and DestroyStep */

static void teardown_phase(wpd_op *op);

static void teardown_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    static const char *const phases[] = {"stop", "kill", "remove"};
    const char *phase = phases[op->phase];
    if (err && !wpd_teardown_harmless(phase, err)) {
        const char *sname = op->step->name;
        if (op->phase == 0) {
            op->stop_failed = true;
            op->stop_err = *err;
            wpd_error_prefix(&op->stop_err, "could not stop container '%s'", sname);
        } else if (op->phase == 1) {
            wpd_error e;
            if (op->stop_failed)
                wpd_error_set(&e, err->kind, err->status, "%s\ncould not kill container '%s': %s",
                              op->stop_err.message, sname, err->message);
            else
                wpd_error_set(&e, err->kind, err->status, "could not kill container '%s': %s",
                              sname, err->message);
            op_finish(op, &e);
            return;
        } else {
            wpd_error e = *err;
            wpd_error_prefix(&e, "could not remove container '%s'", sname);
            op_finish(op, &e);
            return;
        }
    }
    op->phase++;
    if (op->phase == 1 && op->stopping)
        op->stopping = false;
    if (op->phase == 2 && !op->want_remove) {
        op_finish(op, NULL);
        return;
    }
    if (op->phase > 2) {
        op_finish(op, NULL);
        return;
    }
    teardown_phase(op);
}

static void teardown_phase(wpd_op *op)
{
    char *path;
    if (op->phase == 0) {
        long t = op->b->hurry ? 0 : (long)op->b->settings->stop_timeout;
        path = wpd_xasprintf("/containers/%s/stop?t=%ld", op->name, t);
        op->stopping = true;
    } else if (op->phase == 1) {
        path = wpd_xasprintf("/containers/%s/kill?signal=9", op->name);
    } else {
        path = wpd_xasprintf("/containers/%s?v=1", op->name);
    }
    op_request rq = {.method = op->phase == 2 ? "DELETE" : "POST", .path = path};
    op_call(op, &rq, teardown_done);
    free(path);
}

static wpd_op *teardown_new(wpd_backend *b, const wpd_step *step, bool remove, wpd_op_done_fn done,
                            void *arg)
{
    wpd_op *op = op_new(b, remove ? OP_DESTROY : OP_STOP, step);
    op->done = done;
    op->arg = arg;
    op->want_remove = remove;
    teardown_phase(op);
    return op;
}

wpd_op *wpd_backend_stop_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done, void *arg)
{
    return teardown_new(b, step, false, done, arg);
}

wpd_op *wpd_backend_destroy_step(wpd_backend *b, const wpd_step *step, wpd_op_done_fn done,
                                 void *arg)
{
    return teardown_new(b, step, true, done, arg);
}

static void hurry_kill_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    (void)res;
    (void)err;
    (void)arg;
}

void wpd_backend_hurry(wpd_backend *b)
{
    if (b->hurry)
        return;
    b->hurry = true;
    for (wpd_op *op = b->ops; op; op = op->next) {
        if ((op->kind == OP_STOP || op->kind == OP_DESTROY) && op->stopping && op->req) {
            /* the stop call waits out its grace period; kill now, the stop
             * then returns and the normal sequence goes on */
            char *path = wpd_xasprintf("/containers/%s/kill?signal=9", op->name);
            wpd_engine_call c = {
                .method = "POST", .path = path, .on_done = hurry_kill_done, .arg = NULL};
            wpd_engine_call_start(b->engine, &c);
            free(path);
        }
    }
}

/* ------------------------------------------------------ DestroyWorkflow */

static void wf_remove_network(wpd_op *op);

static void wf_network_retry(void *arg)
{
    wf_remove_network(arg);
}

static void wf_network_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err && err->kind == WPD_ERR_ENGINE && contains_ci(err->message, "active endpoints") &&
        op->network_attempts < 5) {
        /* an endpoint of a container removed a moment ago may still be
         * detaching; Docker 20.10 sometimes keeps one for good (moby#43286) */
        long delay = 100L << op->network_attempts;
        wpd_timer_free(op->timer);
        op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), wf_network_retry, op);
        wpd_timer_start(op->timer, delay);
        return;
    }
    if (err && !(err->kind == WPD_ERR_ENGINE && err->status == 404) && !op->failed) {
        op->failed = true;
        op->result = *err;
        wpd_error_prefix(&op->result, "could not remove network %s", op->wf->network);
    }
    wpd_error r = op->result;
    bool failed = op->failed;
    op->failed = false;
    op_finish(op, failed ? &r : NULL);
}

static void wf_remove_network(wpd_op *op)
{
    op->network_attempts++;
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/networks/");
    wpd_url_escape(&path, op->wf->network);
    op_request rq = {.method = "DELETE", .path = wpd_buf_cstr(&path)};
    op_call(op, &rq, wf_network_done);
    wpd_buf_free(&path);
}

static void wf_remove_volume(wpd_op *op);

static void wf_volume_retry(void *arg)
{
    wf_remove_volume(arg);
}

static void wf_volume_done(wpd_op *op, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    if (err && err->kind == WPD_ERR_ENGINE && err->status != 404) {
        bool in_use =
            contains_ci(err->message, "in use") || contains_ci(err->message, "being used");
        if (in_use && op->attempts < 6) {
            /* a container that was just removed may still hold it */
            long delay = 100L << op->attempts; /* 100 ms .. 3.2 s */
            if (!op->timer)
                op->timer = wpd_timer_new(wpd_engine_reactor(op->b->engine), wf_volume_retry, op);
            wpd_timer_start(op->timer, delay);
            return;
        }
    }
    if (err && !(err->kind == WPD_ERR_ENGINE && err->status == 404) && !op->failed) {
        op->failed = true;
        op->result = *err;
        wpd_error_prefix(&op->result, "could not remove volume %s", op->wf->volume);
    }
    wf_remove_network(op);
}

static void wf_remove_volume(wpd_op *op)
{
    op->attempts++;
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/volumes/");
    wpd_url_escape(&path, op->wf->volume);
    wpd_buf_puts(&path, "?force=1");
    op_request rq = {.method = "DELETE", .path = wpd_buf_cstr(&path)};
    op_call(op, &rq, wf_volume_done);
    wpd_buf_free(&path);
}

static void wf_child_done(void *arg, const wpd_error *err)
{
    wpd_op *op = arg;
    if (err && !op->failed) {
        op->failed = true;
        op->result = *err;
    }
    if (--op->pending_children == 0)
        wf_remove_volume(op);
}

wpd_op *wpd_backend_destroy_workflow(wpd_backend *b, const wpd_workflow *wf, wpd_op_done_fn done,
                                     void *arg)
{
    wpd_op *op = op_new(b, OP_DESTROY_WF, NULL);
    op->wf = wf;
    op->done = done;
    op->arg = arg;
    size_t n = 0;
    for (size_t s = 0; s < wf->n_stages; s++)
        n += wf->stages[s].n_steps;
    op->pending_children = n + 1; /* +1: released below, so zero steps work */
    for (size_t s = 0; s < wf->n_stages; s++)
        for (size_t k = 0; k < wf->stages[s].n_steps; k++)
            wpd_backend_destroy_step(b, &wf->stages[s].steps[k], wf_child_done, op);
    wf_child_done(op, NULL);
    return op;
}
