/* session.c - a harness session: the engine connection, the labels every
 * resource carries, the checks every call makes (forked child, blocking
 * call inside a callback), operations in flight, and close. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness_private.h"
#include "io/reactor.h"

long long hx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hx_labels(const wpd_session *s, wpd_pair out[HX_N_LABELS])
{
    out[0] = (wpd_pair){HX_L_SESSION, s->id};
    out[1] = (wpd_pair){HX_L_OWNER, s->owner};
    out[2] = (wpd_pair){HX_L_HOST, s->host};
    out[3] = (wpd_pair){HX_L_EXPIRES, s->expires};
}

int hx_check(wpd_session *s, bool blocking, const char *what, wpd_error *err)
{
    if (!s)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: the session is NULL", what);
    if (getpid() != s->pid)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "%s: the session opened in pid %ld is used in pid %ld (a forked "
                             "child): open the session in the process that uses it (with "
                             "Check's CK_FORK, open it in a checked fixture or in the test)",
                             what, (long)s->pid, (long)getpid());
    if (blocking && (s->cb_depth > 0 || wpd_reactor_in_callback(s->r)))
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "%s: blocking call made from a wpdock callback (it would run the "
                             "reactor that is calling it): use the _async form",
                             what);
    return 0;
}

int hx_run_until(wpd_session *s, const volatile bool *done, wpd_error *err)
{
    if (wpd_reactor_run_until(s->r, done) != 0 && !*done)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0,
                             "the reactor stopped before the operation completed");
    return 0;
}

void hx_cb_enter(wpd_session *s)
{
    s->cb_depth++;
}

void hx_cb_leave(wpd_session *s)
{
    s->cb_depth--;
}

/* ---- operations in flight ---------------------------------------------- */

static void hop_deliver(void *arg)
{
    wpd_hop *h = arg;
    wpd_session *s = h->s;
    if (h->prev)
        h->prev->next = h->next;
    else
        s->hops = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->next = h->prev = NULL;
    hx_cb_enter(s);
    h->deliver(h);
    hx_cb_leave(s);
    wpd_timer_free(h->t_deliver);
    h->t_deliver = NULL;
    h->destroy(h);
}

void hx_hop_init(wpd_hop *h, wpd_session *s)
{
    h->s = s;
    h->t_deliver = wpd_timer_new(s->r, hop_deliver, h);
    h->next = s->hops;
    if (s->hops)
        s->hops->prev = h;
    s->hops = h;
}

void hx_hop_finish(wpd_hop *h, const wpd_error *err)
{
    if (h->finishing)
        return;
    h->finishing = true;
    h->failed = err != NULL;
    if (err)
        h->err = *err;
    wpd_timer_start(h->t_deliver, 0);
}

void wpd_hop_cancel(wpd_hop *h)
{
    if (!h || h->finishing || h->canceled)
        return;
    if (getpid() != h->s->pid)
        return;
    h->canceled = true;
    if (h->cancel)
        h->cancel(h);
    else {
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_CANCELED, 0, "canceled");
        hx_hop_finish(h, &e);
    }
}

/* ---- containers in the session ----------------------------------------- */

void hx_ctr_link(wpd_ctr *c)
{
    wpd_session *s = c->s;
    c->next = s->ctrs;
    c->prev = NULL;
    if (s->ctrs)
        s->ctrs->prev = c;
    s->ctrs = c;
    c->listed = true;
}

void hx_ctr_unlink(wpd_ctr *c)
{
    if (!c->listed)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->s->ctrs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    c->listed = false;
}

void hx_ctr_free(wpd_ctr *c)
{
    if (!c)
        return;
    hx_follow_stop(c);
    hx_ctr_unlink(c);
    wpd_buf_free(&c->lines.part[0]);
    wpd_buf_free(&c->lines.part[1]);
    free(c->id);
    free(c->image);
    free(c->ports);
    free(c);
}

/* ---- open ---------------------------------------------------------------- */

static const char *pick_endpoint(const char *endpoint)
{
    if (endpoint && *endpoint)
        return endpoint;
    const char *names[] = {"WOODPECKER_BACKEND_DOCKER_HOST", "DOCKER_HOST", "CONTAINER_HOST"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return v;
    }
    return WPD_DEFAULT_ENDPOINT;
}

static void make_id(char out[40])
{
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        long long t = hx_now_ms() ^ ((long long)getpid() << 20);
        memcpy(rnd, &t, sizeof rnd);
    }
    char *p = out + snprintf(out, 40, "wpdh");
    for (size_t i = 0; i < sizeof rnd; i++)
        p += snprintf(p, 3, "%02x", rnd[i]);
}

static void session_free(wpd_session *s)
{
    if (s->e)
        wpd_engine_free(s->e);
    if (s->reg)
        wpd_plugins_free(s->reg);
    if (s->own_reactor && s->r)
        wpd_reactor_free(s->r);
    while (s->vols) {
        hx_vol *v = s->vols;
        s->vols = v->next;
        free(v->name);
        free(v);
    }
    free(s->endpoint);
    free(s);
}

static wpd_session *open_impl(wpd_reactor *r, const char *endpoint, wpd_error *err)
{
    if (r && wpd_reactor_in_callback(r)) {
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "wpd_session_open_on: blocking call made from a wpdock callback (it "
                      "connects and sweeps by running the reactor)");
        return NULL;
    }
    wpd_session *s = wpd_xcalloc(1, sizeof *s);
    s->pid = getpid();
    s->wd_fd = -1;
    make_id(s->id);
    s->endpoint = wpd_xstrdup(pick_endpoint(endpoint));
    if (hx_owner_of(s->pid, s->owner, sizeof s->owner) != 0)
        snprintf(s->owner, sizeof s->owner, "unknown/%ld/0", (long)s->pid);
    if (gethostname(s->host, sizeof s->host - 1) != 0)
        snprintf(s->host, sizeof s->host, "unknown");
    long lease = HX_DEFAULT_LEASE_S;
    const char *lv = getenv("WPDOCK_HARNESS_LEASE");
    if (lv && *lv) {
        char *end;
        long v = strtol(lv, &end, 10);
        if (*end || v < 1) {
            wpd_error_set(err, WPD_ERR_USAGE, 0,
                          "WPDOCK_HARNESS_LEASE=\"%s\": expected a number of seconds", lv);
            session_free(s);
            return NULL;
        }
        lease = v;
    }
    snprintf(s->expires, sizeof s->expires, "%lld", (long long)time(NULL) + lease);

    /* the watchdog first: before any I/O of this session */
    const char *nowd = getenv("WPDOCK_HARNESS_NO_WATCHDOG");
    if (!(nowd && strcmp(nowd, "1") == 0) && hx_watchdog_start(s, err) != 0) {
        session_free(s);
        return NULL;
    }
    if (r) {
        s->r = r;
    } else {
        s->r = wpd_reactor_new(err);
        if (!s->r)
            goto fail;
        s->own_reactor = true;
    }
    s->reg = wpd_plugins_load(NULL);
    if (!s->reg) {
        wpd_error_set(err, WPD_ERR_NOMEM, 0, "loading transport plugins: out of memory");
        goto fail;
    }
    s->e = wpd_engine_new(s->r, s->reg, "harness", s->endpoint, NULL, NULL, err);
    if (!s->e)
        goto fail;
    if (wpd_engine_connect_sync(s->e, err) != 0)
        goto fail;
    /* the sweep: what dead sessions left; never a live owner's */
    if (hx_sweep_run(s->e, NULL, false, NULL, NULL, NULL, err) != 0) {
        wpd_error_prefix(err, "wpd_session_open: the sweep of dead sessions failed");
        goto fail;
    }
    return s;
fail:
    hx_watchdog_disarm(s);
    session_free(s);
    return NULL;
}

wpd_session *wpd_session_open(const char *endpoint, wpd_error *err)
{
    return open_impl(NULL, endpoint, err);
}

wpd_session *wpd_session_open_on(wpd_reactor *r, const char *endpoint, wpd_error *err)
{
    if (!r) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_session_open_on: the reactor is NULL");
        return NULL;
    }
    return open_impl(r, endpoint, err);
}

const char *wpd_session_id(const wpd_session *s)
{
    return s ? s->id : NULL;
}

wpd_reactor *wpd_session_reactor(wpd_session *s)
{
    return s ? s->r : NULL;
}

wpd_engine *wpd_session_engine(wpd_session *s)
{
    return s ? s->e : NULL;
}

/* ---- close --------------------------------------------------------------- */

typedef struct close_ctx {
    volatile bool done;
    int pending;
    int failed;
    wpd_error first;
} close_ctx;

static void on_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    close_ctx *cc = arg;
    (void)outcome;
    if (err && !wpd_dialect_no_such_container(err)) {
        if (!cc->failed)
            cc->first = *err;
        cc->failed++;
    }
    if (--cc->pending == 0)
        cc->done = true;
}

static void on_tick(void *arg)
{
    *(volatile bool *)arg = true;
}

int wpd_session_close(wpd_session *s, wpd_error *err)
{
    if (!s)
        return 0;
    if (hx_check(s, true, "wpd_session_close", err) != 0)
        return -1;
    /* operations in flight: their callbacks run with WPD_ERR_CANCELED */
    for (wpd_hop *h = s->hops; h; h = h->next)
        wpd_hop_cancel(h);
    while (s->hops) {
        volatile bool tick = false;
        wpd_timer *t = wpd_timer_new(s->r, on_tick, (void *)&tick);
        wpd_timer_start(t, 10);
        int rc = wpd_reactor_run_until(s->r, &tick);
        wpd_timer_free(t);
        if (rc != 0)
            break;
    }
    int rc = 0;
    wpd_error first;
    wpd_error_clear(&first);
    /* containers, all at once */
    close_ctx cc = {0};
    for (wpd_ctr *c = s->ctrs; c; c = c->next) {
        hx_follow_stop(c);
        cc.pending++;
        wpd_ctr_remove(s->e, c->id, true, true, on_removed, &cc);
    }
    if (cc.pending > 0)
        wpd_reactor_run_until(s->r, &cc.done);
    if (cc.failed) {
        rc = -1;
        first = cc.first;
    }
    while (s->ctrs)
        hx_ctr_free(s->ctrs);
    while (s->nets) {
        wpd_net *n = s->nets;
        wpd_error e;
        if (wpd_net_remove(n, &e) != 0 && rc == 0) {
            rc = -1;
            first = e;
        }
    }
    for (hx_vol *v = s->vols; v; v = v->next) {
        wpd_error e;
        if (hx_sync_remove(s->e, "volume", v->name, &e) != 0 && rc == 0) {
            rc = -1;
            first = e;
        }
    }
    hx_watchdog_disarm(s);
    session_free(s);
    if (rc != 0 && err) {
        *err = first;
        wpd_error_prefix(err, "wpd_session_close: not everything could be removed (the next "
                              "session's sweep retries)");
    }
    return rc;
}
