/* test_credentials_select.c - unit tests for core/engine/credentials.c:
 * registry hosts and server URLs, config.json key spellings, auth
 * decoding, the order in which a credential source is selected from
 * config.json and its errors, exact X-Registry-Auth values, and the
 * settings taken from the environment (config file path, helper timeout). */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "engine/credentials.h"
#include "credentials_fixtures.h"

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

/* ------------------------------------------------------------------------ */

static Suite *credentials_select_suite(void)
{
    Suite *s = suite_create("credentials_select");
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
    suite_add_tcase(s, pure);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(credentials_select_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
