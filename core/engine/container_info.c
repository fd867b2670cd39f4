/* container_info.c - reading containers: inspect and list, with the
 * parsers of their answers. */
#include "engine/containers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/parse.h"

/* ---- inspect ---------------------------------------------------------- */

/* A port number from its text ("80", "49153"); 0 when it is none (atoi
 * had undefined behaviour for digits beyond int's range). */
static int port_number(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end != s && errno == 0 && v > 0 && v <= 65535 ? (int)v : 0;
}

/* NetworkSettings.Ports: {"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"49153"}],"53/udp":null} */
static size_t parse_ports(const wpd_json *j, int tok, wpd_arena *a, const wpd_port_binding **out)
{
    *out = NULL;
    if (wpd_json_type_of(j, tok) != WPD_JSON_OBJECT)
        return 0;
    size_t cap = 0;
    int key = tok + 1;
    for (int i = 0; i < j->toks[tok].size; i++, key = wpd_json_skip(j, key)) {
        int arr = key + 1;
        size_t n = wpd_json_type_of(j, arr) == WPD_JSON_ARRAY ? (size_t)j->toks[arr].size : 0;
        cap += n ? n : 1;
    }
    if (!cap)
        return 0;
    wpd_port_binding *v = wpd_arena_alloc(a, cap * sizeof *v);
    size_t n = 0;
    key = tok + 1;
    for (int i = 0; i < j->toks[tok].size; i++, key = wpd_json_skip(j, key)) {
        char *spec = wpd_json_str_arena(j, key, a);
        if (!spec)
            continue;
        char *slash = strchr(spec, '/');
        const char *proto = "tcp";
        if (slash) {
            *slash = '\0';
            proto = slash + 1;
        }
        int cport = port_number(spec);
        int arr = key + 1;
        int nb = wpd_json_type_of(j, arr) == WPD_JSON_ARRAY ? j->toks[arr].size : 0;
        if (nb == 0) {
            v[n++] = (wpd_port_binding){cport, proto, "", 0};
            continue;
        }
        for (int b = 0; b < nb; b++) {
            int el = wpd_json_at(j, arr, b);
            const char *hp = wpd_resp_str(j, el, "HostPort", a);
            v[n++] =
                (wpd_port_binding){cport, proto, wpd_resp_str(j, el, "HostIp", a), port_number(hp)};
        }
    }
    *out = v;
    return n;
}

static size_t parse_networks(const wpd_json *j, int tok, wpd_arena *a, const wpd_ctr_network **out)
{
    *out = NULL;
    if (wpd_json_type_of(j, tok) != WPD_JSON_OBJECT || j->toks[tok].size == 0)
        return 0;
    wpd_ctr_network *v = wpd_arena_alloc(a, (size_t)j->toks[tok].size * sizeof *v);
    size_t n = 0;
    int key = tok + 1;
    for (int i = 0; i < j->toks[tok].size; i++, key = wpd_json_skip(j, key)) {
        char *name = wpd_json_str_arena(j, key, a);
        if (!name)
            continue;
        wpd_ctr_network *nw = &v[n++];
        nw->name = name;
        nw->ip = wpd_resp_str(j, key + 1, "IPAddress", a);
        nw->n_aliases = wpd_resp_strings(j, wpd_json_get(j, key + 1, "Aliases"), a, &nw->aliases);
    }
    *out = v;
    return n;
}

int wpd_ctr_info_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_info *out,
                       wpd_error *err)
{
    memset(out, 0, sizeof *out);
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "container inspect", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "container inspect: unreadable answer: not an object");
    }
    out->id = wpd_resp_str(&j, 0, "Id", a);
    const char *name = wpd_resp_str(&j, 0, "Name", a);
    out->name = name[0] == '/' ? name + 1 : name;
    out->image = wpd_resp_str(&j, 0, "Config.Image", a);
    int st = wpd_json_get(&j, 0, "State");
    out->status = wpd_resp_str(&j, st, "Status", a);
    out->running = wpd_resp_bool(&j, st, "Running");
    out->paused = wpd_resp_bool(&j, st, "Paused");
    out->restarting = wpd_resp_bool(&j, st, "Restarting");
    out->dead = wpd_resp_bool(&j, st, "Dead");
    out->oom_killed = wpd_resp_bool(&j, st, "OOMKilled");
    out->exit_code = wpd_resp_int(&j, st, "ExitCode", 0);
    out->pid = wpd_resp_int(&j, st, "Pid", 0);
    out->error = wpd_resp_str(&j, st, "Error", a);
    out->started_at = wpd_resp_str(&j, st, "StartedAt", a);
    out->finished_at = wpd_resp_str(&j, st, "FinishedAt", a);
    out->health = wpd_resp_str(&j, st, "Health.Status", a);
    out->tty = wpd_resp_bool(&j, 0, "Config.Tty");
    out->n_labels = wpd_resp_pairs(&j, wpd_json_path(&j, 0, "Config.Labels"), a, &out->labels);
    out->n_ports = parse_ports(&j, wpd_json_path(&j, 0, "NetworkSettings.Ports"), a, &out->ports);
    out->n_networks =
        parse_networks(&j, wpd_json_path(&j, 0, "NetworkSettings.Networks"), a, &out->networks);
    wpd_json_free(&j);
    return 0;
}

static int ctr_info_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    return wpd_ctr_info_parse(body, len, a, r, err);
}

static void ctr_info_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    ((wpd_ctr_inspect_fn)done)(arg, r, err);
}

static const wpd_result_type ctr_info_type = {sizeof(wpd_ctr_info), ctr_info_parse, ctr_info_emit};

wpd_call *wpd_ctr_inspect(wpd_engine *e, const char *name, wpd_ctr_inspect_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/");
    wpd_path_escape(&p, name);
    wpd_buf_puts(&p, "/json");
    return wpd_result_get(e, &p, &ctr_info_type, (wpd_any_fn)done, arg);
}

/* ---- list ------------------------------------------------------------- */

int wpd_ctr_list_parse(const char *body, size_t len, wpd_arena *a, wpd_ctr_summary **out, size_t *n,
                       wpd_error *err)
{
    *out = NULL;
    *n = 0;
    wpd_json j;
    if (wpd_resp_body(&j, body, len, "container list", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_ARRAY) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                             "container list: unreadable answer: not an array");
    }
    size_t cnt = (size_t)j.toks[0].size;
    wpd_ctr_summary *v = cnt ? wpd_arena_alloc(a, cnt * sizeof *v) : NULL;
    for (size_t i = 0; i < cnt; i++) {
        int it = wpd_json_at(&j, 0, (int)i);
        wpd_ctr_summary *s = &v[*n];
        s->id = wpd_resp_str(&j, it, "Id", a);
        if (!*s->id)
            continue;
        const char *name = wpd_resp_str(&j, it, "Names.0", a);
        s->name = name[0] == '/' ? name + 1 : name;
        s->image = wpd_resp_str(&j, it, "Image", a);
        s->state = wpd_resp_str(&j, it, "State", a);
        s->n_labels = wpd_resp_pairs(&j, wpd_json_get(&j, it, "Labels"), a, &s->labels);
        (*n)++;
    }
    *out = v;
    wpd_json_free(&j);
    return 0;
}

typedef struct ctr_list_result {
    wpd_ctr_summary *v;
    size_t n;
} ctr_list_result;

static int ctr_list_parse(const char *body, size_t len, wpd_arena *a, void *r, wpd_error *err)
{
    ctr_list_result *l = r;
    return wpd_ctr_list_parse(body, len, a, &l->v, &l->n, err);
}

static void ctr_list_emit(wpd_any_fn done, void *arg, const void *r, const wpd_error *err)
{
    const ctr_list_result *l = r;
    ((wpd_ctr_list_fn)done)(arg, l ? l->v : NULL, l ? l->n : 0, err);
}

static const wpd_result_type ctr_list_type = {sizeof(ctr_list_result), ctr_list_parse,
                                              ctr_list_emit};

wpd_call *wpd_ctr_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_ctr_list_fn done, void *arg)
{
    wpd_buf p = WPD_BUF_INIT;
    wpd_buf_puts(&p, "/containers/json?all=1");
    wpd_path_filters(&p, '&', filters, n_filters);
    return wpd_result_get(e, &p, &ctr_list_type, (wpd_any_fn)done, arg);
}
