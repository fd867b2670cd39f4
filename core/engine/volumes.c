/* volumes.c - volume calls: create, remove, list. */
#include "engine/volumes.h"

#include <stdlib.h>

#include "engine/call.h"
#include "engine/parse.h"
#include "util/jsonw.h"

void wpd_vol_create_body(const wpd_vol_spec *spec, wpd_buf *out)
{
    wpd_jsonw w;
    wpd_jw_init(&w, out);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Name", spec->name);
    wpd_jw_kstr(&w, "Driver", spec->driver ? spec->driver : "local");
    wpd_write_labels(&w, spec->labels, spec->n_labels);
    wpd_jw_obj_end(&w);
}

/* the create answer {"Name":..}; an unreadable answer is no failure */
static int name_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    (void)err;
    *(const char **)r = wpd_resp_body_str(body, len, "Name", a);
    return 0;
}

static const wpd_result_type name_type = {sizeof(const char *), name_parse, wpd_emit_str};

wpd_call *wpd_vol_create(wpd_engine *e, const wpd_vol_spec *spec, wpd_vol_create_fn done, void *arg)
{
    wpd_buf body = WPD_BUF_INIT;
    wpd_vol_create_body(spec, &body);
    wpd_call_req rq = {.method = "POST", .path = "/volumes/create", .body = wpd_buf_cstr(&body)};
    wpd_call *c = wpd_result_send(e, &name_type, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&body);
    return c;
}

wpd_call *wpd_vol_remove(wpd_engine *e, const char *name, bool force, wpd_change_fn done, void *arg)
{
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/volumes/");
    wpd_path_escape(&path, name);
    if (force)
        wpd_buf_puts(&path, "?force=1");
    return wpd_change_send(e, WPD_CHANGE_OP_REMOVE_VOLUME, "DELETE", wpd_buf_steal(&path), done,
                           arg);
}

int wpd_vol_list_parse(const char *body, size_t len, wpd_arena *a, wpd_vol_summary **out, size_t *n,
                       wpd_error *err)
{
    *out = NULL;
    *n = 0;
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "volume list", a, err) != 0)
        return -1;
    int arr = wpd_json_get(&j, 0, "Volumes");
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT ||
        (arr >= 0 && wpd_json_type_of(&j, arr) != WPD_JSON_ARRAY && !wpd_json_is_null(&j, arr))) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "volume list: unreadable answer: no \"Volumes\" list");
    }
    size_t cnt = wpd_json_type_of(&j, arr) == WPD_JSON_ARRAY ? (size_t)j.toks[arr].size : 0;
    wpd_vol_summary *v = cnt ? wpd_arena_alloc(a, cnt * sizeof *v) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        int it = wpd_json_at(&j, arr, (int)i);
        wpd_vol_summary *s = &v[*n];
        s->name = wpd_resp_str(&j, it, "Name", a);
        if (!*s->name)
            continue;
        s->driver = wpd_resp_str(&j, it, "Driver", a);
        s->mountpoint = wpd_resp_str(&j, it, "Mountpoint", a);
        s->n_labels = wpd_resp_pairs(&j, wpd_json_get(&j, it, "Labels"), a, &s->labels);
        (*n)++;
    }
    *out = v;
    wpd_json_free(&j);
    return 0;
}

typedef struct vol_list_result {
    wpd_vol_summary *v;
    size_t n;
} vol_list_result;

static int vol_list_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    vol_list_result *l = r;
    return wpd_vol_list_parse(body, len, a, &l->v, &l->n, err);
}

static void vol_list_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    const vol_list_result *l = r;
    ((wpd_vol_list_fn)done)(arg, l ? l->v : NULL, l ? l->n : 0, err);
}

static const wpd_result_type vol_list_type = {sizeof(vol_list_result), vol_list_parse,
                                              vol_list_emit};

wpd_call *wpd_vol_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_vol_list_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/volumes");
    wpd_path_filters(&p, '?', filters, n_filters);
    return wpd_result_get(e, &p, &vol_list_type, (wpd_any_fn)done, arg);
}
