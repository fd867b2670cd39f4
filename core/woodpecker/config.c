/* config.c - Woodpecker backend Config JSON (spec section 1) -> wpd_workflow.
 * Decoded the way Go's encoding/json does it (keys matched ignoring case,
 * null = absent, unknown keys ignored), then checked for what would
 * otherwise fail later without naming the field. Errors name the file and
 * the JSON path: "hello.json: pipeline[1].steps[0].volumes[2]: expected a
 * string". */
#include "woodpecker/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"

typedef struct dec {
    const char *label;
    wpd_json j;
    wpd_arena *a;
    wpd_workflow *wf;
    wpd_error *err;
    char *empty; /* the shared "" for absent strings */
    char path[512];
    size_t plen;
} dec;

/* ---- JSON path of the value being decoded ------------------------------- */

static size_t path_add(dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);

static size_t path_add(dec *d, const char *fmt, ...)
{
    size_t mark = d->plen;
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(d->path + d->plen, sizeof d->path - d->plen, fmt, ap);
    va_end(ap);
    if (r > 0)
        d->plen += (size_t)r;
    if (d->plen >= sizeof d->path)
        d->plen = sizeof d->path - 1;
    return mark;
}

static size_t path_key(dec *d, const char *key)
{
    return path_add(d, "%s%s", d->plen ? "." : "", key);
}

static size_t path_index(dec *d, size_t i)
{
    return path_add(d, "[%zu]", i);
}

static void path_pop(dec *d, size_t mark)
{
    d->plen = mark;
    d->path[mark] = '\0';
}

/* "<label>: <path>: <message>" (no path part at the top level). */
static char *located(dec *d, const char *fmt, va_list ap)
{
    char msg[WPD_ERROR_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (d->plen)
        return wpd_xasprintf("%s: %s: %s", d->label, d->path, msg);
    return wpd_xasprintf("%s: %s", d->label, msg);
}

static int fail(dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);

static int fail(dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = located(d, fmt, ap);
    va_end(ap);
    wpd_error_set(d->err, WPD_ERR_INPUT, 0, "%s", m);
    free(m);
    return -1;
}

/* Append s to a list whose capacity is implied by its length (4, 8, 16...). */
static void strlist_push(wpd_arena *a, wpd_strlist *l, char *s)
{
    if (l->n == 0 || (l->n >= 4 && (l->n & (l->n - 1)) == 0)) {
        size_t cap = l->n < 4 ? 4 : l->n * 2;
        char **v = wpd_arena_alloc(a, cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
    }
    l->v[l->n++] = s;
}

static void warn(dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);

static void warn(dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = located(d, fmt, ap);
    va_end(ap);
    strlist_push(d->a, &d->wf->warnings, wpd_arena_strdup(d->a, m));
    free(m);
}

/* ---- iteration over object members and array elements ------------------- */

typedef struct iter {
    const wpd_json *j;
    int next, left;
    int key, val; /* key is -1 for array elements */
    size_t index;
} iter;

static void iter_init(iter *it, const wpd_json *j, int container)
{
    it->j = j;
    it->next = container + 1;
    it->left = j->toks[container].size;
    it->key = -1;
    it->val = -1;
    it->index = (size_t)-1;
}

static bool members_next(iter *it)
{
    if (it->left-- <= 0)
        return false;
    it->key = it->next;
    it->val = it->key + 1;
    it->next = wpd_json_skip(it->j, it->val);
    it->index++;
    return true;
}

static bool elems_next(iter *it)
{
    if (it->left-- <= 0)
        return false;
    it->val = it->next;
    it->next = wpd_json_skip(it->j, it->val);
    it->index++;
    return true;
}

static wpd_json_type type_at(const dec *d, int tok)
{
    return d->j.toks[tok].type;
}

/* "a string", "a list"... for messages. */
static const char *a_type(wpd_json_type t)
{
    switch (t) {
    case WPD_JSON_OBJECT: return "an object";
    case WPD_JSON_ARRAY: return "a list";
    case WPD_JSON_STRING: return "a string";
    case WPD_JSON_NUMBER: return "a number";
    case WPD_JSON_TRUE:
    case WPD_JSON_FALSE: return "a boolean";
    case WPD_JSON_NULL: return "null";
    }
    return "a value";
}

/* ---- scalar and list decoders (null leaves the value as it is, like Go) -- */

static int dec_str(dec *d, int tok, char **dst)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_STRING)
        return fail(d, "expected a string");
    *dst = wpd_json_str_arena(&d->j, tok, d->a);
    return 0;
}

static int dec_bool(dec *d, int tok, int *dst)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_TRUE && t != WPD_JSON_FALSE)
        return fail(d, "expected a boolean");
    *dst = t == WPD_JSON_TRUE;
    return 0;
}

static int dec_int64(dec *d, int tok, int64_t *dst)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_NUMBER)
        return fail(d, "expected a number");
    if (wpd_json_int64(&d->j, tok, dst))
        return fail(d, "expected a whole number that fits in 64 bits");
    return 0;
}

/* A list of strings; null empties it, a null element is "". */
static int dec_strlist(dec *d, int tok, wpd_strlist *dst)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL) {
        *dst = (wpd_strlist){NULL, 0};
        return 0;
    }
    if (t != WPD_JSON_ARRAY)
        return fail(d, "expected a list");
    wpd_strlist l = {NULL, (size_t)d->j.toks[tok].size};
    if (l.n)
        l.v = wpd_arena_alloc(d->a, l.n * sizeof *l.v);
    iter it;
    iter_init(&it, &d->j, tok);
    while (elems_next(&it)) {
        size_t mark = path_index(d, it.index);
        l.v[it.index] = d->empty;
        int rc = dec_str(d, it.val, &l.v[it.index]);
        path_pop(d, mark);
        if (rc)
            return -1;
    }
    *dst = l;
    return 0;
}

static bool key_is(const dec *d, int key, const char *name)
{
    return wpd_json_streq_ci(&d->j, key, name);
}

/* ---- step parts ---------------------------------------------------------- */

/* map string -> string, in document order; a repeated key keeps its first
 * position and takes the last value; a second `environment` merges (Go). */
static int dec_env(dec *d, int tok, wpd_kvlist *env)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL) {
        *env = (wpd_kvlist){NULL, 0};
        return 0;
    }
    if (t != WPD_JSON_OBJECT)
        return fail(d, "expected an object");
    size_t cap = env->n + (size_t)d->j.toks[tok].size;
    wpd_kv *v = wpd_arena_alloc(d->a, (cap ? cap : 1) * sizeof *v);
    if (env->n)
        memcpy(v, env->v, env->n * sizeof *v);
    size_t n = env->n;
    iter it;
    iter_init(&it, &d->j, tok);
    while (members_next(&it)) {
        char *key = wpd_json_str_arena(&d->j, it.key, d->a);
        char *value = d->empty;
        size_t mark = path_key(d, key);
        int rc = dec_str(d, it.val, &value);
        path_pop(d, mark);
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

static int dec_hosts(dec *d, int tok, wpd_step *st)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL) {
        st->extra_hosts = NULL;
        st->n_extra_hosts = 0;
        return 0;
    }
    if (t != WPD_JSON_ARRAY)
        return fail(d, "expected a list");
    size_t n = (size_t)d->j.toks[tok].size;
    wpd_hostalias *v = wpd_arena_alloc(d->a, (n ? n : 1) * sizeof *v);
    iter it;
    iter_init(&it, &d->j, tok);
    while (elems_next(&it)) {
        size_t mark = path_index(d, it.index);
        wpd_hostalias *h = &v[it.index];
        h->name = h->ip = d->empty;
        wpd_json_type et = type_at(d, it.val);
        if (et != WPD_JSON_NULL && et != WPD_JSON_OBJECT)
            return fail(d, "expected an object");
        if (et == WPD_JSON_OBJECT) {
            iter m;
            iter_init(&m, &d->j, it.val);
            while (members_next(&m)) {
                char **dst = key_is(d, m.key, "name") ? &h->name
                             : key_is(d, m.key, "ip") ? &h->ip
                                                      : NULL;
                if (!dst)
                    continue;
                size_t km = path_key(d, dst == &h->name ? "name" : "ip");
                if (dec_str(d, m.val, dst))
                    return -1;
                path_pop(d, km);
            }
        }
        path_pop(d, mark);
    }
    st->extra_hosts = v;
    st->n_extra_hosts = n;
    return 0;
}

static int dec_networks(dec *d, int tok, wpd_step *st)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL) {
        st->networks = NULL;
        st->n_networks = 0;
        return 0;
    }
    if (t != WPD_JSON_ARRAY)
        return fail(d, "expected a list");
    size_t n = (size_t)d->j.toks[tok].size;
    wpd_conn *v = wpd_arena_alloc(d->a, (n ? n : 1) * sizeof *v);
    iter it;
    iter_init(&it, &d->j, tok);
    while (elems_next(&it)) {
        size_t mark = path_index(d, it.index);
        wpd_conn *c = &v[it.index];
        c->name = d->empty;
        wpd_json_type et = type_at(d, it.val);
        if (et != WPD_JSON_NULL && et != WPD_JSON_OBJECT)
            return fail(d, "expected an object");
        if (et == WPD_JSON_OBJECT) {
            iter m;
            iter_init(&m, &d->j, it.val);
            while (members_next(&m)) {
                int rc = 0;
                size_t km = d->plen;
                if (key_is(d, m.key, "name")) {
                    km = path_key(d, "name");
                    rc = dec_str(d, m.val, &c->name);
                } else if (key_is(d, m.key, "aliases")) {
                    km = path_key(d, "aliases");
                    rc = dec_strlist(d, m.val, &c->aliases);
                }
                if (rc)
                    return -1;
                path_pop(d, km);
            }
        }
        path_pop(d, mark);
    }
    st->networks = v;
    st->n_networks = n;
    return 0;
}

static int dec_auth(dec *d, int tok, wpd_step *st)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return fail(d, "expected an object");
    iter m;
    iter_init(&m, &d->j, tok);
    while (members_next(&m)) {
        int rc = 0;
        size_t km = d->plen;
        if (key_is(d, m.key, "username")) {
            km = path_key(d, "username");
            rc = dec_str(d, m.val, &st->auth_username);
        } else if (key_is(d, m.key, "password")) {
            km = path_key(d, "password");
            rc = dec_str(d, m.val, &st->auth_password);
        }
        if (rc)
            return -1;
        path_pop(d, km);
    }
    return 0;
}

/* backend_options.docker.user, decoded weakly (spec 2.3.1): a string as
 * is, a number as written, booleans as "1"/"0". Anything the reference
 * cannot decode is a warning and leaves the user empty. */
static int dec_backend(dec *d, int tok, wpd_step *st)
{
    wpd_json_type t = type_at(d, tok);
    st->user = d->empty;
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return fail(d, "expected an object");
    int docker = wpd_json_get(&d->j, tok, "docker");
    if (docker < 0 || type_at(d, docker) == WPD_JSON_NULL)
        return 0;
    size_t mark = path_key(d, "docker");
    if (type_at(d, docker) != WPD_JSON_OBJECT) {
        warn(d, "expected an object, got %s; ignoring it (the step runs without a user)",
             a_type(type_at(d, docker)));
        path_pop(d, mark);
        return 0;
    }
    int user = wpd_json_get(&d->j, docker, "user");
    if (user < 0)
        user = wpd_json_get_ci(&d->j, docker, "user");
    if (user >= 0) {
        const wpd_json_tok *u = &d->j.toks[user];
        switch (u->type) {
        case WPD_JSON_STRING: st->user = wpd_json_str_arena(&d->j, user, d->a); break;
        case WPD_JSON_NUMBER:
            st->user = wpd_arena_strndup(d->a, d->j.src + u->start, (size_t)(u->end - u->start));
            break;
        case WPD_JSON_TRUE: st->user = wpd_arena_strdup(d->a, "1"); break;
        case WPD_JSON_FALSE: st->user = wpd_arena_strdup(d->a, "0"); break;
        case WPD_JSON_NULL: break;
        default: {
            size_t um = path_key(d, "user");
            warn(d, "expected a string, got %s; ignoring it (the step runs without a user)",
                 a_type(u->type));
            path_pop(d, um);
        }
        }
    }
    path_pop(d, mark);
    return 0;
}

/* ---- step ---------------------------------------------------------------- */

enum fkind { F_STR, F_BOOL, F_LIST, F_INT, F_ENV, F_HOSTS, F_NETS, F_AUTH, F_BACKEND };

static const struct field {
    const char *name;
    enum fkind kind;
    size_t off;
} step_fields[] = {
    {"name", F_STR, offsetof(wpd_step, name)},
    {"uuid", F_STR, offsetof(wpd_step, uuid)},
    {"type", F_STR, offsetof(wpd_step, type)},
    {"image", F_STR, offsetof(wpd_step, image)},
    {"pull", F_BOOL, offsetof(wpd_step, pull)},
    {"detach", F_BOOL, offsetof(wpd_step, detach)},
    {"privileged", F_BOOL, offsetof(wpd_step, privileged)},
    {"working_dir", F_STR, offsetof(wpd_step, working_dir)},
    {"workspace_base", F_STR, offsetof(wpd_step, workspace_base)},
    {"environment", F_ENV, 0},
    {"entrypoint", F_LIST, offsetof(wpd_step, entrypoint)},
    {"commands", F_LIST, offsetof(wpd_step, commands)},
    {"extra_hosts", F_HOSTS, 0},
    {"volumes", F_LIST, offsetof(wpd_step, volumes)},
    {"tmpfs", F_LIST, offsetof(wpd_step, tmpfs)},
    {"devices", F_LIST, offsetof(wpd_step, devices)},
    {"networks", F_NETS, 0},
    {"dns", F_LIST, offsetof(wpd_step, dns)},
    {"dns_search", F_LIST, offsetof(wpd_step, dns_search)},
    {"on_success", F_BOOL, offsetof(wpd_step, on_success)},
    {"on_failure", F_BOOL, offsetof(wpd_step, on_failure)},
    {"failure", F_STR, offsetof(wpd_step, failure)},
    {"auth_config", F_AUTH, 0},
    {"network_mode", F_STR, offsetof(wpd_step, network_mode)},
    {"backend_options", F_BACKEND, 0},
    {"org_id", F_INT, offsetof(wpd_step, org_id)},
    /* secret_mapping, ports, workflow_labels: not used by this backend */
};

static int dec_field(dec *d, const struct field *f, int tok, wpd_step *st)
{
    char *base = (char *)st;
    switch (f->kind) {
    case F_STR: return dec_str(d, tok, (char **)(void *)(base + f->off));
    case F_BOOL: return dec_bool(d, tok, (int *)(void *)(base + f->off));
    case F_LIST: return dec_strlist(d, tok, (wpd_strlist *)(void *)(base + f->off));
    case F_INT: return dec_int64(d, tok, (int64_t *)(void *)(base + f->off));
    case F_ENV: return dec_env(d, tok, &st->environment);
    case F_HOSTS: return dec_hosts(d, tok, st);
    case F_NETS: return dec_networks(d, tok, st);
    case F_AUTH: return dec_auth(d, tok, st);
    case F_BACKEND: return dec_backend(d, tok, st);
    }
    return 0;
}

static int dec_step(dec *d, int tok, wpd_step *st)
{
    st->name = st->uuid = st->type = st->image = d->empty;
    st->working_dir = st->workspace_base = st->failure = d->empty;
    st->auth_username = st->auth_password = st->network_mode = st->user = d->empty;
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return fail(d, "expected an object");
    iter m;
    iter_init(&m, &d->j, tok);
    while (members_next(&m)) {
        for (size_t k = 0; k < sizeof step_fields / sizeof step_fields[0]; k++) {
            const struct field *f = &step_fields[k];
            if (!key_is(d, m.key, f->name))
                continue;
            size_t mark = path_key(d, f->name);
            if (dec_field(d, f, m.val, st))
                return -1;
            path_pop(d, mark);
            break;
        }
    }
    return 0;
}

static int dec_stage(dec *d, int tok, wpd_stage *sg)
{
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return fail(d, "expected an object");
    iter m;
    iter_init(&m, &d->j, tok);
    while (members_next(&m)) {
        if (!key_is(d, m.key, "steps"))
            continue;
        size_t mark = path_key(d, "steps");
        wpd_json_type st = type_at(d, m.val);
        if (st == WPD_JSON_NULL) {
            sg->steps = NULL;
            sg->n_steps = 0;
        } else if (st != WPD_JSON_ARRAY) {
            return fail(d, "expected a list");
        } else {
            size_t n = (size_t)d->j.toks[m.val].size;
            wpd_step *v = wpd_arena_alloc(d->a, (n ? n : 1) * sizeof *v);
            iter e;
            iter_init(&e, &d->j, m.val);
            while (elems_next(&e)) {
                size_t im = path_index(d, e.index);
                if (dec_step(d, e.val, &v[e.index]))
                    return -1;
                path_pop(d, im);
            }
            sg->steps = v;
            sg->n_steps = n;
        }
        path_pop(d, mark);
    }
    return 0;
}

/* ---- top level ----------------------------------------------------------- */

static int dec_pipeline(dec *d, int tok)
{
    wpd_workflow *wf = d->wf;
    wpd_json_type t = type_at(d, tok);
    if (t == WPD_JSON_NULL) {
        wf->stages = NULL;
        wf->n_stages = 0;
        return 0;
    }
    if (t != WPD_JSON_ARRAY)
        return fail(d, "expected a list");
    size_t n = (size_t)d->j.toks[tok].size;
    wpd_stage *v = wpd_arena_alloc(d->a, (n ? n : 1) * sizeof *v);
    iter e;
    iter_init(&e, &d->j, tok);
    while (elems_next(&e)) {
        size_t mark = path_index(d, e.index);
        if (dec_stage(d, e.val, &v[e.index]))
            return -1;
        path_pop(d, mark);
    }
    wf->stages = v;
    wf->n_stages = n;
    return 0;
}

/* Secret values (non-empty ones) for log masking. */
static int dec_secrets(dec *d, int tok)
{
    wpd_workflow *wf = d->wf;
    wpd_json_type t = type_at(d, tok);
    wf->secrets = (wpd_strlist){NULL, 0};
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_ARRAY)
        return fail(d, "expected a list");
    iter e;
    iter_init(&e, &d->j, tok);
    while (elems_next(&e)) {
        size_t mark = path_index(d, e.index);
        wpd_json_type et = type_at(d, e.val);
        if (et != WPD_JSON_NULL && et != WPD_JSON_OBJECT)
            return fail(d, "expected an object");
        char *name = d->empty, *value = d->empty;
        if (et == WPD_JSON_OBJECT) {
            iter m;
            iter_init(&m, &d->j, e.val);
            while (members_next(&m)) {
                int rc = 0;
                size_t km = d->plen;
                if (key_is(d, m.key, "name")) {
                    km = path_key(d, "name");
                    rc = dec_str(d, m.val, &name);
                } else if (key_is(d, m.key, "value")) {
                    km = path_key(d, "value");
                    rc = dec_str(d, m.val, &value);
                }
                if (rc)
                    return -1;
                path_pop(d, km);
            }
        }
        if (*value)
            strlist_push(d->a, &wf->secrets, value);
        path_pop(d, mark);
    }
    return 0;
}

static int dec_top(dec *d)
{
    if (type_at(d, 0) != WPD_JSON_OBJECT)
        return fail(d, "expected a JSON object at the top level");
    iter m;
    iter_init(&m, &d->j, 0);
    while (members_next(&m)) {
        int rc = 0;
        size_t mark = d->plen;
        if (key_is(d, m.key, "pipeline")) {
            mark = path_key(d, "pipeline");
            rc = dec_pipeline(d, m.val);
        } else if (key_is(d, m.key, "network")) {
            mark = path_key(d, "network");
            rc = dec_str(d, m.val, &d->wf->network);
        } else if (key_is(d, m.key, "volume")) {
            mark = path_key(d, "volume");
            rc = dec_str(d, m.val, &d->wf->volume);
        } else if (key_is(d, m.key, "secrets")) {
            mark = path_key(d, "secrets");
            rc = dec_secrets(d, m.val);
        }
        if (rc)
            return -1;
        path_pop(d, mark);
    }
    return 0;
}

/* ---- checks after decoding ------------------------------------------------ */

static bool uuid_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* IPv4 or IPv6 literal (an IPv6 zone such as %eth0 is allowed, as in Go). */
static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    char tmp[64];
    if (inet_pton(AF_INET, s, buf) == 1)
        return true;
    const char *pct = strchr(s, '%');
    if (!pct)
        return inet_pton(AF_INET6, s, buf) == 1;
    size_t n = (size_t)(pct - s);
    if (pct[1] == '\0' || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, buf) == 1;
}

static int check_step(dec *d, size_t si, size_t ti)
{
    wpd_workflow *wf = d->wf;
    wpd_step *st = &wf->stages[si].steps[ti];
    size_t base = path_add(d, "pipeline[%zu].steps[%zu]", si, ti);
    size_t mark;

    if (!*st->name) {
        path_key(d, "name");
        return fail(d, "must not be empty");
    }
    if (!*st->image) {
        path_key(d, "image");
        return fail(d, "must not be empty");
    }
    for (const char *p = st->uuid; *p; p++) {
        if (!uuid_char_ok(*p)) {
            path_key(d, "uuid");
            if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
                return fail(d,
                            "invalid character '%c' in \"%s\" (allowed: letters, digits, '_', "
                            "'.', '-'; it becomes the container name wp_<uuid>)",
                            *p, st->uuid);
            return fail(d, "invalid byte 0x%02x (allowed: letters, digits, '_', '.', '-')",
                        (unsigned char)*p);
        }
    }
    for (size_t s2 = 0; s2 <= si; s2++) {
        size_t end = s2 == si ? ti : wf->stages[s2].n_steps;
        for (size_t t2 = 0; t2 < end; t2++) {
            const wpd_step *o = &wf->stages[s2].steps[t2];
            if (strcmp(o->name, st->name) == 0) {
                path_key(d, "name");
                return fail(d, "duplicate step name \"%s\" (also used by pipeline[%zu].steps[%zu])",
                            st->name, s2, t2);
            }
            if (strcmp(o->uuid, st->uuid) == 0) {
                path_key(d, "uuid");
                return fail(d, "duplicate uuid \"%s\" (also used by pipeline[%zu].steps[%zu])",
                            st->uuid, s2, t2);
            }
        }
    }
    mark = path_key(d, "dns");
    for (size_t k = 0; k < st->dns.n; k++) {
        if (!is_ip_literal(st->dns.v[k])) {
            path_index(d, k);
            return fail(d, "could not parse DNS address [%s]: not an IP address", st->dns.v[k]);
        }
    }
    path_pop(d, mark);
    if (!st->on_success && !st->on_failure) {
        char *m = wpd_xasprintf("%s: %s (\"%s\"): neither on_success nor on_failure is set, so "
                                "this step can never run",
                                d->label, d->path, st->name);
        strlist_push(d->a, &wf->warnings, wpd_arena_strdup(d->a, m));
        free(m);
    }
    path_pop(d, base);
    return 0;
}

/* A hand-written workflow cannot name the generated network and volume,
 * so do for it what Woodpecker's compiler does (spec 1.5): when the
 * document has no `volume`, every step gets it mounted at its
 * workspace_base (default /woodpecker; a commands step's working_dir
 * defaults to it); when it has no `network`, every step without networks
 * joins it with its own name as alias. Documents that name both, as
 * Woodpecker's own payloads do, are left exactly as they are. */
static void add_handwritten_defaults(dec *d, wpd_step *st, bool own_network, bool own_volume)
{
    wpd_workflow *wf = d->wf;
    if (own_volume) {
        if (!*st->workspace_base)
            st->workspace_base = wpd_arena_strdup(d->a, "/woodpecker");
        if (st->commands.n && !*st->working_dir)
            st->working_dir = st->workspace_base;
        char *bind = wpd_xasprintf("%s:%s", wf->volume, st->workspace_base);
        char **v = wpd_arena_alloc(d->a, (st->volumes.n + 1) * sizeof *v);
        v[0] = wpd_arena_strdup(d->a, bind);
        free(bind);
        for (size_t i = 0; i < st->volumes.n; i++)
            v[i + 1] = st->volumes.v[i];
        st->volumes.v = v;
        st->volumes.n++;
    }
    if (own_network && !st->n_networks && !*st->network_mode) {
        st->networks = wpd_arena_alloc(d->a, sizeof *st->networks);
        st->networks[0].name = wf->network;
        st->networks[0].aliases.v = wpd_arena_alloc(d->a, sizeof(char *));
        st->networks[0].aliases.v[0] = st->name;
        st->networks[0].aliases.n = 1;
        st->n_networks = 1;
    }
}

static int finish(dec *d)
{
    wpd_workflow *wf = d->wf;
    char ulid[27];
    wpd_generate_ulid(ulid);
    for (char *p = ulid; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    wf->id = wpd_arena_strdup(d->a, ulid);
    char *def = wpd_arena_alloc(d->a, sizeof "wp__default" + sizeof ulid);
    snprintf(def, sizeof "wp__default" + sizeof ulid, "wp_%s_default", wf->id);
    bool own_network = !*wf->network, own_volume = !*wf->volume;
    if (own_network)
        wf->network = def;
    if (own_volume)
        wf->volume = def;
    for (size_t si = 0; si < wf->n_stages; si++) {
        for (size_t ti = 0; ti < wf->stages[si].n_steps; ti++) {
            wpd_step *st = &wf->stages[si].steps[ti];
            if (!*st->uuid) {
                st->uuid = wpd_arena_alloc(d->a, 27);
                wpd_generate_ulid(st->uuid);
            }
            if (!*st->failure)
                st->failure = wpd_arena_strdup(d->a, "fail");
            add_handwritten_defaults(d, st, own_network, own_volume);
        }
    }
    for (size_t si = 0; si < wf->n_stages; si++)
        for (size_t ti = 0; ti < wf->stages[si].n_steps; ti++)
            if (check_step(d, si, ti))
                return -1;
    return 0;
}

wpd_workflow *wpd_workflow_parse(const char *label, const char *json, size_t len, wpd_error *err)
{
    dec d;
    memset(&d, 0, sizeof d);
    d.label = label ? label : "-";
    d.err = err;
    d.a = wpd_arena_new();
    d.empty = wpd_arena_strdup(d.a, "");
    d.wf = wpd_arena_alloc(d.a, sizeof *d.wf);
    d.wf->arena = d.a;
    d.wf->label = wpd_arena_strdup(d.a, d.label);
    d.wf->network = d.wf->volume = d.empty;

    wpd_error jerr;
    if (wpd_json_parse(&d.j, json ? json : "", json ? len : 0, &jerr)) {
        wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: invalid JSON at line %d, column %d: %s", d.label,
                      d.j.err_line, d.j.err_col, d.j.err_what);
        goto fail;
    }
    if (dec_top(&d) || finish(&d))
        goto fail;
    wpd_json_free(&d.j);
    return d.wf;
fail:
    wpd_json_free(&d.j);
    wpd_arena_free(d.a);
    return NULL;
}

wpd_workflow *wpd_workflow_load(const char *path, wpd_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    wpd_buf b = WPD_BUF_INIT;
    for (;;) {
        wpd_buf_reserve(&b, 65536);
        ssize_t r = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            if (!is_stdin)
                close(fd);
            wpd_buf_free(&b);
            wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: cannot read: %s", path, strerror(e));
            return NULL;
        }
        b.len += (size_t)r;
        b.data[b.len] = '\0';
    }
    if (!is_stdin)
        close(fd);
    wpd_workflow *wf = wpd_workflow_parse(path, wpd_buf_cstr(&b), b.len, err);
    wpd_buf_free(&b);
    return wf;
}

void wpd_workflow_free(wpd_workflow *wf)
{
    if (wf)
        wpd_arena_free(wf->arena);
}

/* ---- ULID ----------------------------------------------------------------- */

static void random_bytes(unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, out + got, n - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (got == n)
        return;
    /* Last resort: splitmix64 over time, pid and a counter. */
    static uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x =
        (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^ ++counter;
    for (; got < n; got++) {
        x += 0x9E3779B97F4A7C15ULL;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        out[got] = (unsigned char)(z ^ (z >> 31));
    }
}

void wpd_generate_ulid(char out[27])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000) & 0xFFFFFFFFFFFFULL;
    for (int i = 9; i >= 0; i--) {
        out[i] = alphabet[ms & 31];
        ms >>= 5;
    }
    unsigned char r[10];
    random_bytes(r, sizeof r);
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, byte = bit / 8, off = bit % 8;
        unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < 10 ? r[byte + 1] : 0u);
        out[10 + i] = alphabet[(v >> (11 - off)) & 31];
    }
    out[26] = '\0';
}
