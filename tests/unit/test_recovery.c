/* test_recovery.c - the pure parts of recovering from engine faults: a
 * container that is gone (Docker's 404, Podman's lower-case "no such
 * container" in a 500) and a connection that failed for want of file
 * descriptors, explained with the process limit. The faults themselves are
 * tested against real engines in tests/integration/test_faults_*.c. */
#define _GNU_SOURCE
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <wpdock/error.h>
#include <wpdock/transport.h>

#include "engine/dialect.h"
#include "io/connerr.h"

#define ck_assert_contains(hay, needle)                                                            \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" does not contain \"%s\"", (hay),        \
                  (needle))

START_TEST(test_no_such_container)
{
    wpd_error e;
    wpd_error_set(&e, WPD_ERR_ENGINE, 404, "No such container: wp_x");
    ck_assert(wpd_dialect_no_such_container(&e));
    wpd_error_set(&e, WPD_ERR_ENGINE, 500,
                  "no container with name or ID \"wp_x\" found: no such container");
    ck_assert(wpd_dialect_no_such_container(&e));
    wpd_error_set(&e, WPD_ERR_ENGINE, 409, "removal of container wp_x is already in progress");
    ck_assert(!wpd_dialect_no_such_container(&e));
    /* a connection failure says nothing about the container */
    wpd_error_set(&e, WPD_ERR_CONNECT, 0, "no such container (socket gone)");
    ck_assert(!wpd_dialect_no_such_container(&e));
    ck_assert(!wpd_dialect_no_such_container(NULL));
}
END_TEST

static wpd_conn_setup unix_setup(void)
{
    wpd_conn_setup s;
    memset(&s, 0, sizeof s);
    snprintf(s.base_url, sizeof s.base_url, "http://localhost");
    snprintf(s.unix_path, sizeof s.unix_path, "/run/x.sock");
    return s;
}

START_TEST(test_out_of_descriptors)
{
    wpd_conn_setup s = unix_setup();
    char out[WPD_ERROR_MAX];
    const char *curl_msg = "Failed to connect to localhost port 80 after 0 ms: Couldn't connect";
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_int_eq(wpd_describe_transfer_error(CURLE_COULDNT_CONNECT, curl_msg, EMFILE, 0, &s,
                                                 out, sizeof out),
                     1);
    ck_assert_contains(out, "out of file descriptors");
    if (rl.rlim_cur != RLIM_INFINITY) {
        char limit[64];
        snprintf(limit, sizeof limit, "may have %llu open (ulimit -n)",
                 (unsigned long long)rl.rlim_cur);
        ck_assert_contains(out, limit);
    }
    ck_assert_contains(out, curl_msg);
    ck_assert_int_eq(wpd_describe_transfer_error(CURLE_COULDNT_CONNECT, curl_msg, ENFILE, 0, &s,
                                                 out, sizeof out),
                     1);
    ck_assert_contains(out, "out of file descriptors (the system's limit)");
    /* other connect failures keep their own explanation */
    wpd_describe_transfer_error(CURLE_COULDNT_CONNECT, curl_msg, ENOENT, 0, &s, out, sizeof out);
    ck_assert_contains(out, "socket /run/x.sock does not exist");
}
END_TEST

static Suite *recovery_suite(void)
{
    Suite *s = suite_create("recovery");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_no_such_container);
    tcase_add_test(tc, test_out_of_descriptors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(recovery_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
