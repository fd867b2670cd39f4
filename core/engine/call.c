/* call.c - one typed Engine API call = one engine request: sending it,
 * checking the status class, cancellation, completion from the loop, and
 * the path and filter encoding every resource uses. */
#include "engine/call.h"
#include "engine/parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonw.h"

void *wpd_call_new(wpd_engine *e, const wpd_call_type *type, size_t size)
{
    wpd_call *c = wpd_xcalloc(1, size < sizeof *c ? sizeof *c : size);
    c->type = type;
    c->e = e;
    return c;
}

static void call_free(wpd_call *c)
{
    if (c->type->cleanup)
        c->type->cleanup(c);
    wpd_timer_free(c->timer);
    free(c);
}

static void on_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    wpd_call *c = arg;
    c->req = NULL;
    wpd_error e;
    if (!err && c->canceled) {
        /* the response completed while the cancel was on its way */
        wpd_error_set(&e, WPD_ERR_CANCELED, 0, "Canceled");
        err = &e;
    } else if (!err && res->status >= 300 && res->status != 304) {
        /* a redirect (e.g. a path the engine cleaned up) is never what a
         * call asked for: treat it as the error it is */
        wpd_error_set(&e, WPD_ERR_PROTOCOL, (int)res->status, "%s: unexpected HTTP %ld answer",
                      wpd_engine_label(c->e), res->status);
        err = &e;
    }
    if (!c->abandoned)
        c->type->complete(c, res, err);
    call_free(c);
}

static int on_data(wpd_http_request *req, const char *data, size_t len, void *arg)
{
    (void)req;
    wpd_call *c = arg;
    return c->abandoned ? 1 : c->type->data(c, data, len);
}

static void on_headers(wpd_http_request *req, const wpd_http_response *res, void *arg)
{
    (void)req;
    wpd_call *c = arg;
    if (c->type->headers && !c->abandoned)
        c->type->headers(c, res);
}

static void on_drop(void *arg)
{
    call_free(arg);
}

wpd_call *wpd_call_send(wpd_call *c, const wpd_call_req *rq)
{
    wpd_engine_call ec = {
        .method = rq->method,
        .path = rq->path,
        .unversioned = rq->unversioned,
        .body = rq->body,
        .body_len = rq->body_len,
        .content_type = rq->content_type,
        .headers = rq->headers,
        .timeout_ms = rq->timeout_ms,
        .on_headers = c->type->headers ? on_headers : NULL,
        .on_data = c->type->data ? on_data : NULL,
        .on_done = on_done,
        .on_drop = on_drop,
        .arg = c,
    };
    c->req = wpd_engine_call_start(c->e, &ec);
    return c;
}

static void on_early(void *arg)
{
    wpd_call *c = arg;
    if (!c->abandoned)
        c->type->complete(c, NULL, &c->early);
    call_free(c);
}

wpd_call *wpd_call_fail(wpd_call *c, const wpd_error *err)
{
    c->early = *err;
    c->timer = wpd_timer_new(wpd_engine_reactor(c->e), on_early, c);
    wpd_timer_start(c->timer, 0);
    return c;
}

void wpd_call_cancel(wpd_call *c)
{
    if (!c || c->canceled)
        return;
    c->canceled = true;
    if (c->req)
        wpd_http_cancel(c->req);
    else if (c->timer)
        wpd_error_set(&c->early, WPD_ERR_CANCELED, 0, "Canceled");
}

void wpd_call_pause(wpd_call *c, bool pause)
{
    if (c && c->req && !c->canceled)
        wpd_http_pause(c->req, pause);
}

static void typed_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    wpd_typed_call *t = (wpd_typed_call *)c;
    t->deliver(t, res, err);
}

static const wpd_call_type typed_type = {.complete = typed_complete};

static wpd_typed_call *typed_new(wpd_engine *e, wpd_deliver_fn deliver, wpd_any_fn done, void *arg)
{
    wpd_typed_call *t = wpd_call_new(e, &typed_type, sizeof *t);
    t->deliver = deliver;
    t->done = done;
    t->arg = arg;
    return t;
}

wpd_call *wpd_typed_send(wpd_engine *e, wpd_deliver_fn deliver, wpd_any_fn done, void *arg,
                         const wpd_call_req *rq)
{
    return wpd_call_send(&typed_new(e, deliver, done, arg)->base, rq);
}

wpd_call *wpd_typed_fail(wpd_engine *e, wpd_deliver_fn deliver, wpd_any_fn done, void *arg,
                         const wpd_error *err)
{
    return wpd_call_fail(&typed_new(e, deliver, done, arg)->base, err);
}

void wpd_deliver_done(wpd_typed_call *c, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    ((wpd_done_fn)c->done)(c->arg, err);
}

typedef struct result_parse {
    const wpd_result_type *t;
    const wpd_http_response *res;
    void *result;
} result_parse;

static int parse_result(void *arg, wpd_arena *a, wpd_error *err)
{
    result_parse *rp = arg;
    rp->result = wpd_arena_alloc(a, rp->t->size);
    return rp->t->parse(rp->res->body.data, rp->res->body.len, a, rp->result, err);
}

/* The answer is parsed under an out-of-memory guard (an allocation failure
 * is the call's error), the callback runs outside it. */
static void result_deliver(wpd_typed_call *c, const wpd_http_response *res, const wpd_error *err)
{
    const wpd_result_type *t = c->ctx;
    if (err) {
        t->emit(c->done, c->arg, NULL, err);
        return;
    }
    result_parse rp = {t, res, NULL};
    wpd_arena *a;
    wpd_error e;
    if (wpd_parse_guarded(parse_result, &rp, &a, &e) != 0)
        t->emit(c->done, c->arg, NULL, &e);
    else
        t->emit(c->done, c->arg, rp.result, NULL);
    wpd_arena_free(a);
}

wpd_call *wpd_result_send(wpd_engine *e, const wpd_result_type *t, wpd_any_fn done, void *arg,
                          const wpd_call_req *rq)
{
    wpd_typed_call *c = typed_new(e, result_deliver, done, arg);
    c->ctx = t;
    return wpd_call_send(&c->base, rq);
}

wpd_call *wpd_result_fail(wpd_engine *e, const wpd_result_type *t, wpd_any_fn done, void *arg,
                          const wpd_error *err)
{
    wpd_typed_call *c = typed_new(e, result_deliver, done, arg);
    c->ctx = t;
    return wpd_call_fail(&c->base, err);
}

wpd_call *wpd_result_get(wpd_engine *e, wpd_buf *path, const wpd_result_type *t, wpd_any_fn done,
                         void *arg)
{
    wpd_call_req rq = {.method = "GET", .path = wpd_buf_cstr(path)};
    wpd_call *c = wpd_result_send(e, t, done, arg, &rq);
    wpd_buf_free(path);
    return c;
}

void wpd_emit_str(wpd_any_fn done, void *arg, const void *result, const wpd_error *err)
{
    ((wpd_str_fn)done)(arg, result ? *(const char *const *)result : NULL, err);
}

void wpd_write_labels(wpd_jsonw *w, const wpd_pair *labels, size_t n)
{
    if (!n)
        return;
    wpd_jw_key(w, "Labels");
    wpd_jw_obj_begin(w);
    for (size_t i = 0; i < n; i++)
        wpd_jw_kstr(w, labels[i].key, labels[i].value);
    wpd_jw_obj_end(w);
}

void wpd_call_abandon(wpd_call *c)
{
    if (!c)
        return;
    c->abandoned = true;
    wpd_call_cancel(c);
}

void wpd_path_escape(wpd_buf *out, const char *s)
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

char *wpd_filters_json(const wpd_pair *filters, size_t n)
{
    if (!n)
        return NULL;
    wpd_buf b = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &b);
    wpd_jw_obj_begin(&w);
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(filters[k].key, filters[i].key) == 0;
        if (seen)
            continue;
        wpd_jw_key(&w, filters[i].key);
        wpd_jw_arr_begin(&w);
        for (size_t k = i; k < n; k++)
            if (strcmp(filters[k].key, filters[i].key) == 0)
                wpd_jw_str(&w, filters[k].value);
        wpd_jw_arr_end(&w);
    }
    wpd_jw_obj_end(&w);
    return wpd_buf_steal(&b);
}

void wpd_path_filters(wpd_buf *path, char sep, const wpd_pair *filters, size_t n)
{
    char *f = wpd_filters_json(filters, n);
    if (!f)
        return;
    wpd_buf_putc(path, sep);
    wpd_buf_puts(path, "filters=");
    wpd_path_escape(path, f);
    free(f);
}
