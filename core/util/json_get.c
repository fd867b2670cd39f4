/* json_get.c - navigation of a parsed JSON token tree (json.c): subtree
 * skipping, key and path lookups, string comparison, and the typed value
 * accessors (strings, integers, booleans) used for Engine API responses
 * and workflow files. */
#include "util/json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- navigation --------------------------------------------------------- */

const char *wpd_json_type_name(wpd_json_type t)
{
    switch (t) {
    case WPD_JSON_OBJECT: return "object";
    case WPD_JSON_ARRAY: return "array";
    case WPD_JSON_STRING: return "string";
    case WPD_JSON_NUMBER: return "number";
    case WPD_JSON_TRUE:
    case WPD_JSON_FALSE: return "boolean";
    case WPD_JSON_NULL: return "null";
    }
    return "unknown";
}

static const wpd_json_tok *tok_at(const wpd_json *j, int tok)
{
    if (!j || tok < 0 || tok >= j->ntoks)
        return NULL;
    return &j->toks[tok];
}

int wpd_json_type_of(const wpd_json *j, int tok)
{
    const wpd_json_tok *t = tok_at(j, tok);
    return t ? (int)t->type : -1;
}

int wpd_json_skip(const wpd_json *j, int tok)
{
    const wpd_json_tok *t = tok_at(j, tok);
    return t ? t->next : -1;
}

static bool ascii_eq_ci(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char x = (unsigned char)a[k], y = (unsigned char)b[k];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool tok_eq(const wpd_json *j, int tok, const char *s, bool ci)
{
    const wpd_json_tok *t = tok_at(j, tok);
    if (!t || t->type != WPD_JSON_STRING || !s)
        return false;
    const char *raw = j->src + t->start;
    size_t n = (size_t)(t->end - t->start), sl = strlen(s);
    if (!memchr(raw, '\\', n))
        return n == sl && (ci ? ascii_eq_ci(raw, s, n) : memcmp(raw, s, n) == 0);
    if (sl > n)
        return false; /* unescaping never lengthens */
    char small[256];
    char *buf = n <= sizeof small ? small : wpd_xmalloc(n);
    size_t m = wpd_json_unescape(raw, n, buf);
    bool eq = m == sl && (ci ? ascii_eq_ci(buf, s, m) : memcmp(buf, s, m) == 0);
    if (buf != small)
        free(buf);
    return eq;
}

bool wpd_json_streq(const wpd_json *j, int tok, const char *s)
{
    return tok_eq(j, tok, s, false);
}

bool wpd_json_streq_ci(const wpd_json *j, int tok, const char *s)
{
    return tok_eq(j, tok, s, true);
}

static int get_key(const wpd_json *j, int obj, const char *key, bool ci)
{
    const wpd_json_tok *t = tok_at(j, obj);
    if (!t || t->type != WPD_JSON_OBJECT)
        return -1;
    int found = -1, k = obj + 1;
    for (int m = 0; m < t->size && k >= 0 && k + 1 < j->ntoks; m++) {
        if (tok_eq(j, k, key, ci))
            found = k + 1;
        k = wpd_json_skip(j, k);
    }
    return found;
}

int wpd_json_get(const wpd_json *j, int obj, const char *key)
{
    return get_key(j, obj, key, false);
}

int wpd_json_get_ci(const wpd_json *j, int obj, const char *key)
{
    return get_key(j, obj, key, true);
}

int wpd_json_at(const wpd_json *j, int arr, int index)
{
    const wpd_json_tok *t = tok_at(j, arr);
    if (!t || t->type != WPD_JSON_ARRAY || index < 0 || index >= t->size)
        return -1;
    int k = arr + 1;
    for (int m = 0; m < index; m++)
        k = wpd_json_skip(j, k);
    return k;
}

int wpd_json_path(const wpd_json *j, int tok, const char *dotted)
{
    if (!tok_at(j, tok) || !dotted)
        return -1;
    const char *p = dotted;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char seg[256];
        if (n == 0 || n >= sizeof seg)
            return -1;
        memcpy(seg, p, n);
        seg[n] = '\0';
        const wpd_json_tok *t = &j->toks[tok];
        if (t->type == WPD_JSON_ARRAY) {
            size_t d = 0;
            while (d < n && is_digit(seg[d]))
                d++;
            if (d != n || n > 9)
                return -1;
            tok = wpd_json_at(j, tok, atoi(seg));
        } else {
            tok = wpd_json_get(j, tok, seg);
        }
        if (tok < 0)
            return -1;
        p += n;
        if (*p == '.')
            p++;
    }
    return tok;
}

/* ---- values ------------------------------------------------------------- */

char *wpd_json_strn(const wpd_json *j, int tok, size_t *len)
{
    const wpd_json_tok *t = tok_at(j, tok);
    if (!t || t->type != WPD_JSON_STRING)
        return NULL;
    size_t n = (size_t)(t->end - t->start);
    char *out = wpd_xmalloc(n + 1);
    size_t m = wpd_json_unescape(j->src + t->start, n, out);
    out[m] = '\0';
    if (len)
        *len = m;
    return out;
}

char *wpd_json_str(const wpd_json *j, int tok)
{
    return wpd_json_strn(j, tok, NULL);
}

char *wpd_json_strn_arena(const wpd_json *j, int tok, wpd_arena *a, size_t *len)
{
    const wpd_json_tok *t = tok_at(j, tok);
    if (!t || t->type != WPD_JSON_STRING)
        return NULL;
    size_t n = (size_t)(t->end - t->start);
    char *out = wpd_arena_alloc(a, n + 1);
    size_t m = wpd_json_unescape(j->src + t->start, n, out);
    out[m] = '\0';
    if (len)
        *len = m;
    return out;
}

char *wpd_json_str_arena(const wpd_json *j, int tok, wpd_arena *a)
{
    return wpd_json_strn_arena(j, tok, a, NULL);
}

int wpd_json_int64(const wpd_json *j, int tok, int64_t *out)
{
    const wpd_json_tok *t = tok_at(j, tok);
    if (!t || t->type != WPD_JSON_NUMBER)
        return -1;
    const char *s = j->src + t->start;
    size_t n = (size_t)(t->end - t->start), k = 0;
    bool neg = false;
    if (k < n && s[k] == '-') {
        neg = true;
        k++;
    }
    if (k >= n)
        return -1;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; k < n; k++) {
        if (!is_digit(s[k]))
            return -1; /* fraction or exponent */
        unsigned d = (unsigned)(s[k] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int wpd_json_bool(const wpd_json *j, int tok, bool *out)
{
    const wpd_json_tok *t = tok_at(j, tok);
    if (!t || (t->type != WPD_JSON_TRUE && t->type != WPD_JSON_FALSE))
        return -1;
    *out = t->type == WPD_JSON_TRUE;
    return 0;
}

bool wpd_json_is_null(const wpd_json *j, int tok)
{
    const wpd_json_tok *t = tok_at(j, tok);
    return t && t->type == WPD_JSON_NULL;
}

char *wpd_json_get_str(const wpd_json *j, int obj, const char *path)
{
    return wpd_json_str(j, wpd_json_path(j, obj, path));
}

int wpd_json_get_int64(const wpd_json *j, int obj, const char *path, int64_t *out)
{
    return wpd_json_int64(j, wpd_json_path(j, obj, path), out);
}

int wpd_json_get_bool(const wpd_json *j, int obj, const char *path, bool *out)
{
    return wpd_json_bool(j, wpd_json_path(j, obj, path), out);
}
