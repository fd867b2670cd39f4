/* test_tcptls_files.c - the tcptls transport plugin's checks of the cert
 * directory and its files: missing files, directory problems, an
 * unreadable key, what the key and certificate files hold, and a small
 * error buffer. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "tcptls_fixtures.h"

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
        ("Private-Key: (2048 bit)\nmodulus: 00:c3\n" PEM_KEY),
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

int main(void)
{
    Suite *s = suite_create("tcptls_files");
    TCase *tp = tcase_create("plugin");
    tcase_add_unchecked_fixture(tp, load_plugin, unload_plugin); /* once, before the forks */
    tcase_add_checked_fixture(tp, make_certdir, remove_certdir);
    tcase_add_test(tp, missing_files);
    tcase_add_test(tp, cert_dir_problems);
    tcase_add_test(tp, unreadable_key);
    tcase_add_test(tp, key_contents);
    tcase_add_test(tp, cert_contents);
    tcase_add_test(tp, small_error_buffer);
    suite_add_tcase(s, tp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
