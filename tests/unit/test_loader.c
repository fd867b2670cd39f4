/* test_loader.c - the transport plugin loader against real fixture .so
 * files (tests/fixtures): accepted plugins, refusals and their reasons, the
 * search order of WPDOCK_PLUGIN_PATH, scheme lookup, the trust rules (loose
 * modes and foreign owners of files, directories and symlink targets), and
 * the real unix plugin from the build tree. */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <wpdock/plugins.h>
#include <wpdock/transport.h>

#define FIX(sub) FIXTURE_PLUGIN_DIR "/" sub
#define TRANSPORTS_DIR FIXTURE_PLUGIN_DIR "/../../transports"

static wpd_plugin_registry *load_one(const char *dir)
{
    wpd_plugin_registry *reg = wpd_plugins_load((const char *[]){dir, NULL});
    ck_assert_ptr_nonnull(reg);
    ck_assert_uint_eq(wpd_plugins_dir_count(reg), 1);
    ck_assert_str_eq(wpd_plugins_dir(reg, 0), dir);
    return reg;
}

/* The directory is loaded into exactly one refusal of `file`; returns its reason. */
static const wpd_plugin_refusal *only_refusal(wpd_plugin_registry *reg, const char *file)
{
    ck_assert_uint_eq(wpd_plugins_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 1);
    const wpd_plugin_refusal *r = wpd_plugins_refused(reg, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->path, file);
    ck_assert_ptr_nonnull(r->reason);
    return r;
}

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

START_TEST(good_plugin_is_accepted)
{
    wpd_plugin_registry *reg = load_one(FIX("good"));
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    const wpd_plugin_info *pi = wpd_plugins_get(reg, 0);
    ck_assert_ptr_nonnull(pi);
    ck_assert_ptr_null(wpd_plugins_get(reg, 1));
    ck_assert_str_eq(pi->path, FIX("good/wpdock-fixture.so"));
    const wpd_transport_plugin *p = pi->plugin;
    ck_assert_uint_eq(p->abi_major, WPD_TRANSPORT_ABI_MAJOR);
    ck_assert_uint_eq(p->struct_size, sizeof(wpd_transport_plugin));
    ck_assert_str_eq(p->name, "fixture");
    ck_assert_str_eq(p->version, "0.0.1");
    ck_assert_str_eq(p->schemes[0], "fixture");
    ck_assert_ptr_null(p->schemes[1]);

    /* the loaded code really runs */
    wpd_conn_setup setup;
    memset(&setup, 0, sizeof setup);
    char err[128] = "";
    wpd_transport_options opts = {sizeof opts, NULL, NULL};
    ck_assert_int_eq(p->open("fixture:///run/fx.sock", &opts, &setup, err, sizeof err), 0);
    ck_assert_str_eq(setup.base_url, "http://fixture.invalid");
    ck_assert_str_eq(setup.unix_path, "/run/fx.sock");
    ck_assert_int_eq(p->open("tcp://h:1", &opts, &setup, err, sizeof err), -1);
    ck_assert_contains(err, "tcp://h:1");
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(plugins_are_loaded_local)
{
    /* RTLD_LOCAL: the plugin's entry symbol must not leak into the global
     * namespace, or a second plugin would resolve to the first one. */
    wpd_plugin_registry *reg = load_one(FIX("good"));
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_ptr_null(dlsym(RTLD_DEFAULT, WPD_TRANSPORT_ENTRY_SYMBOL));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(scheme_lookup)
{
    wpd_plugin_registry *reg = load_one(FIX("good"));
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "fixture");
    ck_assert_ptr_nonnull(pi);
    ck_assert_ptr_eq(pi, wpd_plugins_get(reg, 0));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "unix"));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fix"));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixtures"));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, ""));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(abi_major_mismatch_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("abi-major"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("abi-major/wpdock-abi2.so"));
    /* both versions, each attributed to the right side */
    ck_assert_contains(r->reason, "ABI major version 2");
    ck_assert_contains(r->reason, "speaks 1");
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "abi2"));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(too_small_descriptor_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("too-small"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("too-small/wpdock-small.so"));
    char have[64], need[64];
    snprintf(have, sizeof have, "%zu bytes", offsetof(wpd_transport_plugin, close));
    snprintf(need, sizeof need, "at least %zu", (size_t)WPD_TRANSPORT_PLUGIN_MIN_SIZE);
    ck_assert_contains(r->reason, "too small");
    ck_assert_contains(r->reason, have);
    ck_assert_contains(r->reason, need);
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "small"));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(missing_entry_symbol_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("no-symbol"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("no-symbol/wpdock-nosym.so"));
    ck_assert_contains(r->reason, "wpdock_transport_entry");
    ck_assert_contains(r->reason, "not a wpdock transport plugin");
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(non_elf_file_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("not-elf"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("not-elf/notelf.so"));
    ck_assert_contains(r->reason, "not a loadable shared object");
    /* the dlopen() detail names the file too */
    ck_assert_contains(r->reason, "notelf.so");
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(descriptor_without_open_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("incomplete"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("incomplete/wpdock-incomplete.so"));
    ck_assert_contains(r->reason, "open");
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "incomplete"));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(null_descriptor_and_bad_scheme_are_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("null-entry"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("null-entry/wpdock-nullentry.so"));
    ck_assert_contains(r->reason, "returned NULL");
    wpd_plugins_free(reg);
    reg = load_one(FIX("bad-scheme"));
    r = only_refusal(reg, FIX("bad-scheme/wpdock-badscheme.so"));
    ck_assert_contains(r->reason, "scheme \"FixCheck\" can never match an endpoint");
    /* its good scheme is not served either: the whole plugin is refused */
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixcheck"));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(plugin_needing_a_newer_core_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("needs-newer"));
    const wpd_plugin_refusal *r = only_refusal(reg, FIX("needs-newer/wpdock-needs9.so"));
    ck_assert_contains(r->reason, "needs transport ABI 1.9 or later");
    ck_assert_contains(r->reason, "this wpdock speaks 1.1");
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "needs9"));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(abi_1_1_fields_are_read_only_when_present)
{
    wpd_plugin_registry *reg = load_one(FIX("connect"));
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "fixconn");
    ck_assert_ptr_nonnull(pi);
    ck_assert(WPD_TRANSPORT_HAS(pi->plugin, connect) && pi->plugin->connect);
    ck_assert(WPD_TRANSPORT_HAS(pi->plugin, headers) && pi->plugin->headers);
    ck_assert_uint_eq(pi->plugin->min_core_minor, 1);
    wpd_plugins_free(reg);
    /* a 1.0 descriptor loads, and its trailing bytes are not its fields */
    reg = load_one(FIX("abi10"));
    pi = wpd_plugins_for_scheme(reg, "abi10");
    ck_assert_ptr_nonnull(pi);
    ck_assert_uint_eq(pi->plugin->struct_size, WPD_TRANSPORT_PLUGIN_MIN_SIZE);
    ck_assert(!WPD_TRANSPORT_HAS(pi->plugin, connect));
    ck_assert(!WPD_TRANSPORT_HAS(pi->plugin, headers));
    ck_assert(!WPD_TRANSPORT_HAS(pi->plugin, min_core_minor));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(newer_minor_version_is_accepted)
{
    wpd_plugin_registry *reg = load_one(FIX("newer-minor"));
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "newer");
    ck_assert_ptr_nonnull(pi);
    ck_assert_ptr_eq(pi, wpd_plugins_for_scheme(reg, "fixture"));
    ck_assert_str_eq(pi->plugin->name, "newer");
    ck_assert_uint_eq(pi->plugin->abi_minor, 7);
    ck_assert_uint_gt(pi->plugin->struct_size, sizeof(wpd_transport_plugin));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(duplicate_scheme_second_is_refused)
{
    wpd_plugin_registry *reg = load_one(FIX("duplicate"));
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 1);
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "dup");
    ck_assert_ptr_nonnull(pi);
    ck_assert_str_eq(pi->path, FIX("duplicate/dup-a.so"));
    ck_assert_str_eq(pi->plugin->name, "dup-a");
    const wpd_plugin_refusal *r = wpd_plugins_refused(reg, 0);
    ck_assert_str_eq(r->path, FIX("duplicate/dup-b.so"));
    ck_assert_contains(r->reason, "\"dup\"");
    ck_assert_contains(r->reason, "\"dup-a\"");
    ck_assert_contains(r->reason, FIX("duplicate/dup-a.so"));
    ck_assert_ptr_null(wpd_plugins_refused(reg, 1));
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(explicit_dirs_first_wins)
{
    const char *order[][2] = {{FIX("good"), FIX("newer-minor")}, {FIX("newer-minor"), FIX("good")}};
    const char *winner[] = {FIX("good/wpdock-fixture.so"), FIX("newer-minor/wpdock-newer.so")};
    const char *loser[] = {FIX("newer-minor/wpdock-newer.so"), FIX("good/wpdock-fixture.so")};
    for (int i = 0; i < 2; i++) {
        wpd_plugin_registry *reg =
            wpd_plugins_load((const char *[]){order[i][0], order[i][1], NULL});
        ck_assert_uint_eq(wpd_plugins_dir_count(reg), 2);
        ck_assert_str_eq(wpd_plugins_dir(reg, 0), order[i][0]);
        ck_assert_str_eq(wpd_plugins_dir(reg, 1), order[i][1]);
        ck_assert_uint_eq(wpd_plugins_count(reg), 1);
        ck_assert_str_eq(wpd_plugins_for_scheme(reg, "fixture")->path, winner[i]);
        ck_assert_uint_eq(wpd_plugins_refused_count(reg), 1);
        const wpd_plugin_refusal *r = wpd_plugins_refused(reg, 0);
        ck_assert_str_eq(r->path, loser[i]);
        ck_assert_contains(r->reason, "\"fixture\"");
        ck_assert_contains(r->reason, winner[i]);
        /* "newer" is only served by the refused-or-accepted newer plugin */
        if (i == 0)
            ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "newer"));
        else
            ck_assert_ptr_nonnull(wpd_plugins_for_scheme(reg, "newer"));
        wpd_plugins_free(reg);
    }
}
END_TEST

START_TEST(every_case_together)
{
    wpd_plugin_registry *reg = wpd_plugins_load((const char *[]){
        FIX("good"), FIX("abi-major"), FIX("too-small"), FIX("no-symbol"), FIX("not-elf"),
        FIX("incomplete"), FIX("duplicate"), FIX("does-not-exist"), NULL});
    ck_assert_uint_eq(wpd_plugins_dir_count(reg), 8);
    ck_assert_str_eq(wpd_plugins_dir(reg, 7), FIX("does-not-exist"));
    ck_assert_uint_eq(wpd_plugins_count(reg), 2); /* fixture, dup-a */
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 6);
    const char *refused[] = {
        FIX("abi-major/wpdock-abi2.so"),        FIX("too-small/wpdock-small.so"),
        FIX("no-symbol/wpdock-nosym.so"),       FIX("not-elf/notelf.so"),
        FIX("incomplete/wpdock-incomplete.so"), FIX("duplicate/dup-b.so")};
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(wpd_plugins_refused(reg, i)->path, refused[i]);
    ck_assert_str_eq(wpd_plugins_get(reg, 0)->plugin->name, "fixture");
    ck_assert_str_eq(wpd_plugins_get(reg, 1)->plugin->name, "dup-a");
    wpd_plugins_free(reg);
}
END_TEST

START_TEST(missing_and_empty_dirs)
{
    char tmp[] = "/tmp/wpdock-loader-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    /* a file not ending in .so, and a directory that does, are ignored */
    char path[256];
    snprintf(path, sizeof path, "%s/readme.txt", tmp);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a plugin\n", f);
    fclose(f);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/dir.so", tmp);
    ck_assert_int_eq(mkdir(sub, 0700), 0);

    wpd_plugin_registry *reg =
        wpd_plugins_load((const char *[]){"/nonexistent/wpdock/plugins", tmp, NULL});
    ck_assert_uint_eq(wpd_plugins_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_dir_count(reg), 2);
    ck_assert_str_eq(wpd_plugins_dir(reg, 0), "/nonexistent/wpdock/plugins");
    ck_assert_str_eq(wpd_plugins_dir(reg, 1), tmp);
    ck_assert_ptr_null(wpd_plugins_dir(reg, 2));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "unix"));
    wpd_plugins_free(reg);

    rmdir(sub);
    unlink(path);
    rmdir(tmp);
}
END_TEST

static void check_env_order(const char *first, const char *second, const char *winner)
{
    char env[2048];
    /* empty segments are skipped */
    snprintf(env, sizeof env, ":%s::%s:", first, second);
    ck_assert_int_eq(setenv("WPDOCK_PLUGIN_PATH", env, 1), 0);
    wpd_plugin_registry *reg = wpd_plugins_load(NULL);
    ck_assert_uint_ge(wpd_plugins_dir_count(reg), 3); /* env dirs, install dir, build dir */
    ck_assert_str_eq(wpd_plugins_dir(reg, 0), first);
    ck_assert_str_eq(wpd_plugins_dir(reg, 1), second);
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "fixture");
    ck_assert_ptr_nonnull(pi);
    ck_assert_str_eq(pi->path, winner);
    /* the default directories come after, and the build tree serves unix:// */
    int found_build = 0;
    for (size_t i = 2; i < wpd_plugins_dir_count(reg); i++) {
        char a[4096], b[4096];
        if (realpath(wpd_plugins_dir(reg, i), a) && realpath(TRANSPORTS_DIR, b) && !strcmp(a, b))
            found_build = 1;
    }
    ck_assert_msg(found_build, "the build tree's transports directory was not searched");
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(reg, "unix"));
    wpd_plugins_free(reg);
}

START_TEST(plugin_path_env_order)
{
    check_env_order(FIX("newer-minor"), FIX("good"), FIX("newer-minor/wpdock-newer.so"));
    check_env_order(FIX("good"), FIX("newer-minor"), FIX("good/wpdock-fixture.so"));
}
END_TEST

START_TEST(plugin_path_env_unset)
{
    ck_assert_int_eq(unsetenv("WPDOCK_PLUGIN_PATH"), 0);
    wpd_plugin_registry *reg = wpd_plugins_load(NULL);
    ck_assert_uint_ge(wpd_plugins_dir_count(reg), 1);
    for (size_t i = 0; i < wpd_plugins_dir_count(reg); i++)
        ck_assert_ptr_null(strstr(wpd_plugins_dir(reg, i), "/tests/fixtures"));
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixture"));
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(reg, "unix"));
    wpd_plugins_free(reg);
}
END_TEST

/* ---- trust: where plugins may come from ---- */

/* A private directory (0700, ours) for one trust case. */
static char *trust_dir(void)
{
    char *d = strdup("/tmp/wpdock-trust-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

/* Copy the good fixture to dir/name with the given mode; returns the path. */
static char *copy_good(const char *dir, const char *name, mode_t mode)
{
    char *dst = NULL;
    ck_assert_int_gt(asprintf(&dst, "%s/%s", dir, name), 0);
    FILE *in = fopen(FIX("good/wpdock-fixture.so"), "rb");
    ck_assert_ptr_nonnull(in);
    FILE *out = fopen(dst, "wb");
    ck_assert_msg(out != NULL, "%s: %s", dst, strerror(errno));
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_int_eq(chmod(dst, mode), 0);
    return dst;
}

static void rm_tree(const char *dir)
{
    char *cmd = NULL;
    ck_assert_int_gt(asprintf(&cmd, "rm -rf '%s'", dir), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

START_TEST(trusted_copy_is_accepted)
{
    /* the control case: the same copy, mode 0755 in a 0700 dir, loads */
    char *dir = trust_dir();
    char *so = copy_good(dir, "wpdock-fixture.so", 0755);
    wpd_plugin_registry *reg = load_one(dir);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_str_eq(wpd_plugins_get(reg, 0)->path, so);
    wpd_plugins_free(reg);
    rm_tree(dir);
    free(so);
    free(dir);
}
END_TEST

START_TEST(file_writable_by_others_is_refused)
{
    char *dir = trust_dir();
    char *so = copy_good(dir, "wpdock-fixture.so", 0757);
    wpd_plugin_registry *reg = load_one(dir);
    const wpd_plugin_refusal *r = only_refusal(reg, so);
    char want[512];
    snprintf(want, sizeof want, "%s is writable by others", so);
    ck_assert_contains(r->reason, want);
    ck_assert_contains(r->reason, "mode 0757");
    ck_assert_contains(r->reason, "chmod go-w");
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixture"));
    wpd_plugins_free(reg);
    /* group-writable too */
    ck_assert_int_eq(chmod(so, 0775), 0);
    reg = load_one(dir);
    r = only_refusal(reg, so);
    snprintf(want, sizeof want, "%s is writable by group (mode 0775", so);
    ck_assert_contains(r->reason, want);
    wpd_plugins_free(reg);
    rm_tree(dir);
    free(so);
    free(dir);
}
END_TEST

START_TEST(dir_writable_by_others_is_refused)
{
    char *dir = trust_dir();
    char *so = copy_good(dir, "wpdock-fixture.so", 0755);
    ck_assert_int_eq(chmod(dir, 0707), 0);
    wpd_plugin_registry *reg = load_one(dir);
    /* one refusal: the directory itself; none of its files is even opened */
    const wpd_plugin_refusal *r = only_refusal(reg, dir);
    char want[512];
    snprintf(want, sizeof want, "%s is writable by others", dir);
    ck_assert_contains(r->reason, want);
    ck_assert_contains(r->reason, "no plugin is loaded from it");
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixture"));
    wpd_plugins_free(reg);
    /* the same through WPDOCK_PLUGIN_PATH: the build tree's plugins still load */
    ck_assert_int_eq(setenv("WPDOCK_PLUGIN_PATH", dir, 1), 0);
    reg = wpd_plugins_load(NULL);
    ck_assert_str_eq(wpd_plugins_refused(reg, 0)->path, dir);
    ck_assert_ptr_null(wpd_plugins_for_scheme(reg, "fixture"));
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(reg, "unix"));
    wpd_plugins_free(reg);
    unsetenv("WPDOCK_PLUGIN_PATH");
    /* and wpd_plugins_load_file checks the file's directory */
    reg = wpd_plugins_load_file(so);
    ck_assert_uint_eq(wpd_plugins_dir_count(reg), 0);
    r = only_refusal(reg, so);
    ck_assert_contains(r->reason, want);
    wpd_plugins_free(reg);
    rm_tree(dir);
    free(so);
    free(dir);
}
END_TEST

START_TEST(foreign_owner_is_refused)
{
    /* the tests run as root, which may give a file away */
    ck_assert_msg(geteuid() == 0, "this test chowns files to uid 1234: run it as root");
    char *dir = trust_dir();
    char *so = copy_good(dir, "wpdock-fixture.so", 0755);
    ck_assert_int_eq(chown(so, 1234, 1234), 0);
    wpd_plugin_registry *reg = load_one(dir);
    const wpd_plugin_refusal *r = only_refusal(reg, so);
    char want[512];
    snprintf(want, sizeof want, "%s is owned by uid 1234 (not root or you)", so);
    ck_assert_contains(r->reason, want);
    wpd_plugins_free(reg);
    /* owned by 1234 and writable by others: both are said */
    ck_assert_int_eq(chmod(so, 0757), 0);
    reg = load_one(dir);
    r = only_refusal(reg, so);
    ck_assert_contains(r->reason, want);
    ck_assert_contains(r->reason, "and writable by others");
    wpd_plugins_free(reg);
    /* a directory given away */
    ck_assert_int_eq(chown(so, 0, 0), 0);
    ck_assert_int_eq(chmod(so, 0755), 0);
    ck_assert_int_eq(chown(dir, 1234, 1234), 0);
    reg = load_one(dir);
    r = only_refusal(reg, dir);
    snprintf(want, sizeof want, "%s is owned by uid 1234 (not root or you)", dir);
    ck_assert_contains(r->reason, want);
    wpd_plugins_free(reg);
    rm_tree(dir);
    free(so);
    free(dir);
}
END_TEST

START_TEST(symlinks_are_checked_at_both_ends)
{
    /* a trusted dir linking to a copy in a loose dir: refused (the target's dir) */
    char *safe = trust_dir(), *loose = trust_dir();
    char *target = copy_good(loose, "real.so", 0755);
    ck_assert_int_eq(chmod(loose, 0707), 0);
    char link[512];
    snprintf(link, sizeof link, "%s/wpdock-link.so", safe);
    ck_assert_int_eq(symlink(target, link), 0);
    wpd_plugin_registry *reg = load_one(safe);
    const wpd_plugin_refusal *r = only_refusal(reg, link);
    ck_assert_contains(r->reason, "is a symlink into");
    char want[512];
    snprintf(want, sizeof want, "%s is writable by others", loose);
    ck_assert_contains(r->reason, want);
    wpd_plugins_free(reg);
    /* a loose target file behind the link: refused (stat follows the link) */
    ck_assert_int_eq(chmod(loose, 0700), 0);
    ck_assert_int_eq(chmod(target, 0757), 0);
    reg = load_one(safe);
    r = only_refusal(reg, link);
    ck_assert_contains(r->reason, "is writable by others");
    wpd_plugins_free(reg);
    /* both ends trusted: the link loads */
    ck_assert_int_eq(chmod(target, 0755), 0);
    reg = load_one(safe);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_str_eq(wpd_plugins_get(reg, 0)->path, link);
    wpd_plugins_free(reg);
    /* a link living in a loose dir pointing at a trusted fixture: the dir check */
    char link2[512];
    snprintf(link2, sizeof link2, "%s/wpdock-fixture.so", loose);
    ck_assert_int_eq(unlink(target), 0);
    ck_assert_int_eq(symlink(FIX("good/wpdock-fixture.so"), link2), 0);
    ck_assert_int_eq(chmod(loose, 0707), 0);
    reg = load_one(loose);
    r = only_refusal(reg, loose);
    ck_assert_contains(r->reason, "is writable by others");
    wpd_plugins_free(reg);
    rm_tree(safe);
    rm_tree(loose);
    free(target);
    free(safe);
    free(loose);
}
END_TEST

START_TEST(load_file_loads_exactly_one)
{
    wpd_plugin_registry *reg = wpd_plugins_load_file(FIX("good/wpdock-fixture.so"));
    ck_assert_uint_eq(wpd_plugins_dir_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_refused_count(reg), 0);
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_str_eq(wpd_plugins_get(reg, 0)->path, FIX("good/wpdock-fixture.so"));
    ck_assert_ptr_nonnull(wpd_plugins_for_scheme(reg, "fixture"));
    wpd_plugins_free(reg);
    /* a refusal keeps the loader's reason */
    reg = wpd_plugins_load_file(FIX("abi-major/wpdock-abi2.so"));
    ck_assert_contains(only_refusal(reg, FIX("abi-major/wpdock-abi2.so"))->reason,
                       "ABI major version 2");
    wpd_plugins_free(reg);
    reg = wpd_plugins_load_file(FIX("good/missing.so"));
    ck_assert_contains(only_refusal(reg, FIX("good/missing.so"))->reason,
                       "No such file or directory");
    wpd_plugins_free(reg);
    reg = wpd_plugins_load_file(FIX("good"));
    ck_assert_contains(only_refusal(reg, FIX("good"))->reason, "not a regular file");
    wpd_plugins_free(reg);
    /* a bare file name is the file in the current directory, not a library search */
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(FIX("good")), 0);
    reg = wpd_plugins_load_file("wpdock-fixture.so");
    ck_assert_uint_eq(wpd_plugins_count(reg), 1);
    ck_assert_str_eq(wpd_plugins_get(reg, 0)->path, "./wpdock-fixture.so");
    wpd_plugins_free(reg);
    ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

/* ---- the real unix plugin of the build tree ---- */

static const wpd_transport_plugin *unix_plugin(wpd_plugin_registry *reg)
{
    const wpd_plugin_info *pi = wpd_plugins_for_scheme(reg, "unix");
    ck_assert_ptr_nonnull(pi);
    ck_assert_str_eq(pi->path, TRANSPORTS_DIR "/wpdock-unix.so");
    return pi->plugin;
}

START_TEST(build_tree_unix_plugin)
{
    wpd_plugin_registry *reg = load_one(TRANSPORTS_DIR);
    ck_assert_uint_ge(wpd_plugins_count(reg), 1);
    for (size_t i = 0; i < wpd_plugins_refused_count(reg); i++)
        ck_abort_msg("refused %s: %s", wpd_plugins_refused(reg, i)->path,
                     wpd_plugins_refused(reg, i)->reason);
    const wpd_transport_plugin *p = unix_plugin(reg);
    ck_assert_str_eq(p->name, "unix");
    ck_assert_uint_eq(p->abi_major, WPD_TRANSPORT_ABI_MAJOR);
    ck_assert_uint_ge(p->struct_size, WPD_TRANSPORT_PLUGIN_MIN_SIZE);
    ck_assert_ptr_nonnull(p->description);
    wpd_plugins_free(reg);
}
END_TEST

static int plugin_open(const wpd_transport_plugin *p, const char *ep, wpd_conn_setup *setup,
                       char *err, size_t errlen)
{
    memset(setup, 0, sizeof *setup);
    err[0] = '\0';
    wpd_transport_options opts = {sizeof opts, NULL, NULL};
    int rc = p->open(ep, &opts, setup, err, errlen);
    if (rc == 0 && p->close)
        p->close(setup);
    return rc;
}

START_TEST(unix_plugin_open)
{
    wpd_plugin_registry *reg = load_one(TRANSPORTS_DIR);
    const wpd_transport_plugin *p = unix_plugin(reg);
    wpd_conn_setup *setup = calloc(1, sizeof *setup);
    char err[WPD_TRANSPORT_MSG_MAX];

    /* a socket that exists */
    char dir[] = "/tmp/wpdock-unix-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/e.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    char ep[512];
    snprintf(ep, sizeof ep, "unix://%s", sun.sun_path);
    ck_assert_msg(plugin_open(p, ep, setup, err, sizeof err) == 0, "open failed: %s", err);
    ck_assert_str_eq(setup->unix_path, sun.sun_path);
    ck_assert_msg(strncmp(setup->base_url, "http://", 7) == 0, "base_url %s", setup->base_url);
    ck_assert_int_ne(setup->base_url[strlen(setup->base_url) - 1], '/');

    /* a missing socket: the message names the path */
    char missing[256];
    snprintf(ep, sizeof ep, "unix://%s/missing.sock", dir);
    snprintf(missing, sizeof missing, "%s/missing.sock", dir);
    ck_assert_int_eq(plugin_open(p, ep, setup, err, sizeof err), -1);
    ck_assert_contains(err, missing);
    ck_assert_contains(err, "does not exist");

    /* a regular file is not a socket */
    char file[256];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(ep, sizeof ep, "unix://%s", file);
    ck_assert_int_eq(plugin_open(p, ep, setup, err, sizeof err), -1);
    ck_assert_contains(err, file);
    ck_assert_contains(err, "not a socket");

    /* relative paths and foreign schemes are malformed endpoints */
    ck_assert_int_eq(plugin_open(p, "unix://rel.sock", setup, err, sizeof err),
                     WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_contains(err, "absolute");
    ck_assert_int_eq(plugin_open(p, "tcp://h:1", setup, err, sizeof err),
                     WPD_TRANSPORT_BAD_ENDPOINT);
    ck_assert_uint_gt(strlen(err), 0);

    close(fd);
    unlink(sun.sun_path);
    unlink(file);
    rmdir(dir);
    free(setup);
    wpd_plugins_free(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, good_plugin_is_accepted);
    tcase_add_test(tc, plugins_are_loaded_local);
    tcase_add_test(tc, scheme_lookup);
    tcase_add_test(tc, abi_major_mismatch_is_refused);
    tcase_add_test(tc, too_small_descriptor_is_refused);
    tcase_add_test(tc, missing_entry_symbol_is_refused);
    tcase_add_test(tc, non_elf_file_is_refused);
    tcase_add_test(tc, descriptor_without_open_is_refused);
    tcase_add_test(tc, newer_minor_version_is_accepted);
    tcase_add_test(tc, plugin_needing_a_newer_core_is_refused);
    tcase_add_test(tc, null_descriptor_and_bad_scheme_are_refused);
    tcase_add_test(tc, abi_1_1_fields_are_read_only_when_present);
    tcase_add_test(tc, duplicate_scheme_second_is_refused);
    tcase_add_test(tc, explicit_dirs_first_wins);
    tcase_add_test(tc, every_case_together);
    tcase_add_test(tc, missing_and_empty_dirs);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("search_path");
    tcase_add_test(te, plugin_path_env_order);
    tcase_add_test(te, plugin_path_env_unset);
    suite_add_tcase(s, te);
    TCase *tu = tcase_create("unix_plugin");
    tcase_add_test(tu, build_tree_unix_plugin);
    tcase_add_test(tu, unix_plugin_open);
    suite_add_tcase(s, tu);
    TCase *tt = tcase_create("trust");
    tcase_add_test(tt, trusted_copy_is_accepted);
    tcase_add_test(tt, file_writable_by_others_is_refused);
    tcase_add_test(tt, dir_writable_by_others_is_refused);
    tcase_add_test(tt, foreign_owner_is_refused);
    tcase_add_test(tt, symlinks_are_checked_at_both_ends);
    tcase_add_test(tt, load_file_loads_exactly_one);
    suite_add_tcase(s, tt);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
