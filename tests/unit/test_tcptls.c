/* test_tcptls.c - the tcptls transport plugin, loaded from the build tree
 * with dlopen and driven through its open() with a table of configuration
 * values (cert directory checks, TLS verify parsing, plain TCP only when
 * TLS is switched off, base URLs with ports, base paths and IPv6 hosts),
 * and the pure mapping of libcurl failures to user messages (connerr). */
#define _GNU_SOURCE
#include <check.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "io/connerr.h"

#define TCPTLS_SO FIXTURE_PLUGIN_DIR "/../../transports/wpdock-tcptls.so"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

#define PEM_CERT "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
#define PEM_KEY "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"

/* ---- the plugin and a fake configuration ---- */

static void *so;
static const wpd_transport_plugin *plugin;

static void load_plugin(void)
{
    so = dlopen(TCPTLS_SO, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(so != NULL, "dlopen %s: %s", TCPTLS_SO, dlerror());
    wpd_transport_entry_fn entry = (wpd_transport_entry_fn)dlsym(so, WPD_TRANSPORT_ENTRY_SYMBOL);
    ck_assert_msg(entry != NULL, "no %s in %s", WPD_TRANSPORT_ENTRY_SYMBOL, TCPTLS_SO);
    plugin = entry();
    ck_assert_ptr_nonnull(plugin);
}

static void unload_plugin(void)
{
    if (so)
        dlclose(so);
    so = NULL;
    plugin = NULL;
}

#define MAX_VARS 8
typedef struct fake_env {
    const char *name[MAX_VARS];
    const char *value[MAX_VARS];
    int n;
    int asked_direct; /* lookups of the plain DOCKER_* names */
} fake_env;

static const char *fake_lookup(void *ctx, const char *name)
{
    fake_env *env = ctx;
    if (strncmp(name, "DOCKER_", 7) == 0)
        env->asked_direct++;
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->name[i], name) == 0)
            return env->value[i];
    return NULL;
}

static void env_set(fake_env *env, const char *name, const char *value)
{
    ck_assert_int_lt(env->n, MAX_VARS);
    env->name[env->n] = name;
    env->value[env->n] = value;
    env->n++;
}

typedef struct result {
    int rc;
    wpd_conn_setup setup;
    char err[WPD_TRANSPORT_MSG_MAX];
} result;

static result *open_with(const char *endpoint, fake_env *env)
{
    static result r;
    memset(&r, 0, sizeof r);
    wpd_transport_options opts = {sizeof opts, fake_lookup, env};
    r.rc = plugin->open(endpoint, &opts, &r.setup, r.err, sizeof r.err);
    if (r.rc == 0)
        ck_assert_msg(r.setup.base_url[0], "open(%s) succeeded without a base URL", endpoint);
    else
        ck_assert_msg(r.err[0], "open(%s) failed without a message", endpoint);
    return &r;
}

/* ---- a throwaway cert directory ---- */

static char certdir[64];

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static void remove_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        ck_assert_int_eq(rmdir(path), 0);
    else
        ck_assert_int_eq(unlink(path), 0);
}

static void make_certdir(void)
{
    snprintf(certdir, sizeof certdir, "/tmp/wpdock-tcptls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(certdir));
    ck_assert_int_eq(chmod(certdir, 0755), 0);
    write_file(certdir, "ca.pem", PEM_CERT, 0644);
    write_file(certdir, "cert.pem", PEM_CERT, 0644);
    write_file(certdir, "key.pem", PEM_KEY, 0600);
}

static void remove_certdir(void)
{
    static const char *const names[] = {"ca.pem", "cert.pem", "key.pem"};
    char path[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", certdir, names[i]);
        struct stat st;
        if (lstat(path, &st) == 0)
            remove_file(certdir, names[i]);
    }
    rmdir(certdir);
}

static void expect_file(const char *got, const char *name)
{
    char want[256];
    snprintf(want, sizeof want, "%s/%s", certdir, name);
    ck_assert_str_eq(got, want);
}

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
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "invalid port");
    r = open_with("tcp://:2376", &env);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "missing host name");
    r = open_with("unix:///var/run/docker.sock", &env);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "not a tcp:// or https:// endpoint");
    r = open_with("http://h:2375", &env);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, "not a tcp:// or https:// endpoint");
    r = open_with("h:2376", &env);
    ck_assert_int_eq(r->rc, -1);
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

/* ---- cert directory problems ---- */

START_TEST(missing_files)
{
    static const char *const names[] = {"ca.pem", "cert.pem", "key.pem"};
    for (size_t i = 0; i < 3; i++) {
        char saved[256];
        snprintf(saved, sizeof saved, "%s/%s", certdir, names[i]);
        char moved[300];
        snprintf(moved, sizeof moved, "%s.away", saved);
        ck_assert_int_eq(rename(saved, moved), 0);
        fake_env env = {0};
        env_set(&env, "DOCKER_CERT_PATH", certdir);
        result *r = open_with("tcp://h:2376", &env);
        ck_assert_int_eq(r->rc, -1);
        char want[256];
        snprintf(want, sizeof want, "the TLS directory %s (DOCKER_CERT_PATH) has no %s", certdir,
                 names[i]);
        ck_assert_contains(r->err, want);
        ck_assert_int_eq(rename(moved, saved), 0);
    }
}
END_TEST

START_TEST(cert_dir_problems)
{
    /* does not exist */
    char missing[96];
    snprintf(missing, sizeof missing, "%s/nope", certdir);
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", missing);
    result *r = open_with("tcp://h:2376", &env);
    ck_assert_int_eq(r->rc, -1);
    char want[256];
    snprintf(want, sizeof want, "the TLS directory %s (DOCKER_CERT_PATH) does not exist", missing);
    ck_assert_contains(r->err, want);

    /* a file, not a directory */
    char file[96];
    snprintf(file, sizeof file, "%s/ca.pem", certdir);
    fake_env env2 = {0};
    env_set(&env2, "DOCKER_CERT_PATH", file);
    r = open_with("tcp://h:2376", &env2);
    ck_assert_int_eq(r->rc, -1);
    snprintf(want, sizeof want, "%s (DOCKER_CERT_PATH) is not a directory", file);
    ck_assert_contains(r->err, want);
}
END_TEST

/* Open with the cert dir configured; expect failure mentioning all needles. */
static void expect_refusal(const char *n1, const char *n2)
{
    fake_env env = {0};
    env_set(&env, "DOCKER_CERT_PATH", certdir);
    result *r = open_with("tcp://h:2376", &env);
    ck_assert_int_eq(r->rc, -1);
    ck_assert_contains(r->err, n1);
    if (n2)
        ck_assert_contains(r->err, n2);
    ck_assert_contains(r->err, certdir);
}

START_TEST(unreadable_key)
{
    write_file(certdir, "key.pem", PEM_KEY, 0000);
    int as_root = geteuid() == 0;
    /* root reads anything: check as an unprivileged user instead (each
     * test runs in its own process) */
    if (as_root)
        ck_assert_msg(seteuid(65534) == 0, "seteuid: %s", strerror(errno));
    expect_refusal("cannot read key.pem in", "permission denied");
    if (as_root)
        ck_assert_int_eq(seteuid(0), 0);
}
END_TEST

START_TEST(key_contents)
{
    write_file(certdir, "key.pem", "this is not a key\n", 0600);
    expect_refusal("key.pem in", "is not a PEM private key (it has no \"-----BEGIN\" line)");

    write_file(certdir, "key.pem", "", 0600);
    expect_refusal("key.pem in", "is empty");

    write_file(certdir, "key.pem", PEM_CERT, 0600);
    expect_refusal("key.pem in", "holds a CERTIFICATE, not a private key");

    write_file(certdir, "key.pem",
               "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG\n"
               "-----END ENCRYPTED PRIVATE KEY-----\n",
               0600);
    expect_refusal("key.pem in", "is encrypted with a passphrase");

    write_file(certdir, "key.pem",
               "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
               "DEK-Info: AES-128-CBC,3F1B\n\nMIIE\n-----END RSA PRIVATE KEY-----\n",
               0600);
    expect_refusal("key.pem in", "is encrypted with a passphrase");

    /* text before the block and other key types are fine */
    static const char *const good[] = {
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n",
        "Private-Key: (2048 bit)\nmodulus: 00:c3\n" PEM_KEY,
    };
    for (size_t i = 0; i < 3; i++) {
        write_file(certdir, "key.pem", good[i], 0600);
        fake_env env = {0};
        env_set(&env, "DOCKER_CERT_PATH", certdir);
        result *r = open_with("tcp://h:2376", &env);
        ck_assert_msg(r->rc == 0, "key %zu: %s", i, r->err);
    }

    /* a DER (binary) key */
    char der[] = {0x30, (char)0x82, 0x04, (char)0xa4, 0x02, 0x01, 0x00, 0x02, 0x00};
    char path[256];
    snprintf(path, sizeof path, "%s/key.pem", certdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fwrite(der, 1, sizeof der, f);
    fclose(f);
    expect_refusal("key.pem in", "looks binary");

    /* a directory named key.pem */
    remove_file(certdir, "key.pem");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    expect_refusal("key.pem in", "is not a regular file");
}
END_TEST

START_TEST(cert_contents)
{
    write_file(certdir, "cert.pem", PEM_KEY, 0644);
    expect_refusal("cert.pem in", "holds a PRIVATE KEY, not a certificate");
    write_file(certdir, "cert.pem", PEM_CERT, 0644);
    write_file(certdir, "ca.pem", "garbage", 0644);
    expect_refusal("ca.pem in", "is not a PEM certificate");
    write_file(certdir, "ca.pem",
               "-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n",
               0644);
    expect_refusal("ca.pem in", "holds a CERTIFICATE REQUEST, not a certificate");
}
END_TEST

START_TEST(small_error_buffer)
{
    fake_env env = {0};
    wpd_transport_options opts = {sizeof opts, fake_lookup, &env};
    wpd_conn_setup setup;
    memset(&setup, 0, sizeof setup);
    char err[17];
    memset(err, 'x', sizeof err);
    ck_assert_int_eq(plugin->open("tcp://h:2376", &opts, &setup, err, 16), -1);
    ck_assert_uint_eq(strlen(err), 15);
    ck_assert_int_eq(err[16], 'x');
}
END_TEST

/* ---- connerr: libcurl failures explained ---- */

static wpd_conn_setup tls_setup(const char *base_url)
{
    wpd_conn_setup s;
    memset(&s, 0, sizeof s);
    snprintf(s.base_url, sizeof s.base_url, "%s", base_url);
    snprintf(s.ca_file, sizeof s.ca_file, "/c/ca.pem");
    snprintf(s.cert_file, sizeof s.cert_file, "/c/cert.pem");
    snprintf(s.key_file, sizeof s.key_file, "/c/key.pem");
    s.tls_verify_peer = s.tls_verify_host = 1;
    return s;
}

static wpd_conn_setup plain_setup(const char *base_url, const char *unix_path)
{
    wpd_conn_setup s;
    memset(&s, 0, sizeof s);
    snprintf(s.base_url, sizeof s.base_url, "%s", base_url);
    if (unix_path)
        snprintf(s.unix_path, sizeof s.unix_path, "%s", unix_path);
    return s;
}

/* Describe; expect exactly `want` (NULL: curl's text alone). */
static void expect_described(CURLcode code, const char *msg, long os_errno, const wpd_conn_setup *s,
                             const char *want)
{
    char out[WPD_ERROR_MAX];
    int added = wpd_describe_transfer_error(code, msg, os_errno, 0, s, out, sizeof out);
    if (!want) {
        ck_assert_int_eq(added, 0);
        ck_assert_str_eq(out, msg);
        return;
    }
    char full[WPD_ERROR_MAX];
    snprintf(full, sizeof full, "%s (%s)", want, msg);
    ck_assert_int_eq(added, 1);
    ck_assert_str_eq(out, full);
}

START_TEST(connerr_unknown_ca)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2376");
    const char *want = "the engine's certificate is not signed by the CA in /c/ca.pem: "
                       "DOCKER_CERT_PATH must hold the ca.pem of the CA that signed the "
                       "engine's certificate";
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: unable to get local issuer certificate", 0, &s,
                     want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: self-signed certificate in certificate chain", 0, &s,
                     want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: self signed certificate", 0, &s, want);
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL certificate problem: certificate has expired", 0, &s,
                     "the engine's certificate has expired");
}
END_TEST

START_TEST(connerr_host_mismatch)
{
    wpd_conn_setup s = tls_setup("https://[::ffff:127.0.0.1]:2377");
    expect_described(CURLE_PEER_FAILED_VERIFICATION,
                     "SSL: no alternative certificate subject name matches target host name "
                     "'::ffff:127.0.0.1'",
                     0, &s,
                     "the engine's certificate is not valid for the host name "
                     "\"::ffff:127.0.0.1\": connect through a name or address the certificate "
                     "lists (its subject alternative names)");
    s = tls_setup("https://engine.example:2376/base");
    char out[WPD_ERROR_MAX];
    wpd_describe_transfer_error(CURLE_PEER_FAILED_VERIFICATION,
                                "SSL: certificate subject name 'localhost' does not match target "
                                "host name 'engine.example'",
                                0, 0, &s, out, sizeof out);
    ck_assert_contains(out, "not valid for the host name \"engine.example\"");
}
END_TEST

START_TEST(connerr_client_cert_refused)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    const char *want = "the engine refused our client certificate /c/cert.pem: it must be "
                       "signed by a CA the engine trusts (dockerd --tlscacert)";
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000418:SSL routines::tlsv1 alert "
                     "unknown ca, errno 0",
                     0, &s, want);
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 alert "
                     "bad certificate, errno 0",
                     0, &s, want);
    expect_described(CURLE_RECV_ERROR,
                     "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate "
                     "required, errno 0",
                     0, &s, want);
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL/3.0.22: error:0A000412:SSL routines::sslv3 alert bad certificate", 0,
                     &s, want);

    /* the alert lost the race against our request: a reset, and curl's
     * error buffer holds a side note that is replaced by the real cause */
    char out[WPD_ERROR_MAX];
    int added = wpd_describe_transfer_error(
        CURLE_SEND_ERROR,
        "getpeername() failed with errno 107: Transport endpoint is not connected", ECONNRESET, 0,
        &s, out, sizeof out);
    ck_assert_int_eq(added, 1);
    char want2[WPD_ERROR_MAX];
    snprintf(want2, sizeof want2,
             "the engine reset the connection right after the TLS handshake: it probably refused "
             "our client certificate /c/cert.pem (it must be signed by a CA the engine trusts) "
             "(%s: %s)",
             curl_easy_strerror(CURLE_SEND_ERROR), strerror(ECONNRESET));
    ck_assert_str_eq(out, want2);
    expect_described(CURLE_SEND_ERROR, "Send failure: Connection reset by peer", ECONNRESET, &s,
                     "the engine reset the connection right after the TLS handshake: it "
                     "probably refused our client certificate /c/cert.pem (it must be signed by "
                     "a CA the engine trusts)");
}
END_TEST

START_TEST(connerr_tls_vs_plain)
{
    /* we speak TLS, the server plain HTTP */
    wpd_conn_setup s = tls_setup("https://127.0.0.1:5000");
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL/3.0.22: error:0A00010B:SSL routines::wrong version number", 0, &s,
                     "the engine does not speak TLS on 127.0.0.1:5000 (plain HTTP?): check the "
                     "port (Docker uses 2376 for TLS, 2375 for plain HTTP) and the engine's TLS "
                     "settings");

    /* a server that hangs up on our handshake */
    s = tls_setup("https://127.0.0.1:18099");
    const char *hangup = "the engine on 127.0.0.1:18099 closed the connection during the TLS "
                         "handshake: it may not speak TLS on this port, or it does not accept our "
                         "client certificate /c/cert.pem";
    expect_described(CURLE_SSL_CONNECT_ERROR, "Recv failure: Connection reset by peer", ECONNRESET,
                     &s, hangup);
    expect_described(CURLE_SSL_CONNECT_ERROR,
                     "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to 127.0.0.1:18099", 0,
                     &s, hangup);

    /* we speak plain HTTP, the server TLS */
    wpd_conn_setup p = plain_setup("http://127.0.0.1:2377", NULL);
    const char *want = "the engine does not speak plain HTTP on 127.0.0.1:2377: it closed the "
                       "connection, so it probably expects TLS (set DOCKER_CERT_PATH to a "
                       "directory holding ca.pem, cert.pem and key.pem)";
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", ECONNRESET, &p,
                     want);
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", 0, &p, want);
    expect_described(CURLE_GOT_NOTHING, "Empty reply from server", 0, &p,
                     "the engine does not speak plain HTTP on 127.0.0.1:2377: it sent no HTTP "
                     "answer, so it probably expects TLS (set DOCKER_CERT_PATH to a directory "
                     "holding ca.pem, cert.pem and key.pem)");

    /* the same over a unix socket says nothing about TLS */
    wpd_conn_setup u = plain_setup("http://api.moby.localhost", "/run/x.sock");
    expect_described(CURLE_RECV_ERROR, "Recv failure: Connection reset by peer", ECONNRESET, &u,
                     NULL);
    expect_described(CURLE_GOT_NOTHING, "Empty reply from server", 0, &u, NULL);
}
END_TEST

START_TEST(connerr_connect_failures)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:1");
    const char *msg =
        "Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server";
    expect_described(CURLE_COULDNT_CONNECT, msg, ECONNREFUSED, &s,
                     "nothing listens on 127.0.0.1:1");
    expect_described(CURLE_COULDNT_CONNECT, msg, EHOSTUNREACH, &s,
                     "127.0.0.1:1 is unreachable from here (no route to it)");
    expect_described(CURLE_COULDNT_CONNECT, msg, 0, &s, NULL);

    wpd_conn_setup v6 = plain_setup("http://[::1]:2375/base", NULL);
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to ::1 port 2375", ECONNREFUSED, &v6,
                     "nothing listens on [::1]:2375");
    wpd_conn_setup dflt = tls_setup("https://engine.example");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect", ECONNREFUSED, &dflt,
                     "nothing listens on engine.example:443");

    wpd_conn_setup u = plain_setup("http://api.moby.localhost", "/run/x.sock");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to api.moby.localhost port 80",
                     ECONNREFUSED, &u, "nothing listens on socket /run/x.sock");
    expect_described(CURLE_COULDNT_CONNECT, "Failed to connect to api.moby.localhost port 80",
                     ENOENT, &u, "socket /run/x.sock does not exist");

    wpd_conn_setup r = plain_setup("http://nonexistent.invalid:2375", NULL);
    expect_described(CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: nonexistent.invalid", 0,
                     &r, "cannot resolve the host name \"nonexistent.invalid\"");
}
END_TEST

START_TEST(connerr_local_files)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    expect_described(CURLE_SSL_CERTPROBLEM, "unable to set private key file: '/c/key.pem' type PEM",
                     0, &s,
                     "cannot use the client key /c/key.pem: it does not belong to the "
                     "certificate /c/cert.pem, or it is not a usable private key");
    expect_described(CURLE_SSL_CERTPROBLEM,
                     "could not load PEM client certificate from /c/cert.pem, OpenSSL error "
                     "error:0480006C:PEM routines::no start line",
                     0, &s, "cannot load the client certificate /c/cert.pem");
    expect_described(CURLE_SSL_CACERT_BADFILE, "error setting certificate file: /c/ca.pem", 0, &s,
                     "cannot load the CA certificates from /c/ca.pem");
}
END_TEST

START_TEST(connerr_passthrough)
{
    wpd_conn_setup s = tls_setup("https://127.0.0.1:2377");
    char out[WPD_ERROR_MAX];
    /* unmapped codes keep curl's text */
    expect_described(CURLE_OPERATION_TIMEDOUT, "Operation timed out after 30000 milliseconds", 0,
                     &s, NULL);
    /* an answer had begun: the connection is not to blame */
    ck_assert_int_eq(wpd_describe_transfer_error(CURLE_RECV_ERROR,
                                                 "Recv failure: Connection reset by peer",
                                                 ECONNRESET, 200, &s, out, sizeof out),
                     0);
    ck_assert_str_eq(out, "Recv failure: Connection reset by peer");
    /* no message: curl's text for the code; trailing newline dropped */
    ck_assert_int_eq(
        wpd_describe_transfer_error(CURLE_GOT_NOTHING, NULL, 0, 0, &s, out, sizeof out), 1);
    ck_assert_str_eq(out, "the engine on 127.0.0.1:2377 closed the connection without an HTTP "
                          "answer (Server returned nothing (no headers, no data))");
    wpd_describe_transfer_error(CURLE_OPERATION_TIMEDOUT, "timed out\n", 0, 0, &s, out, sizeof out);
    ck_assert_str_eq(out, "timed out");
    /* a small buffer is filled and terminated */
    char small[11];
    memset(small, 'x', sizeof small);
    wpd_describe_transfer_error(CURLE_COULDNT_CONNECT, "refused", ECONNREFUSED, 0, &s, small, 10);
    ck_assert_str_eq(small, "nothing l");
    ck_assert_int_eq(small[10], 'x');
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tcptls");
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
    tcase_add_test(tp, missing_files);
    tcase_add_test(tp, cert_dir_problems);
    tcase_add_test(tp, unreadable_key);
    tcase_add_test(tp, key_contents);
    tcase_add_test(tp, cert_contents);
    tcase_add_test(tp, small_error_buffer);
    suite_add_tcase(s, tp);
    TCase *tc = tcase_create("connerr");
    tcase_add_test(tc, connerr_unknown_ca);
    tcase_add_test(tc, connerr_host_mismatch);
    tcase_add_test(tc, connerr_client_cert_refused);
    tcase_add_test(tc, connerr_tls_vs_plain);
    tcase_add_test(tc, connerr_connect_failures);
    tcase_add_test(tc, connerr_local_files);
    tcase_add_test(tc, connerr_passthrough);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
