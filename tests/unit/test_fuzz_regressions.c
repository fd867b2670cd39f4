/* test_fuzz_regressions.c - inputs the fuzz targets (tests/fuzz) turned up,
 * kept as unit tests: each test names the target and what the input showed,
 * and checks the behaviour the fix (or the spec) settled on. A new crash
 * input goes here as a byte string, with the target's name. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "engine/credentials.h"
#include "util/base64.h"
#include "util/buf.h"
#include "woodpecker/convert.h"

/* fuzz_engine_resp: container inspect read port numbers with atoi, which
 * is undefined for digits beyond int and passed negative numbers on; an
 * out-of-range or malformed port now reads as 0 (not published). */
START_TEST(inspect_ports_out_of_range)
{
    static const char body[] =
        "{\"NetworkSettings\":{\"Ports\":{"
        "\"99999999999999999999/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"-5\"}],"
        "\"80/udp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"4294967377\"}],"
        "\"65536/tcp\":null,"
        "\"443/tcp\":[{\"HostIp\":\"::\",\"HostPort\":\"8443\"}]}}}";
    wpd_arena *a = wpd_arena_new();
    wpd_ctr_info info;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_ctr_info_parse(body, strlen(body), a, &info, &err), 0);
    ck_assert_uint_eq(info.n_ports, 4);
    int seen443 = 0;
    for (size_t i = 0; i < info.n_ports; i++) {
        const wpd_port_binding *p = &info.ports[i];
        ck_assert_int_ge(p->container_port, 0);
        ck_assert_int_le(p->container_port, 65535);
        ck_assert_int_ge(p->host_port, 0);
        ck_assert_int_le(p->host_port, 65535);
        if (p->container_port == 443) {
            seen443 = 1;
            ck_assert_int_eq(p->host_port, 8443);
            ck_assert_str_eq(p->proto, "tcp");
        } else if (p->container_port == 80) {
            ck_assert_int_eq(p->host_port, 0);
            ck_assert_str_eq(p->proto, "udp");
        } else {
            ck_assert_int_eq(p->container_port, 0);
            ck_assert_int_eq(p->host_port, 0);
        }
    }
    ck_assert(seen443);
    wpd_arena_free(a);
}
END_TEST

/* fuzz_config: "volumes":[""] splits into one empty part. Not a bug: spec
 * 4.1 says an entry without ':' is its own single part, even when empty
 * (and every consumer skips entries of fewer than two parts). */
START_TEST(volume_split_empty_entry)
{
    char **parts = NULL;
    ck_assert_uint_eq(wpd_volume_split("", &parts), 1);
    ck_assert_str_eq(parts[0], "");
    wpd_strv_free(parts, 1);
    ck_assert_uint_eq(wpd_volume_split(":", &parts), 0);
    ck_assert_ptr_null(parts);
}
END_TEST

/* fuzz_credentials: an `auth` whose user name is not valid UTF-8. The
 * X-Registry-Auth JSON carries U+FFFD for the bad byte, as Go's encoder
 * (and so the docker CLI) does; the header is still valid base64url JSON. */
START_TEST(auth_user_invalid_utf8)
{
    /* base64 of "\xa4/u:p" */
    char *user = NULL, *pass = NULL;
    wpd_error err = {0};
    ck_assert_int_eq(wpd_cred_decode_auth("pC91OnA=", &user, &pass, &err), 0);
    ck_assert_str_eq(user, "\xa4/u");
    ck_assert_str_eq(pass, "p");
    char *hdr = wpd_cred_header_basic(user, pass, "https://index.docker.io/v1/");
    wpd_buf raw = WPD_BUF_INIT;
    ck_assert_int_eq(wpd_base64_decode(hdr, strlen(hdr), &raw), 0);
    ck_assert_ptr_nonnull(strstr(wpd_buf_cstr(&raw), "\"username\":\"\\ufffd/u\""));
    wpd_buf_free(&raw);
    free(hdr);
    free(user);
    free(pass);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("inputs");
    tcase_add_test(tc, inspect_ports_out_of_range);
    tcase_add_test(tc, volume_split_empty_entry);
    tcase_add_test(tc, auth_user_invalid_utf8);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
