/* sync.c - the few engine calls the harness makes one at a time and
 * waits for (the sweep, close, inspect): list, remove and inspect, each
 * running the engine's reactor until its answer is in. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/harness_private.h"

typedef struct sync_out {
    volatile bool done;
    bool failed;
    wpd_error err;
    hx_list_item *items;
    size_t n;
    const char *kind;
    bool running, oom;
    int64_t code;
    char *health;
} sync_out;

static void got_err(sync_out *o, const wpd_error *err)
{
    if (err) {
        o->failed = true;
        o->err = *err;
    }
    o->done = true;
}

static const char *label(const wpd_pair *l, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].key, key) == 0)
            return l[i].value;
    return "";
}

static void add_item(sync_out *o, const char *name, const char *display, const wpd_pair *l,
                     size_t n)
{
    o->items = wpd_xrealloc(o->items, (o->n + 1) * sizeof *o->items);
    hx_list_item *it = &o->items[o->n++];
    it->kind = wpd_xstrdup(o->kind);
    it->name = wpd_xstrdup(name);
    it->display = wpd_xstrdup(display && *display ? display : name);
    it->session = wpd_xstrdup(label(l, n, HX_L_SESSION));
    it->owner = wpd_xstrdup(label(l, n, HX_L_OWNER));
    it->host = wpd_xstrdup(label(l, n, HX_L_HOST));
    it->expires = wpd_xstrdup(label(l, n, HX_L_EXPIRES));
}

static void on_ctrs(void *arg, const wpd_ctr_summary *v, size_t n, const wpd_error *err)
{
    sync_out *o = arg;
    for (size_t i = 0; !err && i < n; i++)
        add_item(o, v[i].id, v[i].name, v[i].labels, v[i].n_labels);
    got_err(o, err);
}

static void on_vols(void *arg, const wpd_vol_summary *v, size_t n, const wpd_error *err)
{
    sync_out *o = arg;
    for (size_t i = 0; !err && i < n; i++)
        add_item(o, v[i].name, v[i].name, v[i].labels, v[i].n_labels);
    got_err(o, err);
}

static void on_nets(void *arg, const wpd_net_summary *v, size_t n, const wpd_error *err)
{
    sync_out *o = arg;
    for (size_t i = 0; !err && i < n; i++)
        add_item(o, v[i].name, v[i].name, v[i].labels, v[i].n_labels);
    got_err(o, err);
}

static int await(wpd_engine *e, sync_out *o, wpd_error *err)
{
    if (wpd_reactor_run_until(wpd_engine_reactor(e), &o->done) != 0 && !o->done)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "the reactor stopped before the answer");
    if (o->failed) {
        if (err)
            *err = o->err;
        return -1;
    }
    return 0;
}

int hx_sync_list(wpd_engine *e, const char *kind, const wpd_pair *filters, size_t n,
                 hx_list_item **out, size_t *n_out, wpd_error *err)
{
    sync_out o = {.kind = kind};
    if (strcmp(kind, "container") == 0)
        wpd_ctr_list(e, filters, n, on_ctrs, &o);
    else if (strcmp(kind, "volume") == 0)
        wpd_vol_list(e, filters, n, on_vols, &o);
    else
        wpd_net_list(e, filters, n, on_nets, &o);
    if (await(e, &o, err) != 0) {
        hx_list_free(o.items, o.n);
        return -1;
    }
    *out = o.items;
    *n_out = o.n;
    return 0;
}

void hx_list_free(hx_list_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].kind);
        free(v[i].name);
        free(v[i].display);
        free(v[i].session);
        free(v[i].owner);
        free(v[i].host);
        free(v[i].expires);
    }
    free(v);
}

static void on_change(void *arg, wpd_change outcome, const wpd_error *err)
{
    (void)outcome;
    got_err(arg, err);
}

int hx_sync_remove(wpd_engine *e, const char *kind, const char *name, wpd_error *err)
{
    /* a volume or network a container removed a moment ago may still hold:
     * a few tries */
    for (int attempt = 0;; attempt++) {
        sync_out o = {0};
        if (strcmp(kind, "container") == 0)
            wpd_ctr_remove(e, name, true, true, on_change, &o);
        else if (strcmp(kind, "volume") == 0)
            wpd_vol_remove(e, name, true, on_change, &o);
        else
            wpd_engine_net_remove(e, name, on_change, &o);
        wpd_error local;
        if (await(e, &o, &local) == 0)
            return 0;
        if (attempt < 20 && wpd_dialect_in_use(&local)) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (err)
            *err = local;
        return -1;
    }
}

static void on_inspect(void *arg, const wpd_ctr_info *info, const wpd_error *err)
{
    sync_out *o = arg;
    if (info) {
        o->running = info->running;
        o->code = info->exit_code;
        o->oom = info->oom_killed;
        o->health = wpd_xstrdup(info->health ? info->health : "");
    }
    got_err(o, err);
}

int hx_sync_inspect(wpd_engine *e, const char *id, bool *running, int64_t *code, bool *oom,
                    char **health, wpd_error *err)
{
    sync_out o = {0};
    wpd_ctr_inspect(e, id, on_inspect, &o);
    if (await(e, &o, err) != 0)
        return -1;
    if (running)
        *running = o.running;
    if (code)
        *code = o.code;
    if (oom)
        *oom = o.oom;
    if (health)
        *health = o.health;
    else
        free(o.health);
    return 0;
}
