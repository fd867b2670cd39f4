/* net.c - networks a test creates (labelled like its containers), owned
 * by the session until removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness_private.h"

struct wpd_net {
    wpd_session *s;
    wpd_net *next, *prev;
    char *name;
    char *id;
};

typedef struct net_sync {
    volatile bool done;
    bool failed;
    wpd_error err;
    char *id;
} net_sync;

static void on_created(void *arg, const char *id, const wpd_error *err)
{
    net_sync *ns = arg;
    if (err) {
        ns->failed = true;
        ns->err = *err;
    } else {
        ns->id = wpd_xstrdup(id ? id : "");
    }
    ns->done = true;
}

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

wpd_net *wpd_net_create(wpd_session *s, const char *name, wpd_error *err)
{
    if (hx_check(s, true, "wpd_net_create", err) != 0)
        return NULL;
    if (name && !name_ok(name)) {
        wpd_error_set(err, WPD_ERR_INPUT, 0,
                      "wpd_net_create: \"%s\" is not a network name (a letter or digit, then "
                      "letters, digits, '_', '.', '-')",
                      name);
        return NULL;
    }
    char *nm = name ? wpd_xstrdup(name) : wpd_xasprintf("wp_harness_%s_%u", s->id, ++s->seq);
    wpd_pair labels[HX_N_LABELS];
    hx_labels(s, labels);
    wpd_net_spec spec = {.name = nm, .labels = labels, .n_labels = HX_N_LABELS};
    net_sync ns = {0};
    wpd_engine_net_create(s->e, &spec, on_created, &ns);
    if (hx_run_until(s, &ns.done, err) != 0 || ns.failed) {
        if (ns.failed && err) {
            *err = ns.err;
            wpd_error_prefix(err, "wpd_net_create: %s", nm);
        }
        free(nm);
        free(ns.id);
        return NULL;
    }
    wpd_net *n = wpd_xcalloc(1, sizeof *n);
    n->s = s;
    n->name = nm;
    n->id = ns.id;
    n->next = s->nets;
    if (s->nets)
        s->nets->prev = n;
    s->nets = n;
    return n;
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
    int rc = hx_sync_remove(s->e, "network", n->id && *n->id ? n->id : n->name, err);
    if (rc != 0)
        wpd_error_prefix(err, "wpd_net_remove: %s", n->name);
    if (n->prev)
        n->prev->next = n->next;
    else
        s->nets = n->next;
    if (n->next)
        n->next->prev = n->prev;
    free(n->name);
    free(n->id);
    free(n);
    return rc;
}
