/* test_convert_values.c - unit tests for core/convert.c's value helpers:
 * volume splitting (4.1), environment lists (4.4), registry auth values
 * (7.3) and image references. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/convert.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

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

static Suite *convert_values_suite(void)
{
    Suite *s = suite_create("convert_values");
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
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(convert_values_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
