/* cleanup.c - finding and removing what wpdock (or a Woodpecker agent)
 * left on an engine: containers labelled wp_uuid, networks and volumes
 * labelled wp_workflow. A blocking convenience that runs the reactor. */
#include <stdlib.h>
#include <string.h>
#include <wpdock/cleanup.h>

#include "backend.h"
#include "engine.h"
#include "json.h"

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
    } else if (res) {
        wpd_buf_append(&sc->body, res->body.data ? res->body.data : "", res->body.len);
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

typedef struct kind_spec {
    const char *kind;
    const char *list_path;
    const char *list_key; /* "" = the answer is an array */
    const char *id_key;
    const char *name_key;
    const char *remove_fmt; /* %s = escaped id or name */
    bool remove_by_name;
} kind_spec;

static int sweep(wpd_engine *e, const kind_spec *k, bool dry_run, wpd_leftover_fn fn, void *arg,
                 size_t *found, wpd_error *err)
{
    wpd_buf body = WPD_BUF_INIT;
    if (call_sync(e, "GET", k->list_path, &body, err) != 0)
        return wpd_error_prefix(err, "listing %ss", k->kind);
    wpd_json j;
    if (wpd_json_parse(&j, body.data, body.len, err) != 0) {
        wpd_buf_free(&body);
        return wpd_error_prefix(err, "listing %ss", k->kind);
    }
    int arr = *k->list_key ? wpd_json_get(&j, 0, k->list_key) : 0;
    for (int i = 0;; i++) {
        int item = wpd_json_at(&j, arr, i);
        if (item < 0)
            break;
        char *id = wpd_json_get_str(&j, item, k->id_key);
        char *name = wpd_json_get_str(&j, item, k->name_key);
        if (!name) { /* containers: Names[0] without its leading slash */
            int names = wpd_json_get(&j, item, "Names");
            char *n0 = wpd_json_str(&j, wpd_json_at(&j, names, 0));
            if (n0)
                name = wpd_xstrdup(n0[0] == '/' ? n0 + 1 : n0);
            free(n0);
        }
        wpd_leftover lo = {k->kind, name ? name : "", id ? id : "", false, NULL};
        wpd_error rerr;
        if (!dry_run) {
            wpd_buf path = WPD_BUF_INIT, esc = WPD_BUF_INIT;
            wpd_url_escape(&esc, k->remove_by_name ? lo.name : lo.id);
            wpd_buf_printf(&path, k->remove_fmt, wpd_buf_cstr(&esc));
            if (call_sync(e, "DELETE", wpd_buf_cstr(&path), NULL, &rerr) == 0 ||
                (rerr.kind == WPD_ERR_ENGINE && rerr.status == 404))
                lo.removed = true;
            else
                lo.error = rerr.message;
            wpd_buf_free(&path);
            wpd_buf_free(&esc);
        }
        (*found)++;
        if (fn)
            fn(&lo, arg);
        free(id);
        free(name);
    }
    wpd_json_free(&j);
    wpd_buf_free(&body);
    return 0;
}

int wpd_cleanup_sync(wpd_engine *e, bool dry_run, wpd_leftover_fn fn, void *arg, size_t *found,
                     wpd_error *err)
{
    /* filters={"label":["wp_uuid"]} and {"label":["wp_workflow"]}, URL-encoded */
    static const kind_spec kinds[] = {
        {"container", "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22wp_uuid%22%5D%7D", "",
         "Id", "Name", "/containers/%s?force=1&v=1", false},
        {"network", "/networks?filters=%7B%22label%22%3A%5B%22wp_workflow%22%5D%7D", "", "Id",
         "Name", "/networks/%s", false},
        {"volume", "/volumes?filters=%7B%22label%22%3A%5B%22wp_workflow%22%5D%7D", "Volumes",
         "Name", "Name", "/volumes/%s?force=1", true},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (sweep(e, &kinds[i], dry_run, fn, arg, &n, err) != 0)
            return -1;
    if (found)
        *found = n;
    return 0;
}
