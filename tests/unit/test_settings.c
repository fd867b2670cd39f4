/* test_settings.c - unit tests for core/settings.c: defaults, environment
 * variables (first listed wins, empty = unset), bad values, agent volume
 * normalisation (spec 6, 7.2) and the per-option setters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "woodpecker/settings.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fake environment ------------------------------------------------- */

typedef struct fake_var {
    const char *name, *value;
} fake_var;

static const fake_var *fake_env;
static size_t fake_n;

static const char *fake_getenv(const char *name)
{
    for (size_t i = 0; i < fake_n; i++)
        if (strcmp(fake_env[i].name, name) == 0)
            return fake_env[i].value;
    return NULL;
}

#define USE_ENV(arr) (fake_env = (arr), fake_n = NELEM(arr))

static void load_ok(wpd_settings *s)
{
    wpd_error err = {0};
    int rc = wpd_settings_load(s, fake_getenv, &err);
    ck_assert_msg(rc == 0, "load failed: %s", err.message);
}

static void load_fails(const char *want_message)
{
    wpd_settings s;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_settings_load(&s, fake_getenv, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_USAGE);
    ck_assert_str_eq(err.message, want_message);
    wpd_settings_free(&s); /* safe after a failure */
}

static void assert_volumes(const wpd_settings *s, const char *const *want, size_t n)
{
    ck_assert_uint_eq(s->volumes.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(s->volumes.v[i], want[i]);
}

/* ---- parse helpers ---------------------------------------------------- */

START_TEST(parse_bool_values)
{
    static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True", "yes", "YES"};
    static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False", "no", "No"};
    static const char *const bad[] = {"", "2", "maybe", "truee", " true", "on", "-1"};
    bool b;
    for (size_t i = 0; i < NELEM(t); i++) {
        b = false;
        ck_assert_msg(wpd_parse_bool(t[i], &b) == 0 && b, "%s", t[i]);
    }
    for (size_t i = 0; i < NELEM(f); i++) {
        b = true;
        ck_assert_msg(wpd_parse_bool(f[i], &b) == 0 && !b, "%s", f[i]);
    }
    for (size_t i = 0; i < NELEM(bad); i++)
        ck_assert_msg(wpd_parse_bool(bad[i], &b) == -1, "\"%s\" accepted", bad[i]);
    ck_assert_int_eq(wpd_parse_bool(NULL, &b), -1);
}
END_TEST

START_TEST(parse_int64_values)
{
    int64_t v;
    ck_assert_int_eq(wpd_parse_int64("0", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(wpd_parse_int64("1073741824", &v), 0);
    ck_assert_int_eq(v, 1073741824);
    ck_assert_int_eq(wpd_parse_int64("-1", &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(wpd_parse_int64("+7", &v), 0);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(wpd_parse_int64("9223372036854775807", &v), 0);
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_int_eq(wpd_parse_int64("-9223372036854775808", &v), 0);
    ck_assert_int_eq(v, INT64_MIN);

    static const char *const bad[] = {"",
                                      "12x",
                                      "x12",
                                      " 1",
                                      "1 ",
                                      "1.5",
                                      "-",
                                      "+",
                                      "1e3",
                                      "0x10",
                                      "9223372036854775808",
                                      "-9223372036854775809",
                                      "99999999999999999999"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        v = 42;
        ck_assert_msg(wpd_parse_int64(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
        ck_assert_int_eq(v, 42);
    }
    ck_assert_int_eq(wpd_parse_int64(NULL, &v), -1);
}
END_TEST

/* ---- load -------------------------------------------------------------- */

START_TEST(defaults)
{
    static const fake_var env[] = {{"UNRELATED", "x"}};
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    ck_assert_ptr_null(s.host);
    ck_assert_ptr_null(s.api_version);
    ck_assert_ptr_null(s.cert_path);
    ck_assert(s.tls_verify);
    ck_assert(!s.enable_ipv6);
    ck_assert_ptr_null(s.network);
    ck_assert_uint_eq(s.volumes.n, 0);
    ck_assert_ptr_null(s.apparmor);
    ck_assert_int_eq(s.stop_timeout, 20);
    ck_assert_int_eq(s.mem, 0);
    ck_assert_int_eq(s.mem_swap, 0);
    ck_assert_int_eq(s.shm_size, 0);
    ck_assert_int_eq(s.cpu_quota, 0);
    ck_assert_int_eq(s.cpu_shares, 0);
    ck_assert_ptr_null(s.cpu_set);
    wpd_settings_free(&s);
    wpd_settings_free(&s); /* idempotent */
}
END_TEST

START_TEST(all_overrides)
{
    static const fake_var env[] = {
        {"WOODPECKER_BACKEND_DOCKER_HOST", "tcp://10.0.0.2:2376"},
        {"WOODPECKER_BACKEND_DOCKER_API_VERSION", "1.47"},
        {"WOODPECKER_BACKEND_DOCKER_CERT_PATH", "/certs"},
        {"WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "false"},
        {"WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6", "true"},
        {"WOODPECKER_BACKEND_DOCKER_NETWORK", "ci-shared"},
        {"WOODPECKER_BACKEND_DOCKER_VOLUMES",
         "/etc/ssl/certs:/etc/ssl/certs:ro,/etc/timezone:/etc/timezone"},
        {"WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE", "osgeo-woodie"},
        {"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT", "0"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP", "-1"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM", "1073741824"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE", "67108864"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_QUOTA", "50000"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES", "512"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET", "1,2"},
    };
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    ck_assert_str_eq(s.host, "tcp://10.0.0.2:2376");
    ck_assert_str_eq(s.api_version, "1.47");
    ck_assert_str_eq(s.cert_path, "/certs");
    ck_assert(!s.tls_verify);
    ck_assert(s.enable_ipv6);
    ck_assert_str_eq(s.network, "ci-shared");
    const char *vols[] = {"/etc/ssl/certs:/etc/ssl/certs:ro", "/etc/timezone:/etc/timezone"};
    assert_volumes(&s, vols, 2);
    ck_assert_str_eq(s.apparmor, "osgeo-woodie");
    ck_assert_int_eq(s.stop_timeout, 0);
    ck_assert_int_eq(s.mem_swap, -1);
    ck_assert_int_eq(s.mem, 1073741824);
    ck_assert_int_eq(s.shm_size, 67108864);
    ck_assert_int_eq(s.cpu_quota, 50000);
    ck_assert_int_eq(s.cpu_shares, 512);
    ck_assert_str_eq(s.cpu_set, "1,2");
    wpd_settings_free(&s);
    ck_assert_ptr_null(s.host);
    ck_assert_uint_eq(s.volumes.n, 0);
}
END_TEST

START_TEST(fallback_variables)
{
    static const fake_var env[] = {
        {"DOCKER_HOST", "unix:///run/podman/podman.sock"},
        {"DOCKER_API_VERSION", "1.41"},
        {"DOCKER_CERT_PATH", "/home/ci/.docker"},
        {"DOCKER_TLS_VERIFY", "0"},
        {"WOODPECKER_LIMIT_MEM_SWAP", "20000000"},
        {"WOODPECKER_LIMIT_MEM", "10000000"},
        {"WOODPECKER_LIMIT_SHM_SIZE", "3"},
        {"WOODPECKER_LIMIT_CPU_QUOTA", "4000"},
        {"WOODPECKER_LIMIT_CPU_SHARES", "5"},
        {"WOODPECKER_LIMIT_CPU_SET", "0-3"},
    };
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    ck_assert_str_eq(s.host, "unix:///run/podman/podman.sock");
    ck_assert_str_eq(s.api_version, "1.41");
    ck_assert_str_eq(s.cert_path, "/home/ci/.docker");
    ck_assert(!s.tls_verify);
    ck_assert_int_eq(s.mem, 10000000);
    ck_assert_int_eq(s.mem_swap, 20000000);
    ck_assert_int_eq(s.shm_size, 3);
    ck_assert_int_eq(s.cpu_quota, 4000);
    ck_assert_int_eq(s.cpu_shares, 5);
    ck_assert_str_eq(s.cpu_set, "0-3");
    wpd_settings_free(&s);
}
END_TEST

START_TEST(first_variable_wins)
{
    static const fake_var env[] = {
        {"DOCKER_HOST", "unix:///second.sock"},
        {"WOODPECKER_BACKEND_DOCKER_HOST", "unix:///first.sock"},
        {"DOCKER_TLS_VERIFY", "true"},
        {"WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "f"},
        {"WOODPECKER_LIMIT_MEM", "9990000"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM", "10000000"},
        {"WOODPECKER_LIMIT_CPU_SET", "7"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET", "1,2"},
        /* the second variable's bad value is never looked at */
        {"WOODPECKER_LIMIT_CPU_SHARES", "lots"},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES", "2"},
    };
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    ck_assert_str_eq(s.host, "unix:///first.sock");
    ck_assert(!s.tls_verify);
    ck_assert_int_eq(s.mem, 10000000);
    ck_assert_str_eq(s.cpu_set, "1,2");
    ck_assert_int_eq(s.cpu_shares, 2);
    wpd_settings_free(&s);
}
END_TEST

START_TEST(empty_counts_as_unset)
{
    static const fake_var env[] = {
        {"WOODPECKER_BACKEND_DOCKER_HOST", ""},
        {"DOCKER_HOST", "tcp://h:2375"},
        {"WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", ""},
        {"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT", ""},
        {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM", ""},
        {"WOODPECKER_BACKEND_DOCKER_NETWORK", ""},
        {"WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE", ""},
        {"WOODPECKER_BACKEND_DOCKER_VOLUMES", ""},
    };
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    ck_assert_str_eq(s.host, "tcp://h:2375");
    ck_assert(s.tls_verify);
    ck_assert_int_eq(s.stop_timeout, 20);
    ck_assert_int_eq(s.mem, 0);
    ck_assert_ptr_null(s.network);
    ck_assert_ptr_null(s.apparmor);
    ck_assert_uint_eq(s.volumes.n, 0);
    wpd_settings_free(&s);
}
END_TEST

START_TEST(agent_volume_rows)
{
    wpd_settings s;
    static const fake_var e1[] = {{"WOODPECKER_BACKEND_DOCKER_VOLUMES", ",,"}};
    USE_ENV(e1);
    load_ok(&s);
    ck_assert_uint_eq(s.volumes.n, 0);
    wpd_settings_free(&s);

    static const fake_var e2[] = {{"WOODPECKER_BACKEND_DOCKER_VOLUMES", "/a:/b:Z"}};
    USE_ENV(e2);
    load_ok(&s);
    const char *w2[] = {"/a:/b"};
    assert_volumes(&s, w2, 1);
    wpd_settings_free(&s);

    static const fake_var e3[] = {
        {"WOODPECKER_BACKEND_DOCKER_VOLUMES", ",/a:/b:ro,Z,,/x:/y:ro:extra,/dev/null,c:/data"}};
    USE_ENV(e3);
    load_ok(&s);
    /* "ro,Z" cannot be written here: ",Z" starts a new item. */
    const char *w3[] = {"/a:/b:ro", "Z", "/x:/y:ro", "/dev/null", "c:/data"};
    assert_volumes(&s, w3, 5);
    wpd_settings_free(&s);
}
END_TEST

START_TEST(bad_values)
{
    static const fake_var e1[] = {{"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM", "12x"}};
    USE_ENV(e1);
    load_fails(
        "WOODPECKER_BACKEND_DOCKER_LIMIT_MEM: expected a whole number of bytes, got \"12x\"");

    static const fake_var e2[] = {{"WOODPECKER_LIMIT_MEM_SWAP", "1.5G"}};
    USE_ENV(e2);
    load_fails("WOODPECKER_LIMIT_MEM_SWAP: expected a whole number of bytes, got \"1.5G\"");

    static const fake_var e3[] = {{"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT", "-1"}};
    USE_ENV(e3);
    load_fails("WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT: expected a whole number of seconds (0 or "
               "more), got \"-1\"");

    static const fake_var e4[] = {{"DOCKER_TLS_VERIFY", "maybe"}};
    USE_ENV(e4);
    load_fails("DOCKER_TLS_VERIFY: expected a boolean (true/false/1/0), got \"maybe\"");

    static const fake_var e5[] = {{"WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6", "yes please"}};
    USE_ENV(e5);
    load_fails(
        "WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6: expected a boolean (true/false/1/0), got \"yes "
        "please\"");

    static const fake_var e6[] = {{"WOODPECKER_LIMIT_CPU_QUOTA", "9223372036854775808"}};
    USE_ENV(e6);
    load_fails("WOODPECKER_LIMIT_CPU_QUOTA: expected a whole number of microseconds per period, "
               "got \"9223372036854775808\"");

    static const fake_var e7[] = {{"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES", "half"}};
    USE_ENV(e7);
    load_fails("WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES: expected a whole number, got \"half\"");

    /* Strings loaded before the failing variable are released (LSan). */
    static const fake_var e8[] = {{"WOODPECKER_BACKEND_DOCKER_HOST", "unix:///x.sock"},
                                  {"WOODPECKER_BACKEND_DOCKER_VOLUMES", "/a:/a"},
                                  {"WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE", "64m"}};
    USE_ENV(e8);
    load_fails("WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE: expected a whole number of bytes, got "
               "\"64m\"");
}
END_TEST

START_TEST(load_replaces_previous_contents)
{
    static const fake_var e1[] = {{"WOODPECKER_BACKEND_DOCKER_NETWORK", "n1"}};
    static const fake_var e2[] = {{"WOODPECKER_BACKEND_DOCKER_HOST", "unix:///y.sock"}};
    wpd_settings s;
    USE_ENV(e1);
    load_ok(&s);
    ck_assert_str_eq(s.network, "n1");
    wpd_settings_free(&s);
    USE_ENV(e2);
    load_ok(&s);
    ck_assert_ptr_null(s.network);
    ck_assert_str_eq(s.host, "unix:///y.sock");
    wpd_settings_free(&s);
}
END_TEST

/* ---- setters ---------------------------------------------------------- */

static void set_ok(wpd_settings *s, const char *opt, const char *val)
{
    wpd_error err = {0};
    ck_assert_msg(wpd_settings_set(s, opt, val, &err) == 0, "--%s %s: %s", opt, val, err.message);
}

static void set_fails(wpd_settings *s, const char *opt, const char *val, wpd_errkind kind,
                      const char *msg)
{
    wpd_error err = {0};
    ck_assert_int_eq(wpd_settings_set(s, opt, val, &err), -1);
    ck_assert_int_eq(err.kind, kind);
    ck_assert_str_eq(err.message, msg);
}

START_TEST(set_each_option)
{
    static const fake_var env[] = {{"WOODPECKER_BACKEND_DOCKER_HOST", "unix:///env.sock"},
                                   {"WOODPECKER_BACKEND_DOCKER_VOLUMES", "/e:/e"}};
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);

    set_ok(&s, "host", "tcp://remote:2376");
    ck_assert_str_eq(s.host, "tcp://remote:2376");
    set_ok(&s, "api-version", "1.44");
    ck_assert_str_eq(s.api_version, "1.44");
    set_ok(&s, "cert-path", "/etc/docker/certs");
    ck_assert_str_eq(s.cert_path, "/etc/docker/certs");
    set_ok(&s, "tls-verify", "false");
    ck_assert(!s.tls_verify);
    set_ok(&s, "tls-verify", "1");
    ck_assert(s.tls_verify);
    set_ok(&s, "ipv6", "true");
    ck_assert(s.enable_ipv6);
    set_ok(&s, "network", "shared");
    ck_assert_str_eq(s.network, "shared");
    set_ok(&s, "volumes", "/a:/b:Z,,/c:/d:ro");
    const char *vols[] = {"/a:/b", "/c:/d:ro"};
    assert_volumes(&s, vols, 2);
    set_ok(&s, "apparmor-profile", "docker-default");
    ck_assert_str_eq(s.apparmor, "docker-default");
    set_ok(&s, "stop-timeout", "5");
    ck_assert_int_eq(s.stop_timeout, 5);
    set_ok(&s, "limit-mem", "100000000");
    ck_assert_int_eq(s.mem, 100000000);
    set_ok(&s, "limit-mem-swap", "200000000");
    ck_assert_int_eq(s.mem_swap, 200000000);
    set_ok(&s, "limit-shm-size", "300");
    ck_assert_int_eq(s.shm_size, 300);
    set_ok(&s, "limit-cpu-quota", "40000");
    ck_assert_int_eq(s.cpu_quota, 40000);
    set_ok(&s, "limit-cpu-shares", "500");
    ck_assert_int_eq(s.cpu_shares, 500);
    set_ok(&s, "limit-cpu-set", "0,1");
    ck_assert_str_eq(s.cpu_set, "0,1");

    /* Replacing a value and clearing with "". */
    set_ok(&s, "network", "other");
    ck_assert_str_eq(s.network, "other");
    set_ok(&s, "network", "");
    ck_assert_ptr_null(s.network);
    set_ok(&s, "volumes", "");
    ck_assert_uint_eq(s.volumes.n, 0);
    wpd_settings_free(&s);
}
END_TEST

START_TEST(set_bad_values)
{
    static const fake_var env[] = {{"X", "y"}};
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    set_fails(&s, "limit-mem", "12x", WPD_ERR_USAGE,
              "--limit-mem: expected a whole number of bytes, got \"12x\"");
    ck_assert_int_eq(s.mem, 0);
    set_fails(&s, "stop-timeout", "-3", WPD_ERR_USAGE,
              "--stop-timeout: expected a whole number of seconds (0 or more), got \"-3\"");
    ck_assert_int_eq(s.stop_timeout, 20);
    set_fails(&s, "tls-verify", "sure", WPD_ERR_USAGE,
              "--tls-verify: expected a boolean (true/false/1/0), got \"sure\"");
    ck_assert(s.tls_verify);
    set_fails(&s, "limit-cpu-shares", "", WPD_ERR_USAGE, "--limit-cpu-shares: a value is required");
    set_fails(&s, "ipv6", NULL, WPD_ERR_USAGE, "--ipv6: a value is required");
    set_fails(&s, "no-such-option", "1", WPD_ERR_INTERNAL,
              "settings: unknown option \"no-such-option\"");
    wpd_settings_free(&s);
}
END_TEST

/* What the engine would refuse only after the network and volume exist. */
START_TEST(set_refused_limits)
{
    static const fake_var env[] = {{"X", "y"}};
    USE_ENV(env);
    wpd_settings s;
    load_ok(&s);
    set_fails(&s, "limit-mem", "-1", WPD_ERR_USAGE, "--limit-mem: must not be negative, got -1");
    set_fails(&s, "limit-mem", "4194304", WPD_ERR_USAGE,
              "--limit-mem: must be 0 (no limit) or at least 6 MiB (6291456 bytes), the engine's "
              "minimum, got 4194304");
    set_fails(&s, "limit-mem-swap", "-2", WPD_ERR_USAGE,
              "--limit-mem-swap: must be -1 (unlimited swap), 0 (the default) or a number of "
              "bytes, got -2");
    set_fails(&s, "limit-shm-size", "-5", WPD_ERR_USAGE,
              "--limit-shm-size: must not be negative, got -5");
    set_fails(&s, "limit-cpu-quota", "999", WPD_ERR_USAGE,
              "--limit-cpu-quota: must be 0 (no limit) or at least 1000 microseconds, the "
              "engine's minimum, got 999");
    set_fails(&s, "limit-cpu-shares", "-1", WPD_ERR_USAGE,
              "--limit-cpu-shares: must not be negative, got -1");
    const char *bad_sets[] = {"a", "1-", "-1", "3-1", "1,,2", "1,", "0-99999", " 1", "1;2"};
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        char want[256];
        snprintf(want, sizeof want,
                 "--limit-cpu-set: expected a list of CPU numbers and ranges such as 0-3,8, got "
                 "\"%s\"",
                 bad_sets[i]);
        set_fails(&s, "limit-cpu-set", bad_sets[i], WPD_ERR_USAGE, want);
    }
    set_ok(&s, "limit-cpu-set", "0-1,3,5-5");
    set_fails(&s, "network", "n/../volumes/x", WPD_ERR_USAGE,
              "--network: invalid network name: only letters, digits, '_', '.' and '-' are "
              "allowed, got \"n/../volumes/x\"");
    set_fails(&s, "network", "-x", WPD_ERR_USAGE,
              "--network: invalid network name: it must start with a letter or digit, got \"-x\"");
    ck_assert_int_eq(s.mem, 0);

    /* between options, once all are set */
    wpd_error err;
    wpd_error_clear(&err);
    set_ok(&s, "limit-mem-swap", "10000000");
    ck_assert_int_eq(wpd_settings_check(&s, &err), -1);
    ck_assert_str_eq(err.message,
                     "--limit-mem-swap (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP) "
                     "needs --limit-mem (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM) as well");
    set_ok(&s, "limit-mem", "20000000");
    ck_assert_int_eq(wpd_settings_check(&s, &err), -1);
    ck_assert_str_eq(err.message, "--limit-mem-swap (10000000) is memory plus swap and must not "
                                  "be less than --limit-mem (20000000)");
    set_ok(&s, "limit-mem-swap", "-1");
    ck_assert_int_eq(wpd_settings_check(&s, &err), 0);
    set_ok(&s, "limit-mem-swap", "20000000");
    ck_assert_int_eq(wpd_settings_check(&s, &err), 0);
    wpd_settings_free(&s);
}
END_TEST

START_TEST(load_null_getenv_uses_process_environment)
{
    setenv("WOODPECKER_BACKEND_DOCKER_NETWORK", "from-process", 1);
    wpd_settings s;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_settings_load(&s, NULL, &err), 0);
    ck_assert_str_eq(s.network, "from-process");
    wpd_settings_free(&s);
    unsetenv("WOODPECKER_BACKEND_DOCKER_NETWORK");
}
END_TEST

static Suite *settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_bool_values);
    tcase_add_test(tc, parse_int64_values);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, all_overrides);
    tcase_add_test(tc, fallback_variables);
    tcase_add_test(tc, first_variable_wins);
    tcase_add_test(tc, empty_counts_as_unset);
    tcase_add_test(tc, agent_volume_rows);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, load_replaces_previous_contents);
    tcase_add_test(tc, load_null_getenv_uses_process_environment);
    suite_add_tcase(s, tc);

    tc = tcase_create("set");
    tcase_add_test(tc, set_each_option);
    tcase_add_test(tc, set_bad_values);
    tcase_add_test(tc, set_refused_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(settings_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
