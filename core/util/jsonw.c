/* jsonw.c - streaming JSON writer (see jsonw.h). */
#include "util/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void wpd_jw_init(wpd_jsonw *w, wpd_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void value_prefix(wpd_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        wpd_buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
}

static void open(wpd_jsonw *w, char c)
{
    value_prefix(w);
    wpd_buf_putc(w->out, c);
    if (w->depth < WPD_JSONW_DEPTH - 1)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(wpd_jsonw *w, char c)
{
    wpd_buf_putc(w->out, c);
    if (w->depth > 0)
        w->depth--;
}

void wpd_jw_obj_begin(wpd_jsonw *w)
{
    open(w, '{');
}
void wpd_jw_obj_end(wpd_jsonw *w)
{
    close_(w, '}');
}
void wpd_jw_arr_begin(wpd_jsonw *w)
{
    open(w, '[');
}
void wpd_jw_arr_end(wpd_jsonw *w)
{
    close_(w, ']');
}

void wpd_json_escape(wpd_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    wpd_buf_reserve(out, n + 2);
    wpd_buf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
                ubuf[4] = hex[c >> 4], ubuf[5] = hex[c & 15], ubuf[6] = '\0';
                esc = ubuf;
            }
        }
        if (esc) {
            wpd_buf_append(out, s + i - run, run);
            run = 0;
            wpd_buf_puts(out, esc);
        } else {
            run++;
        }
    }
    wpd_buf_append(out, s + n - run, run);
    wpd_buf_putc(out, '"');
}

void wpd_jw_key(wpd_jsonw *w, const char *key)
{
    value_prefix(w);
    wpd_json_escape(w->out, key, strlen(key));
    wpd_buf_putc(w->out, ':');
    w->after_key = true;
}

void wpd_jw_strn(wpd_jsonw *w, const char *s, size_t n)
{
    value_prefix(w);
    wpd_json_escape(w->out, s, n);
}

void wpd_jw_str(wpd_jsonw *w, const char *s)
{
    if (!s) {
        wpd_jw_null(w);
        return;
    }
    wpd_jw_strn(w, s, strlen(s));
}

void wpd_jw_int(wpd_jsonw *w, int64_t v)
{
    value_prefix(w);
    wpd_buf_printf(w->out, "%" PRId64, v);
}

void wpd_jw_bool(wpd_jsonw *w, bool v)
{
    value_prefix(w);
    wpd_buf_puts(w->out, v ? "true" : "false");
}

void wpd_jw_null(wpd_jsonw *w)
{
    value_prefix(w);
    wpd_buf_puts(w->out, "null");
}

void wpd_jw_raw(wpd_jsonw *w, const char *json)
{
    value_prefix(w);
    wpd_buf_puts(w->out, json);
}

void wpd_jw_kstr(wpd_jsonw *w, const char *key, const char *s)
{
    wpd_jw_key(w, key);
    wpd_jw_str(w, s);
}

void wpd_jw_kint(wpd_jsonw *w, const char *key, int64_t v)
{
    wpd_jw_key(w, key);
    wpd_jw_int(w, v);
}

void wpd_jw_kbool(wpd_jsonw *w, const char *key, bool v)
{
    wpd_jw_key(w, key);
    wpd_jw_bool(w, v);
}
