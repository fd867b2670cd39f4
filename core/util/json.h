/* json.h - JSON reader: a validated token tree over a caller-owned text
 * (built on jsmn, which stays private to json.c), string unescaping and
 * typed getters for Engine API responses and workflow files.
 *
 * Tokens are stored in document order. Token 0 is the root value. For
 * strings, start/end delimit the raw text between the quotes (still
 * escaped); for everything else the whole value. `size` counts an object's
 * keys, an array's elements; an object key has size 1 (its value follows
 * it); other values have size 0. `parent` is the enclosing array, or the
 * key for an object member's value, or the object for a key (-1 for root).
 *
 * Every accessor that takes a token index tolerates -1 (or any index out of
 * range) and then answers "absent", so lookups can be chained. */
#ifndef WPDOCK_JSON_H
#define WPDOCK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wpdock/error.h>

#include "util/arena.h"

typedef enum wpd_json_type {
    WPD_JSON_OBJECT,
    WPD_JSON_ARRAY,
    WPD_JSON_STRING,
    WPD_JSON_NUMBER,
    WPD_JSON_TRUE,
    WPD_JSON_FALSE,
    WPD_JSON_NULL
} wpd_json_type;

typedef struct wpd_json_tok {
    wpd_json_type type;
    int start, end, size, parent;
    int next; /* index of the token after this one's subtree (a key's: after its value) */
} wpd_json_tok;

/* Limits every document is held to, so that hostile input costs bounded
 * memory and time: nesting deeper than WPD_JSON_MAX_DEPTH arrays/objects or
 * more than WPD_JSON_MAX_TOKENS values (keys count) is refused, the latter
 * before any token memory is allocated (at most 44 bytes per value are).
 * jsmn's cost grows with depth times values, so both bounds keep a parse
 * linear. */
#define WPD_JSON_MAX_DEPTH 128
#define WPD_JSON_MAX_TOKENS (1024 * 1024)

typedef struct wpd_json {
    const char *src; /* not owned; must outlive the wpd_json */
    size_t len;
    wpd_json_tok *toks; /* malloc'd, ntoks entries */
    int ntoks;
    /* After a failed parse: where (byte offset, 1-based line and byte
     * column) and what was wrong, e.g. "expected ':' after object key". */
    size_t err_offset;
    int err_line, err_col;
    char err_what[128];
    bool in_arena; /* toks live in an arena (wpd_json_parse_in) */
} wpd_json;

/* Parse and fully validate src[0..len) (RFC 8259: exact literals, number
 * grammar, separators, no trailing data; any root value, including a bare
 * primitive such as `3`), within the limits above. *j is overwritten; free it with wpd_json_free
 * (also safe after a failure). On failure returns -1, fills the err_* fields
 * and sets err (kind WPD_ERR_PROTOCOL) to
 * "invalid JSON at line L, column C (byte O): <what>"; callers that parse
 * user input reclassify it. Out of memory is WPD_ERR_NOMEM (never an
 * abort: the reader allocates with wpd_try_*). */
int wpd_json_parse(wpd_json *j, const char *src, size_t len, wpd_error *err);
void wpd_json_free(wpd_json *j);
/* The same with the tokens moved into arena a (wpd_json_free then only
 * forgets them), so that a parse whose every allocation is in a can be
 * abandoned at any point: an allocation failure (in a, or of the reader
 * itself) jumps to the caller's wpd_oom_guard with nothing else to free. */
int wpd_json_parse_in(wpd_json *j, const char *src, size_t len, wpd_arena *a, wpd_error *err);

/* Name of a type for messages: "object", "array", "string", "number",
 * "boolean", "null". */
const char *wpd_json_type_name(wpd_json_type t);
/* Type of tok, or -1 when tok is out of range. */
int wpd_json_type_of(const wpd_json *j, int tok);

/* Index of the token after tok's whole subtree (for an object key: after
 * its value), in constant time. */
int wpd_json_skip(const wpd_json *j, int tok);

/* Value token of `key` in object obj, or -1. Keys are compared after
 * unescaping; with duplicate keys the last one wins (as in Go). The _ci
 * variant folds ASCII case, like Go's struct field matching. */
int wpd_json_get(const wpd_json *j, int obj, const char *key);
int wpd_json_get_ci(const wpd_json *j, int obj, const char *key);
/* Dotted path from tok: "State.ExitCode"; a segment of digits indexes an
 * array ("Mounts.0.Source"). -1 when any step is absent. */
int wpd_json_path(const wpd_json *j, int tok, const char *dotted);
/* Element `index` of array arr, or -1. */
int wpd_json_at(const wpd_json *j, int arr, int index);

/* Decode JSON string escapes in[0..n) into out (which needs n bytes; the
 * output is never longer than the input and is not NUL-terminated).
 * Handles \" \\ \/ \b \f \n \r \t and \uXXXX, UTF-16 surrogate pairs become
 * one UTF-8 sequence, a lone or mismatched surrogate becomes U+FFFD. An
 * invalid escape is copied through unchanged. Returns the output length. */
size_t wpd_json_unescape(const char *in, size_t n, char *out);

/* Unescaped string value, NUL-terminated (a \u0000 inside ends it early as
 * a C string; *len, when given, has the full length). NULL when tok is not
 * a string. wpd_json_str is malloc'd, wpd_json_str_arena lives in a. */
char *wpd_json_str(const wpd_json *j, int tok);
char *wpd_json_strn(const wpd_json *j, int tok, size_t *len);
char *wpd_json_str_arena(const wpd_json *j, int tok, wpd_arena *a);
char *wpd_json_strn_arena(const wpd_json *j, int tok, wpd_arena *a, size_t *len);

/* Compare an unescaped string token with s (false when tok is not a
 * string). _ci folds ASCII case. */
bool wpd_json_streq(const wpd_json *j, int tok, const char *s);
bool wpd_json_streq_ci(const wpd_json *j, int tok, const char *s);

/* Integer value of a number token written as an integer literal (no
 * fraction or exponent, as Go decodes into int64), range-checked.
 * 0 on success, -1 otherwise (*out untouched). */
int wpd_json_int64(const wpd_json *j, int tok, int64_t *out);
/* true/false token -> 0 and *out; -1 otherwise. */
int wpd_json_bool(const wpd_json *j, int tok, bool *out);
bool wpd_json_is_null(const wpd_json *j, int tok);

/* Path lookup from obj plus the conversions above, for engine responses.
 * wpd_json_get_str: malloc'd, NULL when absent or not a string. */
char *wpd_json_get_str(const wpd_json *j, int obj, const char *path);
int wpd_json_get_int64(const wpd_json *j, int obj, const char *path, int64_t *out);
int wpd_json_get_bool(const wpd_json *j, int obj, const char *path, bool *out);

#endif
