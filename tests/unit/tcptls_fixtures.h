/* tcptls_fixtures.h - what the tcptls plugin tests share: the plugin
 * loaded from the build tree with dlopen, a fake configuration and open()
 * through it, and a throwaway cert directory with ca.pem, cert.pem and
 * key.pem. */
#ifndef WPDOCK_TEST_TCPTLS_FIXTURES_H
#define WPDOCK_TEST_TCPTLS_FIXTURES_H

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wpdock/transport.h>

#define TCPTLS_SO FIXTURE_PLUGIN_DIR "/../../transports/wpdock-tcptls.so"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

#define PEM_CERT "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
#define PEM_KEY "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"

/* ---- the plugin and a fake configuration ---- */

static void *so;
static const wpd_transport_plugin *plugin;

static inline void load_plugin(void)
{
    so = dlopen(TCPTLS_SO, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(so != NULL, "dlopen %s: %s", TCPTLS_SO, dlerror());
    wpd_transport_entry_fn entry = (wpd_transport_entry_fn)dlsym(so, WPD_TRANSPORT_ENTRY_SYMBOL);
    ck_assert_msg(entry != NULL, "no %s in %s", WPD_TRANSPORT_ENTRY_SYMBOL, TCPTLS_SO);
    plugin = entry();
    ck_assert_ptr_nonnull(plugin);
}

static inline void unload_plugin(void)
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

static inline const char *fake_lookup(void *ctx, const char *name)
{
    fake_env *env = ctx;
    if (strncmp(name, "DOCKER_", 7) == 0)
        env->asked_direct++;
    for (int i = 0; i < env->n; i++)
        if (strcmp(env->name[i], name) == 0)
            return env->value[i];
    return NULL;
}

static inline void env_set(fake_env *env, const char *name, const char *value)
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

static inline result *open_with(const char *endpoint, fake_env *env)
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

static inline void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static inline void remove_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        ck_assert_int_eq(rmdir(path), 0);
    else
        ck_assert_int_eq(unlink(path), 0);
}

static inline void make_certdir(void)
{
    snprintf(certdir, sizeof certdir, "/tmp/wpdock-tcptls-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(certdir));
    ck_assert_int_eq(chmod(certdir, 0755), 0);
    write_file(certdir, "ca.pem", PEM_CERT, 0644);
    write_file(certdir, "cert.pem", PEM_CERT, 0644);
    write_file(certdir, "key.pem", PEM_KEY, 0600);
}

static inline void remove_certdir(void)
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

static inline void expect_file(const char *got, const char *name)
{
    char want[256];
    snprintf(want, sizeof want, "%s/%s", certdir, name);
    ck_assert_str_eq(got, want);
}

#endif
