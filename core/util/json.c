/* json.c - JSON reader: jsmn tokenises, then one pass over the tokens and
 * the bytes between them checks everything jsmn lets through (primitives,
 * separators, trailing data), so a successful parse is valid RFC 8259 JSON.
 * Also string unescaping. Navigation and typed lookups over the parsed
 * tokens are in json_get.c. */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "util/json.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* ---- error reporting ---------------------------------------------------- */

static int fail_at(wpd_json *j, wpd_error *err, size_t off, const char *fmt, ...) WPD_PRINTF(4, 5);

static int fail_at(wpd_json *j, wpd_error *err, size_t off, const char *fmt, ...)
{
    va_list ap;
    int line = 1;
    size_t line_start = 0;
    if (off > j->len)
        off = j->len;
    for (size_t k = 0; k < off; k++) {
        if (j->src[k] == '\n') {
            line++;
            line_start = k + 1;
        }
    }
    va_start(ap, fmt);
    vsnprintf(j->err_what, sizeof j->err_what, fmt, ap);
    va_end(ap);
    j->err_offset = off;
    j->err_line = line;
    j->err_col = (int)(off - line_start) + 1;
    free(j->toks);
    j->toks = NULL;
    j->ntoks = 0;
    return wpd_error_set(err, WPD_ERR_PROTOCOL, 0,
                         "invalid JSON at line %d, column %d (byte %zu): %s", j->err_line,
                         j->err_col, off, j->err_what);
}

static int fail_nomem(wpd_json *j, wpd_error *err)
{
    free(j->toks);
    j->toks = NULL;
    j->ntoks = 0;
    snprintf(j->err_what, sizeof j->err_what, "out of memory");
    return wpd_error_set(err, WPD_ERR_NOMEM, 0,
                         "out of memory reading a JSON document of %zu bytes", j->len);
}

static int fail_char(wpd_json *j, wpd_error *err, size_t off)
{
    unsigned char c = (unsigned char)j->src[off];
    if (c >= 0x20 && c < 0x7f)
        return fail_at(j, err, off, "unexpected character '%c'", c);
    return fail_at(j, err, off, "unexpected byte 0x%02x", c);
}

/* ---- small lexical helpers ---------------------------------------------- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t pos, size_t len)
{
    while (pos < len && is_ws(s[pos]))
        pos++;
    return pos;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at s (n bytes available) -> 0..0xFFFF, or -1. */
static long hex4(const char *s, size_t n)
{
    long v = 0;
    if (n < 4)
        return -1;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* RFC 8259 number grammar, exactly. */
static bool valid_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

/* Classify a primitive's text; -1 when it is not a valid JSON primitive. */
static int primitive_type(const char *s, size_t n)
{
    if (n == 4 && memcmp(s, "true", 4) == 0)
        return WPD_JSON_TRUE;
    if (n == 5 && memcmp(s, "false", 5) == 0)
        return WPD_JSON_FALSE;
    if (n == 4 && memcmp(s, "null", 4) == 0)
        return WPD_JSON_NULL;
    if (valid_number(s, n))
        return WPD_JSON_NUMBER;
    return -1;
}

static int fail_primitive(wpd_json *j, wpd_error *err, size_t start, size_t n)
{
    const char *s = j->src + start;
    int shown = n > 32 ? 32 : (int)n;
    const char *more = n > 32 ? "..." : "";
    if (s[0] == '-' || is_digit(s[0]))
        return fail_at(j, err, start, "invalid number '%.*s%s'", shown, s, more);
    return fail_at(j, err, start, "invalid literal '%.*s%s' (expected true, false or null)", shown,
                   s, more);
}

/* ---- parsing ------------------------------------------------------------ */

/* A document whose root is a bare number or literal (jsmn's strict mode
 * refuses those). */
static int parse_root_primitive(wpd_json *j, size_t first, wpd_error *err)
{
    const char *s = j->src;
    size_t e = first;
    while (e < j->len && !is_ws(s[e]) && !strchr(",:[]{}\"", s[e]))
        e++;
    if (e == first)
        return fail_char(j, err, first);
    int type = primitive_type(s + first, e - first);
    if (type < 0)
        return fail_primitive(j, err, first, e - first);
    size_t rest = skip_ws(s, e, j->len);
    if (rest < j->len)
        return fail_at(j, err, rest, "unexpected data after the top-level value");
    j->toks = wpd_try_malloc(sizeof *j->toks);
    if (!j->toks)
        return fail_nomem(j, err);
    j->toks[0] = (wpd_json_tok){(wpd_json_type)type, (int)first, (int)e, 0, -1, 1};
    j->ntoks = 1;
    return 0;
}

/* Explain a JSMN_ERROR_INVAL stop at byte pos. */
static int describe_inval(wpd_json *j, size_t pos, wpd_error *err)
{
    const char *s = j->src;
    char c = s[pos];
    if (c == '"') {
        for (size_t k = pos + 1; k < j->len && s[k] != '"'; k++) {
            if (s[k] != '\\')
                continue;
            char e = k + 1 < j->len ? s[k + 1] : '\0';
            if (e == 'u') {
                if (hex4(s + k + 2, j->len - (k + 2)) < 0)
                    return fail_at(j, err, k,
                                   "invalid \\u escape in string (expected 4 hex digits)");
            } else if (!e || !strchr("\"\\/bfnrt", e)) {
                return fail_at(j, err, k, "invalid escape sequence in string");
            }
            k++;
        }
        return fail_at(j, err, pos, "invalid string");
    }
    /* Something where an object key belongs, or a bad byte in a literal. */
    size_t prev = pos;
    while (prev > 0 && is_ws(s[prev - 1]))
        prev--;
    char before = prev > 0 ? s[prev - 1] : '\0';
    if (c == '-' || is_digit(c) || c == 't' || c == 'f' || c == 'n') {
        size_t k = pos;
        while (k < j->len && !is_ws(s[k]) && !strchr(",]}", s[k])) {
            if ((unsigned char)s[k] < 0x20 || (unsigned char)s[k] >= 0x7f)
                return fail_char(j, err, k);
            k++;
        }
    }
    if (c == '-' || is_digit(c) || c == 't' || c == 'f' || c == 'n' || c == '{' || c == '[') {
        if (before == '"')
            return fail_at(j, err, pos, "expected ':' after object key");
        if (before == '{' || before == ',')
            return fail_at(j, err, pos, "expected a string as object key");
    }
    return fail_char(j, err, pos);
}

static int tok_begin(const wpd_json_tok *t)
{
    return t->type == WPD_JSON_STRING ? t->start - 1 : t->start;
}

/* src[from, to) must be whitespace around exactly one `sep` (or no
 * separator when sep is 0). */
static int check_gap(wpd_json *j, wpd_error *err, size_t from, size_t to, char sep,
                     const char *missing)
{
    bool seen = false;
    for (size_t k = from; k < to; k++) {
        char c = j->src[k];
        if (is_ws(c))
            continue;
        if (sep && c == sep && !seen) {
            seen = true;
            continue;
        }
        return fail_char(j, err, k);
    }
    if (sep && !seen)
        return fail_at(j, err, to, "%s", missing);
    return 0;
}

static int check_string(wpd_json *j, wpd_error *err, const wpd_json_tok *t)
{
    const char *s = j->src;
    for (int k = t->start; k < t->end; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20)
            return fail_at(j, err, (size_t)k,
                           "control character 0x%02x in string (must be escaped)", c);
        if (c != '\\')
            continue;
        char e = k + 1 < t->end ? s[k + 1] : '\0';
        if (e == 'u') {
            if (hex4(s + k + 2, (size_t)(t->end - (k + 2))) < 0)
                return fail_at(j, err, (size_t)k,
                               "invalid \\u escape in string (expected 4 hex digits)");
            k += 5;
        } else if (e && strchr("\"\\/bfnrt", e)) {
            k++;
        } else {
            return fail_at(j, err, (size_t)k, "invalid escape sequence in string");
        }
    }
    return 0;
}

typedef struct frame {
    int tok;
    int left; /* members (keys) or elements still to read */
} frame;

/* Walk the tokens in document order and check every byte between them. */
static int validate(wpd_json *j, wpd_error *err)
{
    const wpd_json_tok *t = j->toks;
    const char *s = j->src;
    int n = j->ntoks, i = 0, depth = 0, cap = 0;
    size_t pos = 0;
    frame *st = NULL;
    int want_parent = -1;
    bool want_key = false;
    char sep = 0;
    const char *missing = NULL;
    int rc = -1;

    for (;;) {
        if (i >= n || t[i].parent != want_parent) {
            size_t at = skip_ws(s, pos, j->len);
            if (sep && (at >= j->len || s[at] != sep)) {
                fail_at(j, err, at, "%s", at >= j->len ? "unexpected end of input" : missing);
                goto out;
            }
            if (sep)
                at = skip_ws(s, at + 1, j->len);
            if (at >= j->len)
                fail_at(j, err, at, "unexpected end of input");
            else
                fail_at(j, err, at, "%s",
                        want_key ? "expected a string as object key" : "expected a value");
            goto out;
        }
        const wpd_json_tok *cur = &t[i];
        if ((size_t)tok_begin(cur) < pos) {
            fail_char(j, err, (size_t)tok_begin(cur));
            goto out;
        }
        if (check_gap(j, err, pos, (size_t)tok_begin(cur), sep, missing))
            goto out;
        if (want_key && cur->type != WPD_JSON_STRING) {
            fail_at(j, err, (size_t)tok_begin(cur), "expected a string as object key");
            goto out;
        }
        switch (cur->type) {
        case WPD_JSON_STRING:
            if (check_string(j, err, cur))
                goto out;
            pos = (size_t)cur->end + 1;
            break;
        case WPD_JSON_OBJECT:
        case WPD_JSON_ARRAY: pos = (size_t)cur->start + 1; break;
        default:
            if (primitive_type(s + cur->start, (size_t)(cur->end - cur->start)) < 0) {
                fail_primitive(j, err, (size_t)cur->start, (size_t)(cur->end - cur->start));
                goto out;
            }
            pos = (size_t)cur->end;
            break;
        }
        int idx = i++;
        if (want_key) {
            want_parent = idx;
            want_key = false;
            sep = ':';
            missing = "expected ':' after object key";
            continue;
        }
        if (cur->type == WPD_JSON_OBJECT || cur->type == WPD_JSON_ARRAY) {
            bool obj = cur->type == WPD_JSON_OBJECT;
            if (cur->size > 0) {
                if (depth == cap) {
                    cap = cap ? cap * 2 : 16;
                    frame *grown = wpd_try_realloc(st, (size_t)cap * sizeof *st);
                    if (!grown) {
                        fail_nomem(j, err);
                        goto out;
                    }
                    st = grown;
                }
                st[depth++] = (frame){idx, cur->size};
                want_parent = idx;
                want_key = obj;
                sep = 0;
                missing = NULL;
                continue;
            }
            size_t close = (size_t)cur->end - 1;
            if (check_gap(j, err, pos, close, 0, NULL))
                goto out;
            if (s[close] != (obj ? '}' : ']')) {
                fail_char(j, err, close);
                goto out;
            }
            pos = (size_t)cur->end;
        }
        /* A value is complete: close every container it completes. */
        for (;;) {
            if (depth == 0) {
                size_t at = skip_ws(s, pos, j->len);
                if (at < j->len) {
                    fail_at(j, err, at, "unexpected data after the top-level value");
                    goto out;
                }
                rc = 0;
                goto out;
            }
            frame *f = &st[depth - 1];
            const wpd_json_tok *ft = &t[f->tok];
            bool is_obj = ft->type == WPD_JSON_OBJECT;
            f->left--;
            if (f->left > 0) {
                want_parent = f->tok;
                want_key = is_obj;
                sep = ',';
                missing = is_obj ? "expected ',' or '}' after object member"
                                 : "expected ',' or ']' after array element";
                break;
            }
            size_t close = (size_t)ft->end - 1;
            if (check_gap(j, err, pos, close, 0, NULL))
                goto out;
            if (s[close] != (is_obj ? '}' : ']')) {
                fail_char(j, err, close);
                goto out;
            }
            pos = (size_t)ft->end;
            depth--;
        }
    }
out:
    free(st);
    return rc;
}

/* Refuse nesting deeper than WPD_JSON_MAX_DEPTH before jsmn sees the text
 * (brackets inside strings do not count). */
static int check_depth(wpd_json *j, wpd_error *err)
{
    const char *s = j->src;
    int depth = 0;
    for (size_t k = 0; k < j->len; k++) {
        char c = s[k];
        if (c == '"') {
            for (k++; k < j->len && s[k] != '"'; k++)
                if (s[k] == '\\')
                    k++;
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > WPD_JSON_MAX_DEPTH)
                return fail_at(j, err, k, "nested deeper than %d levels", WPD_JSON_MAX_DEPTH);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

/* Fill in every token's `next` (the index after its subtree): children
 * come after their parent, so one backward pass sees them first. */
static void link_subtrees(wpd_json *j)
{
    wpd_json_tok *t = j->toks;
    for (int i = j->ntoks - 1; i >= 0; i--) {
        if (t[i].type == WPD_JSON_OBJECT || t[i].type == WPD_JSON_ARRAY) {
            int c = i + 1;
            for (int m = 0; m < t[i].size && c < j->ntoks; m++)
                c = t[c].next;
            t[i].next = c;
        } else if (t[i].size > 0 && i + 1 < j->ntoks) {
            t[i].next = t[i + 1].next; /* an object key: after its value */
        } else {
            t[i].next = i + 1;
        }
    }
}

int wpd_json_parse(wpd_json *j, const char *src, size_t len, wpd_error *err)
{
    memset(j, 0, sizeof *j);
    j->src = src;
    j->len = len;
    if (len >= (size_t)INT_MAX)
        return fail_at(j, err, 0, "document too large (2 GiB or more)");
    const char *nul = memchr(src, '\0', len);
    if (nul)
        return fail_at(j, err, (size_t)(nul - src), "unexpected NUL byte");
    size_t first = skip_ws(src, 0, len);
    if (first == len)
        return fail_at(j, err, len, "unexpected end of input (empty document)");
    if (src[first] != '{' && src[first] != '[' && src[first] != '"')
        return parse_root_primitive(j, first, err);

    if (check_depth(j, err))
        return -1;

    /* count first (jsmn without a token array), so that a document with
     * too many values is refused before any memory is spent on it and an
     * accepted one gets exactly the tokens it needs */
    jsmn_parser p;
    jsmn_init(&p);
    int r = jsmn_parse(&p, src, len, NULL, 0);
    if (r > WPD_JSON_MAX_TOKENS)
        return fail_at(j, err, len, "more than %d values", WPD_JSON_MAX_TOKENS);
    size_t want = r > 0 ? (size_t)r : len / 8 + 16;
    unsigned cap = want < WPD_JSON_MAX_TOKENS ? (unsigned)want : WPD_JSON_MAX_TOKENS;
    jsmntok_t *jt = wpd_try_malloc(cap * sizeof *jt);
    if (!jt)
        return fail_nomem(j, err);
    jsmn_init(&p);
    for (;;) {
        r = jsmn_parse(&p, src, len, jt, cap);
        if (r != JSMN_ERROR_NOMEM)
            break;
        if (cap == WPD_JSON_MAX_TOKENS) {
            free(jt);
            return fail_at(j, err, p.pos < len ? p.pos : len, "more than %d values",
                           WPD_JSON_MAX_TOKENS);
        }
        cap = cap > WPD_JSON_MAX_TOKENS / 2 ? WPD_JSON_MAX_TOKENS : cap * 2;
        jsmntok_t *grown = wpd_try_realloc(jt, cap * sizeof *jt);
        if (!grown) {
            free(jt);
            return fail_nomem(j, err);
        }
        jt = grown;
    }
    if (r == JSMN_ERROR_INVAL) {
        free(jt);
        return describe_inval(j, p.pos < len ? p.pos : len - 1, err);
    }
    if (r == JSMN_ERROR_PART) {
        /* A complete first value followed by more text is trailing data. */
        size_t stop = 0;
        bool done = p.toknext > 0 && jt[0].end != -1;
        if (done)
            stop = (size_t)jt[0].end + (jt[0].type == JSMN_STRING ? 1 : 0);
        free(jt);
        if (done) {
            size_t at = skip_ws(src, stop, len);
            if (at < len)
                return fail_at(j, err, at, "unexpected data after the top-level value");
        }
        return fail_at(j, err, len, "unexpected end of input");
    }

    j->ntoks = (int)p.toknext;
    j->toks = wpd_try_malloc((size_t)(j->ntoks ? j->ntoks : 1) * sizeof *j->toks);
    if (!j->toks) {
        free(jt);
        return fail_nomem(j, err);
    }
    for (int k = 0; k < j->ntoks; k++) {
        wpd_json_tok *o = &j->toks[k];
        const jsmntok_t *in = &jt[k];
        switch (in->type) {
        case JSMN_OBJECT: o->type = WPD_JSON_OBJECT; break;
        case JSMN_ARRAY: o->type = WPD_JSON_ARRAY; break;
        case JSMN_STRING: o->type = WPD_JSON_STRING; break;
        default:
            switch (src[in->start]) {
            case 't': o->type = WPD_JSON_TRUE; break;
            case 'f': o->type = WPD_JSON_FALSE; break;
            case 'n': o->type = WPD_JSON_NULL; break;
            default: o->type = WPD_JSON_NUMBER; break;
            }
        }
        o->start = in->start;
        o->end = in->end;
        o->size = in->size;
        o->parent = in->parent;
    }
    free(jt);
    if (validate(j, err))
        return -1;
    link_subtrees(j);
    return 0;
}

void wpd_json_free(wpd_json *j)
{
    if (!j)
        return;
    if (!j->in_arena)
        free(j->toks);
    j->toks = NULL;
    j->ntoks = 0;
}

int wpd_json_parse_in(wpd_json *j, const char *src, size_t len, wpd_arena *a, wpd_error *err)
{
    wpd_error local;
    if (wpd_json_parse(j, src, len, err ? err : &local) != 0) {
        if ((err ? err : &local)->kind == WPD_ERR_NOMEM)
            wpd_oom_raise(); /* like any other allocation of the parse */
        return -1;
    }
    /* a failed arena allocation must not lose the malloc'd tokens: free
     * them, then hand the failure on to the caller's guard */
    wpd_oom_guard guard;
    wpd_oom_guard_push(&guard);
    if (setjmp(guard.env) != 0) {
        wpd_json_free(j);
        wpd_oom_raise();
    }
    wpd_json_tok *t = wpd_arena_alloc(a, (size_t)j->ntoks * sizeof *t);
    wpd_oom_guard_pop(&guard);
    memcpy(t, j->toks, (size_t)j->ntoks * sizeof *t);
    free(j->toks);
    j->toks = t;
    j->in_arena = true;
    return 0;
}
/* ---- string unescaping -------------------------------------------------- */

static size_t utf8_put(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t wpd_json_unescape(const char *in, size_t n, char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        char c = in[i];
        if (c != '\\' || i + 1 >= n) {
            out[o++] = c;
            i++;
            continue;
        }
        char e = in[i + 1];
        switch (e) {
        case '"':
        case '\\':
        case '/': out[o++] = e; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            long cp = hex4(in + i + 2, n - (i + 2));
            if (cp < 0) {
                out[o++] = c; /* not an escape: copy the backslash, go on */
                i++;
                continue;
            }
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = -1;
                if (i + 1 < n && in[i] == '\\' && in[i + 1] == 'u')
                    lo = hex4(in + i + 2, n - (i + 2));
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            o += utf8_put((unsigned long)cp, out + o);
            continue;
        }
        default:
            out[o++] = c;
            i++;
            continue;
        }
        i += 2;
    }
    return o;
}
