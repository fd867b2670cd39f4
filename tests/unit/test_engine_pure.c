/* test_engine_pure.c - the engine client's pure helpers: endpoint URI
 * parsing, API version comparison and negotiation, engine error bodies
 * (Docker and Podman) turned into error values, and platform names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wpdock/endpoint.h>

#include "engine/engine.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

/* ---- wpd_endpoint_parse ---- */

static void parse_ok(const char *uri, const char *scheme, const char *host, int port,
                     const char *path)
{
    wpd_endpoint ep;
    char err[256] = "";
    ck_assert_msg(wpd_endpoint_parse(uri, &ep, err, sizeof err) == 0, "%s: %s", uri, err);
    ck_assert_str_eq(ep.scheme, scheme);
    ck_assert_str_eq(ep.host, host);
    ck_assert_int_eq(ep.port, port);
    ck_assert_str_eq(ep.path, path);
}

static void parse_bad(const char *uri, const char *want)
{
    wpd_endpoint ep;
    char err[512] = "";
    ck_assert_msg(wpd_endpoint_parse(uri, &ep, err, sizeof err) == -1, "accepted \"%s\"",
                  uri ? uri : "(null)");
    ck_assert_contains(err, want);
    if (uri && *uri) {
        /* every message quotes the URI it refuses */
        char quoted[300];
        snprintf(quoted, sizeof quoted, "\"%s\"", uri);
        ck_assert_contains(err, quoted);
    }
}

START_TEST(endpoint_socket_schemes)
{
    parse_ok("unix:///x", "unix", "", 0, "/x");
    parse_ok("unix:///var/run/docker.sock", "unix", "", 0, "/var/run/docker.sock");
    parse_ok("podman:///run/podman/podman.sock", "podman", "", 0, "/run/podman/podman.sock");
    parse_ok("UNIX:///x", "unix", "", 0, "/x");
}
END_TEST

START_TEST(endpoint_tcp_schemes)
{
    parse_ok("tcp://h:1", "tcp", "h", 1, "");
    parse_ok("tcp://h:1/base", "tcp", "h", 1, "/base");
    parse_ok("tcp://h:1/base/", "tcp", "h", 1, "/base");
    parse_ok("tcp://h:1/", "tcp", "h", 1, "");
    parse_ok("tcp://h:1/a/b", "tcp", "h", 1, "/a/b");
    parse_ok("tcp://[::1]:2376", "tcp", "::1", 2376, "");
    parse_ok("tcp://[fe80::1]:2376/api", "tcp", "fe80::1", 2376, "/api");
    parse_ok("tcp://[::1]", "tcp", "::1", 0, "");
    parse_ok("tcp://docker.example.com", "tcp", "docker.example.com", 0, "");
    parse_ok("tcp://10.0.0.5:65535", "tcp", "10.0.0.5", 65535, "");
    parse_ok("https://h:2376", "https", "h", 2376, "");
    parse_ok("TCP://Host:2375", "tcp", "Host", 2375, "");
}
END_TEST

START_TEST(endpoint_garbage)
{
    parse_bad("foo", "not an endpoint URI");
    parse_bad("", "not an endpoint URI");
    parse_bad(NULL, "not an endpoint URI");
    parse_bad("://x", "not an endpoint URI");
    parse_bad("/var/run/docker.sock", "not an endpoint URI");
    parse_bad("tc p://h:1", "invalid character");
    parse_bad("averyveryveryverylongschemenamethatisnotok://x", "not an endpoint URI");
}
END_TEST

START_TEST(endpoint_bad_port)
{
    parse_bad("tcp://h:99999", "invalid port");
    parse_bad("tcp://h:65536", "invalid port");
    parse_bad("tcp://h:0", "invalid port");
    parse_bad("tcp://h:-1", "invalid port");
    parse_bad("tcp://h:", "invalid port");
    parse_bad("tcp://h:abc", "invalid port");
    parse_bad("tcp://h:12ab", "invalid port");
    parse_bad("tcp://h:+80", "invalid port");
    parse_bad("tcp://h: 80", "invalid port");
    parse_bad("tcp://[::1]:99999", "invalid port");
}
END_TEST

START_TEST(endpoint_bad_host_or_path)
{
    parse_bad("unix://rel", "must be absolute");
    parse_bad("unix://", "must be absolute");
    parse_bad("podman://run/podman.sock", "must be absolute");
    parse_bad("tcp://", "host");
    parse_bad("tcp://:2375", "host");
    parse_bad("tcp://[::1", "unterminated");
    parse_bad("tcp://[]:1", "host");
    parse_bad("tcp://[::1]x", "unexpected text");
    parse_bad("tcp://h?x=1", "invalid character in the host");
    parse_bad("tcp://h#x", "invalid character in the host");
    parse_bad("tcp://my host:1", "invalid character in the host");
    parse_bad("tcp://[::1]]:1", "unexpected text");
}
END_TEST

START_TEST(endpoint_too_long)
{
    size_t n = WPD_ENDPOINT_PART_MAX + 16;
    char *uri = malloc(n + 16);
    strcpy(uri, "unix://");
    memset(uri + 7, 'a', n);
    uri[7] = '/';
    uri[7 + n] = '\0';
    wpd_endpoint ep;
    char err[256];
    ck_assert_int_eq(wpd_endpoint_parse(uri, &ep, err, sizeof err), -1);
    ck_assert_contains(err, "socket path too long");

    strcpy(uri, "tcp://");
    memset(uri + 6, 'h', 300);
    strcpy(uri + 306, ":1");
    ck_assert_int_eq(wpd_endpoint_parse(uri, &ep, err, sizeof err), -1);
    ck_assert_contains(err, "host name too long (300 bytes, at most 255)");
    free(uri);
}
END_TEST

/* ---- wpd_version_cmp ---- */

START_TEST(version_compare)
{
    ck_assert_int_eq(wpd_version_cmp("1.41", "1.41"), 0);
    ck_assert_int_lt(wpd_version_cmp("1.40", "1.41"), 0);
    ck_assert_int_gt(wpd_version_cmp("1.41", "1.40"), 0);
    /* numeric, not lexical */
    ck_assert_int_lt(wpd_version_cmp("1.9", "1.10"), 0);
    ck_assert_int_gt(wpd_version_cmp("1.100", "1.55"), 0);
    ck_assert_int_gt(wpd_version_cmp("2.0", "1.99"), 0);
    ck_assert_int_lt(wpd_version_cmp("1.99", "2.0"), 0);
    /* more components */
    ck_assert_int_lt(wpd_version_cmp("1.41", "1.41.1"), 0);
    ck_assert_int_gt(wpd_version_cmp("1.41.1", "1.41"), 0);
    ck_assert_int_eq(wpd_version_cmp("1.41.0", "1.41"), 0);
    ck_assert_int_eq(wpd_version_cmp("4.3.1", "4.3.1"), 0);
    ck_assert_int_lt(wpd_version_cmp("4.3.1", "4.10.0"), 0);
    ck_assert_int_eq(wpd_version_cmp("", ""), 0);
}
END_TEST

/* ---- wpd_api_negotiate ---- */

static void negotiate_ok(const char *pinned, const char *engine, const char *want)
{
    char out[32] = "unset";
    wpd_error err;
    wpd_error_clear(&err);
    ck_assert_msg(wpd_api_negotiate(pinned, engine, WPD_API_VERSION_MAX, WPD_API_VERSION_MIN, out,
                                    sizeof out, &err) == 0,
                  "pinned=%s engine=%s: %s", pinned ? pinned : "-", engine ? engine : "-",
                  err.message);
    ck_assert_str_eq(out, want);
}

static wpd_error negotiate_bad(const char *pinned, const char *engine, wpd_errkind kind)
{
    char out[32] = "";
    wpd_error err;
    wpd_error_clear(&err);
    ck_assert_int_eq(wpd_api_negotiate(pinned, engine, WPD_API_VERSION_MAX, WPD_API_VERSION_MIN,
                                       out, sizeof out, &err),
                     -1);
    ck_assert_msg(err.kind == kind, "kind %s, want %s: %s", wpd_errkind_name(err.kind),
                  wpd_errkind_name(kind), err.message);
    return err;
}

START_TEST(negotiate_engine_newer)
{
    negotiate_ok(NULL, "1.99", WPD_API_VERSION_MAX);
    negotiate_ok(NULL, "1.100", WPD_API_VERSION_MAX);
    negotiate_ok("", "2.0", WPD_API_VERSION_MAX);
    negotiate_ok(NULL, WPD_API_VERSION_MAX, WPD_API_VERSION_MAX);
    char out[32];
    ck_assert_int_eq(wpd_api_negotiate(NULL, "1.45", "1.43", "1.40", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "1.43");
}
END_TEST

START_TEST(negotiate_engine_older)
{
    negotiate_ok(NULL, "1.41", "1.41");
    negotiate_ok(NULL, "1.44", "1.44");
    negotiate_ok(NULL, WPD_API_VERSION_MIN, WPD_API_VERSION_MIN);
    char out[32];
    ck_assert_int_eq(wpd_api_negotiate(NULL, "1.9", "1.12", "1.5", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "1.9");
}
END_TEST

START_TEST(negotiate_engine_too_old)
{
    wpd_error err = negotiate_bad(NULL, "1.39", WPD_ERR_ENGINE);
    ck_assert_contains(err.message, "1.39");
    ck_assert_contains(err.message, WPD_API_VERSION_MIN);
    ck_assert_contains(err.message, "DOCKER_API_VERSION");
    err = negotiate_bad("", "1.24", WPD_ERR_ENGINE);
    ck_assert_contains(err.message, "1.24");
    ck_assert_contains(err.message, WPD_API_VERSION_MIN);
    /* lexically larger, numerically smaller */
    err = negotiate_bad(NULL, "1.9", WPD_ERR_ENGINE);
    ck_assert_contains(err.message, "1.9");
}
END_TEST

START_TEST(negotiate_pinned)
{
    negotiate_ok("1.41", "1.45", "1.41");
    negotiate_ok("1.45", "1.41", "1.45"); /* pinned wins even over an older engine */
    negotiate_ok("1.30", "1.41", "1.30"); /* ... and below our minimum */
    negotiate_ok("1.60", "", "1.60");
    negotiate_ok("1.41", NULL, "1.41");
    negotiate_ok("v1.41", "1.41", "1.41");
    negotiate_ok("1.41", "garbage", "1.41");
}
END_TEST

START_TEST(negotiate_bad_pinned)
{
    const char *bad[] = {"abc", "1", "1.", ".41", "1.41.0", "1.4a", "v", "1,41", " 1.41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wpd_error err = negotiate_bad(bad[i], "1.41", WPD_ERR_USAGE);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        ck_assert_contains(err.message, quoted);
        ck_assert_contains(err.message, "DOCKER_API_VERSION");
    }
}
END_TEST

START_TEST(negotiate_empty_engine_version)
{
    negotiate_ok(NULL, "", WPD_API_VERSION_MIN);
    negotiate_ok(NULL, NULL, WPD_API_VERSION_MIN);
    negotiate_ok("", "", WPD_API_VERSION_MIN);
}
END_TEST

START_TEST(negotiate_engine_garbage)
{
    wpd_error err = negotiate_bad(NULL, "banana", WPD_ERR_PROTOCOL);
    ck_assert_contains(err.message, "\"banana\"");
    /* a "v" prefix from the engine is tolerated like a pinned one */
    negotiate_ok(NULL, "v1.41", "1.41");
}
END_TEST

START_TEST(negotiate_truncates_safely)
{
    char out[4] = "xxx";
    ck_assert_int_eq(wpd_api_negotiate(NULL, "1.41", "1.55", "1.40", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "1.4");
}
END_TEST

/* ---- wpd_engine_error_from_body ---- */

static wpd_error from_body(long status, const char *ct, const char *body)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_engine_error_from_body(status, ct, body, body ? strlen(body) : 0, &err);
    ck_assert_int_eq(err.kind, WPD_ERR_ENGINE);
    ck_assert_int_eq(err.status, status);
    return err;
}

START_TEST(error_body_docker_json)
{
    wpd_error err = from_body(404, "application/json", "{\"message\":\"No such container: x\"}\n");
    ck_assert_str_eq(err.message, "No such container: x");
    err = from_body(409, "application/json; charset=utf-8",
                    "{\"message\":\"Conflict. The container name \\\"/x\\\" is already in use\"}");
    ck_assert_str_eq(err.message, "Conflict. The container name \"/x\" is already in use");
    /* JSON recognised by its shape when the content type is missing */
    err = from_body(500, NULL, "{\"message\":\"driver failed\"}");
    ck_assert_str_eq(err.message, "driver failed");
    /* unicode escapes are decoded */
    err = from_body(400, "application/json", "{\"message\":\"caf\\u00e9 \\u2013 bad\"}");
    ck_assert_str_eq(err.message, "caf\xc3\xa9 \xe2\x80\x93 bad");
}
END_TEST

START_TEST(error_body_podman_json)
{
    /* as Podman 4.3 answers: cause already part of the message */
    wpd_error err =
        from_body(404, "application/json",
                  "{\"cause\":\"no such container\",\"message\":\"no container with "
                  "name or ID \\\"x\\\" found: no such container\",\"response\":404}\n");
    ck_assert_str_eq(err.message, "no container with name or ID \"x\" found: no such container");
    /* a cause the message does not mention is kept after it */
    err = from_body(500, "application/json",
                    "{\"cause\":\"container state improper\",\"message\":\"can only kill running "
                    "containers. abc is in state configured\",\"response\":500}");
    ck_assert_str_eq(err.message, "can only kill running containers. abc is in state configured "
                                  "(container state improper)");
}
END_TEST

START_TEST(error_body_plain_text)
{
    wpd_error err = from_body(500, "text/plain; charset=utf-8", "  \n page not found \r\n");
    ck_assert_str_eq(err.message, "page not found");
    err = from_body(400, "text/plain",
                    "client version 1.99 is too new. Maximum supported API "
                    "version is 1.41\n");
    ck_assert_str_eq(err.message,
                     "client version 1.99 is too new. Maximum supported API version is 1.41");
    /* JSON without a message: the raw body */
    err = from_body(500, "application/json", "{\"error\":\"x\"}");
    ck_assert_str_eq(err.message, "{\"error\":\"x\"}");
    /* broken JSON: the raw body */
    err = from_body(502, "application/json", "{oops");
    ck_assert_str_eq(err.message, "{oops");
    /* an empty message falls back to the body text */
    err = from_body(500, "application/json", "{\"message\":\"\"}");
    ck_assert_str_eq(err.message, "{\"message\":\"\"}");
}
END_TEST

START_TEST(error_body_empty)
{
    wpd_error err = from_body(404, "application/json", "");
    ck_assert_contains(err.message, "HTTP 404");
    ck_assert_contains(err.message, "empty");
    err = from_body(503, NULL, NULL);
    ck_assert_contains(err.message, "HTTP 503");
    err = from_body(500, "text/plain", " \r\n\t ");
    ck_assert_contains(err.message, "HTTP 500");
}
END_TEST

START_TEST(error_body_respects_length)
{
    /* the body is not NUL-terminated at len */
    const char text[] = "gone away--this part is beyond len";
    wpd_error err;
    wpd_engine_error_from_body(410, "text/plain", text, 9, &err);
    ck_assert_str_eq(err.message, "gone away");
    ck_assert_int_eq(err.status, 410);
    const char json[] = "{\"message\":\"short\"}{\"message\":\"beyond\"}";
    wpd_engine_error_from_body(404, "application/json", json, 19, &err);
    ck_assert_str_eq(err.message, "short");
}
END_TEST

START_TEST(error_body_huge_message)
{
    size_t n = 3 * WPD_ERROR_MAX;
    char *body = malloc(n + 32);
    strcpy(body, "{\"message\":\"");
    memset(body + 12, 'm', n);
    strcpy(body + 12 + n, "\"}");
    wpd_error err = from_body(500, "application/json", body);
    ck_assert_uint_eq(strlen(err.message), WPD_ERROR_MAX - 1);
    ck_assert_int_eq(err.message[0], 'm');
    free(body);
}
END_TEST

/* ---- wpd_platform_arch ---- */

START_TEST(platform_arch)
{
    ck_assert_str_eq(wpd_platform_arch("x86_64"), "amd64");
    ck_assert_str_eq(wpd_platform_arch("aarch64"), "arm64");
    ck_assert_str_eq(wpd_platform_arch("riscv64"), "riscv64");
    ck_assert_str_eq(wpd_platform_arch("s390x"), "s390x");
    ck_assert_str_eq(wpd_platform_arch("amd64"), "amd64");
    ck_assert_str_eq(wpd_platform_arch(""), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_pure");
    TCase *te = tcase_create("endpoint");
    tcase_add_test(te, endpoint_socket_schemes);
    tcase_add_test(te, endpoint_tcp_schemes);
    tcase_add_test(te, endpoint_garbage);
    tcase_add_test(te, endpoint_bad_port);
    tcase_add_test(te, endpoint_bad_host_or_path);
    tcase_add_test(te, endpoint_too_long);
    suite_add_tcase(s, te);
    TCase *tv = tcase_create("version");
    tcase_add_test(tv, version_compare);
    tcase_add_test(tv, negotiate_engine_newer);
    tcase_add_test(tv, negotiate_engine_older);
    tcase_add_test(tv, negotiate_engine_too_old);
    tcase_add_test(tv, negotiate_pinned);
    tcase_add_test(tv, negotiate_bad_pinned);
    tcase_add_test(tv, negotiate_empty_engine_version);
    tcase_add_test(tv, negotiate_engine_garbage);
    tcase_add_test(tv, negotiate_truncates_safely);
    suite_add_tcase(s, tv);
    TCase *tb = tcase_create("error_body");
    tcase_add_test(tb, error_body_docker_json);
    tcase_add_test(tb, error_body_podman_json);
    tcase_add_test(tb, error_body_plain_text);
    tcase_add_test(tb, error_body_empty);
    tcase_add_test(tb, error_body_respects_length);
    tcase_add_test(tb, error_body_huge_message);
    suite_add_tcase(s, tb);
    TCase *tp = tcase_create("platform");
    tcase_add_test(tp, platform_arch);
    suite_add_tcase(s, tp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
