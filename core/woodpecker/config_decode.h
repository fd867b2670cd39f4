/* config_decode.h - private to the workflow parser (config.c, config_step.c,
 * config_decode.c): the decoder state, the JSON path that error messages
 * name, and generic Go-like decoders (null leaves a value as it is, keys
 * match ignoring case, unknown keys are ignored) for scalars, lists and
 * objects described by a field table. */
#ifndef WPDOCK_CONFIG_DECODE_H
#define WPDOCK_CONFIG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wpdock/error.h>

#include "util/arena.h"
#include "util/json.h"
#include "woodpecker/config.h"

typedef struct wpd_cfg_dec {
    const char *label;
    wpd_json j;
    wpd_arena *a;
    wpd_workflow *wf;
    wpd_error *err;
    char *empty; /* the shared "" for absent strings */
    char path[512];
    size_t plen;
} wpd_cfg_dec;

/* ---- JSON path of the value being decoded ------------------------------- */

/* Each returns the mark to pass to wpd_cfg_path_pop. */
size_t wpd_cfg_path_add(wpd_cfg_dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);
size_t wpd_cfg_path_key(wpd_cfg_dec *d, const char *key);
size_t wpd_cfg_path_index(wpd_cfg_dec *d, size_t i);
void wpd_cfg_path_pop(wpd_cfg_dec *d, size_t mark);

/* Set d->err to "<label>: <path>: <message>" (no path part at the top
 * level), kind WPD_ERR_INPUT; returns -1. */
int wpd_cfg_fail(wpd_cfg_dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);
/* Add "<label>: <path>: <message>" to the workflow's warnings. */
void wpd_cfg_warn(wpd_cfg_dec *d, const char *fmt, ...) WPD_PRINTF(2, 3);

/* Append s to a list whose capacity is implied by its length (4, 8, 16...). */
void wpd_cfg_strlist_push(wpd_arena *a, wpd_strlist *l, char *s);

/* ---- tokens -------------------------------------------------------------- */

/* Iteration over object members (wpd_cfg_members_next: key and val) and
 * array elements (wpd_cfg_elems_next: val); index counts from 0. */
typedef struct wpd_cfg_iter {
    const wpd_json *j;
    int next, left;
    int key, val; /* key is -1 for array elements */
    size_t index;
} wpd_cfg_iter;

void wpd_cfg_iter_init(wpd_cfg_iter *it, const wpd_json *j, int container);
bool wpd_cfg_members_next(wpd_cfg_iter *it);
bool wpd_cfg_elems_next(wpd_cfg_iter *it);

wpd_json_type wpd_cfg_type(const wpd_cfg_dec *d, int tok);
/* "a string", "a list"... for messages. */
const char *wpd_cfg_a_type(wpd_json_type t);

/* ---- decoders: 0, or -1 with d->err set ----------------------------------- */

int wpd_cfg_str(wpd_cfg_dec *d, int tok, char **dst);
/* The unescaped string at tok (a string token), or NULL with d->err set
 * when it contains a NUL (\u0000), which would cut it short. */
char *wpd_cfg_text(wpd_cfg_dec *d, int tok);
int wpd_cfg_bool(wpd_cfg_dec *d, int tok, int *dst);
int wpd_cfg_int64(wpd_cfg_dec *d, int tok, int64_t *dst);
/* A list of strings; null empties it, a null element is "". */
int wpd_cfg_strlist(wpd_cfg_dec *d, int tok, wpd_strlist *dst);

/* Decodes the value at tok into dst (what dst is depends on the use). */
typedef int (*wpd_cfg_fn)(wpd_cfg_dec *d, int tok, void *dst);

typedef struct wpd_cfg_list {
    void *v; /* n elements in the arena; NULL when n == 0 */
    size_t n;
} wpd_cfg_list;

/* A list whose elements are decoded by `elem`, each into its own zeroed
 * slot of `size` bytes, with "[i]" added to the path. null gives no
 * elements; anything else that is not an array is "expected a list". */
int wpd_cfg_list_of(wpd_cfg_dec *d, int tok, size_t size, wpd_cfg_fn elem, wpd_cfg_list *out);

typedef enum wpd_cfg_kind {
    WPD_CFG_STR,  /* char * at off */
    WPD_CFG_BOOL, /* int at off */
    WPD_CFG_INT,  /* int64_t at off */
    WPD_CFG_LIST, /* wpd_strlist at off */
    WPD_CFG_FN    /* fn(d, tok, obj): decodes into the whole object */
} wpd_cfg_kind;

typedef struct wpd_cfg_field {
    const char *name; /* matched ignoring case; the path names it like this */
    wpd_cfg_kind kind;
    size_t off;
    wpd_cfg_fn fn;
} wpd_cfg_field;

#define WPD_CFG_FIELD(name, kind, type, member)                                                    \
    {                                                                                              \
        name, kind, offsetof(type, member), NULL                                                   \
    }
#define WPD_CFG_CUSTOM(name, fn)                                                                   \
    {                                                                                              \
        name, WPD_CFG_FN, 0, fn                                                                    \
    }
#define WPD_CFG_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* An object whose members are decoded into obj by the first field of the
 * table each key matches, with ".name" added to the path; other keys are
 * ignored. null leaves obj as it is; anything else that is not an object
 * is "expected an object". */
int wpd_cfg_object(wpd_cfg_dec *d, int tok, const wpd_cfg_field *fields, size_t n_fields,
                   void *obj);

/* ---- the Step keys (config_step.c) ---------------------------------------- */

/* One element of a stage's `steps`: dst is a wpd_step. */
int wpd_cfg_step(wpd_cfg_dec *d, int tok, void *dst);

#endif
