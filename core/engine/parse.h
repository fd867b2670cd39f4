/* parse.h - reading Engine API response bodies into typed results whose
 * strings live in an arena (engine layer only). Absent strings read as "". */
#ifndef WPDOCK_ENGINE_PARSE_H
#define WPDOCK_ENGINE_PARSE_H

#include "engine/api.h"
#include "util/arena.h"
#include "util/json.h"

/* String at dotted path from obj, unescaped into a; "" when absent. */
const char *wpd_resp_str(const wpd_json *j, int obj, const char *path, wpd_arena *a);
/* Integer at path, or dflt. */
int64_t wpd_resp_int(const wpd_json *j, int obj, const char *path, int64_t dflt);
bool wpd_resp_bool(const wpd_json *j, int obj, const char *path);
/* The members of object tok whose values are strings (labels, options),
 * in document order; 0 and *out NULL for anything else. */
size_t wpd_resp_pairs(const wpd_json *j, int tok, wpd_arena *a, const wpd_pair **out);
/* The string elements of array tok. */
size_t wpd_resp_strings(const wpd_json *j, int tok, wpd_arena *a, const char *const **out);
/* String at path of an answer body that may be empty or unreadable (the
 * caller has what it needs without it): "" then. */
const char *wpd_resp_body_str(const char *body, size_t len, const char *path, wpd_arena *a);
/* Parse body as JSON, the tokens in a; on failure err says "<what>:
 * unreadable answer: ...". */
int wpd_resp_body(wpd_json *j, const char *body, size_t len, const char *what, wpd_arena *a,
                  wpd_error *err);

/* Run fn(arg, a, err) with a new arena a under an out-of-memory guard, for
 * parse functions whose every allocation is in a (wpd_resp_* and
 * wpd_json_parse_in keep to that). Returns fn's result with the arena in
 * *out (the caller frees it once done with what was parsed), or -1 with
 * err WPD_ERR_NOMEM and *out NULL when an allocation failed. Callbacks into
 * other code do not belong inside fn. */
typedef int (*wpd_parse_fn)(void *arg, wpd_arena *a, wpd_error *err);
int wpd_parse_guarded(wpd_parse_fn fn, void *arg, wpd_arena **out, wpd_error *err);

#endif
