/* config_step.c - the Step keys of the workflow document (spec section 1):
 * the field table of wpd_step and the decoders of its structured keys
 * (environment, extra_hosts, networks, auth_config, backend_options). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/json.h"
#include "woodpecker/config.h"
#include "woodpecker/config_decode.h"

/* map string -> string, in document order; a repeated key keeps its first
 * position and takes the last value; a second `environment` merges (Go). */
static int dec_env(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_kvlist *env = &((wpd_step *)obj)->environment;
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL) {
        *env = (wpd_kvlist){NULL, 0};
        return 0;
    }
    if (t != WPD_JSON_OBJECT)
        return wpd_cfg_fail(d, "expected an object");
    size_t cap = env->n + (size_t)d->j.toks[tok].size;
    wpd_kv *v = wpd_arena_alloc(d->a, (cap ? cap : 1) * sizeof *v);
    if (env->n)
        memcpy(v, env->v, env->n * sizeof *v);
    size_t n = env->n;
    wpd_cfg_iter it;
    wpd_cfg_iter_init(&it, &d->j, tok);
    while (wpd_cfg_members_next(&it)) {
        char *key = wpd_cfg_text(d, it.key);
        if (!key)
            return -1;
        char *value = d->empty;
        size_t mark = wpd_cfg_path_key(d, key);
        int rc = wpd_cfg_str(d, it.val, &value);
        wpd_cfg_path_pop(d, mark);
        if (rc)
            return -1;
        size_t k = 0;
        while (k < n && strcmp(v[k].key, key) != 0)
            k++;
        if (k == n)
            v[n++].key = key;
        v[k].value = value;
    }
    env->v = v;
    env->n = n;
    return 0;
}

static const wpd_cfg_field host_fields[] = {
    WPD_CFG_FIELD("name", WPD_CFG_STR, wpd_hostalias, name),
    WPD_CFG_FIELD("ip", WPD_CFG_STR, wpd_hostalias, ip),
};

static int dec_host(wpd_cfg_dec *d, int tok, void *dst)
{
    wpd_hostalias *h = dst;
    h->name = h->ip = d->empty;
    return wpd_cfg_object(d, tok, host_fields, WPD_CFG_COUNT(host_fields), h);
}

static int dec_hosts(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_step *st = obj;
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof *st->extra_hosts, dec_host, &l))
        return -1;
    st->extra_hosts = l.v;
    st->n_extra_hosts = l.n;
    return 0;
}

static const wpd_cfg_field conn_fields[] = {
    WPD_CFG_FIELD("name", WPD_CFG_STR, wpd_conn, name),
    WPD_CFG_FIELD("aliases", WPD_CFG_LIST, wpd_conn, aliases),
};

static int dec_conn(wpd_cfg_dec *d, int tok, void *dst)
{
    wpd_conn *c = dst;
    c->name = d->empty;
    return wpd_cfg_object(d, tok, conn_fields, WPD_CFG_COUNT(conn_fields), c);
}

static int dec_networks(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_step *st = obj;
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof *st->networks, dec_conn, &l))
        return -1;
    st->networks = l.v;
    st->n_networks = l.n;
    return 0;
}

static const wpd_cfg_field auth_fields[] = {
    WPD_CFG_FIELD("username", WPD_CFG_STR, wpd_step, auth_username),
    WPD_CFG_FIELD("password", WPD_CFG_STR, wpd_step, auth_password),
};

static int dec_auth(wpd_cfg_dec *d, int tok, void *obj)
{
    return wpd_cfg_object(d, tok, auth_fields, WPD_CFG_COUNT(auth_fields), obj);
}

/* backend_options.docker.user, decoded weakly (spec 2.3.1): a string as
 * is, a number as written, booleans as "1"/"0". Anything the reference
 * cannot decode is a warning and leaves the user empty. */
static int dec_backend(wpd_cfg_dec *d, int tok, void *obj)
{
    wpd_step *st = obj;
    wpd_json_type t = wpd_cfg_type(d, tok);
    st->user = d->empty;
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return wpd_cfg_fail(d, "expected an object");
    int docker = wpd_json_get(&d->j, tok, "docker");
    if (docker < 0 || wpd_cfg_type(d, docker) == WPD_JSON_NULL)
        return 0;
    size_t mark = wpd_cfg_path_key(d, "docker");
    if (wpd_cfg_type(d, docker) != WPD_JSON_OBJECT) {
        wpd_cfg_warn(d, "expected an object, got %s; ignoring it (the step runs without a user)",
                     wpd_cfg_a_type(wpd_cfg_type(d, docker)));
        wpd_cfg_path_pop(d, mark);
        return 0;
    }
    int user = wpd_json_get(&d->j, docker, "user");
    if (user < 0)
        user = wpd_json_get_ci(&d->j, docker, "user");
    if (user >= 0) {
        const wpd_json_tok *u = &d->j.toks[user];
        switch (u->type) {
        case WPD_JSON_STRING: {
            size_t um = wpd_cfg_path_key(d, "user");
            st->user = wpd_cfg_text(d, user);
            if (!st->user)
                return -1;
            wpd_cfg_path_pop(d, um);
            break;
        }
        case WPD_JSON_NUMBER:
            st->user = wpd_arena_strndup(d->a, d->j.src + u->start, (size_t)(u->end - u->start));
            break;
        case WPD_JSON_TRUE: st->user = wpd_arena_strdup(d->a, "1"); break;
        case WPD_JSON_FALSE: st->user = wpd_arena_strdup(d->a, "0"); break;
        case WPD_JSON_NULL: break;
        default: {
            size_t um = wpd_cfg_path_key(d, "user");
            wpd_cfg_warn(d, "expected a string, got %s; ignoring it (the step runs without a user)",
                         wpd_cfg_a_type(u->type));
            wpd_cfg_path_pop(d, um);
        }
        }
    }
    wpd_cfg_path_pop(d, mark);
    return 0;
}

/* ---- keys this backend does not use, checked as Go's decoder checks them -- */

/* map string -> string (secret_mapping, workflow_labels): null values are
 * fine, anything else but a string is refused. */
static int check_strmap(wpd_cfg_dec *d, int tok, void *obj)
{
    (void)obj;
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return wpd_cfg_fail(d, "expected an object of strings");
    wpd_cfg_iter it;
    wpd_cfg_iter_init(&it, &d->j, tok);
    while (wpd_cfg_members_next(&it)) {
        wpd_json_type vt = wpd_cfg_type(d, it.val);
        if (vt == WPD_JSON_STRING || vt == WPD_JSON_NULL)
            continue;
        char *key = wpd_json_str_arena(&d->j, it.key, d->a);
        wpd_cfg_path_key(d, key);
        return wpd_cfg_fail(d, "expected a string, got %s", wpd_cfg_a_type(vt));
    }
    return 0;
}

typedef struct port {
    int64_t number;
    char *protocol;
} port;

static const wpd_cfg_field port_fields[] = {
    WPD_CFG_FIELD("number", WPD_CFG_INT, port, number),
    WPD_CFG_FIELD("protocol", WPD_CFG_STR, port, protocol),
};

/* Port: {"number": uint16, "protocol": string}. */
static int check_port(wpd_cfg_dec *d, int tok, void *dst)
{
    port *p = dst;
    if (wpd_cfg_object(d, tok, port_fields, WPD_CFG_COUNT(port_fields), p))
        return -1;
    if (p->number < 0 || p->number > 65535) {
        int num = wpd_json_get_ci(&d->j, tok, "number");
        wpd_cfg_path_key(d, "number");
        return wpd_cfg_fail(d, "%.*s is not a port number (0-65535)",
                            d->j.toks[num].end - d->j.toks[num].start,
                            d->j.src + d->j.toks[num].start);
    }
    return 0;
}

static int check_ports(wpd_cfg_dec *d, int tok, void *obj)
{
    (void)obj;
    wpd_cfg_list l = {0};
    return wpd_cfg_list_of(d, tok, sizeof(port), check_port, &l);
}

/* ---- step ---------------------------------------------------------------- */

static const wpd_cfg_field step_fields[] = {
    WPD_CFG_FIELD("name", WPD_CFG_STR, wpd_step, name),
    WPD_CFG_FIELD("uuid", WPD_CFG_STR, wpd_step, uuid),
    WPD_CFG_FIELD("type", WPD_CFG_STR, wpd_step, type),
    WPD_CFG_FIELD("image", WPD_CFG_STR, wpd_step, image),
    WPD_CFG_FIELD("pull", WPD_CFG_BOOL, wpd_step, pull),
    WPD_CFG_FIELD("detach", WPD_CFG_BOOL, wpd_step, detach),
    WPD_CFG_FIELD("privileged", WPD_CFG_BOOL, wpd_step, privileged),
    WPD_CFG_FIELD("working_dir", WPD_CFG_STR, wpd_step, working_dir),
    WPD_CFG_FIELD("workspace_base", WPD_CFG_STR, wpd_step, workspace_base),
    WPD_CFG_CUSTOM("environment", dec_env),
    WPD_CFG_FIELD("entrypoint", WPD_CFG_LIST, wpd_step, entrypoint),
    WPD_CFG_FIELD("commands", WPD_CFG_LIST, wpd_step, commands),
    WPD_CFG_CUSTOM("extra_hosts", dec_hosts),
    WPD_CFG_FIELD("volumes", WPD_CFG_LIST, wpd_step, volumes),
    WPD_CFG_FIELD("tmpfs", WPD_CFG_LIST, wpd_step, tmpfs),
    WPD_CFG_FIELD("devices", WPD_CFG_LIST, wpd_step, devices),
    WPD_CFG_CUSTOM("networks", dec_networks),
    WPD_CFG_FIELD("dns", WPD_CFG_LIST, wpd_step, dns),
    WPD_CFG_FIELD("dns_search", WPD_CFG_LIST, wpd_step, dns_search),
    WPD_CFG_FIELD("on_success", WPD_CFG_BOOL, wpd_step, on_success),
    WPD_CFG_FIELD("on_failure", WPD_CFG_BOOL, wpd_step, on_failure),
    WPD_CFG_FIELD("failure", WPD_CFG_STR, wpd_step, failure),
    WPD_CFG_CUSTOM("auth_config", dec_auth),
    WPD_CFG_FIELD("network_mode", WPD_CFG_STR, wpd_step, network_mode),
    WPD_CFG_CUSTOM("backend_options", dec_backend),
    WPD_CFG_FIELD("org_id", WPD_CFG_INT, wpd_step, org_id),
    /* not used by this backend, but part of the format */
    WPD_CFG_CUSTOM("secret_mapping", check_strmap),
    WPD_CFG_CUSTOM("ports", check_ports),
    WPD_CFG_CUSTOM("workflow_labels", check_strmap),
};

int wpd_cfg_step(wpd_cfg_dec *d, int tok, void *dst)
{
    wpd_step *st = dst;
    st->name = st->uuid = st->type = st->image = d->empty;
    st->working_dir = st->workspace_base = st->failure = d->empty;
    st->auth_username = st->auth_password = st->network_mode = st->user = d->empty;
    return wpd_cfg_object(d, tok, step_fields, WPD_CFG_COUNT(step_fields), st);
}
