/* config_decode.c - the workflow parser's generic decoding helpers: the JSON
 * path named by error messages and warnings, token iteration, scalar
 * decoders, and the list and object decoders every part of the document is
 * built from (see config_decode.h). */
#include "woodpecker/config_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* ---- JSON path of the value being decoded ------------------------------- */

size_t wpd_cfg_path_add(wpd_cfg_dec *d, const char *fmt, ...)
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

size_t wpd_cfg_path_key(wpd_cfg_dec *d, const char *key)
{
    return wpd_cfg_path_add(d, "%s%s", d->plen ? "." : "", key);
}

size_t wpd_cfg_path_index(wpd_cfg_dec *d, size_t i)
{
    return wpd_cfg_path_add(d, "[%zu]", i);
}

void wpd_cfg_path_pop(wpd_cfg_dec *d, size_t mark)
{
    d->plen = mark;
    d->path[mark] = '\0';
}

/* "<label>: <path>: <message>" (no path part at the top level), in the
 * arena (nothing to free if an allocation fails under the parse's guard). */
static char *located(wpd_cfg_dec *d, const char *fmt, va_list ap)
{
    char msg[WPD_ERROR_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (d->plen)
        return wpd_arena_printf(d->a, "%s: %s: %s", d->label, d->path, msg);
    return wpd_arena_printf(d->a, "%s: %s", d->label, msg);
}

int wpd_cfg_fail(wpd_cfg_dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = located(d, fmt, ap);
    va_end(ap);
    wpd_error_set(d->err, WPD_ERR_INPUT, 0, "%s", m);
    return -1;
}

void wpd_cfg_strlist_push(wpd_arena *a, wpd_strlist *l, char *s)
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

void wpd_cfg_warn(wpd_cfg_dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = located(d, fmt, ap);
    va_end(ap);
    wpd_cfg_strlist_push(d->a, &d->wf->warnings, m);
}

/* ---- iteration over object members and array elements ------------------- */

void wpd_cfg_iter_init(wpd_cfg_iter *it, const wpd_json *j, int container)
{
    it->j = j;
    it->next = container + 1;
    it->left = j->toks[container].size;
    it->key = -1;
    it->val = -1;
    it->index = (size_t)-1;
}

bool wpd_cfg_members_next(wpd_cfg_iter *it)
{
    if (it->left-- <= 0)
        return false;
    it->key = it->next;
    it->val = it->key + 1;
    it->next = wpd_json_skip(it->j, it->val);
    it->index++;
    return true;
}

bool wpd_cfg_elems_next(wpd_cfg_iter *it)
{
    if (it->left-- <= 0)
        return false;
    it->val = it->next;
    it->next = wpd_json_skip(it->j, it->val);
    it->index++;
    return true;
}

wpd_json_type wpd_cfg_type(const wpd_cfg_dec *d, int tok)
{
    return d->j.toks[tok].type;
}

const char *wpd_cfg_a_type(wpd_json_type t)
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

char *wpd_cfg_text(wpd_cfg_dec *d, int tok)
{
    size_t n;
    char *s = wpd_json_strn_arena(&d->j, tok, d->a, &n);
    if (s && strlen(s) != n) {
        wpd_cfg_fail(d,
                     "contains a NUL character (\\u0000) at byte %zu, which no container "
                     "setting can carry",
                     strlen(s));
        return NULL;
    }
    return s;
}

int wpd_cfg_str(wpd_cfg_dec *d, int tok, char **dst)
{
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_STRING)
        return wpd_cfg_fail(d, "expected a string");
    char *s = wpd_cfg_text(d, tok);
    if (!s)
        return -1;
    *dst = s;
    return 0;
}

int wpd_cfg_bool(wpd_cfg_dec *d, int tok, int *dst)
{
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_TRUE && t != WPD_JSON_FALSE)
        return wpd_cfg_fail(d, "expected a boolean");
    *dst = t == WPD_JSON_TRUE;
    return 0;
}

int wpd_cfg_int64(wpd_cfg_dec *d, int tok, int64_t *dst)
{
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_NUMBER)
        return wpd_cfg_fail(d, "expected a number");
    if (wpd_json_int64(&d->j, tok, dst))
        return wpd_cfg_fail(d, "expected a whole number that fits in 64 bits");
    return 0;
}

int wpd_cfg_list_of(wpd_cfg_dec *d, int tok, size_t size, wpd_cfg_fn elem, wpd_cfg_list *out)
{
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL) {
        *out = (wpd_cfg_list){NULL, 0};
        return 0;
    }
    if (t != WPD_JSON_ARRAY)
        return wpd_cfg_fail(d, "expected a list");
    size_t n = (size_t)d->j.toks[tok].size;
    char *v = n ? wpd_arena_alloc(d->a, n * size) : NULL;
    wpd_cfg_iter it;
    wpd_cfg_iter_init(&it, &d->j, tok);
    while (wpd_cfg_elems_next(&it)) {
        size_t mark = wpd_cfg_path_index(d, it.index);
        if (elem(d, it.val, v + it.index * size))
            return -1;
        wpd_cfg_path_pop(d, mark);
    }
    *out = (wpd_cfg_list){v, n};
    return 0;
}

static int str_elem(wpd_cfg_dec *d, int tok, void *dst)
{
    char **s = dst;
    *s = d->empty;
    return wpd_cfg_str(d, tok, s);
}

int wpd_cfg_strlist(wpd_cfg_dec *d, int tok, wpd_strlist *dst)
{
    wpd_cfg_list l = {0};
    if (wpd_cfg_list_of(d, tok, sizeof(char *), str_elem, &l))
        return -1;
    dst->v = l.v;
    dst->n = l.n;
    return 0;
}

/* ---- objects described by a field table ----------------------------------- */

static int dec_field(wpd_cfg_dec *d, const wpd_cfg_field *f, int tok, void *obj)
{
    void *member = (char *)obj + f->off;
    switch (f->kind) {
    case WPD_CFG_STR: return wpd_cfg_str(d, tok, member);
    case WPD_CFG_BOOL: return wpd_cfg_bool(d, tok, member);
    case WPD_CFG_INT: return wpd_cfg_int64(d, tok, member);
    case WPD_CFG_LIST: return wpd_cfg_strlist(d, tok, member);
    case WPD_CFG_FN: return f->fn(d, tok, obj);
    }
    return 0;
}

int wpd_cfg_object(wpd_cfg_dec *d, int tok, const wpd_cfg_field *fields, size_t n_fields, void *obj)
{
    wpd_json_type t = wpd_cfg_type(d, tok);
    if (t == WPD_JSON_NULL)
        return 0;
    if (t != WPD_JSON_OBJECT)
        return wpd_cfg_fail(d, "expected an object");
    wpd_cfg_iter m;
    wpd_cfg_iter_init(&m, &d->j, tok);
    while (wpd_cfg_members_next(&m)) {
        for (size_t k = 0; k < n_fields; k++) {
            const wpd_cfg_field *f = &fields[k];
            if (!wpd_json_streq_ci(&d->j, m.key, f->name))
                continue;
            size_t mark = wpd_cfg_path_key(d, f->name);
            if (dec_field(d, f, m.val, obj))
                return -1;
            wpd_cfg_path_pop(d, mark);
            break;
        }
    }
    return 0;
}
