/* api_ctr_fixtures.h - the containers the Engine API layer tests make:
 * names of this run, create bodies (the test image running `sh -c`, a TTY,
 * a published port), create/start/remove/wait, what a test reads of an
 * inspect, and the capture of output streams (attach, logs, exec start). */
#ifndef WPDOCK_TEST_API_CTR_FIXTURES_H
#define WPDOCK_TEST_API_CTR_FIXTURES_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "engine/dialect.h"
#include "util/buf.h"
#include "util/jsonw.h"
#include "testutil.h"
#include "api_fixtures.h"

/* ---- names and bodies --------------------------------------------------- */

static inline char *nm(const char *suffix)
{
    return wpd_xasprintf("%s_%s", RUN, suffix);
}

static inline void run_labels(wpd_jsonw *w, const char *kind)
{
    wpd_jw_key(w, "Labels");
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "wp_uuid", RUN);
    wpd_jw_kstr(w, "wp_apitest_run", RUN);
    wpd_jw_kstr(w, "wp_apitest_kind", kind);
    wpd_jw_obj_end(w);
}

enum { C_TTY = 1, C_PORT = 2 };

/* A create body: the test image running `sh -c script`. */
static inline char *ctr_body(const char *image, const char *script, unsigned flags,
                             const char *kind)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &b);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Image", image ? image : tu_test_image());
    wpd_jw_key(&w, "Cmd");
    wpd_jw_arr_begin(&w);
    wpd_jw_str(&w, "sh");
    wpd_jw_str(&w, "-c");
    wpd_jw_str(&w, script);
    wpd_jw_arr_end(&w);
    run_labels(&w, kind);
    wpd_jw_kbool(&w, "Tty", (flags & C_TTY) != 0);
    if (flags & C_PORT) {
        wpd_jw_key(&w, "ExposedPorts");
        wpd_jw_raw(&w, "{\"8080/tcp\":{}}");
    }
    wpd_jw_key(&w, "HostConfig");
    wpd_jw_obj_begin(&w);
    if (flags & C_PORT) {
        /* a random host port on the loopback address */
        wpd_jw_key(&w, "PortBindings");
        wpd_jw_raw(&w, "{\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
    }
    wpd_jw_obj_end(&w);
    wpd_jw_obj_end(&w);
    return wpd_buf_steal(&b);
}

static inline char *create_ctr(const char *name, const char *body)
{
    out o = {0};
    wpd_ctr_create(E, name, body, on_created, &o);
    await(&o, "container create");
    expect_ok(&o, "container create");
    ck_assert_msg(o.s && *o.s, "container create: no id");
    char *id = o.s;
    o.s = NULL;
    out_free(&o);
    return id;
}

static inline void start_ctr(const char *name)
{
    out o = {0};
    wpd_ctr_start(E, name, on_change, &o);
    await(&o, "container start");
    expect_change(&o, WPD_CHANGE_DONE, "container start");
}

static inline void remove_ctr(const char *name, wpd_change want)
{
    out o = {0};
    wpd_ctr_remove(E, name, true, true, on_change, &o);
    await(&o, "container remove");
    expect_change(&o, want, "container remove");
}

static inline int64_t wait_ctr(const char *name, wpd_wait_cond cond)
{
    out o = {0};
    wpd_ctr_wait(E, name, cond, on_waited, &o);
    await(&o, "container wait");
    expect_ok(&o, "container wait");
    ck_assert_str_eq(o.msg, "");
    int64_t code = o.n;
    out_free(&o);
    return code;
}

/* ---- inspect ------------------------------------------------------------ */

/* What a test reads of an inspect. */
typedef struct info_out {
    out o;
    char id[80], name[160], status[32], health[32], image[200];
    bool running, tty;
    int64_t exit_code, pid;
    char kind[64];      /* label wp_apitest_kind */
    char ports[512];    /* "8080/tcp=127.0.0.1:49153;..." */
    char networks[512]; /* "name[alias,alias];..." */
    int host_port;      /* of 8080/tcp */
} info_out;

static inline void on_info(void *arg, const wpd_ctr_info *i, const wpd_error *err)
{
    info_out *r = arg;
    got(&r->o, err);
    if (!i)
        return;
    snprintf(r->id, sizeof r->id, "%s", i->id);
    snprintf(r->name, sizeof r->name, "%s", i->name);
    snprintf(r->status, sizeof r->status, "%s", i->status);
    snprintf(r->health, sizeof r->health, "%s", i->health);
    snprintf(r->image, sizeof r->image, "%s", i->image);
    r->running = i->running;
    r->tty = i->tty;
    r->exit_code = i->exit_code;
    r->pid = i->pid;
    for (size_t k = 0; k < i->n_labels; k++)
        if (strcmp(i->labels[k].key, "wp_apitest_kind") == 0)
            snprintf(r->kind, sizeof r->kind, "%s", i->labels[k].value);
    wpd_buf b = WPD_BUF_INIT;
    for (size_t k = 0; k < i->n_ports; k++) {
        const wpd_port_binding *p = &i->ports[k];
        wpd_buf_printf(&b, "%d/%s=%s:%d;", p->container_port, p->proto, p->host_ip, p->host_port);
        if (p->container_port == 8080 && strcmp(p->proto, "tcp") == 0)
            r->host_port = p->host_port;
    }
    snprintf(r->ports, sizeof r->ports, "%s", wpd_buf_cstr(&b));
    wpd_buf_reset(&b);
    for (size_t k = 0; k < i->n_networks; k++) {
        wpd_buf_printf(&b, "%s[", i->networks[k].name);
        for (size_t a = 0; a < i->networks[k].n_aliases; a++)
            wpd_buf_printf(&b, "%s%s", a ? "," : "", i->networks[k].aliases[a]);
        wpd_buf_puts(&b, "];");
    }
    snprintf(r->networks, sizeof r->networks, "%s", wpd_buf_cstr(&b));
    wpd_buf_free(&b);
}

static inline void inspect_ctr(const char *name, info_out *r)
{
    memset(r, 0, sizeof *r);
    wpd_ctr_inspect(E, name, on_info, r);
    await(&r->o, "container inspect");
}

/* ---- output streams ------------------------------------------------------- */

typedef struct stream_out {
    out o;
    int ready;
    bool is_ready;
    wpd_buf out, err;
    bool truncated, frame_error;
    /* *met once stdout holds want_out and stderr want_err */
    const char *want_out, *want_err;
    bool met;
    int other_stream;
} stream_out;

static inline void on_ready(void *arg)
{
    stream_out *s = arg;
    s->ready++;
    s->is_ready = true;
}

static inline int on_data(void *arg, int stream, const char *data, size_t len)
{
    stream_out *s = arg;
    if (stream == 1)
        wpd_buf_append(&s->out, data, len);
    else if (stream == 2)
        wpd_buf_append(&s->err, data, len);
    else
        s->other_stream++;
    if (s->want_out || s->want_err)
        s->met = (!s->want_out || strstr(wpd_buf_cstr(&s->out), s->want_out)) &&
                 (!s->want_err || strstr(wpd_buf_cstr(&s->err), s->want_err));
    return 0;
}

static inline void on_stream_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    stream_out *s = arg;
    got(&s->o, err);
    if (end) {
        s->truncated = end->truncated;
        s->frame_error = end->frame_error;
    }
}

static inline wpd_output_cbs stream_cbs(stream_out *s)
{
    return (wpd_output_cbs){.ready = on_ready, .data = on_data, .done = on_stream_done, .arg = s};
}

static inline void stream_free(stream_out *s)
{
    wpd_buf_free(&s->out);
    wpd_buf_free(&s->err);
    out_free(&s->o);
}

static inline void await_met(stream_out *s, const char *what)
{
    ck_assert_msg(run_until(&s->met, CALL_MS), "%s: stdout \"%s\", stderr \"%s\" so far", what,
                  wpd_buf_cstr(&s->out), wpd_buf_cstr(&s->err));
}

static inline void await_ready(stream_out *s, const char *what)
{
    ck_assert_msg(run_until(&s->is_ready, CALL_MS) || s->o.done, "%s: not ready", what);
    ck_assert_msg(!s->o.failed, "%s: %s", what, s->o.err.message);
}

static inline void logs(const char *name, const wpd_logs_opts *opts, stream_out *s)
{
    memset(s, 0, sizeof *s);
    wpd_output_cbs cbs = stream_cbs(s);
    wpd_ctr_logs(E, name, opts, &cbs);
    await(&s->o, "container logs");
    expect_ok(&s->o, "container logs");
}

#endif
