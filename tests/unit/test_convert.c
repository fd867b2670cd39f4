/* test_convert.c - unit tests for core/convert.c: volume splitting (4.1),
 * environment lists (4.4), registry auth values (7.3), image references,
 * the container create body (2.3.2/2.3.3, 7.1, 7.2, 7.4, 2.3.5) and the
 * connect/setup bodies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/convert.h"
#include "util/json.h"
#include "woodpecker/script.h"
#include "woodpecker/settings.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SL(...)                                                                                    \
    ((wpd_strlist){(char *[]){__VA_ARGS__}, sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static const char *const script_entry[] = {"/bin/sh", "-c",
                                           "echo $CI_SCRIPT | base64 -d | /bin/sh -e"};

#define SCRIPT_HEADER_B64                                                                          \
    "CmlmIFsgLW4gIiRDSV9ORVRSQ19NQUNISU5FIiBdOyB0aGVuCmNhdCA8PEVPRiA+ICRIT01FLy5uZXRyYwptYWNoaW5l" \
    "ICRDSV9ORVRSQ19NQUNISU5FCmxvZ2luICRDSV9ORVRSQ19VU0VSTkFNRQpwYXNzd29yZCAkQ0lfTkVUUkNfUEFTU1dP" \
    "UkQKRU9GCmNobW9kIDA2MDAgJEhPTUUvLm5ldHJjCmZpCnVuc2V0IENJX05FVFJDX1VTRVJOQU1FCnVuc2V0IENJX05F" \
    "VFJDX1BBU1NXT1JECnVuc2V0IENJX1NDUklQVApta2RpciAtcCAi"

static const char *const ci_script_a =
    "CI_SCRIPT=" SCRIPT_HEADER_B64 "IgpjZCAiIgoKZWNobyArICdnbyB0ZXN0JwpnbyB0ZXN0Cg==";
static const char *const ci_script_b =
    "CI_SCRIPT=" SCRIPT_HEADER_B64 "L3NyYy9hYmMiCmNkICIvc3JjL2FiYyIKCmVjaG8gKyAnZ28gdGVzdCcKZ28gdG"
    "VzdAoKZWNobyArICdnbyB2ZXQgLi8uLi4nCmdvIHZldCAuLy4uLgo=";

/* ---- helpers ---------------------------------------------------------- */

typedef struct body {
    char *text;
    wpd_json j;
    int hc; /* HostConfig token */
} body;

static void step_init(wpd_step *s, const char *name, const char *uuid)
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

static void settings_init(wpd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->tls_verify = true;
    s->stop_timeout = 20;
}

static void body_make(body *b, const wpd_step *step, const wpd_kv *env, size_t n_env,
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

static void body_free(body *b)
{
    wpd_json_free(&b->j);
    free(b->text);
}

static void assert_str_at(const wpd_json *j, int tok, const char *want)
{
    char *got = wpd_json_str(j, tok);
    ck_assert_msg(got != NULL, "expected string \"%s\", token %d is not a string", want, tok);
    ck_assert_str_eq(got, want);
    free(got);
}

static void assert_key_str(const wpd_json *j, int obj, const char *key, const char *want)
{
    int t = wpd_json_get(j, obj, key);
    ck_assert_msg(t >= 0, "key %s missing", key);
    assert_str_at(j, t, want);
}

static void assert_absent(const wpd_json *j, int obj, const char *key)
{
    ck_assert_msg(wpd_json_get(j, obj, key) < 0, "key %s should be absent", key);
}

static void assert_strarr(const wpd_json *j, int arr, const char *const *want, size_t n)
{
    ck_assert_int_eq(wpd_json_type_of(j, arr), WPD_JSON_ARRAY);
    ck_assert_int_eq(j->toks[arr].size, (int)n);
    for (size_t i = 0; i < n; i++)
        assert_str_at(j, wpd_json_at(j, arr, (int)i), want[i]);
}

static void assert_key_strarr(const wpd_json *j, int obj, const char *key, const char *const *want,
                              size_t n)
{
    int t = wpd_json_get(j, obj, key);
    ck_assert_msg(t >= 0, "key %s missing", key);
    assert_strarr(j, t, want, n);
}

static void assert_key_int(const wpd_json *j, int obj, const char *key, int64_t want)
{
    int64_t v = -12345;
    ck_assert_msg(wpd_json_int64(j, wpd_json_get(j, obj, key), &v) == 0, "key %s not an int", key);
    ck_assert_int_eq(v, want);
}

static void assert_key_bool(const wpd_json *j, int obj, const char *key, bool want)
{
    bool v = !want;
    ck_assert_msg(wpd_json_bool(j, wpd_json_get(j, obj, key), &v) == 0, "key %s not a bool", key);
    ck_assert_int_eq(v, want);
}

/* Object whose keys are exactly want[] (any order) and values are {}. */
static void assert_key_set(const wpd_json *j, int obj, const char *key, const char *const *want,
                           size_t n)
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

/* ---- 4.1 volume splitting ---------------------------------------------- */

typedef struct split_case {
    const char *in;
    size_t n;
    const char *parts[3];
} split_case;

static const split_case split_cases[] = {
    {"/test:/test", 2, {"/test", "/test"}},
    {"test:/test", 2, {"test", "/test"}},
    {"test:test", 2, {"test", "test"}},
    {"/etc/ssl/certs:/etc/ssl/certs:ro", 3, {"/etc/ssl/certs", "/etc/ssl/certs", "ro"}},
    {"/a:/b:rw", 3, {"/a", "/b", "rw"}},
    {"/a:/b:Z", 2, {"/a", "/b"}},
    {"/a:/b:z", 2, {"/a", "/b"}},
    {"/a:/b:ro,Z", 3, {"/a", "/b", "ro"}},
    {"/x:/y:mro", 3, {"/x", "/y", "mro"}},
    {"/x:/y:ro:extra", 3, {"/x", "/y", "ro"}},
    {"a:/data", 2, {"a", "/data"}},
    {"c:/data", 2, {"c", "/data"}},
    {"C:/x:/y", 2, {"C:/x", "/y"}},
    {"Z::Z::rw", 3, {"Z:", "Z:", "rw"}},
    {"Z:\\:Z:\\:rw", 3, {"Z:\\", "Z:\\", "rw"}},
    {"Z:\\git\\refs:Z:\\git\\refs", 2, {"Z:\\git\\refs", "Z:\\git\\refs"}},
    {"Z:/git/refs:Z:/git/refs:rw", 3, {"Z:/git/refs", "Z:/git/refs", "rw"}},
    {"a:b:c:d", 2, {"a:b", "c:d"}},
    {":/x", 1, {"/x"}},
    {"/x:", 1, {"/x"}},
    {"/dev/sdc", 1, {"/dev/sdc"}},
    {"", 1, {""}},
    /* Not in the spec table, derived from the pattern: a one-letter source
     * followed by a mode is taken as a drive prefix. */
    {"a:/b:ro", 2, {"a:/b", "ro"}},
    {"ab:/b:ro", 3, {"ab", "/b", "ro"}},
};

START_TEST(volume_split_table)
{
    const split_case *c = &split_cases[_i];
    char **parts = NULL;
    size_t n = wpd_volume_split(c->in, &parts);
    ck_assert_msg(n == c->n, "\"%s\": %zu parts, want %zu", c->in, n, c->n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(parts[i], c->parts[i]);
    wpd_strv_free(parts, n);
}
END_TEST

START_TEST(volume_split_all_empty)
{
    char **parts = (char **)1;
    size_t n = wpd_volume_split(":", &parts);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(parts);
    wpd_strv_free(parts, n);
}
END_TEST

/* ---- 4.4 environment list ---------------------------------------------- */

START_TEST(env_list_rows)
{
    char **l = NULL;
    ck_assert_uint_eq(wpd_env_list(NULL, 0, &l), 0);
    ck_assert_ptr_null(l);

    wpd_kv one[] = {{"A", "B"}};
    size_t n = wpd_env_list(one, 1, &l);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(l[0], "A=B");
    wpd_strv_free(l, n);

    wpd_kv three[] = {{"T", "T"}, {"A", "B=C"}, {"", "Z"}};
    n = wpd_env_list(three, 3, &l);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(l[0], "A=B=C");
    ck_assert_str_eq(l[1], "T=T");
    wpd_strv_free(l, n);

    /* Repeated key: last wins; empty values kept. */
    wpd_kv dup[] = {{"X", "1"}, {"E", ""}, {"X", "2"}};
    n = wpd_env_list(dup, 3, &l);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(l[0], "E=");
    ck_assert_str_eq(l[1], "X=2");
    wpd_strv_free(l, n);
}
END_TEST

/* ---- 7.3 registry auth ------------------------------------------------- */

START_TEST(registry_auth_values)
{
    char *v = wpd_registry_auth_encode("", "", NULL);
    ck_assert_str_eq(v, "e30=");
    free(v);
    ck_assert_ptr_null(wpd_registry_auth("", "", NULL));
    ck_assert_ptr_null(wpd_registry_auth("user", "", NULL));
    ck_assert_ptr_null(wpd_registry_auth("", "pwd", NULL));
    ck_assert_ptr_null(wpd_registry_auth(NULL, NULL, "r.io"));

    v = wpd_registry_auth("user", "pwd", NULL);
    ck_assert_str_eq(v, "eyJ1c2VybmFtZSI6InVzZXIiLCJwYXNzd29yZCI6InB3ZCJ9");
    free(v);
    v = wpd_registry_auth("bot", "pa?ss", NULL);
    ck_assert_str_eq(v, "eyJ1c2VybmFtZSI6ImJvdCIsInBhc3N3b3JkIjoicGE_c3MifQ==");
    free(v);
    v = wpd_registry_auth("ci", "s3cr3t!", "");
    ck_assert_str_eq(v, "eyJ1c2VybmFtZSI6ImNpIiwicGFzc3dvcmQiOiJzM2NyM3QhIn0=");
    free(v);
}
END_TEST

START_TEST(registry_auth_serveraddress_and_escapes)
{
    /* {"username":"u","password":"p","serveraddress":"registry.example.com"} */
    char *v = wpd_registry_auth("u", "p", "registry.example.com");
    ck_assert_str_eq(v, "eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAiLCJzZXJ2ZXJhZGRyZXNzIjoicmVnaXN0cn"
                        "kuZXhhbXBsZS5jb20ifQ==");
    free(v);
    /* {"username":"a\"b","password":"\u003c\u0026\u003e\\\n"} */
    v = wpd_registry_auth("a\"b", "<&>\\\n", NULL);
    ck_assert_str_eq(
        v, "eyJ1c2VybmFtZSI6ImFcImIiLCJwYXNzd29yZCI6Ilx1MDAzY1x1MDAyNlx1MDAzZVxcXG4ifQ==");
    free(v);
    /* {"username":"\u0001é","password":"\ufffd\u2028"} */
    v = wpd_registry_auth("\x01\xc3\xa9", "\xff\xe2\x80\xa8", NULL);
    ck_assert_str_eq(v, "eyJ1c2VybmFtZSI6Ilx1MDAwMcOpIiwicGFzc3dvcmQiOiJcdWZmZmRcdTIwMjgifQ==");
    free(v);
}
END_TEST

/* ---- image references -------------------------------------------------- */

typedef struct ref_case {
    const char *in, *from, *tag, *registry;
} ref_case;

static const ref_case ref_cases[] = {
    {"alpine", "docker.io/library/alpine", "latest", "docker.io"},
    {"alpine:3.19", "docker.io/library/alpine", "3.19", "docker.io"},
    {"postgres:16", "docker.io/library/postgres", "16", "docker.io"},
    {"ghcr.io/a/b:1", "ghcr.io/a/b", "1", "ghcr.io"},
    {"alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "docker.io/library/alpine",
     "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io"},
    {"a:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "docker.io/library/a",
     "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io"},
    {"127.0.0.1:5000/x/y:tag", "127.0.0.1:5000/x/y", "tag", "127.0.0.1:5000"},
    {"localhost/x", "localhost/x", "latest", "localhost"},
    {"localhost:5000/x", "localhost:5000/x", "latest", "localhost:5000"},
    {"woodpeckerci/plugin-git:2.10.0", "docker.io/woodpeckerci/plugin-git", "2.10.0", "docker.io"},
    {"docker.io/woodpeckerci/plugin-git:2.10.0", "docker.io/woodpeckerci/plugin-git", "2.10.0",
     "docker.io"},
    {"index.docker.io/alpine", "docker.io/library/alpine", "latest", "docker.io"},
    {"registry.example.com/ci/golang:1.23", "registry.example.com/ci/golang", "1.23",
     "registry.example.com"},
    {"python:3.12-alpine", "docker.io/library/python", "3.12-alpine", "docker.io"},
    {"[::1]:5000/img", "[::1]:5000/img", "latest", "[::1]:5000"},
    {"a__b/c-d--e.f", "docker.io/a__b/c-d--e.f", "latest", "docker.io"},
    {"Registry.Example.com/x", "Registry.Example.com/x", "latest", "Registry.Example.com"},
};

START_TEST(image_ref_table)
{
    const ref_case *c = &ref_cases[_i];
    wpd_image_ref r;
    wpd_error err = {0};
    ck_assert_msg(wpd_image_ref_parse(c->in, &r, &err) == 0, "%s: %s", c->in, err.message);
    ck_assert_str_eq(r.from_image, c->from);
    ck_assert_str_eq(r.tag, c->tag);
    ck_assert_str_eq(r.registry, c->registry);
    wpd_image_ref_free(&r);
}
END_TEST

static const char *const bad_refs[] = {
    "",
    "Alpine",
    "ubuntu:lat est",
    "my image",
    "foo/Bar",
    "alpine:",
    "-alpine",
    "a//b",
    "alpine@sha256:0123",
    "alpine@md5:0123456789abcdef0123456789abcdef",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "host:port/x",
    "x:a:b",
};

START_TEST(image_ref_invalid)
{
    const char *in = bad_refs[_i];
    wpd_image_ref r;
    wpd_error err = {0};
    ck_assert_msg(wpd_image_ref_parse(in, &r, &err) == -1, "\"%s\" should be rejected", in);
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    char want[300];
    snprintf(want, sizeof want, "invalid image reference \"%s\"", in);
    ck_assert_msg(strncmp(err.message, want, strlen(want)) == 0, "message: %s", err.message);
    ck_assert_ptr_null(r.from_image);
    ck_assert_ptr_null(r.tag);
    ck_assert_ptr_null(r.registry);
}
END_TEST

START_TEST(image_ref_error_reasons)
{
    wpd_image_ref r;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_image_ref_parse("Alpine", &r, &err), -1);
    ck_assert_str_eq(err.message,
                     "invalid image reference \"Alpine\": repository name must be lowercase");
    ck_assert_int_eq(wpd_image_ref_parse("alpine@md5:0123456789abcdef0123456789abcdef", &r, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.message, "unsupported digest algorithm"));
}
END_TEST

/* ---- names and small bodies ------------------------------------------- */

START_TEST(container_names)
{
    wpd_step s;
    wpd_buf b = WPD_BUF_INIT;
    step_init(&s, "x", "f51821af-4cb8-435e-a3c2-3a684185d828");
    wpd_container_name(&s, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "wp_f51821af-4cb8-435e-a3c2-3a684185d828");
    wpd_buf_reset(&b);
    s.uuid = "d841ee40-e66e-4275-bb3f-55bf89744b21";
    wpd_container_name(&s, &b);
    ck_assert_str_eq(wpd_buf_cstr(&b), "wp_d841ee40-e66e-4275-bb3f-55bf89744b21");
    wpd_buf_free(&b);
}
END_TEST

/* 2.3.6: the networks a step joins; the first is joined in the create
 * body (NetworkingConfig), the others are connected after create. */
START_TEST(network_joins)
{
    wpd_step s;
    step_init(&s, "svc", "u9");
    wpd_conn nets[2] = {{"wp_net", SL("svc", "database")}, {"extra", SL()}};
    s.networks = nets;
    s.n_networks = 2;
    wpd_settings st;
    settings_init(&st);
    st.network = "global";
    wpd_join j[4];
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, j, 4), 3);
    ck_assert_str_eq(j[0].network, "wp_net");
    ck_assert_uint_eq(j[0].aliases->n, 2);
    ck_assert_str_eq(j[1].network, "extra");
    ck_assert_uint_eq(j[1].aliases->n, 0);
    ck_assert_str_eq(j[2].network, "global");
    ck_assert_ptr_null(j[2].aliases);
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, NULL, 0), 3);

    body b;
    body_make(&b, &s, NULL, 0, &st);
    int ep = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig");
    ck_assert_int_eq(wpd_json_type_of(&b.j, ep), WPD_JSON_OBJECT);
    ck_assert_int_eq(b.j.toks[ep].size, 1);
    const char *al[] = {"svc", "database"};
    assert_key_strarr(&b.j, wpd_json_get(&b.j, ep, "wp_net"), "Aliases", al, 2);
    assert_absent(&b.j, b.hc, "NetworkMode");
    body_free(&b);

    /* the agent's network alone: joined without EndpointConfig aliases */
    s.n_networks = 0;
    body_make(&b, &s, NULL, 0, &st);
    int g = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig.global");
    ck_assert_int_eq(wpd_json_type_of(&b.j, g), WPD_JSON_OBJECT);
    ck_assert_int_eq(b.j.toks[g].size, 0);
    body_free(&b);

    /* an empty alias list is sent as null, as in the connect body */
    s.networks = &nets[1];
    s.n_networks = 1;
    body_make(&b, &s, NULL, 0, NULL);
    int x = wpd_json_path(&b.j, 0, "NetworkingConfig.EndpointsConfig.extra.Aliases");
    ck_assert(wpd_json_is_null(&b.j, x));
    body_free(&b);

    /* network_mode: no networks are joined at all */
    s.network_mode = "host";
    ck_assert_uint_eq(wpd_convert_joins(&s, &st, j, 4), 0);
    body_make(&b, &s, NULL, 0, &st);
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);

    /* no networks, no option: nothing */
    step_init(&s, "plain", "u10");
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);
}
END_TEST

/* ---- 7.1 options ------------------------------------------------------ */

START_TEST(apparmor_option)
{
    wpd_step s;
    step_init(&s, "a", "u1");
    wpd_settings st;
    settings_init(&st);
    st.apparmor = "osgeo-woodie";
    body b;
    body_make(&b, &s, NULL, 0, &st);
    const char *want[] = {"apparmor=osgeo-woodie"};
    assert_key_strarr(&b.j, b.hc, "SecurityOpt", want, 1);
    body_free(&b);

    st.apparmor = NULL;
    body_make(&b, &s, NULL, 0, &st);
    assert_absent(&b.j, b.hc, "SecurityOpt");
    body_free(&b);
}
END_TEST

START_TEST(dedupe_binds)
{
    wpd_step s;
    step_init(&s, "a", "u1");
    s.volumes = SL("a", "", "b", "a");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *want[] = {"a", "b"};
    assert_key_strarr(&b.j, b.hc, "Binds", want, 2);
    body_free(&b);

    /* Agent volumes are appended after the step's, duplicates removed. */
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro", "x:/x", "/etc/timezone:/etc/timezone");
    s.volumes = SL("x:/x", "/etc/ssl/certs:/etc/ssl/certs:ro");
    body_make(&b, &s, NULL, 0, &st);
    const char *want2[] = {"x:/x", "/etc/ssl/certs:/etc/ssl/certs:ro",
                           "/etc/timezone:/etc/timezone"};
    assert_key_strarr(&b.j, b.hc, "Binds", want2, 3);
    /* Config.Volumes only has the step's own destinations. */
    const char *vols[] = {"/x", "/etc/ssl/certs"};
    assert_key_set(&b.j, 0, "Volumes", vols, 2);
    body_free(&b);

    /* No volumes anywhere: no Binds. */
    s.volumes = (wpd_strlist){NULL, 0};
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Binds");
    body_free(&b);
}
END_TEST

/* ---- 7.2 environment and volumes --------------------------------------- */

START_TEST(env_rows_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);

    wpd_kv e1[] = {{"A", "B"}};
    body_make(&b, &s, e1, 1, NULL);
    const char *w1[] = {"A=B"};
    assert_key_strarr(&b.j, 0, "Env", w1, 1);
    body_free(&b);

    wpd_kv e2[] = {{"A", "B=C"}, {"", "Z"}, {"T", "T"}};
    body_make(&b, &s, e2, 3, NULL);
    const char *w2[] = {"A=B=C", "T=T"};
    assert_key_strarr(&b.j, 0, "Env", w2, 2);
    body_free(&b);

    /* Only an empty key: Env omitted. */
    wpd_kv e3[] = {{"", "Z"}};
    body_make(&b, &s, e3, 1, NULL);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);
}
END_TEST

START_TEST(volume_rows_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Volumes");
    body_free(&b);

    s.volumes = SL("test:/test");
    body_make(&b, &s, NULL, 0, NULL);
    const char *w[] = {"/test"};
    assert_key_set(&b.j, 0, "Volumes", w, 1);
    const char *binds[] = {"test:/test"};
    assert_key_strarr(&b.j, b.hc, "Binds", binds, 1);
    body_free(&b);

    /* Entries without a destination add nothing to Volumes. */
    s.volumes = SL("/only", "vol:/b:ro", "cache:/b");
    body_make(&b, &s, NULL, 0, NULL);
    const char *w2[] = {"/b"};
    assert_key_set(&b.j, 0, "Volumes", w2, 1);
    body_free(&b);
}
END_TEST

START_TEST(agent_volumes_in_body)
{
    wpd_step s;
    step_init(&s, "p", "u2");
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro", "/etc/timezone:/etc/timezone");
    body b;
    body_make(&b, &s, NULL, 0, &st);
    const char *w[] = {"/etc/ssl/certs:/etc/ssl/certs:ro", "/etc/timezone:/etc/timezone"};
    assert_key_strarr(&b.j, b.hc, "Binds", w, 2);
    assert_absent(&b.j, 0, "Volumes");
    body_free(&b);
}
END_TEST

START_TEST(device_rows)
{
    wpd_step s;
    step_init(&s, "p", "u3");
    s.devices = SL("/dev/sdc");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Devices");
    body_free(&b);

    s.devices = SL("/dev/sdc:/dev/xvdc:r", "/dev/null");
    body_make(&b, &s, NULL, 0, NULL);
    int d = wpd_json_get(&b.j, b.hc, "Devices");
    ck_assert_int_eq(wpd_json_type_of(&b.j, d), WPD_JSON_ARRAY);
    ck_assert_int_eq(b.j.toks[d].size, 1);
    int d0 = wpd_json_at(&b.j, d, 0);
    ck_assert_int_eq(b.j.toks[d0].size, 3);
    assert_key_str(&b.j, d0, "PathOnHost", "/dev/sdc");
    assert_key_str(&b.j, d0, "PathInContainer", "/dev/xvdc");
    assert_key_str(&b.j, d0, "CgroupPermissions", "rwm");
    body_free(&b);
}
END_TEST

START_TEST(tmpfs_rows)
{
    wpd_step s;
    step_init(&s, "p", "u4");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Tmpfs");
    body_free(&b);

    s.tmpfs = SL("/tmp", "/run:size=64m");
    body_make(&b, &s, NULL, 0, NULL);
    int t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 2);
    assert_key_str(&b.j, t, "/tmp", "");
    assert_key_str(&b.j, t, "/run", "size=64m");
    body_free(&b);

    s.tmpfs = SL("/run:rw,noexec,size=65536k", "/cache:");
    body_make(&b, &s, NULL, 0, NULL);
    t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 2);
    assert_key_str(&b.j, t, "/run", "rw,noexec,size=65536k");
    assert_key_str(&b.j, t, "/cache", "");
    body_free(&b);
}
END_TEST

START_TEST(tmpfs_without_path_rejected)
{
    wpd_step s;
    step_init(&s, "p", "u4");
    s.tmpfs = SL("/tmp", ":size=1m");
    wpd_settings st;
    settings_init(&st);
    wpd_error err = {0};
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    ck_assert_str_eq(err.message, "invalid tmpfs entry \":size=1m\": missing the mount path");
}
END_TEST

START_TEST(dns_and_hosts)
{
    wpd_step s;
    step_init(&s, "p", "u5");
    s.dns = SL("1.1.1.1", "2001:db8::1");
    s.dns_search = SL("example.com");
    wpd_hostalias hosts[] = {{"registry.local", "10.0.0.5"}, {"v6", "::1"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 2;
    s.network_mode = "host";
    s.privileged = 1;
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *dns[] = {"1.1.1.1", "2001:db8::1"};
    assert_key_strarr(&b.j, b.hc, "Dns", dns, 2);
    const char *search[] = {"example.com"};
    assert_key_strarr(&b.j, b.hc, "DnsSearch", search, 1);
    const char *eh[] = {"registry.local:10.0.0.5", "v6:::1"};
    assert_key_strarr(&b.j, b.hc, "ExtraHosts", eh, 2);
    assert_key_str(&b.j, b.hc, "NetworkMode", "host");
    assert_key_bool(&b.j, b.hc, "Privileged", true);
    body_free(&b);

    step_init(&s, "p", "u5");
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, b.hc, "Dns");
    assert_absent(&b.j, b.hc, "DnsSearch");
    assert_absent(&b.j, b.hc, "ExtraHosts");
    assert_absent(&b.j, b.hc, "NetworkMode");
    assert_key_bool(&b.j, b.hc, "Privileged", false);
    body_free(&b);
}
END_TEST

START_TEST(dns_invalid)
{
    wpd_step s;
    step_init(&s, "p", "u5");
    s.dns = SL("1.1.1.1", "dns.google");
    wpd_settings st;
    settings_init(&st);
    wpd_error err = {0};
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    const char *prefix = "could not parse DNS address [dns.google]: ";
    ck_assert_msg(strncmp(err.message, prefix, strlen(prefix)) == 0, "%s", err.message);

    s.dns = SL("1.1.1.256");
    ck_assert_ptr_null(wpd_convert_create_body(&s, NULL, 0, &st, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "[1.1.1.256]"));
}
END_TEST

START_TEST(limits_and_fixed_host_fields)
{
    wpd_step s;
    step_init(&s, "p", "u6");
    wpd_settings st;
    settings_init(&st);
    st.mem = 1073741824;
    st.mem_swap = -1;
    st.cpu_quota = 50000;
    st.cpu_shares = 512;
    st.cpu_set = "1,2";
    st.shm_size = 67108864;
    body b;
    body_make(&b, &s, NULL, 0, &st);
    assert_key_int(&b.j, b.hc, "Memory", 1073741824);
    assert_key_int(&b.j, b.hc, "MemorySwap", -1);
    assert_key_int(&b.j, b.hc, "CpuQuota", 50000);
    assert_key_int(&b.j, b.hc, "CpuShares", 512);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "1,2");
    assert_key_int(&b.j, b.hc, "ShmSize", 67108864);
    int lc = wpd_json_get(&b.j, b.hc, "LogConfig");
    assert_key_str(&b.j, lc, "Type", "json-file");
    ck_assert(wpd_json_is_null(&b.j, wpd_json_get(&b.j, lc, "Config")));
    body_free(&b);

    settings_init(&st);
    body_make(&b, &s, NULL, 0, &st);
    assert_key_int(&b.j, b.hc, "Memory", 0);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "");
    body_free(&b);
}
END_TEST

/* ---- 7.4 container config --------------------------------------------- */

START_TEST(config_case_a)
{
    wpd_step s;
    step_init(&s, "test", "09238932");
    s.commands = SL("go test");
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_key_bool(&b.j, 0, "AttachStdout", true);
    assert_key_bool(&b.j, 0, "AttachStderr", true);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    int l = wpd_json_get(&b.j, 0, "Labels");
    ck_assert_int_eq(b.j.toks[l].size, 2);
    assert_key_str(&b.j, l, "wp_step", "test");
    assert_key_str(&b.j, l, "wp_uuid", "09238932");
    assert_absent(&b.j, 0, "WorkingDir");
    assert_absent(&b.j, 0, "Image");
    assert_absent(&b.j, 0, "Volumes");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "User");
    assert_absent(&b.j, 0, "Tty");
    const char *env[] = {ci_script_a, "SHELL=/bin/sh"};
    assert_key_strarr(&b.j, 0, "Env", env, 2);
    body_free(&b);
}
END_TEST

START_TEST(config_case_b)
{
    wpd_step s;
    step_init(&s, "b", "uuid-b");
    s.image = "golang:1.2.3";
    s.working_dir = "/src/abc";
    s.workspace_base = "/src";
    s.commands = SL("go test", "go vet ./...");
    s.volumes = SL("/cache:/cache");
    s.privileged = 1;
    s.network_mode = "bridge";
    s.dns = SL("8.8.8.8");
    s.dns_search = SL("local");
    wpd_hostalias hosts[] = {{"h", "1.2.3.4"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 1;
    s.tmpfs = SL("/tmp");
    s.devices = SL("/dev/fuse:/dev/fuse");
    wpd_kv env[] = {{"TAGS", "sqlite"}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_str(&b.j, 0, "Image", "golang:1.2.3");
    assert_key_str(&b.j, 0, "WorkingDir", "/src");
    const char *vols[] = {"/cache"};
    assert_key_set(&b.j, 0, "Volumes", vols, 1);
    const char *want_env[] = {ci_script_b, "SHELL=/bin/sh", "TAGS=sqlite"};
    assert_key_strarr(&b.j, 0, "Env", want_env, 3);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    assert_absent(&b.j, 0, "Cmd");
    body_free(&b);
}
END_TEST

START_TEST(config_case_c)
{
    wpd_step s;
    step_init(&s, "c", "uuid-c-123");
    s.commands = SL("echo $SHELL");
    wpd_kv env[] = {{"SHELL", "/bin/zsh"}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    assert_absent(&b.j, 0, "Cmd");
    int e = wpd_json_get(&b.j, 0, "Env");
    ck_assert_int_eq(b.j.toks[e].size, 2);
    assert_str_at(&b.j, wpd_json_at(&b.j, e, 1), "SHELL=/bin/sh");
    assert_key_str(&b.j, wpd_json_get(&b.j, 0, "Labels"), "wp_uuid", "uuid-c-123");
    ck_assert_ptr_null(strstr(b.text, "/bin/zsh"));
    body_free(&b);
}
END_TEST

START_TEST(config_case_d)
{
    wpd_step s;
    step_init(&s, "plugin", "uuid-d");
    s.type = "plugin";
    s.image = "docker.io/woodpeckerci/plugin-webhook:1.0.0";
    s.working_dir = "/woodpecker/src/x";
    s.workspace_base = "/woodpecker";
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    assert_absent(&b.j, 0, "Entrypoint");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "Env");
    /* Plugins work in working_dir, not the workspace base. */
    assert_key_str(&b.j, 0, "WorkingDir", "/woodpecker/src/x");
    body_free(&b);
}
END_TEST

START_TEST(user_entrypoint_replaces_script_entrypoint)
{
    wpd_step s;
    step_init(&s, "e", "uuid-e");
    s.commands = SL("echo hi");
    s.entrypoint = SL("/bin/bash", "-c", "echo $CI_SCRIPT | base64 -d | /bin/bash -e");
    s.user = "1000:1000";
    body b;
    body_make(&b, &s, NULL, 0, NULL);
    const char *want[] = {"/bin/bash", "-c", "echo $CI_SCRIPT | base64 -d | /bin/bash -e"};
    assert_key_strarr(&b.j, 0, "Entrypoint", want, 3);
    assert_key_str(&b.j, 0, "User", "1000:1000");
    int e = wpd_json_get(&b.j, 0, "Env");
    ck_assert_int_eq(b.j.toks[e].size, 2); /* CI_SCRIPT and SHELL still set */
    body_free(&b);

    /* Entrypoint without commands is used as is. */
    step_init(&s, "e", "uuid-e");
    s.entrypoint = SL("/entry");
    body_make(&b, &s, NULL, 0, NULL);
    const char *want2[] = {"/entry"};
    assert_key_strarr(&b.j, 0, "Entrypoint", want2, 1);
    assert_absent(&b.j, 0, "Env");
    body_free(&b);
}
END_TEST

/* ---- 2.3.5 example body for the `build` step -------------------------- */

START_TEST(build_example_body)
{
    wpd_step s;
    step_init(&s, "build", "01J9ZQ8X5D7B2C3D4E5F6G7H8N");
    s.type = "commands";
    s.image = "registry.example.com/ci/golang:1.23";
    s.pull = 1;
    s.working_dir = "/woodpecker/src/github.com/octocat/hello-world";
    s.workspace_base = "/woodpecker";
    s.commands = SL("go build ./...", "echo \"tests: $CI_PIPELINE_NUMBER\"", "go test ./...");
    wpd_hostalias hosts[] = {{"registry.local", "10.0.0.5"}};
    s.extra_hosts = hosts;
    s.n_extra_hosts = 1;
    s.volumes =
        SL("wp_01j9zq8x4k3m5n6p7q8r9s0t1v_42_default:/woodpecker", "/var/cache/go-mod:/go/pkg/mod");
    s.tmpfs = SL("/tmp");
    s.dns = SL("1.1.1.1");
    s.user = "1000:1000";
    wpd_kv env[] = {{"CI_REPO", "octocat/hello-world"},
                    {"CI_PIPELINE_NUMBER", "42"},
                    {"CI_WORKSPACE", "/woodpecker/src/github.com/octocat/hello-world"},
                    {"CGO_ENABLED", "0"},
                    {"GOFLAGS", "-mod=readonly"},
                    {"API_URL", "http://mock-api:8080"}};
    wpd_settings st;
    settings_init(&st);
    st.volumes = SL("/etc/ssl/certs:/etc/ssl/certs:ro");

    body b;
    body_make(&b, &s, env, NELEM(env), &st);
    assert_key_str(&b.j, 0, "Image", "registry.example.com/ci/golang:1.23");
    int l = wpd_json_get(&b.j, 0, "Labels");
    assert_key_str(&b.j, l, "wp_uuid", "01J9ZQ8X5D7B2C3D4E5F6G7H8N");
    assert_key_str(&b.j, l, "wp_step", "build");
    assert_key_str(&b.j, 0, "User", "1000:1000");
    assert_key_bool(&b.j, 0, "AttachStdout", true);
    assert_key_bool(&b.j, 0, "AttachStderr", true);
    assert_key_strarr(&b.j, 0, "Entrypoint", script_entry, 3);
    const char *vols[] = {"/woodpecker", "/go/pkg/mod"};
    assert_key_set(&b.j, 0, "Volumes", vols, 2);
    assert_key_str(&b.j, 0, "WorkingDir", "/woodpecker");

    /* Env: sorted, with CI_SCRIPT for the step's script and SHELL. */
    char *ci = wpd_script_ci_script((const char *const *)s.commands.v, s.commands.n, s.working_dir);
    char *ci_kv = wpd_xasprintf("CI_SCRIPT=%s", ci);
    const char *want_env[] = {"API_URL=http://mock-api:8080",
                              "CGO_ENABLED=0",
                              "CI_PIPELINE_NUMBER=42",
                              "CI_REPO=octocat/hello-world",
                              ci_kv,
                              "CI_WORKSPACE=/woodpecker/src/github.com/octocat/hello-world",
                              "GOFLAGS=-mod=readonly",
                              "SHELL=/bin/sh"};
    assert_key_strarr(&b.j, 0, "Env", want_env, NELEM(want_env));
    ck_assert(strncmp(ci, "CmlmIFsgLW4g", 12) == 0);
    free(ci_kv);
    free(ci);

    const char *binds[] = {"wp_01j9zq8x4k3m5n6p7q8r9s0t1v_42_default:/woodpecker",
                           "/var/cache/go-mod:/go/pkg/mod", "/etc/ssl/certs:/etc/ssl/certs:ro"};
    assert_key_strarr(&b.j, b.hc, "Binds", binds, 3);
    assert_key_bool(&b.j, b.hc, "Privileged", false);
    const char *dns[] = {"1.1.1.1"};
    assert_key_strarr(&b.j, b.hc, "Dns", dns, 1);
    const char *eh[] = {"registry.local:10.0.0.5"};
    assert_key_strarr(&b.j, b.hc, "ExtraHosts", eh, 1);
    int t = wpd_json_get(&b.j, b.hc, "Tmpfs");
    ck_assert_int_eq(b.j.toks[t].size, 1);
    assert_key_str(&b.j, t, "/tmp", "");
    assert_key_str(&b.j, wpd_json_get(&b.j, b.hc, "LogConfig"), "Type", "json-file");
    assert_key_int(&b.j, b.hc, "Memory", 0);
    assert_key_int(&b.j, b.hc, "MemorySwap", 0);
    assert_key_int(&b.j, b.hc, "CpuQuota", 0);
    assert_key_int(&b.j, b.hc, "CpuShares", 0);
    assert_key_str(&b.j, b.hc, "CpusetCpus", "");
    assert_key_int(&b.j, b.hc, "ShmSize", 0);
    assert_absent(&b.j, b.hc, "NetworkMode");
    assert_absent(&b.j, b.hc, "SecurityOpt");
    assert_absent(&b.j, b.hc, "Devices");
    assert_absent(&b.j, 0, "Cmd");
    assert_absent(&b.j, 0, "NetworkingConfig");
    body_free(&b);
}
END_TEST

START_TEST(json_escaping_in_body)
{
    wpd_step s;
    step_init(&s, "we\"ird\\name", "u7");
    wpd_kv env[] = {{"MULTI", "line1\nline2\t\"q\""}};
    body b;
    body_make(&b, &s, env, 1, NULL);
    assert_key_str(&b.j, wpd_json_get(&b.j, 0, "Labels"), "wp_step", "we\"ird\\name");
    const char *w[] = {"MULTI=line1\nline2\t\"q\""};
    assert_key_strarr(&b.j, 0, "Env", w, 1);
    body_free(&b);
}
END_TEST

static Suite *convert_suite(void)
{
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("split");
    tcase_add_loop_test(tc, volume_split_table, 0, (int)NELEM(split_cases));
    tcase_add_test(tc, volume_split_all_empty);
    tcase_add_test(tc, env_list_rows);
    suite_add_tcase(s, tc);

    tc = tcase_create("auth_and_refs");
    tcase_add_test(tc, registry_auth_values);
    tcase_add_test(tc, registry_auth_serveraddress_and_escapes);
    tcase_add_loop_test(tc, image_ref_table, 0, (int)NELEM(ref_cases));
    tcase_add_loop_test(tc, image_ref_invalid, 0, (int)NELEM(bad_refs));
    tcase_add_test(tc, image_ref_error_reasons);
    suite_add_tcase(s, tc);

    tc = tcase_create("bodies");
    tcase_add_test(tc, container_names);
    tcase_add_test(tc, network_joins);
    tcase_add_test(tc, apparmor_option);
    tcase_add_test(tc, dedupe_binds);
    tcase_add_test(tc, env_rows_in_body);
    tcase_add_test(tc, volume_rows_in_body);
    tcase_add_test(tc, agent_volumes_in_body);
    tcase_add_test(tc, device_rows);
    tcase_add_test(tc, tmpfs_rows);
    tcase_add_test(tc, tmpfs_without_path_rejected);
    tcase_add_test(tc, dns_and_hosts);
    tcase_add_test(tc, dns_invalid);
    tcase_add_test(tc, limits_and_fixed_host_fields);
    tcase_add_test(tc, config_case_a);
    tcase_add_test(tc, config_case_b);
    tcase_add_test(tc, config_case_c);
    tcase_add_test(tc, config_case_d);
    tcase_add_test(tc, user_entrypoint_replaces_script_entrypoint);
    tcase_add_test(tc, build_example_body);
    tcase_add_test(tc, json_escaping_in_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(convert_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
