/* jsonw.h - a small streaming JSON writer into a wpd_buf. Commas are
 * inserted automatically; strings are escaped (control characters as \uXXXX,
 * '"' and '\\' escaped, everything else - including UTF-8 - verbatim). */
#ifndef WPDOCK_JSONW_H
#define WPDOCK_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define WPD_JSONW_DEPTH 32

typedef struct wpd_jsonw {
    wpd_buf *out;
    int depth;
    bool need_comma[WPD_JSONW_DEPTH];
    bool after_key;
} wpd_jsonw;

void wpd_jw_init(wpd_jsonw *w, wpd_buf *out);
void wpd_jw_obj_begin(wpd_jsonw *w);
void wpd_jw_obj_end(wpd_jsonw *w);
void wpd_jw_arr_begin(wpd_jsonw *w);
void wpd_jw_arr_end(wpd_jsonw *w);
void wpd_jw_key(wpd_jsonw *w, const char *key);
void wpd_jw_str(wpd_jsonw *w, const char *s);
void wpd_jw_strn(wpd_jsonw *w, const char *s, size_t n);
void wpd_jw_int(wpd_jsonw *w, int64_t v);
void wpd_jw_bool(wpd_jsonw *w, bool v);
void wpd_jw_null(wpd_jsonw *w);
/* Insert already-encoded JSON text as one value. */
void wpd_jw_raw(wpd_jsonw *w, const char *json);

/* Shorthands for "key": value inside an object. */
void wpd_jw_kstr(wpd_jsonw *w, const char *key, const char *s);
void wpd_jw_kint(wpd_jsonw *w, const char *key, int64_t v);
void wpd_jw_kbool(wpd_jsonw *w, const char *key, bool v);

/* Append s (n bytes) escaped as a JSON string literal, quotes included. */
void wpd_json_escape(wpd_buf *out, const char *s, size_t n);

#endif
