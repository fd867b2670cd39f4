/* convert_fixtures.h - what the create body tests share: string list
 * literals, a step and settings with every field set empty, building and
 * parsing a create body, and assertions on its JSON. */
#ifndef WPDOCK_TEST_CONVERT_FIXTURES_H
#define WPDOCK_TEST_CONVERT_FIXTURES_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/convert.h"
#include "util/json.h"
#include "woodpecker/settings.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SL(...)                                                                                    \
    ((wpd_strlist){(char *[]){__VA_ARGS__}, sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

/* ---- helpers ---------------------------------------------------------- */

typedef struct body {
    char *text;
    wpd_json j;
    int hc; /* HostConfig token */
} body;

static inline void step_init(wpd_step *s, const char *name, const char *uuid)
{
    memset(s, 0, sizeof *s);
    s->name = (char *)name;
    s->uuid = (char *)uuid;
    s->type = "";
    s->image = "";
    s->working_dir = "";
    s->workspace_base = "";
    s->failure = "fail";
    s->auth_username = "";
    s->auth_password = "";
    s->network_mode = "";
    s->user = "";
}

static inline void settings_init(wpd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->tls_verify = true;
    s->stop_timeout = 20;
}

static inline void body_make(body *b, const wpd_step *step, const wpd_kv *env, size_t n_env,
                             const wpd_settings *settings)
{
    wpd_settings def;
    settings_init(&def);
    wpd_error err = {0};
    b->text = wpd_convert_create_body(step, env, n_env, settings ? settings : &def, &err);
    ck_assert_msg(b->text != NULL, "create body failed: %s", err.message);
    ck_assert_int_eq(wpd_json_parse(&b->j, b->text, strlen(b->text), &err), 0);
    ck_assert_int_eq(wpd_json_type_of(&b->j, 0), WPD_JSON_OBJECT);
    b->hc = wpd_json_get(&b->j, 0, "HostConfig");
    ck_assert_int_eq(wpd_json_type_of(&b->j, b->hc), WPD_JSON_OBJECT);
}

static inline void body_free(body *b)
{
    wpd_json_free(&b->j);
    free(b->text);
}

static inline void assert_str_at(const wpd_json *j, int tok, const char *want)
{
    char *got = wpd_json_str(j, tok);
    ck_assert_msg(got != NULL, "expected string \"%s\", token %d is not a string", want, tok);
    ck_assert_str_eq(got, want);
    free(got);
}

static inline void assert_key_str(const wpd_json *j, int obj, const char *key, const char *want)
{
    int t = wpd_json_get(j, obj, key);
    ck_assert_msg(t >= 0, "key %s missing", key);
    assert_str_at(j, t, want);
}

static inline void assert_absent(const wpd_json *j, int obj, const char *key)
{
    ck_assert_msg(wpd_json_get(j, obj, key) < 0, "key %s should be absent", key);
}

static inline void assert_strarr(const wpd_json *j, int arr, const char *const *want, size_t n)
{
    ck_assert_int_eq(wpd_json_type_of(j, arr), WPD_JSON_ARRAY);
    ck_assert_int_eq(j->toks[arr].size, (int)n);
    for (size_t i = 0; i < n; i++)
        assert_str_at(j, wpd_json_at(j, arr, (int)i), want[i]);
}

static inline void assert_key_strarr(const wpd_json *j, int obj, const char *key,
                                     const char *const *want, size_t n)
{
    int t = wpd_json_get(j, obj, key);
    ck_assert_msg(t >= 0, "key %s missing", key);
    assert_strarr(j, t, want, n);
}

static inline void assert_key_int(const wpd_json *j, int obj, const char *key, int64_t want)
{
    int64_t v = -12345;
    ck_assert_msg(wpd_json_int64(j, wpd_json_get(j, obj, key), &v) == 0, "key %s not an int", key);
    ck_assert_int_eq(v, want);
}

static inline void assert_key_bool(const wpd_json *j, int obj, const char *key, bool want)
{
    bool v = !want;
    ck_assert_msg(wpd_json_bool(j, wpd_json_get(j, obj, key), &v) == 0, "key %s not a bool", key);
    ck_assert_int_eq(v, want);
}

/* Object whose keys are exactly want[] (any order) and values are {}. */
static inline void assert_key_set(const wpd_json *j, int obj, const char *key,
                                  const char *const *want, size_t n)
{
    int t = wpd_json_get(j, obj, key);
    ck_assert_msg(t >= 0, "key %s missing", key);
    ck_assert_int_eq(wpd_json_type_of(j, t), WPD_JSON_OBJECT);
    ck_assert_int_eq(j->toks[t].size, (int)n);
    for (size_t i = 0; i < n; i++) {
        int v = wpd_json_get(j, t, want[i]);
        ck_assert_msg(v >= 0, "%s lacks key %s", key, want[i]);
        ck_assert_int_eq(wpd_json_type_of(j, v), WPD_JSON_OBJECT);
        ck_assert_int_eq(j->toks[v].size, 0);
    }
}

#endif
