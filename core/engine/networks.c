/* networks.c - network calls: create, connect, remove, list. */
#include "engine/networks.h"

#include <stdlib.h>

#include "engine/call.h"
#include "engine/parse.h"
#include "util/jsonw.h"

void wpd_net_create_body(const wpd_net_spec *spec, wpd_buf *out)
{
    wpd_jsonw w;
    wpd_jw_init(&w, out);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Name", spec->name);
    wpd_jw_kstr(&w, "Driver", spec->driver ? spec->driver : "bridge");
    wpd_jw_kbool(&w, "EnableIPv6", spec->ipv6);
    if (spec->internal)
        wpd_jw_kbool(&w, "Internal", true);
    wpd_write_labels(&w, spec->labels, spec->n_labels);
    wpd_jw_obj_end(&w);
}

/* the create answer {"Id":..}; the name is what addresses the network,
 * so an unreadable answer is no failure */
static int id_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    (void)err;
    *(const char **)r = wpd_resp_body_str(body, len, "Id", a);
    return 0;
}

static const wpd_result_type id_type = {sizeof(const char *), id_parse, wpd_emit_str};

wpd_call *wpd_net_create(wpd_engine *e, const wpd_net_spec *spec, wpd_net_create_fn done, void *arg)
{
    wpd_buf body = WPD_BUF_INIT;
    wpd_net_create_body(spec, &body);
    wpd_call_req rq = {.method = "POST", .path = "/networks/create", .body = wpd_buf_cstr(&body)};
    wpd_call *c = wpd_result_send(e, &id_type, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&body);
    return c;
}

void wpd_net_connect_body(const char *container, const wpd_net_endpoint *ep, wpd_buf *out)
{
    wpd_jsonw w;
    wpd_jw_init(&w, out);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "Container", container);
    if (ep) {
        wpd_jw_key(&w, "EndpointConfig");
        wpd_jw_obj_begin(&w);
        wpd_jw_key(&w, "Aliases");
        if (ep->n_aliases) {
            wpd_jw_arr_begin(&w);
            for (size_t i = 0; i < ep->n_aliases; i++)
                wpd_jw_str(&w, ep->aliases[i]);
            wpd_jw_arr_end(&w);
        } else {
            wpd_jw_null(&w);
        }
        wpd_jw_obj_end(&w);
    }
    wpd_jw_obj_end(&w);
}

wpd_call *wpd_net_connect(wpd_engine *e, const char *network, const char *container,
                          const wpd_net_endpoint *ep, wpd_done_fn done, void *arg)
{
    wpd_buf path = WPD_BUF_INIT, body = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/networks/");
    wpd_path_escape(&path, network);
    wpd_buf_puts(&path, "/connect");
    wpd_net_connect_body(container, ep, &body);
    wpd_call_req rq = {.method = "POST", .path = wpd_buf_cstr(&path), .body = wpd_buf_cstr(&body)};
    wpd_call *c = wpd_typed_send(e, wpd_deliver_done, (wpd_any_fn)done, arg, &rq);
    wpd_buf_free(&path);
    wpd_buf_free(&body);
    return c;
}

wpd_call *wpd_net_remove(wpd_engine *e, const char *network, wpd_change_fn done, void *arg)
{
    wpd_buf path = WPD_BUF_INIT;
    wpd_buf_puts(&path, "/networks/");
    wpd_path_escape(&path, network);
    return wpd_change_send(e, WPD_CHANGE_OP_REMOVE_NETWORK, "DELETE", wpd_buf_steal(&path), done,
                           arg);
}

int wpd_net_list_parse(const char *body, size_t len, wpd_arena *a, wpd_net_summary **out, size_t *n,
                       wpd_error *err)
{
    *out = NULL;
    *n = 0;
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "network list", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_ARRAY) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "network list: unreadable answer: not an array");
    }
    size_t cnt = (size_t)j.toks[0].size;
    wpd_net_summary *v = cnt ? wpd_arena_alloc(a, cnt * sizeof *v) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        int it = wpd_json_at(&j, 0, (int)i);
        wpd_net_summary *s = &v[*n];
        s->id = wpd_resp_str(&j, it, "Id", a);
        s->name = wpd_resp_str(&j, it, "Name", a);
        if (!*s->id && !*s->name)
            continue;
        s->driver = wpd_resp_str(&j, it, "Driver", a);
        s->n_labels = wpd_resp_pairs(&j, wpd_json_get(&j, it, "Labels"), a, &s->labels);
        (*n)++;
    }
    *out = v;
    wpd_json_free(&j);
    return 0;
}

typedef struct net_list_result {
    wpd_net_summary *v;
    size_t n;
} net_list_result;

static int net_list_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    net_list_result *l = r;
    return wpd_net_list_parse(body, len, a, &l->v, &l->n, err);
}

static void net_list_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    const net_list_result *l = r;
    ((wpd_net_list_fn)done)(arg, l ? l->v : NULL, l ? l->n : 0, err);
}

static const wpd_result_type net_list_type = {sizeof(net_list_result), net_list_parse,
                                              net_list_emit};

wpd_call *wpd_net_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_net_list_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/networks");
    wpd_path_filters(&p, '?', filters, n_filters);
    return wpd_result_get(e, &p, &net_list_type, (wpd_any_fn)done, arg);
}
