/* test_plugin_check.c - the conformance check of one plugin file
 * (wpd_plugin_check_file, behind `wpdock plugins --check`) on the fixture
 * plugins of tests/fixtures and the build tree's transports: which item
 * holds or fails and why; and the ELF dynamic symbol reader under it
 * (plugins/elfsyms.c) on real files and on cut-off and corrupted ones. */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wpdock/plugins.h>

#include "registry.h"
#include "testutil.h"

#define FIX(sub) FIXTURE_PLUGIN_DIR "/" sub
#define TRANSPORTS_DIR FIXTURE_PLUGIN_DIR "/../../transports"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

typedef struct result {
    size_t n, failed;
    char *item[64];
    wpd_check_status st[64];
    char *detail[64];
} result;

static void collect(void *arg, const char *item, wpd_check_status st, const char *detail)
{
    result *r = arg;
    ck_assert_uint_lt(r->n, 64);
    ck_assert_ptr_nonnull(item);
    ck_assert_ptr_nonnull(detail);
    ck_assert_msg(*detail, "item %s has no detail", item);
    r->item[r->n] = strdup(item);
    r->st[r->n] = st;
    r->detail[r->n] = strdup(detail);
    r->n++;
    if (st == WPD_CHECK_FAILED)
        r->failed++;
}

static result *check(const char *path)
{
    result *r = calloc(1, sizeof *r);
    size_t failed = wpd_plugin_check_file(path, collect, r);
    ck_assert_uint_eq(failed, r->failed);
    return r;
}

static void result_free(result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->item[i]);
        free(r->detail[i]);
    }
    free(r);
}

/* The item named `item`; fails the test when it is not there. */
static size_t find(const result *r, const char *item)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->item[i], item) == 0)
            return i;
    ck_abort_msg("no item \"%s\"", item);
    return 0;
}

static void expect(const result *r, const char *item, wpd_check_status st, const char *needle)
{
    size_t i = find(r, item);
    ck_assert_msg(r->st[i] == st, "item %s: status %d, expected %d (%s)", item, r->st[i], st,
                  r->detail[i]);
    if (needle)
        ck_assert_contains(r->detail[i], needle);
}

/* Every item of a conforming file holds (or does not apply). */
static void expect_all_ok(const result *r)
{
    for (size_t i = 0; i < r->n; i++)
        ck_assert_msg(r->st[i] != WPD_CHECK_FAILED, "item %s failed: %s", r->item[i], r->detail[i]);
    ck_assert_uint_eq(r->failed, 0);
}

static const char *const all_items[] = {"file",
                                        "trust: file",
                                        "trust: directory",
                                        "exports",
                                        "dlopen",
                                        "entry symbol",
                                        "entry()",
                                        "abi_major",
                                        "struct_size",
                                        "name",
                                        "version",
                                        "open",
                                        "min_core_minor",
                                        "schemes",
                                        "description",
                                        "abi 1.1 functions",
                                        NULL};

START_TEST(good_fixture_conforms)
{
    result *r = check(FIX("good/wpdock-fixture.so"));
    expect_all_ok(r);
    /* every item is reported, in this order */
    size_t k = 0;
    for (size_t i = 0; all_items[i]; i++, k++) {
        ck_assert_uint_lt(k, r->n);
        ck_assert_str_eq(r->item[k], all_items[i]);
    }
    ck_assert_uint_eq(r->n, k);
    expect(r, "exports", WPD_CHECK_OK, "exactly one dynamic symbol, wpdock_transport_entry");
    expect(r, "dlopen", WPD_CHECK_OK, "RTLD_NOW");
    expect(r, "name", WPD_CHECK_OK, "\"fixture\"");
    expect(r, "schemes", WPD_CHECK_OK, "fixture://");
    expect(r, "abi_major", WPD_CHECK_OK, "this wpdock speaks 1.1");
    expect(r, "abi 1.1 functions", WPD_CHECK_OK, "connect not set, headers not set");
    result_free(r);
}
END_TEST

START_TEST(connect_fixture_conforms)
{
    result *r = check(FIX("connect/wpdock-fixconn.so"));
    expect_all_ok(r);
    expect(r, "min_core_minor", WPD_CHECK_OK, "needs a 1.1 core");
    expect(r, "abi 1.1 functions", WPD_CHECK_OK, "connect set, headers set");
    result_free(r);
}
END_TEST

START_TEST(abi10_fixture_conforms)
{
    result *r = check(FIX("abi10/wpdock-abi10.so"));
    expect_all_ok(r);
    expect(r, "min_core_minor", WPD_CHECK_SKIPPED, "ABI 1.0");
    expect(r, "abi 1.1 functions", WPD_CHECK_SKIPPED, "1.0 descriptor");
    result_free(r);
}
END_TEST

START_TEST(build_tree_transports_conform)
{
    const char *names[] = {"unix", "podman", "tcptls"};
    for (size_t i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/wpdock-%s.so", TRANSPORTS_DIR, names[i]);
        result *r = check(path);
        expect_all_ok(r);
        char want[64];
        snprintf(want, sizeof want, "\"%s\"", names[i]);
        expect(r, "name", WPD_CHECK_OK, want);
        result_free(r);
    }
}
END_TEST

START_TEST(broken_fixtures_fail_the_right_item)
{
    struct {
        const char *file, *item, *needle;
    } cases[] = {
        {FIX("abi-major/wpdock-abi2.so"), "abi_major", "ABI major version 2"},
        {FIX("too-small/wpdock-small.so"), "struct_size", "too small"},
        {FIX("no-symbol/wpdock-nosym.so"), "exports", "wpdock_transport_entry is not exported"},
        {FIX("no-symbol/wpdock-nosym.so"), "entry symbol", "no entry symbol"},
        {FIX("not-elf/notelf.so"), "exports", "not an ELF file"},
        {FIX("not-elf/notelf.so"), "dlopen", "not a loadable shared object"},
        {FIX("incomplete/wpdock-incomplete.so"), "open", "no open function"},
        {FIX("needs-newer/wpdock-needs9.so"), "min_core_minor", "needs transport ABI 1.9"},
        {FIX("two-exports/wpdock-twoexp.so"), "exports", "2 exported dynamic symbols"},
        {FIX("two-exports/wpdock-twoexp.so"), "exports", "wpdock_fixture_extra_export"},
        {FIX("unresolved/wpdock-unresolved.so"), "dlopen",
         "wpdock_fixture_function_nobody_defines"},
        {FIX("null-entry/wpdock-nullentry.so"), "entry()", "returned NULL"},
        {FIX("bad-scheme/wpdock-badscheme.so"), "schemes", "\"FixCheck\" can never match"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result *r = check(cases[i].file);
        ck_assert_msg(r->failed > 0, "%s: nothing failed", cases[i].file);
        expect(r, cases[i].item, WPD_CHECK_FAILED, cases[i].needle);
        /* the file item itself holds: the file is there */
        expect(r, "file", WPD_CHECK_OK, NULL);
        result_free(r);
    }
    /* after a wrong major version no field is read */
    result *r = check(FIX("abi-major/wpdock-abi2.so"));
    expect(r, "name", WPD_CHECK_SKIPPED, "another ABI major version");
    ck_assert_uint_eq(r->failed, 1);
    result_free(r);
    /* an unresolvable file: nothing after dlopen is checked, but its exports are */
    r = check(FIX("unresolved/wpdock-unresolved.so"));
    expect(r, "exports", WPD_CHECK_OK, NULL);
    expect(r, "entry()", WPD_CHECK_SKIPPED, NULL);
    ck_assert_uint_eq(r->failed, 1);
    result_free(r);
}
END_TEST

START_TEST(missing_file)
{
    result *r = check(FIX("good/no-such-plugin.so"));
    expect(r, "file", WPD_CHECK_FAILED, "No such file or directory");
    ck_assert_uint_eq(r->failed, 1);
    expect(r, "dlopen", WPD_CHECK_SKIPPED, NULL);
    result_free(r);
    r = check(FIX("good"));
    expect(r, "file", WPD_CHECK_FAILED, "not a regular file");
    result_free(r);
}
END_TEST

START_TEST(untrusted_file_is_not_loaded)
{
    char *dir = tu_mkdtemp();
    char *so = NULL;
    ck_assert_int_gt(asprintf(&so, "%s/loose.so", dir), 0);
    size_t len = 0;
    char *data = tu_read_file(FIX("good/wpdock-fixture.so"), &len);
    ck_assert_ptr_nonnull(data);
    tu_write_file(so, data, len);
    free(data);
    ck_assert_int_eq(chmod(so, 0666), 0);
    result *r = check(so);
    expect(r, "trust: file", WPD_CHECK_FAILED, "is writable by group and others");
    expect(r, "exports", WPD_CHECK_OK, NULL); /* read, not run */
    expect(r, "dlopen", WPD_CHECK_SKIPPED, "an untrusted file is not loaded");
    ck_assert_uint_eq(r->failed, 1);
    result_free(r);
    ck_assert_int_eq(chmod(so, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0757), 0);
    r = check(so);
    expect(r, "trust: file", WPD_CHECK_OK, NULL);
    expect(r, "trust: directory", WPD_CHECK_FAILED, "is writable by others");
    expect(r, "dlopen", WPD_CHECK_SKIPPED, NULL);
    result_free(r);
    tu_rm_rf(dir);
    free(so);
    free(dir);
}
END_TEST

/* ---- the ELF reader ---- */

struct names {
    char buf[1024];
    long n;
};

static void on_name(void *arg, const char *name, size_t len)
{
    struct names *x = arg;
    size_t l = strlen(x->buf);
    snprintf(x->buf + l, sizeof x->buf - l, "%s%.*s", l ? "," : "", (int)len, name);
    x->n++;
}

static long exports_of(const char *path, struct names *x)
{
    size_t len = 0;
    char *data = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(data);
    memset(x, 0, sizeof *x);
    char err[256] = "";
    long n = wpd_elf_exports((const unsigned char *)data, len, on_name, x, err, sizeof err);
    ck_assert_msg(n >= 0, "%s: %s", path, err);
    ck_assert_int_eq(n, x->n);
    free(data);
    return n;
}

START_TEST(elf_exports_of_real_files)
{
    struct names x;
    ck_assert_int_eq(exports_of(FIX("good/wpdock-fixture.so"), &x), 1);
    ck_assert_str_eq(x.buf, "wpdock_transport_entry");
    ck_assert_int_eq(exports_of(FIX("no-symbol/wpdock-nosym.so"), &x), 1);
    ck_assert_str_eq(x.buf, "fixture_unrelated_export");
    ck_assert_int_eq(exports_of(FIX("two-exports/wpdock-twoexp.so"), &x), 2);
    ck_assert_contains(x.buf, "wpdock_transport_entry");
    ck_assert_contains(x.buf, "wpdock_fixture_extra_export");
    /* an undefined reference is not an export */
    ck_assert_int_eq(exports_of(FIX("unresolved/wpdock-unresolved.so"), &x), 1);
    ck_assert_str_eq(x.buf, "wpdock_transport_entry");
}
END_TEST

START_TEST(elf_refuses_what_it_cannot_read)
{
    char err[256];
    const unsigned char text[] = "hello, not an ELF file";
    ck_assert_int_eq(wpd_elf_exports(text, sizeof text, NULL, NULL, err, sizeof err), -1);
    ck_assert_contains(err, "not an ELF file");
    ck_assert_int_eq(wpd_elf_exports(text, 0, NULL, NULL, err, sizeof err), -1);

    size_t len = 0;
    char *data = tu_read_file(FIX("good/wpdock-fixture.so"), &len);
    ck_assert_ptr_nonnull(data);
    unsigned char *copy = malloc(len);
    /* every cut-off length: an error or a count, never a read past the end (ASan) */
    for (size_t cut = 0; cut < len; cut += (cut < 128 ? 1 : 61)) {
        unsigned char *p = malloc(cut ? cut : 1);
        memcpy(p, data, cut);
        long n = wpd_elf_exports(p, cut, NULL, NULL, err, sizeof err);
        ck_assert(n == -1 || n >= 0);
        free(p);
    }
    /* an executable is not a shared object */
    memcpy(copy, data, len);
    ElfW(Ehdr) eh;
    memcpy(&eh, copy, sizeof eh);
    eh.e_type = ET_EXEC;
    memcpy(copy, &eh, sizeof eh);
    ck_assert_int_eq(wpd_elf_exports(copy, len, NULL, NULL, err, sizeof err), -1);
    ck_assert_contains(err, "not a shared object");
    /* section headers pointing past the end */
    memcpy(copy, data, len);
    eh.e_type = ET_DYN;
    eh.e_shoff = len - 8;
    memcpy(copy, &eh, sizeof eh);
    ck_assert_int_eq(wpd_elf_exports(copy, len, NULL, NULL, err, sizeof err), -1);
    ck_assert_contains(err, "outside the file");
    /* the other class */
    memcpy(copy, data, len);
    copy[EI_CLASS] = copy[EI_CLASS] == ELFCLASS64 ? ELFCLASS32 : ELFCLASS64;
    ck_assert_int_eq(wpd_elf_exports(copy, len, NULL, NULL, err, sizeof err), -1);
    ck_assert_contains(err, "ELF class");
    /* random bytes in the body: never a crash */
    srand(7);
    for (int round = 0; round < 300; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 16; k++)
            copy[sizeof eh + (size_t)rand() % (len - sizeof eh)] = (unsigned char)rand();
        wpd_elf_exports(copy, len, NULL, NULL, err, sizeof err);
    }
    free(copy);
    free(data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_check");
    TCase *tc = tcase_create("check");
    tcase_add_test(tc, good_fixture_conforms);
    tcase_add_test(tc, connect_fixture_conforms);
    tcase_add_test(tc, abi10_fixture_conforms);
    tcase_add_test(tc, build_tree_transports_conform);
    tcase_add_test(tc, broken_fixtures_fail_the_right_item);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, untrusted_file_is_not_loaded);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("elf");
    tcase_add_test(te, elf_exports_of_real_files);
    tcase_add_test(te, elf_refuses_what_it_cannot_read);
    suite_add_tcase(s, te);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
