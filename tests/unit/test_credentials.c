/* test_credentials.c - unit tests for core/credentials.c and
 * core/childproc.c: registry hosts and server URLs, config.json key
 * spellings, auth decoding, source selection order, exact X-Registry-Auth
 * values, helper answers (ok, identity token, "credentials not found",
 * failure with redacted stderr, garbage, timeout, missing helper), and the
 * asynchronous paths on a real reactor with the test credential helper
 * tests/helpers/docker-credential-wpdtest. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/base64.h"
#include "util/buf.h"
#include "io/childproc.h"
#include "engine/credentials.h"
#include "testutil.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))
#define ck_assert_lacks(hay, needle)                                                               \
    ck_assert_msg(strstr((hay), (needle)) == NULL, "\"%s\" contains \"%s\"", (hay), (needle))

#define HELPER_SCRIPT TEST_DATA_DIR "/../helpers/docker-credential-wpdtest"
#define SECRET "s3cr3t-value"

/* X-Registry-Auth of
 * {"username":"wpdock","password":"wpdock-pass","serveraddress":"127.0.0.1:5001"} */
#define AUTH_WPDOCK_5001                                                                           \
    "eyJ1c2VybmFtZSI6IndwZG9jayIsInBhc3N3b3JkIjoid3Bkb2NrLXBhc3MiLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAu" \
    "MC4xOjUwMDEifQ=="
/* {"identitytoken":"tok-123","serveraddress":"https://index.docker.io/v1/"} */
#define AUTH_TOKEN_HUB                                                                             \
    "eyJpZGVudGl0eXRva2VuIjoidG9rLTEyMyIsInNlcnZlcmFkZHJlc3MiOiJodHRwczovL2luZGV4LmRvY2tlci5pby92" \
    "MS8ifQ=="
/* {"username":"hubuser","password":"hubpass","serveraddress":"https://index.docker.io/v1/"} */
#define AUTH_HUBUSER                                                                               \
    "eyJ1c2VybmFtZSI6Imh1YnVzZXIiLCJwYXNzd29yZCI6Imh1YnBhc3MiLCJzZXJ2ZXJhZGRyZXNzIjoiaHR0cHM6Ly9p" \
    "bmRleC5kb2NrZXIuaW8vdjEvIn0="
/* {"username":"wpdtest-user","password":"s3cr3t-value","serveraddress":"helper.example.com"} */
#define AUTH_HELPER_BASIC                                                                          \
    "eyJ1c2VybmFtZSI6IndwZHRlc3QtdXNlciIsInBhc3N3b3JkIjoiczNjcjN0LXZhbHVlIiwic2VydmVyYWRkcmVzcyI6" \
    "ImhlbHBlci5leGFtcGxlLmNvbSJ9"
/* {"identitytoken":"s3cr3t-value","serveraddress":"helper.example.com"} */
#define AUTH_HELPER_TOKEN                                                                          \
    "eyJpZGVudGl0eXRva2VuIjoiczNjcjN0LXZhbHVlIiwic2VydmVyYWRkcmVzcyI6ImhlbHBlci5leGFtcGxlLmNvbSJ9"

/* ---- fake environment --------------------------------------------------- */

#define MAX_VARS 16
static const char *env_names[MAX_VARS];
static const char *env_values[MAX_VARS];
static size_t env_n;

static void env_reset(void)
{
    env_n = 0;
}

static void env_put(const char *name, const char *value)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0) {
            env_values[i] = value;
            return;
        }
    ck_assert_uint_lt(env_n, MAX_VARS);
    env_names[env_n] = name;
    env_values[env_n++] = value;
}

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

/* Decoded JSON of a header value. */
static char *decode_header(const char *h)
{
    wpd_buf b = WPD_BUF_INIT;
    ck_assert_int_eq(wpd_base64_decode(h, strlen(h), &b), 0);
    wpd_buf_putc(&b, '\0');
    return wpd_buf_steal(&b);
}

/* ---- registry hosts, server URLs, key spellings ------------------------- */

static void host_is(const char *image, const char *want)
{
    wpd_error err = {0};
    char *h = wpd_cred_registry_host(image, &err);
    ck_assert_msg(h != NULL, "%s: %s", image, err.message);
    ck_assert_msg(strcmp(h, want) == 0, "%s: host %s, want %s", image, h, want);
    free(h);
}

START_TEST(registry_host_docker_rules)
{
    host_is("alpine", "docker.io");
    host_is("alpine:3.19", "docker.io");
    host_is("library/alpine", "docker.io");
    host_is("woodpeckerci/plugin-git:2.10.0", "docker.io");
    host_is("docker.io/library/alpine", "docker.io");
    host_is("index.docker.io/library/alpine", "docker.io");
    host_is("127.0.0.1:5000/x/y:tag", "127.0.0.1:5000");
    host_is("localhost/x", "localhost");
    host_is("localhost:5000/x", "localhost:5000");
    host_is("ghcr.io/a/b:1", "ghcr.io");
    host_is("registry.example.com/ci/golang@sha256:"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.example.com");

    wpd_error err = {0};
    ck_assert_ptr_null(wpd_cred_registry_host("Alpine", &err));
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    ck_assert_contains(err.message, "invalid image reference");
}
END_TEST

START_TEST(server_url_for_hosts)
{
    const char *hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
    for (size_t i = 0; i < 3; i++) {
        char *u = wpd_cred_server_url(hub[i]);
        ck_assert_str_eq(u, "https://index.docker.io/v1/");
        free(u);
        ck_assert(wpd_cred_is_dockerhub(hub[i]));
    }
    char *u = wpd_cred_server_url("127.0.0.1:5000");
    ck_assert_str_eq(u, "127.0.0.1:5000");
    free(u);
    u = wpd_cred_server_url("ghcr.io");
    ck_assert_str_eq(u, "ghcr.io");
    free(u);
    ck_assert(!wpd_cred_is_dockerhub("ghcr.io"));
    ck_assert(!wpd_cred_is_dockerhub("docker.io.example.com"));
}
END_TEST

START_TEST(key_spellings_dockerhub)
{
    const char *yes[] = {"https://index.docker.io/v1/",
                         "https://index.docker.io/v1",
                         "index.docker.io",
                         "docker.io",
                         "registry-1.docker.io",
                         "https://registry-1.docker.io/",
                         "http://docker.io",
                         "https://docker.io/",
                         "index.docker.io/v1/"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert_msg(wpd_cred_key_matches(yes[i], "docker.io"), "%s should match docker.io",
                      yes[i]);
    const char *no[] = {"ghcr.io", "https://ghcr.io", "docker.io.example.com", "mydocker.io",
                        "",        "https://",        "index.docker.io:443"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(!wpd_cred_key_matches(no[i], "docker.io"), "%s should not match docker.io",
                      no[i]);
}
END_TEST

START_TEST(key_spellings_other_registries)
{
    const char *yes[] = {"ghcr.io",         "https://ghcr.io", "http://ghcr.io", "https://ghcr.io/",
                         "http://ghcr.io/", "ghcr.io/",        "GHCR.io"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert_msg(wpd_cred_key_matches(yes[i], "ghcr.io"), "%s should match ghcr.io", yes[i]);
    const char *no[] = {
        "ghcr.iox",     "xghcr.io", "ghcr.io:443", "docker.io", "https://index.docker.io/v1/",
        "ftp://ghcr.io"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(!wpd_cred_key_matches(no[i], "ghcr.io"), "%s should not match ghcr.io",
                      no[i]);

    ck_assert(wpd_cred_key_matches("http://127.0.0.1:5000/", "127.0.0.1:5000"));
    ck_assert(wpd_cred_key_matches("127.0.0.1:5000", "127.0.0.1:5000"));
    ck_assert(!wpd_cred_key_matches("127.0.0.1", "127.0.0.1:5000"));
    ck_assert(!wpd_cred_key_matches("127.0.0.1:5001", "127.0.0.1:5000"));
    ck_assert(wpd_cred_key_matches("localhost", "localhost"));
    ck_assert(!wpd_cred_key_matches("localhost:5000", "localhost"));
}
END_TEST

/* ---- auth decoding ------------------------------------------------------ */

START_TEST(decode_auth_values)
{
    char *u, *p;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_cred_decode_auth("aHVidXNlcjpodWJwYXNz", &u, &p, &err), 0);
    ck_assert_str_eq(u, "hubuser");
    ck_assert_str_eq(p, "hubpass");
    free(u);
    free(p);

    /* "exuser:ex:pass\0\0": split at the first ':', NULs stripped */
    ck_assert_int_eq(wpd_cred_decode_auth("ZXh1c2VyOmV4OnBhc3MAAA==", &u, &p, &err), 0);
    ck_assert_str_eq(u, "exuser");
    ck_assert_str_eq(p, "ex:pass");
    free(u);
    free(p);

    /* without padding, URL alphabet accepted too */
    ck_assert_int_eq(wpd_cred_decode_auth("d3Bkb2NrOndwZG9jay1wYXNz", &u, &p, &err), 0);
    ck_assert_str_eq(u, "wpdock");
    ck_assert_str_eq(p, "wpdock-pass");
    free(u);
    free(p);

    const char *bad[] = {"anVzdHVzZXI=" /* justuser */, "Om5vcGFzcw==" /* :nopass */,
                         "dXNlcjo=" /* user: */, "!!not-base64!!", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wpd_error_clear(&err);
        ck_assert_msg(wpd_cred_decode_auth(bad[i], &u, &p, &err) == -1, "%s decoded", bad[i]);
        ck_assert_ptr_null(u);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
        if (*bad[i])
            ck_assert_lacks(err.message, bad[i]);
    }
    wpd_error_clear(&err);
    wpd_cred_decode_auth("anVzdHVzZXI=", &u, &p, &err);
    ck_assert_str_eq(err.message, "expected base64 of \"username:password\" with both parts set");
    ck_assert_lacks(err.message, "justuser");
    wpd_error_clear(&err);
    wpd_cred_decode_auth("!!not-base64!!", &u, &p, &err);
    ck_assert_str_eq(err.message, "not valid base64");
}
END_TEST

/* ---- selection ---------------------------------------------------------- */

static wpd_cred_source select_ok(const char *json, const char *host)
{
    wpd_cred_source s;
    wpd_error err = {0};
    int rc = wpd_cred_select("/etc/test/config.json", json, strlen(json), host, &s, &err);
    ck_assert_msg(rc == 0, "select failed: %s", err.message);
    return s;
}

static void select_fails(const char *json, const char *host, const char *want)
{
    wpd_cred_source s;
    wpd_error err = {0};
    int rc = wpd_cred_select("/etc/test/config.json", json, strlen(json), host, &s, &err);
    ck_assert_msg(rc == -1, "select of %s succeeded", json);
    ck_assert_int_eq(err.kind, WPD_ERR_INPUT);
    ck_assert_msg(strcmp(err.message, want) == 0, "message \"%s\", want \"%s\"", err.message, want);
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
}

static const char ALL_THREE[] = "{\"auths\":{\"ghcr.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"},"
                                "\"quay.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"},"
                                "\"other.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}},"
                                "\"credsStore\":\"desktop\",\"credHelpers\":{\"ghcr.io\":\"gh\","
                                "\"https://quay.io/\":\"quayhelper\"}}";

START_TEST(select_order)
{
    /* credHelpers[host] beats credsStore and auths */
    wpd_cred_source s = select_ok(ALL_THREE, "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_HELPER);
    ck_assert_str_eq(s.helper, "gh");
    ck_assert_str_eq(s.where, "credHelpers[\"ghcr.io\"]");
    wpd_cred_source_free(&s);

    s = select_ok(ALL_THREE, "quay.io");
    ck_assert_int_eq(s.kind, WPD_CRED_HELPER);
    ck_assert_str_eq(s.helper, "quayhelper");
    wpd_cred_source_free(&s);

    /* no credHelpers entry: credsStore beats auths */
    s = select_ok(ALL_THREE, "other.io");
    ck_assert_int_eq(s.kind, WPD_CRED_HELPER);
    ck_assert_str_eq(s.helper, "desktop");
    ck_assert_str_eq(s.where, "credsStore");
    wpd_cred_source_free(&s);

    /* credsStore applies to every registry, even unlisted ones */
    s = select_ok(ALL_THREE, "docker.io");
    ck_assert_int_eq(s.kind, WPD_CRED_HELPER);
    ck_assert_str_eq(s.helper, "desktop");
    wpd_cred_source_free(&s);

    /* no helper at all: auths */
    s = select_ok("{\"auths\":{\"other.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}},"
                  "\"credHelpers\":{\"ghcr.io\":\"gh\"}}",
                  "other.io");
    ck_assert_int_eq(s.kind, WPD_CRED_BASIC);
    ck_assert_str_eq(s.username, "hubuser");
    ck_assert_str_eq(s.password, "hubpass");
    ck_assert_str_eq(s.where, "auths[\"other.io\"]");
    wpd_cred_source_free(&s);

    /* an empty credsStore or credHelpers value configures nothing */
    s = select_ok("{\"credsStore\":\"\",\"credHelpers\":{\"other.io\":\"\"},"
                  "\"auths\":{\"other.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}",
                  "other.io");
    ck_assert_int_eq(s.kind, WPD_CRED_BASIC);
    wpd_cred_source_free(&s);
}
END_TEST

START_TEST(select_dockerhub_spellings)
{
    const char *keys[] = {"https://index.docker.io/v1/", "index.docker.io", "docker.io",
                          "registry-1.docker.io", "https://index.docker.io/v1"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *auths = wpd_xasprintf("{\"auths\":{\"ghcr.io\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"},"
                                    "\"%s\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}",
                                    keys[i]);
        wpd_cred_source s = select_ok(auths, "docker.io");
        ck_assert_msg(s.kind == WPD_CRED_BASIC, "auths key %s not used", keys[i]);
        ck_assert_str_eq(s.username, "hubuser");
        wpd_cred_source_free(&s);
        free(auths);

        char *helpers = wpd_xasprintf("{\"credHelpers\":{\"%s\":\"hubhelper\"}}", keys[i]);
        s = select_ok(helpers, "docker.io");
        ck_assert_msg(s.kind == WPD_CRED_HELPER, "credHelpers key %s not used", keys[i]);
        ck_assert_str_eq(s.helper, "hubhelper");
        wpd_cred_source_free(&s);
        free(helpers);
    }
}
END_TEST

START_TEST(select_other_spellings)
{
    const char *keys[] = {"ghcr.io",          "https://ghcr.io", "http://ghcr.io",
                          "https://ghcr.io/", "http://ghcr.io/", "ghcr.io/"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *json = wpd_xasprintf("{\"auths\":{\"docker.io\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"},"
                                   "\"%s\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}",
                                   keys[i]);
        wpd_cred_source s = select_ok(json, "ghcr.io");
        ck_assert_msg(s.kind == WPD_CRED_BASIC, "auths key %s not used", keys[i]);
        ck_assert_str_eq(s.username, "hubuser");
        wpd_cred_source_free(&s);
        free(json);
    }
    /* the Docker Hub key never answers for another registry, and vice versa */
    wpd_cred_source s = select_ok(
        "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}",
        "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok("{\"auths\":{\"ghcr.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}", "docker.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
}
END_TEST

START_TEST(select_canonical_key_wins)
{
    wpd_cred_source s =
        select_ok("{\"auths\":{"
                  "\"docker.io\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"},"
                  "\"https://index.docker.io/v1/\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}"
                  "}}",
                  "docker.io");
    ck_assert_int_eq(s.kind, WPD_CRED_BASIC);
    ck_assert_str_eq(s.username, "hubuser");
    ck_assert_str_eq(s.where, "auths[\"https://index.docker.io/v1/\"]");
    wpd_cred_source_free(&s);

    /* an empty canonical entry (as `docker login` leaves with a store)
     * falls through to another spelling that has credentials */
    s = select_ok("{\"auths\":{\"https://index.docker.io/v1/\":{},"
                  "\"docker.io\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"}}}",
                  "docker.io");
    ck_assert_int_eq(s.kind, WPD_CRED_BASIC);
    ck_assert_str_eq(s.username, "tokuser");
    wpd_cred_source_free(&s);

    /* otherwise the first in the file */
    s = select_ok("{\"auths\":{\"https://ghcr.io\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"},"
                  "\"http://ghcr.io\":{\"auth\":\"aHVidXNlcjpodWJwYXNz\"}}}",
                  "ghcr.io");
    ck_assert_str_eq(s.username, "tokuser");
    wpd_cred_source_free(&s);
}
END_TEST

START_TEST(select_identitytoken_and_fields)
{
    wpd_cred_source s = select_ok("{\"auths\":{\"index.docker.io\":{\"auth\":"
                                  "\"dG9rdXNlcjp0b2twYXNz\",\"identitytoken\":\"tok-123\"}}}",
                                  "docker.io");
    ck_assert_int_eq(s.kind, WPD_CRED_TOKEN);
    ck_assert_str_eq(s.token, "tok-123");
    wpd_cred_source_free(&s);

    s = select_ok("{\"auths\":{\"ghcr.io\":{\"username\":\"fielduser\",\"password\":\"fieldpass\","
                  "\"email\":\"x@example.com\"}}}",
                  "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_BASIC);
    ck_assert_str_eq(s.username, "fielduser");
    ck_assert_str_eq(s.password, "fieldpass");
    wpd_cred_source_free(&s);

    /* an entry without credentials, or none matching: no credentials */
    s = select_ok("{\"auths\":{\"ghcr.io\":{}}}", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok("{\"auths\":{\"ghcr.io\":{\"auth\":\"\"}}}", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok("{}", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok("{\"auths\":null,\"credHelpers\":null,\"credsStore\":null}", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok("", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
    s = select_ok(" \n\t", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
}
END_TEST

START_TEST(select_errors)
{
    select_fails("{\"auths\":{\"ghcr.io\":}}", "ghcr.io",
                 "/etc/test/config.json: invalid JSON at line 1, column 21 (byte 20): expected a "
                 "value");
    select_fails("[]", "ghcr.io", "/etc/test/config.json: expected a JSON object, found array");
    select_fails("{\"auths\":[]}", "ghcr.io", "/etc/test/config.json: auths: expected an object");
    select_fails("{\"credHelpers\":\"gh\"}", "ghcr.io",
                 "/etc/test/config.json: credHelpers: expected an object");
    select_fails("{\"credHelpers\":{\"ghcr.io\":1}}", "ghcr.io",
                 "/etc/test/config.json: credHelpers[\"ghcr.io\"]: expected a string");
    select_fails("{\"credsStore\":true}", "ghcr.io",
                 "/etc/test/config.json: credsStore: expected a string");
    select_fails("{\"credHelpers\":{\"ghcr.io\":\"../../bin/evil\"}}", "ghcr.io",
                 "/etc/test/config.json: credHelpers[\"ghcr.io\"]: invalid credential helper name");
    select_fails("{\"auths\":{\"ghcr.io\":\"x\"}}", "ghcr.io",
                 "/etc/test/config.json: auths[\"ghcr.io\"]: expected an object");
    select_fails("{\"auths\":{\"ghcr.io\":{\"auth\":\"!!not-base64!!\"}}}", "ghcr.io",
                 "/etc/test/config.json: auths[\"ghcr.io\"].auth: not valid base64");
    select_fails("{\"auths\":{\"https://ghcr.io/\":{\"auth\":\"anVzdHVzZXI=\"}}}", "ghcr.io",
                 "/etc/test/config.json: auths[\"https://ghcr.io/\"].auth: expected base64 of "
                 "\"username:password\" with both parts set");
    select_fails("{\"auths\":{\"ghcr.io\":{\"identitytoken\":5}}}", "ghcr.io",
                 "/etc/test/config.json: auths[\"ghcr.io\"].identitytoken: expected a string");
    /* entries of other registries are not looked at */
    wpd_cred_source s = select_ok("{\"auths\":{\"quay.io\":{\"auth\":\"!!\"}}}", "ghcr.io");
    ck_assert_int_eq(s.kind, WPD_CRED_NONE);
}
END_TEST

/* ---- header values ------------------------------------------------------ */

START_TEST(header_values_exact)
{
    char *h = wpd_cred_header_basic("wpdock", "wpdock-pass", "127.0.0.1:5001");
    ck_assert_str_eq(h, AUTH_WPDOCK_5001);
    free(h);
    h = wpd_cred_header_basic("hubuser", "hubpass", "https://index.docker.io/v1/");
    ck_assert_str_eq(h, AUTH_HUBUSER);
    char *json = decode_header(h);
    ck_assert_str_eq(json, "{\"username\":\"hubuser\",\"password\":\"hubpass\",\"serveraddress\":"
                           "\"https://index.docker.io/v1/\"}");
    free(json);
    free(h);
    /* URL alphabet and '=' padding */
    h = wpd_cred_header_basic("a??b", "p~~", "r.io");
    ck_assert_str_eq(h, "eyJ1c2VybmFtZSI6ImE_P2IiLCJwYXNzd29yZCI6InB-fiIsInNlcnZlcmFkZHJlc3MiOiJy"
                        "LmlvIn0=");
    free(h);

    h = wpd_cred_header_token("tok-123", "https://index.docker.io/v1/");
    ck_assert_str_eq(h, AUTH_TOKEN_HUB);
    json = decode_header(h);
    ck_assert_str_eq(
        json, "{\"identitytoken\":\"tok-123\",\"serveraddress\":\"https://index.docker.io/v1/\"}");
    free(json);
    free(h);
}
END_TEST

/* ---- environment -------------------------------------------------------- */

START_TEST(config_path_order)
{
    env_reset();
    ck_assert_ptr_null(wpd_cred_config_path(fake_getenv));
    env_put("HOME", "/home/ci");
    char *p = wpd_cred_config_path(fake_getenv);
    ck_assert_str_eq(p, "/home/ci/.docker/config.json");
    free(p);
    env_put("DOCKER_CONFIG", "/etc/docker-cfg");
    p = wpd_cred_config_path(fake_getenv);
    ck_assert_str_eq(p, "/etc/docker-cfg/config.json");
    free(p);
    env_put("WOODPECKER_DOCKER_CONFIG", "/srv/wp/docker.json");
    p = wpd_cred_config_path(fake_getenv);
    ck_assert_str_eq(p, "/srv/wp/docker.json");
    free(p);
    /* empty values count as unset */
    env_put("WOODPECKER_DOCKER_CONFIG", "");
    env_put("DOCKER_CONFIG", "");
    p = wpd_cred_config_path(fake_getenv);
    ck_assert_str_eq(p, "/home/ci/.docker/config.json");
    free(p);
}
END_TEST

START_TEST(helper_timeout_setting)
{
    long ms = 0;
    wpd_error err = {0};
    env_reset();
    ck_assert_int_eq(wpd_cred_helper_timeout(fake_getenv, &ms, &err), 0);
    ck_assert_int_eq(ms, 10000);
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "2");
    ck_assert_int_eq(wpd_cred_helper_timeout(fake_getenv, &ms, &err), 0);
    ck_assert_int_eq(ms, 2000);
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "0.25");
    ck_assert_int_eq(wpd_cred_helper_timeout(fake_getenv, &ms, &err), 0);
    ck_assert_int_eq(ms, 250);
    const char *bad[] = {"0", "-1", "abc", "5s", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", bad[i]);
        wpd_error_clear(&err);
        ck_assert_msg(wpd_cred_helper_timeout(fake_getenv, &ms, &err) == -1, "%s accepted", bad[i]);
        ck_assert_int_eq(err.kind, WPD_ERR_USAGE);
        ck_assert_contains(err.message, "WPDOCK_CREDENTIAL_HELPER_TIMEOUT");
    }
}
END_TEST

/* A temp dir holding a copy of the test helper (and a PATH for it). */
static char *bin_dir;

static void make_bin_dir(void)
{
    bin_dir = tu_mkdtemp();
    size_t len = 0;
    char *script = tu_read_file(HELPER_SCRIPT, &len);
    ck_assert_msg(script != NULL, "cannot read %s", HELPER_SCRIPT);
    char *dst = wpd_xasprintf("%s/docker-credential-wpdtest", bin_dir);
    tu_write_file(dst, script, len);
    ck_assert_int_eq(chmod(dst, 0755), 0);
    free(dst);
    free(script);
}

static void remove_bin_dir(void)
{
    if (bin_dir)
        tu_rm_rf(bin_dir);
    free(bin_dir);
    bin_dir = NULL;
}

START_TEST(find_helper_on_path)
{
    make_bin_dir();
    char *want = wpd_xasprintf("%s/docker-credential-wpdtest", bin_dir);
    char *path = wpd_xasprintf("/nonexistent-dir::%s:/usr/bin", bin_dir);
    char *got = wpd_cred_find_helper("wpdtest", path);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
    ck_assert_ptr_null(wpd_cred_find_helper("nosuchhelper", path));
    /* not executable, or a directory: not a helper */
    char *plain = wpd_xasprintf("%s/docker-credential-plain", bin_dir);
    tu_write_file(plain, "#!/bin/sh\n", 10);
    chmod(plain, 0644);
    ck_assert_ptr_null(wpd_cred_find_helper("plain", path));
    char *dir = wpd_xasprintf("%s/docker-credential-dir", bin_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_ptr_null(wpd_cred_find_helper("dir", path));
    free(plain);
    free(dir);
    free(want);
    free(path);
    remove_bin_dir();
}
END_TEST

/* ---- helper answers (pure) ---------------------------------------------- */

static const char LABEL[] =
    "docker-credential-wpdtest (credential helper for helper.example.com configured in /c.json)";

static int answer(int code, const char *out, const char *errout, char **header, wpd_error *err)
{
    wpd_cred_helper_run run = {.exit_code = code,
                               .term_signal = code < 0 ? 9 : 0,
                               .out = out,
                               .out_len = strlen(out),
                               .err = errout,
                               .err_len = strlen(errout)};
    const char *secrets[] = {"step-password", NULL};
    wpd_error_clear(err);
    return wpd_cred_helper_answer(LABEL, "helper.example.com", &run, secrets, header, err);
}

START_TEST(helper_answer_cases)
{
    char *h = NULL;
    wpd_error err;
    ck_assert_int_eq(answer(0,
                            "{\"ServerURL\":\"helper.example.com\",\"Username\":\"wpdtest-user\","
                            "\"Secret\":\"" SECRET "\"}\n",
                            "", &h, &err),
                     0);
    ck_assert_str_eq(h, AUTH_HELPER_BASIC);
    free(h);

    ck_assert_int_eq(
        answer(0, "{\"Username\":\"<token>\",\"Secret\":\"" SECRET "\"}", "", &h, &err), 0);
    ck_assert_str_eq(h, AUTH_HELPER_TOKEN);
    free(h);

    /* "credentials not found" (exit 1 on stdout, as real helpers do): none */
    ck_assert_int_eq(answer(1, "credentials not found in native keychain\n", "", &h, &err), 0);
    ck_assert_ptr_null(h);
    /* an empty Secret: nothing stored */
    ck_assert_int_eq(answer(0, "{\"Username\":\"\",\"Secret\":\"\"}", "", &h, &err), 0);
    ck_assert_ptr_null(h);

    /* failure with stderr: quoted, secrets redacted (the step's password,
     * and the Secret the helper printed on stdout) */
    ck_assert_int_eq(answer(3, "{\"Username\":\"u\",\"Secret\":\"" SECRET "\"}",
                            "keyring locked\n  refusing " SECRET " / step-password\n", &h, &err),
                     -1);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(err.kind, WPD_ERR_IO);
    ck_assert_str_eq(err.message, "docker-credential-wpdtest (credential helper for "
                                  "helper.example.com configured in /c.json): exited with status "
                                  "3: keyring locked refusing ******** / ********");

    /* failure without stderr: stdout is quoted unless it is JSON */
    answer(1, "error getting credentials - err: exit status 1\n", "", &h, &err);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for helper.example.com "
                     "configured in /c.json): exited with status 1: error getting credentials - "
                     "err: exit status 1");
    answer(2, "{\"Secret\":\"" SECRET "\"}", "", &h, &err);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for "
                     "helper.example.com configured in /c.json): exited with status 2");

    answer(-1, "", "", &h, &err);
    ck_assert_contains(err.message, "killed by signal 9");

    ck_assert_int_eq(answer(0, "this is not json\n", "", &h, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_IO);
    ck_assert_str_eq(err.message,
                     "docker-credential-wpdtest (credential helper for "
                     "helper.example.com configured in /c.json): answered something "
                     "that is not credentials JSON (invalid JSON at line 1, column 1)");
    ck_assert_int_eq(answer(0, "", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered nothing on stdout");
    ck_assert_int_eq(answer(0, "[1,2]", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered a JSON array instead of an object");
    ck_assert_int_eq(answer(0, "{\"Secret\":\"" SECRET "\"}", "", &h, &err), -1);
    ck_assert_contains(err.message, "answered a Secret without a Username");
    ck_assert_lacks(err.message, SECRET);
    ck_assert_int_eq(answer(0, "{\"Username\":\"u\",\"Secret\":7}", "", &h, &err), -1);
    ck_assert_contains(err.message, "is not a string");
}
END_TEST

START_TEST(redaction)
{
    const char *secrets[] = {"pw", "", "longer-secret", NULL};
    const char text[] = "pw=pw; longer-secret!pwlonger-secret";
    char *r = wpd_cred_redact(text, strlen(text), secrets);
    ck_assert_str_eq(r, "********=********; ********!****************");
    free(r);
    r = wpd_cred_redact("nothing here", 12, NULL);
    ck_assert_str_eq(r, "nothing here");
    free(r);
}
END_TEST

/* ---- childproc on a real reactor ---------------------------------------- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void assert_no_children(void)
{
    errno = 0;
    pid_t p = waitpid(-1, NULL, WNOHANG);
    ck_assert_msg(p == -1 && errno == ECHILD, "a child process was left behind (waitpid %d)",
                  (int)p);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Has pid ended (gone, or a zombie waiting for its new parent)? Waits up
 * to 2 s. */
static bool process_gone(int pid)
{
    for (int i = 0; i < 200; i++) {
        char path[64], state = 0;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        int rc = fscanf(f, "%*d (%*[^)]) %c", &state);
        fclose(f);
        if (rc == 1 && (state == 'Z' || state == 'X'))
            return true;
        usleep(10 * 1000);
    }
    return false;
}

typedef struct child_out {
    bool done;
    int calls;
    bool have_res;
    wpd_child_result res; /* pointers replaced by copies */
    char *out, *err;
    bool failed;
    wpd_error error;
    long long at_ms;
} child_out;

static void child_cb(void *arg, const wpd_child_result *res, const wpd_error *err)
{
    child_out *o = arg;
    o->calls++;
    o->done = true;
    o->at_ms = now_ms();
    if (res) {
        o->have_res = true;
        o->res = *res;
        o->out = wpd_xstrndup(res->out, res->out_len);
        o->err = wpd_xstrndup(res->err, res->err_len);
        ck_assert_int_eq(res->out[res->out_len], '\0');
    }
    if (err) {
        o->failed = true;
        o->error = *err;
    }
}

static void child_out_free(child_out *o)
{
    free(o->out);
    free(o->err);
}

static wpd_reactor *new_reactor(void)
{
    wpd_error err = {0};
    wpd_reactor *r = wpd_reactor_new(&err);
    ck_assert_msg(r != NULL, "%s", err.message);
    return r;
}

static void run_child(const char *path, const char *const *argv, const char *input,
                      size_t input_len, long timeout_ms, child_out *o)
{
    wpd_reactor *r = new_reactor();
    memset(o, 0, sizeof *o);
    wpd_child_spec spec = {.path = path,
                           .argv = argv,
                           .input = input,
                           .input_len = input_len,
                           .timeout_ms = timeout_ms,
                           .done = child_cb,
                           .arg = o};
    wpd_child *c = wpd_child_start(r, &spec);
    ck_assert_ptr_nonnull(c);
    ck_assert(!o->done); /* never from inside the start call */
    ck_assert_int_eq(wpd_reactor_run_until(r, &o->done), 0);
    ck_assert_int_eq(o->calls, 1);
    wpd_reactor_free(r);
}

START_TEST(child_echo_stdin_and_status)
{
    int fds = count_fds();
    child_out o;
    const char *cat[] = {"cat", NULL};
    run_child("/bin/cat", cat, "https://index.docker.io/v1/", 27, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(o.res.exited);
    ck_assert_int_eq(o.res.exit_code, 0);
    ck_assert_str_eq(o.out, "https://index.docker.io/v1/");
    ck_assert_str_eq(o.err, "");
    child_out_free(&o);

    const char *sh[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
    run_child("/bin/sh", sh, NULL, 0, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(o.res.exited);
    ck_assert_int_eq(o.res.exit_code, 7);
    ck_assert_str_eq(o.out, "out\n");
    ck_assert_str_eq(o.err, "err\n");
    child_out_free(&o);

    const char *killself[] = {"sh", "-c", "kill -TERM $$", NULL};
    run_child("/bin/sh", killself, NULL, 0, 5000, &o);
    ck_assert(!o.failed);
    ck_assert(!o.res.exited);
    ck_assert_int_eq(o.res.exit_code, -1);
    ck_assert_int_eq(o.res.term_signal, SIGTERM);
    child_out_free(&o);

    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_large_input_and_output_cap)
{
    int fds = count_fds();
    size_t n = 1024 * 1024;
    char *big = wpd_xmalloc(n);
    memset(big, 'x', n);
    child_out o;
    const char *wc[] = {"sh", "-c", "wc -c", NULL};
    run_child("/bin/sh", wc, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(atol(o.out), (long)n);
    child_out_free(&o);

    /* 1 MiB back on stdout: 64 KiB kept, the rest drained and dropped */
    const char *cat[] = {"cat", NULL};
    run_child("/bin/cat", cat, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(o.res.exit_code, 0);
    ck_assert_uint_eq(o.res.out_len, WPD_CHILD_MAX_OUTPUT);
    ck_assert(o.res.out_truncated);
    ck_assert(!o.res.err_truncated);
    child_out_free(&o);
    free(big);

    /* a child that does not read its stdin */
    const char *tru[] = {"true", NULL};
    big = wpd_xmalloc(n);
    memset(big, 'y', n);
    run_child("/bin/true", tru, big, n, 10000, &o);
    ck_assert(!o.failed);
    ck_assert_int_eq(o.res.exit_code, 0);
    child_out_free(&o);
    free(big);

    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_timeout_kills_group)
{
    int fds = count_fds();
    child_out o;
    /* the grandchild sleep holds stdout open: only a group kill ends it */
    const char *sh[] = {"sh", "-c", "sleep 30 & echo $!; sleep 30", NULL};
    long long t0 = now_ms();
    run_child("/bin/sh", sh, NULL, 0, 300, &o);
    long long took = now_ms() - t0;
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_TIMEOUT);
    ck_assert_str_eq(o.error.message, "timed out after 0.3 s");
    ck_assert(o.have_res);
    int grandchild = atoi(o.out);
    ck_assert_int_gt(grandchild, 1);
    ck_assert_msg(process_gone(grandchild), "the grandchild %d still runs", grandchild);
    ck_assert_int_eq(o.res.term_signal, SIGKILL);
    ck_assert_msg(took >= 300 && took < 5000, "took %lld ms", took);
    child_out_free(&o);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(child_spawn_failure_is_async)
{
    int fds = count_fds();
    child_out o;
    run_child("/nonexistent/docker-credential-x", NULL, "x", 1, 1000, &o);
    ck_assert(o.failed);
    ck_assert(!o.have_res);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    ck_assert_str_eq(o.error.message,
                     "cannot run /nonexistent/docker-credential-x: No such file or directory");
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

static void cancel_child_cb(void *arg)
{
    wpd_child_cancel(arg);
}

START_TEST(child_cancel_and_abort)
{
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    child_out o = {0};
    const char *argv[] = {"sleep", "30", NULL};
    wpd_child_spec spec = {
        .path = "/bin/sleep", .argv = argv, .timeout_ms = 20000, .done = child_cb, .arg = &o};
    wpd_child *c = wpd_child_start(r, &spec);
    ck_assert_int_gt(wpd_child_pid(c), 0);
    wpd_timer *t = wpd_timer_new(r, cancel_child_cb, c);
    wpd_timer_start(t, 50);
    long long t0 = now_ms();
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_msg(now_ms() - t0 < 5000, "cancel took too long");
    ck_assert_int_eq(o.calls, 1);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_CANCELED);
    child_out_free(&o);
    wpd_timer_free(t);

    /* abort: no callback at all, the child is gone at once */
    memset(&o, 0, sizeof o);
    c = wpd_child_start(r, &spec);
    pid_t pid = wpd_child_pid(c);
    wpd_child_abort(c);
    errno = 0;
    ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
    wpd_reactor_run_until(r, &o.done); /* nothing left: returns */
    ck_assert_int_eq(o.calls, 0);

    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* ---- resolution on a real reactor --------------------------------------- */

typedef struct cred_out {
    bool done;
    int calls;
    char *header;
    bool failed;
    wpd_error error;
    long long at_ms;
} cred_out;

static void cred_cb(void *arg, const char *h, const wpd_error *err)
{
    cred_out *o = arg;
    o->calls++;
    o->done = true;
    o->at_ms = now_ms();
    o->header = h ? wpd_xstrdup(h) : NULL;
    if (err) {
        ck_assert_ptr_null(h);
        o->failed = true;
        o->error = *err;
    }
}

static void resolve(const char *image, const char *user, const char *password, cred_out *o)
{
    memset(o, 0, sizeof *o);
    wpd_reactor *r = new_reactor();
    wpd_cred_request *q =
        wpd_credentials_resolve(r, image, user, password, fake_getenv, cred_cb, o);
    ck_assert_ptr_nonnull(q);
    ck_assert(!o->done); /* never from inside the resolve call */
    ck_assert_int_eq(wpd_reactor_run_until(r, &o->done), 0);
    ck_assert_int_eq(o->calls, 1);
    wpd_reactor_free(r);
}

static char *helper_log;

static void setup_helper_env(void)
{
    make_bin_dir();
    env_reset();
    env_put("PATH", bin_dir);
    env_put("HOME", "/nonexistent-home");
    helper_log = wpd_xasprintf("%s/helper.log", bin_dir);
    setenv("WPDTEST_CRED_LOG", helper_log, 1);
    setenv("WPDTEST_CRED_SECRET", SECRET, 1);
    setenv("WPDTEST_CRED_USER", "wpdtest-user", 1);
    setenv("WPDTEST_CRED_MODE", "ok", 1);
}

static void teardown_helper_env(void)
{
    free(helper_log);
    helper_log = NULL;
    remove_bin_dir();
}

static void use_fixture(const char *dir)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, dir);
    env_put("DOCKER_CONFIG", path);
}

static char *fixture_file(const char *dir)
{
    return wpd_xasprintf("%s/%s/config.json", TEST_DATA_DIR, dir);
}

START_TEST(resolve_step_auth_first)
{
    use_fixture("cred-helpers");
    cred_out o;
    resolve("127.0.0.1:5001/wpdock/busybox:latest", "wpdock", "wpdock-pass", &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_WPDOCK_5001);
    free(o.header);
    /* the helper was not asked */
    ck_assert_ptr_null(tu_read_file(helper_log, NULL));

    /* half an auth_config does not count */
    resolve("helper.example.com/a/b", "wpdock", "", &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HELPER_BASIC);
    free(o.header);
}
END_TEST

START_TEST(resolve_cred_helpers)
{
    use_fixture("cred-helpers");
    cred_out o;
    resolve("helper.example.com/team/app:1.0", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_str_eq(o.header, AUTH_HELPER_BASIC);
    free(o.header);

    /* spelled https://other.example.com/ in credHelpers; the helper gets
     * the bare host */
    resolve("other.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_nonnull(o.header);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"wpdtest-user\",\"password\":\"" SECRET
                           "\",\"serveraddress\":\"other.example.com\"}");
    free(json);
    free(o.header);

    /* Docker Hub: the helper gets https://index.docker.io/v1/ */
    resolve("alpine", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"wpdtest-user\",\"password\":\"" SECRET
                           "\",\"serveraddress\":\"https://index.docker.io/v1/\"}");
    free(json);
    free(o.header);

    char *log = tu_read_file(helper_log, NULL);
    ck_assert_ptr_nonnull(log);
    ck_assert_str_eq(log, "helper.example.com\nother.example.com\nhttps://index.docker.io/v1/\n");
    free(log);

    /* a registry without a helper entry: auths */
    resolve("auths.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"exuser\",\"password\":\"ex:pass\",\"serveraddress\":"
                           "\"auths.example.com\"}");
    free(json);
    free(o.header);
    assert_no_children();
}
END_TEST

START_TEST(resolve_creds_store)
{
    use_fixture("cred-store");
    setenv("WPDTEST_CRED_MODE", "token", 1);
    cred_out o;
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HELPER_TOKEN);
    free(o.header);
    /* the store answers for registries listed in auths too */
    setenv("WPDTEST_CRED_MODE", "notfound", 1);
    resolve("store.example.com/x", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_ptr_null(o.header);
    char *log = tu_read_file(helper_log, NULL);
    ck_assert_str_eq(log, "helper.example.com\nstore.example.com\n");
    free(log);
    assert_no_children();
}
END_TEST

START_TEST(resolve_auths_file)
{
    use_fixture("cred-auths");
    cred_out o;
    resolve("busybox", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HUBUSER);
    free(o.header);

    resolve("127.0.0.1:5000/wpdock/busybox", NULL, NULL, &o);
    ck_assert(!o.failed);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json,
                     "{\"username\":\"wpdock\",\"password\":\"wpdock-pass\",\"serveraddress\":"
                     "\"127.0.0.1:5000\"}");
    free(json);
    free(o.header);

    resolve("token.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json,
                     "{\"identitytoken\":\"tok-123\",\"serveraddress\":\"token.example.com\"}");
    free(json);
    free(o.header);

    resolve("fields.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"fielduser\",\"password\":\"fieldpass\","
                           "\"serveraddress\":\"fields.example.com\"}");
    free(json);
    free(o.header);

    resolve("empty.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);
    resolve("unlisted.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    char *file = fixture_file("cred-auths");
    resolve("badbase64.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *want = wpd_xasprintf("%s: auths[\"badbase64.example.com\"].auth: not valid base64", file);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(file);
}
END_TEST

START_TEST(resolve_config_locations)
{
    cred_out o;
    /* $HOME/.docker/config.json */
    char *home = wpd_xasprintf("%s/cred-home", TEST_DATA_DIR);
    env_put("HOME", home);
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    char *json = decode_header(o.header);
    ck_assert_str_eq(json, "{\"username\":\"homeuser\",\"password\":\"homepass\",\"serveraddress\":"
                           "\"registry.example.com\"}");
    free(json);
    free(o.header);

    /* DOCKER_CONFIG beats HOME */
    use_fixture("cred-auths");
    resolve("registry.example.com/x", NULL, NULL, &o);
    json = decode_header(o.header);
    ck_assert_contains(json, "\"username\":\"exuser\"");
    free(json);
    free(o.header);

    /* WOODPECKER_DOCKER_CONFIG (a file) beats both */
    char *file = fixture_file("cred-token");
    env_put("WOODPECKER_DOCKER_CONFIG", file);
    resolve("alpine:3.19", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_TOKEN_HUB);
    free(o.header);
    free(file);

    /* a missing file: no credentials, no error */
    env_put("WOODPECKER_DOCKER_CONFIG", "/nonexistent/dir/config.json");
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    /* nothing to locate a file with */
    env_reset();
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(!o.failed);
    ck_assert_ptr_null(o.header);

    /* an unreadable one (a directory): error naming it */
    env_put("WOODPECKER_DOCKER_CONFIG", home);
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *want = wpd_xasprintf("cannot read docker config file %s: Is a directory", home);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(home);
}
END_TEST

START_TEST(resolve_invalid_config)
{
    use_fixture("cred-invalid");
    cred_out o;
    resolve("registry.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    char *file = fixture_file("cred-invalid");
    char *want =
        wpd_xasprintf("%s: invalid JSON at line 6, column 1 (byte 104): expected a value", file);
    ck_assert_str_eq(o.error.message, want);
    ck_assert_lacks(o.error.message, "ZXh1c2VyOmV4OnBhc3MAAA");
    free(want);
    free(file);

    /* an invalid image reference fails before anything else */
    resolve("Invalid/Name", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_INPUT);
    ck_assert_contains(o.error.message, "invalid image reference \"Invalid/Name\"");
}
END_TEST

START_TEST(resolve_helper_failures)
{
    use_fixture("cred-helpers");
    char *file = fixture_file("cred-helpers");
    cred_out o;

    setenv("WPDTEST_CRED_MODE", "notfound", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert_msg(!o.failed, "%s", o.error.message);
    ck_assert_ptr_null(o.header);

    setenv("WPDTEST_CRED_MODE", "fail", 1);
    resolve("helper.example.com/x", "", "step-pass", &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    char *want = wpd_xasprintf(
        "docker-credential-wpdtest (credential helper for helper.example.com configured in %s): "
        "exited with status 3: wpdtest: keyring locked; refusing to hand out ******** for "
        "helper.example.com",
        file);
    ck_assert_str_eq(o.error.message, want);
    ck_assert_lacks(o.error.message, SECRET);
    free(want);

    setenv("WPDTEST_CRED_MODE", "garbage", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    want = wpd_xasprintf("docker-credential-wpdtest (credential helper for helper.example.com "
                         "configured in %s): answered something that is not credentials JSON "
                         "(invalid JSON at line 1, column 1)",
                         file);
    ck_assert_str_eq(o.error.message, want);
    free(want);

    setenv("WPDTEST_CRED_MODE", "empty", 1);
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_contains(o.error.message, "answered nothing on stdout");

    /* a helper that is not on PATH */
    resolve("missing.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_IO);
    want = wpd_xasprintf("docker-credential-nosuchhelper not found on PATH (credential helper for "
                         "missing.example.com configured in %s)",
                         file);
    ck_assert_str_eq(o.error.message, want);
    free(want);

    /* a bad timeout setting */
    setenv("WPDTEST_CRED_MODE", "ok", 1);
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "soon");
    resolve("helper.example.com/x", NULL, NULL, &o);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_USAGE);
    ck_assert_contains(o.error.message, "WPDOCK_CREDENTIAL_HELPER_TIMEOUT=\"soon\"");

    free(file);
    assert_no_children();
}
END_TEST

static void tick(void *arg)
{
    long long *at = arg;
    *at = now_ms();
}

START_TEST(resolve_helper_timeout_does_not_block)
{
    use_fixture("cred-helpers");
    env_put("WPDOCK_CREDENTIAL_HELPER_TIMEOUT", "0.5");
    setenv("WPDTEST_CRED_MODE", "hang", 1);
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    cred_out o = {0};
    long long t0 = now_ms(), ticked = 0;
    wpd_timer *t = wpd_timer_new(r, tick, &ticked);
    wpd_timer_start(t, 50);
    wpd_cred_request *q =
        wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    /* the loop kept running other work while the helper hung */
    ck_assert_msg(ticked != 0 && ticked < o.at_ms,
                  "the timer did not fire before the helper ended");
    ck_assert_msg(o.at_ms - t0 >= 500 && o.at_ms - t0 < 5000, "timeout after %lld ms",
                  o.at_ms - t0);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_TIMEOUT);
    char *file = fixture_file("cred-helpers");
    char *want = wpd_xasprintf("docker-credential-wpdtest (credential helper for "
                               "helper.example.com configured in %s): timed out after 0.5 s",
                               file);
    ck_assert_str_eq(o.error.message, want);
    free(want);
    free(file);
    wpd_timer_free(t);
    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

static void cancel_req_cb(void *arg)
{
    wpd_credentials_cancel(arg);
}

START_TEST(resolve_cancel_and_abort)
{
    use_fixture("cred-helpers");
    setenv("WPDTEST_CRED_MODE", "hang", 1);
    int fds = count_fds();
    wpd_reactor *r = new_reactor();
    cred_out o = {0};
    wpd_cred_request *q =
        wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    wpd_timer *t = wpd_timer_new(r, cancel_req_cb, q);
    wpd_timer_start(t, 100);
    long long t0 = now_ms();
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_msg(now_ms() - t0 < 5000, "cancel took too long");
    ck_assert_int_eq(o.calls, 1);
    ck_assert(o.failed);
    ck_assert_int_eq(o.error.kind, WPD_ERR_CANCELED);
    ck_assert_contains(o.error.message, "docker-credential-wpdtest");
    wpd_timer_free(t);

    /* cancel before anything ran (a file source) */
    use_fixture("cred-auths");
    memset(&o, 0, sizeof o);
    q = wpd_credentials_resolve(r, "busybox", NULL, NULL, fake_getenv, cred_cb, &o);
    wpd_credentials_cancel(q); /* the result was already fixed: delivered as is */
    ck_assert(!o.done);
    ck_assert_int_eq(wpd_reactor_run_until(r, &o.done), 0);
    ck_assert_int_eq(o.calls, 1);
    ck_assert(!o.failed);
    ck_assert_str_eq(o.header, AUTH_HUBUSER);
    free(o.header);

    /* abort while the helper runs: no callback, no child left */
    use_fixture("cred-helpers");
    memset(&o, 0, sizeof o);
    q = wpd_credentials_resolve(r, "helper.example.com/x", NULL, NULL, fake_getenv, cred_cb, &o);
    usleep(50 * 1000);
    wpd_credentials_abort(q);
    wpd_reactor_run_until(r, &o.done);
    ck_assert_int_eq(o.calls, 0);

    wpd_reactor_free(r);
    assert_no_children();
    ck_assert_int_eq(count_fds(), fds);
}
END_TEST

START_TEST(resolve_concurrent_helpers)
{
    use_fixture("cred-helpers");
    wpd_reactor *r = new_reactor();
    enum { N = 6 };
    cred_out o[N];
    memset(o, 0, sizeof o);
    for (int i = 0; i < N; i++)
        wpd_credentials_resolve(r, i % 2 ? "helper.example.com/x" : "alpine", NULL, NULL,
                                fake_getenv, cred_cb, &o[i]);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(wpd_reactor_run_until(r, &o[i].done), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        ck_assert_msg(!o[i].failed, "%s", o[i].error.message);
        char *json = decode_header(o[i].header);
        ck_assert_contains(json, i % 2 ? "\"serveraddress\":\"helper.example.com\""
                                       : "\"serveraddress\":\"https://index.docker.io/v1/\"");
        free(json);
        free(o[i].header);
    }
    wpd_reactor_free(r);
    assert_no_children();
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *credentials_suite(void)
{
    Suite *s = suite_create("credentials");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, registry_host_docker_rules);
    tcase_add_test(pure, server_url_for_hosts);
    tcase_add_test(pure, key_spellings_dockerhub);
    tcase_add_test(pure, key_spellings_other_registries);
    tcase_add_test(pure, decode_auth_values);
    tcase_add_test(pure, select_order);
    tcase_add_test(pure, select_dockerhub_spellings);
    tcase_add_test(pure, select_other_spellings);
    tcase_add_test(pure, select_canonical_key_wins);
    tcase_add_test(pure, select_identitytoken_and_fields);
    tcase_add_test(pure, select_errors);
    tcase_add_test(pure, header_values_exact);
    tcase_add_test(pure, config_path_order);
    tcase_add_test(pure, helper_timeout_setting);
    tcase_add_test(pure, find_helper_on_path);
    tcase_add_test(pure, helper_answer_cases);
    tcase_add_test(pure, redaction);
    suite_add_tcase(s, pure);

    TCase *child = tcase_create("childproc");
    tcase_set_timeout(child, 60);
    tcase_add_test(child, child_echo_stdin_and_status);
    tcase_add_test(child, child_large_input_and_output_cap);
    tcase_add_test(child, child_timeout_kills_group);
    tcase_add_test(child, child_spawn_failure_is_async);
    tcase_add_test(child, child_cancel_and_abort);
    suite_add_tcase(s, child);

    TCase *res = tcase_create("resolve");
    tcase_set_timeout(res, 60);
    tcase_add_checked_fixture(res, setup_helper_env, teardown_helper_env);
    tcase_add_test(res, resolve_step_auth_first);
    tcase_add_test(res, resolve_cred_helpers);
    tcase_add_test(res, resolve_creds_store);
    tcase_add_test(res, resolve_auths_file);
    tcase_add_test(res, resolve_config_locations);
    tcase_add_test(res, resolve_invalid_config);
    tcase_add_test(res, resolve_helper_failures);
    tcase_add_test(res, resolve_helper_timeout_does_not_block);
    tcase_add_test(res, resolve_cancel_and_abort);
    tcase_add_test(res, resolve_concurrent_helpers);
    suite_add_tcase(s, res);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(credentials_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
