/* parse.c - arena-backed getters for Engine API response bodies. Every
 * allocation of a response parse is in its arena (the JSON tokens too), so
 * a parse can be abandoned at any allocation failure (see call.c). */
#include "engine/parse.h"

#include <string.h>

#include "util/buf.h"

const char *wpd_resp_str(const wpd_json *j, int obj, const char *path, wpd_arena *a)
{
    int t = wpd_json_path(j, obj, path);
    char *s = t >= 0 ? wpd_json_str_arena(j, t, a) : NULL;
    return s ? s : "";
}

int64_t wpd_resp_int(const wpd_json *j, int obj, const char *path, int64_t dflt)
{
    int64_t v = dflt;
    if (wpd_json_get_int64(j, obj, path, &v) != 0)
        v = dflt;
    return v;
}

bool wpd_resp_bool(const wpd_json *j, int obj, const char *path)
{
    bool v = false;
    if (wpd_json_get_bool(j, obj, path, &v) != 0)
        v = false;
    return v;
}

size_t wpd_resp_pairs(const wpd_json *j, int tok, wpd_arena *a, const wpd_pair **out)
{
    *out = NULL;
    if (wpd_json_type_of(j, tok) != WPD_JSON_OBJECT || j->toks[tok].size == 0)
        return 0;
    wpd_pair *v = wpd_arena_alloc(a, (size_t)j->toks[tok].size * sizeof *v);
    size_t n = 0;
    int key = tok + 1;
    for (int i = 0; i < j->toks[tok].size; i++) {
        char *k = wpd_json_str_arena(j, key, a);
        char *val = wpd_json_str_arena(j, key + 1, a);
        if (k && val)
            v[n++] = (wpd_pair){k, val};
        key = wpd_json_skip(j, key);
    }
    *out = v;
    return n;
}

size_t wpd_resp_strings(const wpd_json *j, int tok, wpd_arena *a, const char *const **out)
{
    *out = NULL;
    if (wpd_json_type_of(j, tok) != WPD_JSON_ARRAY || j->toks[tok].size == 0)
        return 0;
    const char **v = wpd_arena_alloc(a, (size_t)j->toks[tok].size * sizeof *v);
    size_t n = 0;
    for (int i = 0; i < j->toks[tok].size; i++) {
        char *s = wpd_json_str_arena(j, wpd_json_at(j, tok, i), a);
        if (s)
            v[n++] = s;
    }
    *out = v;
    return n;
}

int wpd_resp_body(wpd_json *j, const char *body, size_t len, const char *what, wpd_arena *a,
                  wpd_error *err)
{
    if (wpd_json_parse_in(j, body ? body : "", body ? len : 0, a, err) != 0) {
        wpd_json_free(j);
        return wpd_error_prefix(err, "%s: unreadable answer", what);
    }
    return 0;
}

const char *wpd_resp_body_str(const char *body, size_t len, const char *path, wpd_arena *a)
{
    wpd_json j;
    const char *s = "";
    if (wpd_json_parse_in(&j, body ? body : "", body ? len : 0, a, NULL) == 0)
        s = wpd_resp_str(&j, 0, path, a);
    wpd_json_free(&j);
    return s;
}

int wpd_parse_guarded(wpd_parse_fn fn, void *arg, wpd_arena **out, wpd_error *err)
{
    *out = NULL;
    wpd_arena *volatile a = NULL; /* read in the recovery branch */
    wpd_oom_guard guard;
    wpd_oom_guard_push(&guard);
    if (setjmp(guard.env) != 0) {
        wpd_arena_free(a);
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "out of memory reading the engine's answer");
    }
    a = wpd_arena_new();
    int rc = fn(arg, a, err);
    wpd_oom_guard_pop(&guard);
    *out = a;
    return rc;
}
