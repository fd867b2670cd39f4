/* run.c - wpd_ctr_run: volumes -> create (labelled; pull once if the image
 * is missing) -> networks -> files -> start -> port mappings -> waits, under
 * one deadline. While the waits run, an exit watch (the engine's wait
 * call) fails the start the moment the container ends. A failed, timed out
 * or cancelled run removes its container (after reading its state and last
 * log lines for the message) before its callback runs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/imageref.h"
#include "harness/harness_private.h"

enum {
    P_VOLS,
    P_CREATE,
    P_PULL,
    P_CONNECT,
    P_FILES,
    P_START,
    P_PORTS,
    P_WAIT,
    P_READY,
    T_INSPECT,
    T_LOGS,
    T_REMOVE,
    T_DONE
};

static void step(hx_run *r);
static void teardown(hx_run *r);

/* ---- failure ------------------------------------------------------------ */

static void stop_watchers(hx_run *r)
{
    if (r->exit_call) {
        wpd_call_abandon(r->exit_call);
        r->exit_call = NULL;
    }
    if (r->reread) {
        wpd_call_abandon(r->reread);
        r->reread = NULL;
    }
    if (r->root)
        hx_waits_stop(r->root);
    if (r->c)
        hx_follow_stop(r->c);
    if (r->t_step)
        wpd_timer_stop(r->t_step);
    if (r->t_deadline)
        wpd_timer_stop(r->t_deadline);
}

static void run_fail(hx_run *r, wpd_errkind kind, const char *fmt, ...) WPD_PRINTF(3, 4);
static void run_fail(hx_run *r, wpd_errkind kind, const char *fmt, ...)
{
    if (r->failing || r->phase == P_READY)
        return;
    r->failing = true;
    va_list ap;
    va_start(ap, fmt);
    wpd_error_vset(&r->fail, kind, 0, fmt, ap);
    va_end(ap);
    stop_watchers(r);
    if (r->call && !r->create_sent) {
        wpd_call_abandon(r->call);
        r->call = NULL;
    }
    if (!r->call)
        teardown(r);
    /* else: the create's answer continues the teardown */
}

static void run_fail_err(hx_run *r, const char *what, const wpd_error *err)
{
    if (r->failing)
        return;
    wpd_errkind kind = err->kind;
    int status = err->status;
    run_fail(r, kind, "wpd_ctr_run: %s: %s: %s", r->sp->image, what, err->message);
    r->fail.status = status;
}

static void hop_cancel(wpd_hop *h)
{
    hx_run *r = (hx_run *)h;
    run_fail(r, WPD_ERR_CANCELED, "wpd_ctr_run: %s: canceled", r->sp->image);
}

static void on_deadline(void *arg)
{
    hx_run *r = arg;
    r->timed_out = true;
    wpd_buf d = WPD_BUF_INIT;
    hx_wait_describe(r->root, &d);
    run_fail(r, WPD_ERR_TIMEOUT,
             "wpd_ctr_run: %s%s%s: not ready after %lld ms (timeout %ld ms), "
             "waiting for %s",
             r->sp->image, r->c && r->c->id ? " " : "", r->c && r->c->id ? r->c->short_id : "",
             hx_now_ms() - r->t0, r->sp->timeout_ms, wpd_buf_cstr(&d));
    wpd_buf_free(&d);
}

/* ---- teardown: state, last log lines, remove, deliver -------------------- */

static void on_t_inspect(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    hx_run *r = arg;
    r->call = NULL;
    if (info) {
        if (info->oom_killed)
            r->state_text =
                wpd_xasprintf("container OOM-killed (exit code %lld)", (long long)info->exit_code);
        else if (info->running)
            r->state_text = wpd_xstrdup("container still running");
        else
            r->state_text = wpd_xasprintf("container %s with exit code %lld", info->status,
                                          (long long)info->exit_code);
    } else if (err) {
        r->state_text = wpd_xasprintf("container state unknown (%s)", err->message);
    }
    r->phase = T_LOGS;
    teardown(r);
}

static int on_tail_data(void *arg, int stream, const char *data, size_t len)
{
    hx_run *r = arg;
    (void)stream;
    if (!r->tail_text)
        r->tail_text = wpd_xstrdup("");
    size_t have = strlen(r->tail_text);
    if (have < 8192) {
        size_t take = len < 8192 - have ? len : 8192 - have;
        r->tail_text = wpd_xrealloc(r->tail_text, have + take + 1);
        memcpy(r->tail_text + have, data, take);
        r->tail_text[have + take] = '\0';
    }
    return 0;
}

static void on_tail_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    hx_run *r = arg;
    (void)end;
    (void)err;
    r->call = NULL;
    r->phase = T_REMOVE;
    teardown(r);
}

static void on_t_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    hx_run *r = arg;
    (void)outcome;
    r->call = NULL;
    if (err && !wpd_dialect_no_such_container(err)) {
        /* still labelled: the session's close and the sweep retry */
        size_t have = strlen(r->fail.message);
        snprintf(r->fail.message + have, sizeof r->fail.message - have,
                 " (and removing the container failed: %s)", err->message);
    }
    r->phase = T_DONE;
    teardown(r);
}

static void compose_message(hx_run *r)
{
    wpd_buf m = WPD_BUF_INIT;
    wpd_buf_puts(&m, r->fail.message);
    if (r->state_text)
        wpd_buf_printf(&m, "; %s", r->state_text);
    if (r->tail_text && *r->tail_text) {
        wpd_buf_puts(&m, "; last log lines:\n");
        const char *t = r->tail_text;
        size_t len = strlen(t);
        /* what fits, ending with the newest lines */
        size_t room = WPD_ERROR_MAX - 1 > m.len ? WPD_ERROR_MAX - 1 - m.len : 0;
        if (len > room) {
            t += len - room;
            const char *nl = strchr(t, '\n');
            if (nl && nl[1])
                t = nl + 1;
        }
        wpd_buf_puts(&m, t);
        while (m.len && m.data[m.len - 1] == '\n')
            m.data[--m.len] = '\0';
    }
    snprintf(r->fail.message, sizeof r->fail.message, "%s", wpd_buf_cstr(&m));
    wpd_buf_free(&m);
}

static void teardown(hx_run *r)
{
    wpd_engine *e = r->h.s->e;
    bool have_ctr = r->c && r->c->id;
    if (r->phase < T_INSPECT)
        r->phase = (have_ctr && r->fail.kind != WPD_ERR_CANCELED) ? T_INSPECT
                   : have_ctr                                     ? T_REMOVE
                                                                  : T_DONE;
    switch (r->phase) {
    case T_INSPECT: r->call = wpd_ctr_inspect(e, r->c->id, on_t_inspect, r); return;
    case T_LOGS: {
        wpd_logs_opts o = {.tail = 20};
        wpd_output_cbs cbs = {.data = on_tail_data, .done = on_tail_done, .arg = r};
        r->call = wpd_engine_ctr_logs(e, r->c->id, &o, &cbs);
        return;
    }
    case T_REMOVE: r->call = wpd_ctr_remove(e, r->c->id, true, true, on_t_removed, r); return;
    default: break;
    }
    compose_message(r);
    hx_ctr_free(r->c);
    r->c = NULL;
    hx_hop_finish(&r->h, &r->fail);
}

/* ---- ready ---------------------------------------------------------------- */

static void ready(hx_run *r)
{
    stop_watchers(r);
    r->phase = P_READY;
    wpd_ctr *c = r->c;
    c->run = NULL;
    if (!c->on_line)
        hx_follow_stop(c);
    hx_ctr_link(c);
    hx_hop_finish(&r->h, NULL); /* r->c is handed over in deliver */
}

void hx_run_wait_changed(hx_run *r)
{
    if (r->failing || r->phase != P_WAIT || !r->root)
        return;
    if (r->root->state == 1) {
        ready(r);
    } else if (r->root->state == -1) {
        wpd_buf d = WPD_BUF_INIT;
        hx_wait_describe(r->root, &d);
        if (r->exited)
            run_fail(r, WPD_ERR_ENGINE,
                     "wpd_ctr_run: %s %s: the container exited while waiting "
                     "(exit code %lld) after %lld ms, waiting for %s",
                     r->sp->image, r->c->short_id, (long long)r->exit_code, hx_now_ms() - r->t0,
                     wpd_buf_cstr(&d));
        else
            run_fail(r, WPD_ERR_ENGINE, "wpd_ctr_run: %s %s: the wait failed after %lld ms: %s",
                     r->sp->image, r->c->short_id, hx_now_ms() - r->t0, wpd_buf_cstr(&d));
        wpd_buf_free(&d);
    }
}

/* ---- the steps ------------------------------------------------------------- */

static void next(hx_run *r, int phase)
{
    r->phase = phase;
    r->i = 0;
    step(r);
}

static bool stop_here(hx_run *r)
{
    r->call = NULL;
    if (r->failing) {
        teardown(r);
        return true;
    }
    return false;
}

static void on_vol_created(void *arg, const char *name, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail_err(r, "creating volume", err);
        return;
    }
    hx_vol *v = wpd_xcalloc(1, sizeof *v);
    v->name = wpd_xstrdup(name && *name ? name : r->sp->vols[r->i].key);
    v->next = r->h.s->vols;
    r->h.s->vols = v;
    r->i++;
    step(r);
}

static void on_vol_listed(void *arg, const wpd_vol_summary *v, size_t n, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail_err(r, "listing volumes", err);
        return;
    }
    const char *want = r->sp->vols[r->i].key;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, want) == 0) {
            r->i++; /* exists: used as it is, not removed with the session */
            step(r);
            return;
        }
    wpd_pair labels[HX_N_LABELS];
    hx_labels(r->h.s, labels);
    wpd_vol_spec vs = {.name = want, .labels = labels, .n_labels = HX_N_LABELS};
    r->call = wpd_vol_create(r->h.s->e, &vs, on_vol_created, r);
}

static void on_pulled(void *arg, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail(r, err->kind == WPD_ERR_ENGINE ? WPD_ERR_ENGINE : err->kind,
                 "wpd_ctr_run: image %s is missing and pulling it failed: %s", r->sp->image,
                 err->message);
        return;
    }
    next(r, P_CREATE);
}

static void on_created(void *arg, const wpd_ctr_created *res, const wpd_error *err)
{
    hx_run *r = arg;
    r->create_sent = false;
    if (res && res->id) {
        r->c->id = wpd_xstrdup(res->id);
        snprintf(r->c->short_id, sizeof r->c->short_id, "%.12s", res->id);
    }
    if (stop_here(r))
        return;
    if (err) {
        if (err->status == 404 && r->pulls == 0) {
            r->pulls++;
            next(r, P_PULL);
            return;
        }
        run_fail_err(r, "create", err);
        return;
    }
    next(r, P_CONNECT);
}

static void on_connected(void *arg, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail(r, err->kind, "wpd_ctr_run: %s %s: joining network %s: %s", r->sp->image,
                 r->c->short_id, r->sp->nets[r->i].name, err->message);
        return;
    }
    r->i++;
    step(r);
}

static void on_put(void *arg, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail(r, err->kind, "wpd_ctr_run: %s %s: copying %s in: %s", r->sp->image,
                 r->c->short_id, r->sp->files[r->i].path, err->message);
        return;
    }
    r->i++;
    step(r);
}

static void on_started(void *arg, wpd_change outcome, const wpd_error *err)
{
    hx_run *r = arg;
    (void)outcome;
    if (stop_here(r))
        return;
    if (err) {
        run_fail_err(r, "start", err);
        return;
    }
    next(r, P_PORTS);
}

static void on_exit_watch(void *arg, const wpd_ctr_waited *res, const wpd_error *err)
{
    hx_run *r = arg;
    r->exit_call = NULL;
    if (r->failing || r->phase != P_WAIT)
        return;
    if (err && err->kind == WPD_ERR_CANCELED)
        return;
    r->exited = true;
    r->exit_code = res && res->status_known ? res->status_code : -1;
    hx_waits_exited(r, r->exit_code);
    if (!r->failing && r->phase == P_WAIT && r->root && r->root->state == 0) {
        /* something is still pending that can no longer hold */
        hx_wait_set(r->root, -1, "the container exited");
        hx_run_wait_changed(r);
    }
}

static void begin_waits(hx_run *r)
{
    r->phase = P_WAIT;
    if (!r->root) {
        ready(r);
        return;
    }
    wpd_engine *e = r->h.s->e;
    r->exit_call = wpd_ctr_wait(e, r->c->id, WPD_WAIT_NOT_RUNNING, on_exit_watch, r);
    hx_waits_start(r);
    /* log lines since start may have settled it already */
    hx_run_wait_changed(r);
}

static void on_ports(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    hx_run *r = arg;
    if (stop_here(r))
        return;
    if (err) {
        run_fail_err(r, "inspect", err);
        return;
    }
    wpd_ctr *c = r->c;
    size_t found = 0;
    free(c->ports);
    c->ports = wpd_xcalloc(r->sp->n_ports ? r->sp->n_ports : 1, sizeof *c->ports);
    c->n_ports = 0;
    for (size_t i = 0; i < r->sp->n_ports; i++) {
        const hx_port *want = &r->sp->ports[i];
        for (size_t k = 0; k < info->n_ports; k++) {
            const wpd_port_binding *b = &info->ports[k];
            if (b->container_port != want->port || strcmp(b->proto, want->proto) != 0 ||
                b->host_port <= 0 || strchr(b->host_ip, ':'))
                continue;
            hx_mapped *m = &c->ports[c->n_ports++];
            snprintf(m->key, sizeof m->key, "%s", want->key);
            m->host_port = b->host_port;
            if (*b->host_ip && strcmp(b->host_ip, "0.0.0.0") != 0)
                snprintf(c->host, sizeof c->host, "%s", b->host_ip);
            found++;
            break;
        }
    }
    for (size_t k = 0; k < info->n_networks && !c->ip[0]; k++)
        if (info->networks[k].ip && *info->networks[k].ip && !strchr(info->networks[k].ip, ':'))
            snprintf(c->ip, sizeof c->ip, "%s", info->networks[k].ip);
    if (found < r->sp->n_ports) {
        /* an empty port map just after start (tc-go #294): again */
        if (!info->running && ++r->inspects > 3 && !hx_wait_has(r->root, HX_W_EXIT)) {
            r->exited = true;
            r->exit_code = info->exit_code;
            run_fail(r, WPD_ERR_ENGINE,
                     "wpd_ctr_run: %s %s: the container exited before its "
                     "ports were published (exit code %lld) after %lld ms",
                     r->sp->image, c->short_id, (long long)info->exit_code, hx_now_ms() - r->t0);
            return;
        }
        wpd_timer_start(r->t_step, 50);
        return;
    }
    begin_waits(r);
}

static void on_step_timer(void *arg)
{
    hx_run *r = arg;
    if (!r->failing)
        step(r);
}

void hx_run_attached(hx_run *r)
{
    if (r->failing || r->phase != P_START || !r->attach_wait)
        return;
    wpd_timer_stop(r->t_step);
    step(r);
}

static void step(hx_run *r)
{
    wpd_session *s = r->h.s;
    wpd_engine *e = s->e;
    const wpd_spec *sp = r->sp;
    wpd_error err;
    switch (r->phase) {
    case P_VOLS:
        if (r->i >= sp->n_vols) {
            next(r, P_CREATE);
            return;
        }
        {
            wpd_pair f = {"name", sp->vols[r->i].key};
            r->call = wpd_vol_list(e, &f, 1, on_vol_listed, r);
        }
        return;
    case P_CREATE:
        r->create_sent = true;
        r->call = wpd_ctr_create(e, NULL, r->body, on_created, r);
        return;
    case P_PULL: {
        wpd_image_ref ref;
        if (wpd_image_ref_parse(sp->image, &ref, &err) != 0) {
            run_fail_err(r, "image reference", &err);
            return;
        }
        r->call = wpd_image_pull(e, ref.from_image, ref.tag, NULL, NULL, NULL, on_pulled, r);
        wpd_image_ref_free(&ref);
        return;
    }
    case P_CONNECT:
        if (r->i == 0)
            r->i = 1; /* the first network is in the create body */
        if (r->i >= sp->n_nets) {
            next(r, P_FILES);
            return;
        }
        {
            const hx_netref *n = &sp->nets[r->i];
            wpd_net_endpoint ep = {(const char *const *)n->aliases, n->n_aliases};
            r->call = wpd_net_connect(e, n->name, r->c->id, &ep, on_connected, r);
        }
        return;
    case P_FILES:
        if (r->i >= sp->n_files) {
            next(r, P_START);
            return;
        }
        {
            const hx_file *f = &sp->files[r->i];
            wpd_tar_file tf = {.name = f->path + 1,
                               .mode = f->mode,
                               .mtime = (int64_t)time(NULL),
                               .data = f->data,
                               .len = f->len};
            wpd_buf tar = WPD_BUF_INIT;
            if (wpd_tar_one_file(&tf, &tar, &err) != 0) {
                wpd_buf_free(&tar);
                run_fail(r, WPD_ERR_INPUT, "wpd_ctr_run: %s: file %s: %s", sp->image, f->path,
                         err.message);
                return;
            }
            r->call = wpd_archive_put(e, r->c->id, "/", tar.data, tar.len, on_put, r);
            wpd_buf_free(&tar);
        }
        return;
    case P_START:
        /* the output from the first byte: attach, then start once the
         * engine confirmed it (2 s at most; Podman confirms within a few
         * hundred ms, and a follow that ended early is made up for by a
         * full log read) */
        if (!r->c->follow && (r->c->on_line || hx_wait_has(r->root, HX_W_LOG))) {
            r->attach_wait = true;
            hx_follow_start(r->c);
            wpd_timer_start(r->t_step, 2000);
            return;
        }
        r->attach_wait = false;
        r->call = wpd_ctr_start(e, r->c->id, on_started, r);
        return;
    case P_PORTS:
        if (!sp->n_ports) {
            begin_waits(r);
            return;
        }
        r->call = wpd_ctr_inspect(e, r->c->id, on_ports, r);
        return;
    default: return;
    }
}

/* ---- the hop --------------------------------------------------------------- */

static void hop_deliver(wpd_hop *h)
{
    hx_run *r = (hx_run *)h;
    wpd_ctr *c = h->failed ? NULL : r->c;
    r->c = NULL;
    r->cb(c, h->failed ? &h->err : NULL, r->arg);
}

static void hop_destroy(wpd_hop *h)
{
    hx_run *r = (hx_run *)h;
    stop_watchers(r);
    if (r->t_step)
        wpd_timer_free(r->t_step);
    if (r->t_deadline)
        wpd_timer_free(r->t_deadline);
    hx_wait_free(r->root);
    if (r->c)
        hx_ctr_free(r->c);
    wpd_spec_free(r->sp);
    free(r->body);
    free(r->state_text);
    free(r->tail_text);
    wpd_buf_free(&r->reread_buf);
    free(r);
}

wpd_hop *wpd_ctr_run_async(wpd_session *s, const wpd_spec *sp, wpd_ctr_fn cb, void *arg)
{
    wpd_error err;
    if (!s || !cb || getpid() != s->pid)
        return NULL; /* nothing to call back on */
    hx_run *r = wpd_xcalloc(1, sizeof *r);
    hx_hop_init(&r->h, s);
    r->h.cancel = hop_cancel;
    r->h.deliver = hop_deliver;
    r->h.destroy = hop_destroy;
    r->cb = cb;
    r->arg = arg;
    r->t0 = hx_now_ms();
    if (!sp) {
        r->sp = wpd_spec_new("(null)");
        wpd_error_set(&err, WPD_ERR_USAGE, 0, "wpd_ctr_run: the spec is NULL");
        hx_hop_finish(&r->h, &err);
        return &r->h;
    }
    r->sp = hx_spec_clone(sp);
    if (sp->sticky) {
        wpd_error_set(&err, WPD_ERR_INPUT, 0, "wpd_ctr_run: %s: invalid spec: %s", sp->image,
                      sp->sticky);
        hx_hop_finish(&r->h, &err);
        return &r->h;
    }
    r->root = hx_wait_tree(sp);
    if (r->root) {
        /* every node knows its run */
        wpd_wait *stack[256];
        size_t n = 0;
        stack[n++] = r->root;
        while (n) {
            wpd_wait *w = stack[--n];
            w->run = r;
            for (size_t i = 0; i < w->n_kids && n < 256; i++)
                stack[n++] = w->kids[i];
        }
    }
    r->body = hx_create_body(r->sp, s);
    r->c = wpd_xcalloc(1, sizeof *r->c);
    r->c->s = s;
    r->c->run = r;
    r->c->image = wpd_xstrdup(sp->image);
    snprintf(r->c->host, sizeof r->c->host, "127.0.0.1");
    r->c->on_line = sp->on_line;
    r->c->on_line_arg = sp->on_line_arg;
    r->t_step = wpd_timer_new(s->r, on_step_timer, r);
    r->t_deadline = wpd_timer_new(s->r, on_deadline, r);
    wpd_timer_start(r->t_deadline, sp->timeout_ms);
    r->phase = P_VOLS;
    /* the first request goes out from the loop, like every callback */
    wpd_timer_start(r->t_step, 0);
    return &r->h;
}

typedef struct run_sync {
    volatile bool done;
    wpd_ctr *c;
    wpd_error err;
} run_sync;

static void on_run_sync(wpd_ctr *c, const wpd_error *err, void *arg)
{
    run_sync *rs = arg;
    rs->c = c;
    if (err)
        rs->err = *err;
    rs->done = true;
}

wpd_ctr *wpd_ctr_run(wpd_session *s, const wpd_spec *sp, wpd_error *err)
{
    if (hx_check(s, true, "wpd_ctr_run", err) != 0)
        return NULL;
    if (!sp) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_ctr_run: the spec is NULL");
        return NULL;
    }
    if (sp->sticky) {
        /* nothing is created: not even a request */
        wpd_error_set(err, WPD_ERR_INPUT, 0, "wpd_ctr_run: %s: invalid spec: %s", sp->image,
                      sp->sticky);
        return NULL;
    }
    run_sync rs = {0};
    wpd_ctr_run_async(s, sp, on_run_sync, &rs);
    if (hx_run_until(s, &rs.done, err) != 0)
        return NULL;
    if (!rs.c && err)
        *err = rs.err;
    return rs.c;
}
