/* net.c - networks a test creates (labelled like its containers), owned
 * by the session until removed. Create and remove are operations in flight
 * (hops); the blocking forms run them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness_private.h"

struct wpd_net {
    wpd_session *s;
    wpd_net *next, *prev;
    char *name;
    char *id;
};

static bool name_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

static void unlink_net(wpd_net *n)
{
    wpd_session *s = n->s;
    if (n->prev)
        n->prev->next = n->next;
    else if (s->nets == n)
        s->nets = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->next = n->prev = NULL;
}

typedef struct net_op {
    wpd_hop h;
    bool remove;
    wpd_net *n;
    char *name;
    wpd_call *call;
    wpd_timer *t_retry;
    int tries;
    wpd_net_fn ncb;
    wpd_harness_done_fn cb;
    void *arg;
} net_op;

static void n_finish(net_op *o, const wpd_error *err)
{
    o->call = NULL;
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "%s: %s", o->remove ? "wpd_net_remove" : "wpd_net_create", o->name);
        hx_hop_finish(&o->h, &e);
        return;
    }
    hx_hop_finish(&o->h, NULL);
}

static void on_created(void *arg, const char *id, const wpd_error *err)
{
    net_op *o = arg;
    if (!err) {
        wpd_net *n = wpd_xcalloc(1, sizeof *n);
        wpd_session *s = o->h.s;
        n->s = s;
        n->name = wpd_xstrdup(o->name);
        n->id = wpd_xstrdup(id ? id : "");
        n->next = s->nets;
        if (s->nets)
            s->nets->prev = n;
        s->nets = n;
        o->n = n;
    }
    n_finish(o, err);
}

static void send_remove(net_op *o);

static void on_removed(void *arg, wpd_change outcome, const wpd_error *err)
{
    net_op *o = arg;
    (void)outcome;
    o->call = NULL;
    /* a container removed a moment ago may still hold it: a few tries */
    if (err && wpd_dialect_in_use(err) && ++o->tries < 20) {
        wpd_timer_start(o->t_retry, 100);
        return;
    }
    n_finish(o, err);
}

static void send_remove(net_op *o)
{
    wpd_net *n = o->n;
    o->call = wpd_engine_net_remove(o->h.s->e, n->id && *n->id ? n->id : n->name, on_removed, o);
}

static void on_retry(void *arg)
{
    send_remove(arg);
}

static void n_cancel(wpd_hop *h)
{
    net_op *o = (net_op *)h;
    if (o->remove)
        return; /* the removal goes on; its callback reports the outcome */
    /* a create in flight is not abandoned (the network may exist): its
     * answer is kept by the session, which removes it at close */
}

static void n_deliver(wpd_hop *h)
{
    net_op *o = (net_op *)h;
    const wpd_error *err = h->failed ? &h->err : NULL;
    if (o->remove) {
        unlink_net(o->n);
        free(o->n->name);
        free(o->n->id);
        free(o->n);
        o->n = NULL;
        if (o->cb)
            o->cb(err, o->arg);
        return;
    }
    if (h->canceled && !err) {
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_CANCELED, 0,
                      "wpd_net_create: %s: canceled (the network is "
                      "removed with the session)",
                      o->name);
        o->ncb(NULL, &e, o->arg);
        return;
    }
    o->ncb(err ? NULL : o->n, err, o->arg);
}

static void n_destroy(wpd_hop *h)
{
    net_op *o = (net_op *)h;
    if (o->call)
        wpd_call_abandon(o->call);
    if (o->t_retry)
        wpd_timer_free(o->t_retry);
    free(o->name);
    free(o);
}

static net_op *net_op_new(wpd_session *s, bool remove, const char *name, void *arg)
{
    net_op *o = wpd_xcalloc(1, sizeof *o);
    hx_hop_init(&o->h, s);
    o->h.cancel = n_cancel;
    o->h.deliver = n_deliver;
    o->h.destroy = n_destroy;
    o->remove = remove;
    o->name = wpd_xstrdup(name);
    o->arg = arg;
    return o;
}

wpd_hop *wpd_net_create_async(wpd_session *s, const char *name, wpd_net_fn cb, void *arg)
{
    if (!s || !cb || getpid() != s->pid)
        return NULL;
    char *nm = name ? wpd_xstrdup(name) : wpd_xasprintf("wp_harness_%s_%u", s->id, ++s->seq);
    net_op *o = net_op_new(s, false, nm, arg);
    free(nm);
    o->ncb = cb;
    if (!name_ok(o->name)) {
        wpd_error e;
        wpd_error_set(&e, WPD_ERR_INPUT, 0,
                      "not a network name (a letter or digit, then letters, digits, '_', '.', "
                      "'-')");
        n_finish(o, &e);
        return &o->h;
    }
    wpd_pair labels[HX_N_LABELS];
    hx_labels(s, labels);
    wpd_net_spec spec = {.name = o->name, .labels = labels, .n_labels = HX_N_LABELS};
    o->call = wpd_engine_net_create(s->e, &spec, on_created, o);
    return &o->h;
}

wpd_hop *wpd_net_remove_async(wpd_net *n, wpd_harness_done_fn cb, void *arg)
{
    if (!n || getpid() != n->s->pid)
        return NULL;
    net_op *o = net_op_new(n->s, true, n->name, arg);
    o->cb = cb;
    o->n = n;
    o->t_retry = wpd_timer_new(n->s->r, on_retry, o);
    send_remove(o);
    return &o->h;
}

typedef struct net_sync {
    volatile bool done;
    bool failed;
    wpd_error err;
    wpd_net *n;
} net_sync;

static void on_net_sync(wpd_net *n, const wpd_error *err, void *arg)
{
    net_sync *ns = arg;
    ns->n = n;
    if (err) {
        ns->failed = true;
        ns->err = *err;
    }
    ns->done = true;
}

static void on_done_sync(const wpd_error *err, void *arg)
{
    on_net_sync(NULL, err, arg);
}

wpd_net *wpd_net_create(wpd_session *s, const char *name, wpd_error *err)
{
    if (hx_check(s, true, "wpd_net_create", err) != 0)
        return NULL;
    net_sync ns = {0};
    wpd_net_create_async(s, name, on_net_sync, &ns);
    if (hx_run_until(s, &ns.done, err) != 0)
        return NULL;
    if (ns.failed && err)
        *err = ns.err;
    return ns.n;
}

const char *wpd_net_name(const wpd_net *n)
{
    return n ? n->name : NULL;
}

int wpd_net_remove(wpd_net *n, wpd_error *err)
{
    if (!n)
        return 0;
    wpd_session *s = n->s;
    if (hx_check(s, true, "wpd_net_remove", err) != 0)
        return -1;
    net_sync ns = {0};
    wpd_net_remove_async(n, on_done_sync, &ns);
    if (hx_run_until(s, &ns.done, err) != 0)
        return -1;
    if (ns.failed) {
        if (err)
            *err = ns.err;
        return -1;
    }
    return 0;
}
