/* test_tcptls_open.c - the tcptls transport plugin's open() with a table
 * of configuration values: the descriptor, TLS setups from the cert path,
 * Woodpecker's variables, TLS verify parsing, base URLs with ports, base
 * paths and IPv6 hosts, bad endpoints, and plain TCP only when TLS is
 * switched off. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "tcptls_fixtures.h"

/* ---- descriptor ---- */

START_TEST(descriptor)
{
    ck_assert_uint_eq(plugin->abi_major, WPD_TRANSPORT_ABI_MAJOR);
    ck_assert_uint_eq(plugin->struct_size, sizeof(wpd_transport_plugin));
    ck_assert_str_eq(plugin->name, "tcptls");
    ck_assert_str_eq(plugin->version, "1.0.0");
    ck_assert_str_eq(plugin->schemes[0], "tcp");
    ck_assert_str_eq(plugin->schemes[1], "https");
    ck_assert_ptr_null(plugin->schemes[2]);
    ck_assert_ptr_nonnull(plugin->description);
    ck_assert_ptr_nonnull(plugin->open);
    /* exactly one exported symbol of ours: nothing from certdir.c */
    ck_assert_ptr_null(dlsym(so, "tcptls_check_pem"));
    ck_assert_ptr_null(dlsym(so, "tcptls_check_dir"));
}
END_TEST

/* ---- TLS setups ---- */

START_TEST(tls_setup_from_cert_path)
{
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", certdir);
    result *r = open_with("tcp://10.0.0.5:2376", &env);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_str_eq(r->setup.base_url, "https://10.0.0.5:2376");
    expect_file(r->setup.ca_file, "ca.pem");
    expect_file(r->setup.cert_file, "cert.pem");
    expect_file(r->setup.key_file, "key.pem");
    ck_assert_int_eq(r->setup.tls_verify_peer, 1);
    ck_assert_int_eq(r->setup.tls_verify_host, 1);
    ck_assert_int_eq(r->setup.tcp_keepalive, 1);
    ck_assert_str_eq(r->setup.unix_path, "");
    ck_assert_str_eq(r->setup.warning, "");
    ck_assert_str_eq(r->setup.engine_hint, "");
    ck_assert_ptr_null(r->setup.plugin_state);
    ck_assert_int_gt(env.asked_direct, 0);
}
END_TEST

START_TEST(cert_path_with_trailing_slash)
{
    char dir[80];
    snprintf(dir, sizeof dir, "%s//", certdir);
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", dir);
    result *r = open_with("tcp://h:1", &env);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    expect_file(r->setup.key_file, "key.pem");
}
END_TEST

START_TEST(woodpecker_variables_win)
{
    /* WOODPECKER_BACKEND_DOCKER_CERT_PATH beats DOCKER_CERT_PATH */
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", "/nonexistent/wpdock-certs");
    env_set(&env, "WOODPECKER_BACKEND_DOCKER_CERT_PATH", certdir);
    result *r = open_with("tcp://h:2376", &env);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    expect_file(r->setup.ca_file, "ca.pem");

    /* ... and the other way round the error names the variable used */
    fake_env env2 = {0};
    env_set(&env2, "DOCKER_CERT_PATH", certdir);
    env_set(&env2, "WOODPECKER_BACKEND_DOCKER_CERT_PATH", "/nonexistent/wpdock-certs");
    r = open_with("tcp://h:2376", &env2);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "/nonexistent/wpdock-certs");
    ck_assert_contains(r->err, "WOODPECKER_BACKEND_DOCKER_CERT_PATH");
    ck_assert_contains(r->err, "does not exist");

    /* WOODPECKER_BACKEND_DOCKER_TLS_VERIFY beats DOCKER_TLS_VERIFY */
    fake_env env3 = {0};
    env_set(&env3, "DOCKER_CERT_PATH", certdir);
    env_set(&env3, "DOCKER_TLS_VERIFY", "0");
    env_set(&env3, "WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "1");
    r = open_with("tcp://h:2376", &env3);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_int_eq(r->setup.tls_verify_peer, 1);
    ck_assert_str_eq(r->setup.warning, "");

    fake_env env4 = {0};
    env_set(&env4, "DOCKER_CERT_PATH", certdir);
    env_set(&env4, "DOCKER_TLS_VERIFY", "1");
    env_set(&env4, "WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "false");
    r = open_with("tcp://h:2376", &env4);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_int_eq(r->setup.tls_verify_peer, 0);
    ck_assert_contains(r->setup.warning, "WOODPECKER_BACKEND_DOCKER_TLS_VERIFY=false");

    /* an empty value counts as unset */
    fake_env env5 = {0};
    env_set(&env5, "WOODPECKER_BACKEND_DOCKER_CERT_PATH", "");
    env_set(&env5, "DOCKER_CERT_PATH", certdir);
    env_set(&env5, "WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "");
    env_set(&env5, "DOCKER_TLS_VERIFY", "");
    r = open_with("tcp://h:2376", &env5);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_int_eq(r->setup.tls_verify_peer, 1);
}
END_TEST

static const struct {
    const char *text;
    int verify;
} verify_values[] = {
    {"1", 1},  {"true", 1},   {"TRUE", 1},  {"t", 1},      {"T", 1},   {"yes", 1}, {"Yes", 1},
    {"0", 0},  {"false", 0},  {"False", 0}, {"f", 0},      {"F", 0},   {"no", 0},  {"NO", 0},
    {"2", -1}, {"maybe", -1}, {"on", -1},   {"truee", -1}, {" 1", -1},
};

START_TEST(tls_verify_values)
{
    const char *text = verify_values[_i].text;
    int want = verify_values[_i].verify;
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", certdir);
    env_set(&env, "DOCKER_TLS_VERIFY", text);
    result *r = open_with("tcp://engine.example:2376", &env);
    if (want < 0) {
        ck_assert_int_eq(r->rc, -1);
        char needle[64];
        snprintf(needle, sizeof needle, "DOCKER_TLS_VERIFY=\"%s\" is not a boolean", text);
        ck_assert_contains(r->err, needle);
        return;
    }
    ck_assert_msg(r->rc == 0, "DOCKER_TLS_VERIFY=%s: %s", text, r->err);
    ck_assert_str_eq(r->setup.base_url, "https://engine.example:2376");
    ck_assert_int_eq(r->setup.tls_verify_peer, want);
    ck_assert_int_eq(r->setup.tls_verify_host, want);
    expect_file(r->setup.cert_file, "cert.pem");
    expect_file(r->setup.key_file, "key.pem");
    if (want) {
        ck_assert_str_eq(r->setup.warning, "");
    } else {
        char full[128];
        snprintf(full, sizeof full,
                 "TLS verification is off: the engine's identity is not checked "
                 "(DOCKER_TLS_VERIFY=%s)",
                 text);
        ck_assert_str_eq(r->setup.warning, full);
    }
}
END_TEST

START_TEST(verify_off_needs_no_ca)
{
    remove_file(certdir, "ca.pem");
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", certdir);
    env_set(&env, "DOCKER_TLS_VERIFY", "0");
    result *r = open_with("tcp://h:2376", &env);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_str_eq(r->setup.ca_file, "");
    expect_file(r->setup.cert_file, "cert.pem");
    ck_assert_contains(r->setup.warning, "TLS verification is off");

    /* with verification the CA is required */
    fake_env env2 = {0};
    env_set(&env2, "DOCKER_CERT_PATH", certdir);
    r = open_with("tcp://h:2376", &env2);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "has no ca.pem");
}
END_TEST

/* ---- URLs ---- */

static const struct {
    const char *endpoint;
    int tls;
    const char *base_url;
} urls[] = {
    {"tcp://h", 1, "https://h:2376"},
    {"tcp://h", 0, "http://h:2375"},
    {"tcp://h:12345", 1, "https://h:12345"},
    {"tcp://h:12345", 0, "http://h:12345"},
    {"TCP://Engine.Example:2376", 1, "https://Engine.Example:2376"},
    {"tcp://h:2376/", 1, "https://h:2376"},
    {"tcp://h:2376/base", 1, "https://h:2376/base"},
    {"tcp://h:2376/base/", 1, "https://h:2376/base"},
    {"tcp://h/a/b", 0, "http://h:2375/a/b"},
    {"tcp://h:2376/a/b//", 1, "https://h:2376/a/b"},
    {"tcp://[::1]", 1, "https://[::1]:2376"},
    {"tcp://[::1]", 0, "http://[::1]:2375"},
    {"tcp://[2001:db8::5]:4243/base", 1, "https://[2001:db8::5]:4243/base"},
    {"tcp://[fe80::1%eth0]:2376", 1, "https://[fe80::1%25eth0]:2376"},
    {"tcp://[fe80::1%25eth0]:2376", 1, "https://[fe80::1%25eth0]:2376"},
    {"tcp://192.168.1.10", 1, "https://192.168.1.10:2376"},
    {"https://h", 1, "https://h:2376"},
    {"https://h:443/api", 1, "https://h:443/api"},
};

START_TEST(base_urls)
{
    fake_env env = {0};
    if (urls[_i].tls)
        env_set(&env, "DOCKER_CERT_PATH", certdir);
    else
        env_set(&env, "DOCKER_TLS_VERIFY", "0");
    result *r = open_with(urls[_i].endpoint, &env);
    ck_assert_msg(r->rc == 0, "%s: %s", urls[_i].endpoint, r->err);
    ck_assert_str_eq(r->setup.base_url, urls[_i].base_url);
    ck_assert_int_eq(r->setup.tcp_keepalive, 1);
    if (urls[_i].tls) {
        expect_file(r->setup.ca_file, "ca.pem");
        ck_assert_int_eq(r->setup.tls_verify_peer, 1);
    } else {
        ck_assert_str_eq(r->setup.ca_file, "");
        ck_assert_str_eq(r->setup.cert_file, "");
        ck_assert_str_eq(r->setup.key_file, "");
        ck_assert_int_eq(r->setup.tls_verify_peer, 0);
        ck_assert_int_eq(r->setup.tls_verify_host, 0);
    }
}
END_TEST

START_TEST(bad_endpoints)
{
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", certdir);
    result *r = open_with("tcp://h:99999", &env);
    ck_assert_int_eq(r->rc, WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(r->err, "invalid port");
    r = open_with("tcp://:2376", &env);
    ck_assert_int_eq(r->rc, WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(r->err, "missing host name");
    r = open_with("unix:///var/run/docker.sock", &env);
    ck_assert_int_eq(r->rc, WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(r->err, "not a tcp:// or https:// endpoint");
    r = open_with("http://h:2375", &env);
    ck_assert_int_eq(r->rc, WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(r->err, "not a tcp:// or https:// endpoint");
    r = open_with("h:2376", &env);
    ck_assert_int_eq(r->rc, WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(r->err, "not an endpoint URI");
}
END_TEST

/* ---- plain TCP only when TLS is switched off ---- */

START_TEST(plain_needs_explicit_disable)
{
    /* nothing configured */
    fake_env env = {0};
    result *r = open_with("tcp://10.1.2.3:2375", &env);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "tcp://10.1.2.3:2375 needs TLS");
    ck_assert_contains(r->err, "set DOCKER_CERT_PATH");
    ck_assert_contains(r->err, "DOCKER_TLS_VERIFY=0");
    ck_assert_str_eq(r->setup.base_url, "");

    /* verify on, but no cert path */
    fake_env env2 = {0};
    env_set(&env2, "DOCKER_TLS_VERIFY", "1");
    r = open_with("tcp://10.1.2.3:2375", &env2);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "set DOCKER_CERT_PATH");

    /* no options at all (NULL, or without a lookup) */
    wpd_conn_setup setup;
    char err[WPD_TRANSPORT_MSG_MAX] = "";
    memset(&setup, 0, sizeof setup);
    ck_assert_int_eq(plugin->open("tcp://h:2375", NULL, &setup, err, sizeof err), -1);
    ck_assert_contains(err, "set DOCKER_CERT_PATH");
    wpd_transport_options none = {sizeof none, NULL, NULL};
    ck_assert_int_eq(plugin->open("tcp://h:2375", &none, &setup, err, sizeof err), -1);
    ck_assert_contains(err, "set DOCKER_CERT_PATH");

    /* explicitly off: plain HTTP, with a warning */
    fake_env env3 = {0};
    env_set(&env3, "DOCKER_TLS_VERIFY", "0");
    r = open_with("tcp://10.1.2.3", &env3);
    ck_assert_msg(r->rc == 0, "%s", r->err);
    ck_assert_str_eq(r->setup.base_url, "http://10.1.2.3:2375");
    ck_assert_contains(r->setup.warning,
                       "TLS is off (DOCKER_TLS_VERIFY=0 and no DOCKER_CERT_PATH)");
    ck_assert_contains(r->setup.warning, "10.1.2.3 port 2375 is exposed");

    /* https:// always needs the TLS files, even with verification off */
    fake_env env4 = {0};
    env_set(&env4, "DOCKER_TLS_VERIFY", "0");
    r = open_with("https://h", &env4);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "set DOCKER_CERT_PATH");
    ck_assert_ptr_null(strstr(r->err, "DOCKER_TLS_VERIFY=0"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcptls_open");
    TCase *tp = tcase_create("plugin");
    tcase_add_unchecked_fixture(tp, load_plugin, unload_plugin); /* once, before the forks */
    tcase_add_checked_fixture(tp, make_certdir, remove_certdir);
    tcase_add_test(tp, descriptor);
    tcase_add_test(tp, tls_setup_from_cert_path);
    tcase_add_test(tp, cert_path_with_trailing_slash);
    tcase_add_test(tp, woodpecker_variables_win);
    tcase_add_loop_test(tp, tls_verify_values, 0,
                        (int)(sizeof verify_values / sizeof verify_values[0]));
    tcase_add_test(tp, verify_off_needs_no_ca);
    tcase_add_loop_test(tp, base_urls, 0, (int)(sizeof urls / sizeof urls[0]));
    tcase_add_test(tp, bad_endpoints);
    tcase_add_test(tp, plain_needs_explicit_disable);
    suite_add_tcase(s, tp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
