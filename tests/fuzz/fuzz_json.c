/* fuzz_json.c - the JSON reader (core/util/json.c, json_get.c).
 *
 * Parses the input, then walks every token with the getters. Asserts:
 * a failed parse leaves no tokens and a position inside the input; a
 * successful one has tokens inside the text, in document order, each with
 * an earlier parent; subtrees nest; wpd_json_unescape never writes more
 * than its input and wpd_json_strn agrees with it; a string compares equal
 * to its own unescaped value; every key of an object is found again by
 * wpd_json_get / _get_ci (the value of its last occurrence); array indexes
 * lead back to the elements; an integer wpd_json_int64 accepts is the
 * number the text says. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "util/json.h"

static void check_string(const wpd_json *j, int k)
{
    const wpd_json_tok *t = &j->toks[k];
    size_t n = (size_t)(t->end - t->start);
    FZ_ASSERT(t->start >= 1 && j->src[t->start - 1] == '"' && j->src[t->end] == '"');
    char *out = malloc(n ? n : 1); /* exactly n: ASan sees any overrun */
    FZ_ASSERT(out);
    size_t m = wpd_json_unescape(j->src + t->start, n, out);
    FZ_ASSERT(m <= n);
    size_t len = 0;
    char *s = wpd_json_strn(j, k, &len);
    FZ_ASSERT(s && len == m && memcmp(s, out, m) == 0 && s[m] == '\0');
    if (strlen(s) == m) { /* no NUL inside: the C string is the whole value */
        FZ_ASSERT(wpd_json_streq(j, k, s));
        FZ_ASSERT(wpd_json_streq_ci(j, k, s));
    }
    wpd_arena *a = wpd_arena_new();
    char *as = wpd_json_str_arena(j, k, a);
    FZ_ASSERT(as && memcmp(as, out, m) == 0 && as[m] == '\0');
    wpd_arena_free(a);
    free(s);
    free(out);
}

/* The last key of obj (a direct member) that equals key. */
static int last_member(const wpd_json *j, int obj, const char *key)
{
    int found = -1, k = obj + 1;
    for (int i = 0; i < j->toks[obj].size; i++, k = wpd_json_skip(j, k))
        if (wpd_json_streq(j, k, key))
            found = k + 1;
    return found;
}

static void check_object(const wpd_json *j, int obj)
{
    int k = obj + 1;
    for (int i = 0; i < j->toks[obj].size; i++) {
        FZ_ASSERT(k < j->ntoks && j->toks[k].type == WPD_JSON_STRING && j->toks[k].parent == obj);
        FZ_ASSERT(j->toks[k].size == 1 && j->toks[k + 1].parent == k);
        size_t len = 0;
        char *key = wpd_json_strn(j, k, &len);
        /* lookups are linear: check the first members only, so that an
         * object of thousands of keys does not cost millions of steps */
        if (i < 32 && strlen(key) == len) {
            int v = wpd_json_get(j, obj, key);
            FZ_ASSERT(v == last_member(j, obj, key));
            FZ_ASSERT(v > k - 1 && j->toks[v].parent == v - 1);
            FZ_ASSERT(wpd_json_get_ci(j, obj, key) >= 0);
            /* a one-segment path is the same lookup (keys with dots or of
             * 256 bytes or more are no path segments) */
            if (len > 0 && len < 256 && !strchr(key, '.'))
                FZ_ASSERT(wpd_json_path(j, obj, key) == v);
        }
        free(key);
        int next = wpd_json_skip(j, k);
        FZ_ASSERT(next > k + 1 && next <= j->ntoks);
        k = next;
    }
    FZ_ASSERT(k == wpd_json_skip(j, obj));
}

static void check_array(const wpd_json *j, int arr)
{
    int size = j->toks[arr].size;
    int k = arr + 1;
    for (int i = 0; i < size; i++) {
        int e = wpd_json_at(j, arr, i);
        FZ_ASSERT(e == k && j->toks[e].parent == arr);
        if (i < 3) {
            char seg[16];
            snprintf(seg, sizeof seg, "%d", i);
            FZ_ASSERT(wpd_json_path(j, arr, seg) == e);
        }
        k = wpd_json_skip(j, k);
    }
    FZ_ASSERT(wpd_json_at(j, arr, size) == -1 && wpd_json_at(j, arr, -1) == -1);
    FZ_ASSERT(k == wpd_json_skip(j, arr));
}

static void check_number(const wpd_json *j, int k)
{
    const wpd_json_tok *t = &j->toks[k];
    int64_t v;
    if (wpd_json_int64(j, k, &v) != 0)
        return;
    char want[32];
    snprintf(want, sizeof want, "%" PRId64, v);
    size_t n = (size_t)(t->end - t->start);
    const char *s = j->src + t->start;
    /* "-0" reads as 0; otherwise the text is the canonical decimal */
    if (n == 2 && memcmp(s, "-0", 2) == 0)
        FZ_ASSERT(v == 0);
    else
        FZ_ASSERT(strlen(want) == n && memcmp(want, s, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wpd_json j;
    wpd_error err;
    const char *src = (const char *)data;
    if (wpd_json_parse(&j, src, size, &err) != 0) {
        FZ_ASSERT(j.ntoks == 0 && j.toks == NULL);
        FZ_ASSERT(j.err_offset <= size && j.err_line >= 1 && j.err_col >= 1);
        FZ_ASSERT(err.kind == WPD_ERR_PROTOCOL && err.message[0]);
        wpd_json_free(&j);
        return 0;
    }
    FZ_ASSERT(j.ntoks >= 1 && j.toks[0].parent == -1);
    FZ_ASSERT(wpd_json_skip(&j, 0) == j.ntoks);
    int prev_start = -1;
    for (int k = 0; k < j.ntoks; k++) {
        const wpd_json_tok *t = &j.toks[k];
        FZ_ASSERT(t->start >= 0 && t->start <= t->end && (size_t)t->end <= size);
        FZ_ASSERT(t->start > prev_start);
        FZ_ASSERT(k == 0 || (t->parent >= 0 && t->parent < k));
        FZ_ASSERT(wpd_json_type_of(&j, k) == (int)t->type);
        prev_start = t->start;
        bool b;
        switch (t->type) {
        case WPD_JSON_STRING: check_string(&j, k); break;
        case WPD_JSON_OBJECT: check_object(&j, k); break;
        case WPD_JSON_ARRAY: check_array(&j, k); break;
        case WPD_JSON_NUMBER: check_number(&j, k); break;
        case WPD_JSON_TRUE:
        case WPD_JSON_FALSE:
            FZ_ASSERT(wpd_json_bool(&j, k, &b) == 0 && b == (t->type == WPD_JSON_TRUE));
            break;
        case WPD_JSON_NULL: FZ_ASSERT(wpd_json_is_null(&j, k)); break;
        }
        FZ_ASSERT(wpd_json_type_name(t->type)[0]);
    }
    /* out-of-range indexes answer "absent" */
    FZ_ASSERT(wpd_json_type_of(&j, j.ntoks) == -1 && wpd_json_get(&j, -1, "a") == -1);
    FZ_ASSERT(wpd_json_str(&j, j.ntoks) == NULL && !wpd_json_is_null(&j, -1));
    char *s = wpd_json_get_str(&j, 0, "a.0.b");
    free(s);
    int64_t v;
    (void)wpd_json_get_int64(&j, 0, "0.1", &v);
    wpd_json_free(&j);
    return 0;
}
