/* cleanup.c - finding and removing what runs left on an engine:
 * containers labelled wp_uuid, networks and volumes labelled wp_workflow;
 * or only those of one workflow (its labelled network and volume, and the
 * step containers attached to them). A blocking convenience that runs the
 * engine's reactor until done. */
#include <stdlib.h>
#include <string.h>
#include <wpdock/cleanup.h>

#include "woodpecker/backend.h"
#include "engine/engine.h"
#include "util/json.h"
#include "util/jsonw.h"

struct sync_call {
    bool done;
    bool failed;
    wpd_error err;
    wpd_buf body;
};

static void sync_done(const wpd_http_response *res, const wpd_error *err, void *arg)
{
    struct sync_call *sc = arg;
    if (err) {
        sc->failed = true;
        sc->err = *err;
    } else if (res && res->body.len) {
        wpd_buf_append(&sc->body, res->body.data, res->body.len);
    }
    sc->done = true;
}

/* One engine call, running the loop until it completes. */
static int call_sync(wpd_engine *e, const char *method, const char *path, wpd_buf *body,
                     wpd_error *err)
{
    struct sync_call sc = {0};
    wpd_engine_call c = {.method = method, .path = path, .on_done = sync_done, .arg = &sc};
    wpd_engine_call_start(e, &c);
    if (wpd_reactor_run_until(wpd_engine_reactor(e), &sc.done) != 0 && !sc.done) {
        wpd_buf_free(&sc.body);
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "the event loop stopped early");
    }
    if (sc.failed) {
        if (err)
            *err = sc.err;
        wpd_buf_free(&sc.body);
        return -1;
    }
    if (body)
        *body = sc.body;
    else
        wpd_buf_free(&sc.body);
    return 0;
}

typedef struct object {
    const char *kind; /* "container", "network", "volume" */
    char *id;
    char *name;
} object;

typedef struct objects {
    object *v;
    size_t n;
} objects;

static void add_object(objects *os, const char *kind, char *id, char *name)
{
    for (size_t i = 0; i < os->n; i++) {
        if (os->v[i].kind == kind && strcmp(os->v[i].id, id) == 0) {
            free(id);
            free(name);
            return;
        }
    }
    os->v = wpd_xrealloc(os->v, (os->n + 1) * sizeof *os->v);
    os->v[os->n++] = (object){kind, id, name};
}

/* "/<what>?[all=1&]filters=<{"<key>":["<value>"](,"label":["wp_uuid"])}>" */
static char *filter_path(const char *what, const char *key, const char *value, bool step_label)
{
    wpd_buf f = WPD_BUF_INIT, path = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &f);
    wpd_jw_obj_begin(&w);
    wpd_jw_key(&w, key);
    wpd_jw_arr_begin(&w);
    wpd_jw_str(&w, value);
    wpd_jw_arr_end(&w);
    if (step_label) {
        wpd_jw_key(&w, "label");
        wpd_jw_arr_begin(&w);
        wpd_jw_str(&w, "wp_uuid");
        wpd_jw_arr_end(&w);
    }
    wpd_jw_obj_end(&w);
    wpd_buf_printf(&path, "/%s?%sfilters=", what,
                   strcmp(what, "containers/json") == 0 ? "all=1&" : "");
    wpd_url_escape(&path, wpd_buf_cstr(&f));
    wpd_buf_free(&f);
    return wpd_buf_steal(&path);
}

static int list(wpd_engine *e, const char *kind, const char *path, objects *os, wpd_error *err)
{
    wpd_buf body = WPD_BUF_INIT;
    if (call_sync(e, "GET", path, &body, err) != 0)
        return wpd_error_prefix(err, "listing %ss", kind);
    wpd_json j;
    if (wpd_json_parse(&j, body.data, body.len, err) != 0) {
        wpd_buf_free(&body);
        return wpd_error_prefix(err, "listing %ss", kind);
    }
    bool volume = strcmp(kind, "volume") == 0;
    int arr = volume ? wpd_json_get(&j, 0, "Volumes") : 0;
    for (int i = 0;; i++) {
        int item = wpd_json_at(&j, arr, i);
        if (item < 0)
            break;
        char *id = wpd_json_get_str(&j, item, volume ? "Name" : "Id");
        char *name = wpd_json_get_str(&j, item, "Name");
        if (!name) { /* containers: Names[0] without its leading slash */
            char *n0 = wpd_json_str(&j, wpd_json_at(&j, wpd_json_get(&j, item, "Names"), 0));
            if (n0)
                name = wpd_xstrdup(n0[0] == '/' ? n0 + 1 : n0);
            free(n0);
        }
        if (id)
            add_object(os, kind, id, name ? name : wpd_xstrdup(""));
        else
            free(name);
    }
    wpd_json_free(&j);
    wpd_buf_free(&body);
    return 0;
}

static int find(wpd_engine *e, const char *workflow_id, objects *os, wpd_error *err)
{
    char *label =
        workflow_id ? wpd_xasprintf("wp_workflow=%s", workflow_id) : wpd_xstrdup("wp_workflow");
    char *pn = filter_path("networks", "label", label, false);
    char *pv = filter_path("volumes", "label", label, false);
    objects shared = {0};
    int rc = list(e, "network", pn, &shared, err);
    if (rc == 0)
        rc = list(e, "volume", pv, &shared, err);
    free(label);
    free(pn);
    free(pv);
    if (rc == 0 && !workflow_id) {
        char *pc = filter_path("containers/json", "label", "wp_uuid", false);
        rc = list(e, "container", pc, os, err);
        free(pc);
    }
    /* a workflow's steps: the wpdock containers on its network or volume */
    for (size_t i = 0; rc == 0 && workflow_id && i < shared.n; i++) {
        bool net = strcmp(shared.v[i].kind, "network") == 0;
        char *pc =
            filter_path("containers/json", net ? "network" : "volume", shared.v[i].name, true);
        rc = list(e, "container", pc, os, err);
        free(pc);
    }
    /* remove containers first, then volumes, then networks */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < shared.n; i++)
            if ((strcmp(shared.v[i].kind, "volume") == 0) == (pass == 0))
                add_object(os, shared.v[i].kind, wpd_xstrdup(shared.v[i].id),
                           wpd_xstrdup(shared.v[i].name));
    for (size_t i = 0; i < shared.n; i++) {
        free(shared.v[i].id);
        free(shared.v[i].name);
    }
    free(shared.v);
    return rc;
}

int wpd_cleanup_sync(wpd_engine *e, const char *workflow_id, bool dry_run, wpd_leftover_fn fn,
                     void *arg, size_t *found, wpd_error *err)
{
    objects os = {0};
    int rc = find(e, workflow_id && *workflow_id ? workflow_id : NULL, &os, err);
    for (size_t i = 0; rc == 0 && i < os.n; i++) {
        object *o = &os.v[i];
        wpd_leftover lo = {o->kind, o->name, o->id, false, NULL};
        wpd_error rerr;
        if (!dry_run) {
            wpd_buf path = WPD_BUF_INIT;
            bool c = strcmp(o->kind, "container") == 0, v = strcmp(o->kind, "volume") == 0;
            wpd_buf_printf(&path, "/%s/", c ? "containers" : v ? "volumes" : "networks");
            wpd_url_escape(&path, o->id);
            if (c)
                wpd_buf_puts(&path, "?force=1&v=1");
            else if (v)
                wpd_buf_puts(&path, "?force=1");
            if (call_sync(e, "DELETE", wpd_buf_cstr(&path), NULL, &rerr) == 0 ||
                (rerr.kind == WPD_ERR_ENGINE && rerr.status == 404))
                lo.removed = true;
            else
                lo.error = rerr.message;
            wpd_buf_free(&path);
        }
        if (fn)
            fn(&lo, arg);
    }
    if (found)
        *found = os.n;
    for (size_t i = 0; i < os.n; i++) {
        free(os.v[i].id);
        free(os.v[i].name);
    }
    free(os.v);
    return rc;
}
