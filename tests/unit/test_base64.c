/* test_base64.c - base64 encoding/decoding against RFC 4648 and spec 7.3. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

static void check_enc(const char *in, const char *want)
{
    char *got = wpd_base64_encode(in, strlen(in));
    ck_assert_str_eq(got, want);
    free(got);
}

static void check_url(const char *in, const char *want)
{
    char *got = wpd_base64url_encode(in, strlen(in));
    ck_assert_str_eq(got, want);
    free(got);
}

static void check_dec(const char *in, const char *want)
{
    wpd_buf b = WPD_BUF_INIT;
    ck_assert_int_eq(wpd_base64_decode(in, strlen(in), &b), 0);
    ck_assert_uint_eq(b.len, strlen(want));
    ck_assert_mem_eq(wpd_buf_cstr(&b), want, b.len);
    wpd_buf_free(&b);
}

static void check_bad(const char *in)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_puts(&b, "keep");
    ck_assert_msg(wpd_base64_decode(in, strlen(in), &b) == -1, "accepted \"%s\"", in);
    ck_assert_str_eq(wpd_buf_cstr(&b), "keep");
    wpd_buf_free(&b);
}

START_TEST(rfc4648_vectors)
{
    static const char *const v[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        check_enc(v[i][0], v[i][1]);
        check_url(v[i][0], v[i][1]);
        check_dec(v[i][1], v[i][0]);
    }
}
END_TEST

START_TEST(alphabets)
{
    const unsigned char bytes[] = {0xfb, 0xff, 0xbf, 0xfe};
    char *s = wpd_base64_encode(bytes, sizeof bytes);
    ck_assert_str_eq(s, "+/+//g==");
    free(s);
    s = wpd_base64url_encode(bytes, sizeof bytes);
    ck_assert_str_eq(s, "-_-__g==");
    free(s);

    const char *inputs[] = {"+/+//g==", "-_-__g==", "-_-__g", "+/-_/g"};
    for (size_t i = 0; i < 4; i++) {
        wpd_buf b = WPD_BUF_INIT;
        ck_assert_int_eq(wpd_base64_decode(inputs[i], strlen(inputs[i]), &b), 0);
        ck_assert_uint_eq(b.len, 4);
        ck_assert_mem_eq(b.data, bytes, 4);
        wpd_buf_free(&b);
    }
}
END_TEST

START_TEST(all_bytes_roundtrip)
{
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    for (size_t n = 0; n <= 256; n++) {
        char *s = wpd_base64_encode(bytes, n);
        ck_assert_uint_eq(strlen(s), (n + 2) / 3 * 4);
        ck_assert_ptr_null(strchr(s, '\n'));
        wpd_buf b = WPD_BUF_INIT;
        ck_assert_int_eq(wpd_base64_decode(s, strlen(s), &b), 0);
        ck_assert_uint_eq(b.len, n);
        if (n)
            ck_assert_mem_eq(b.data, bytes, n);
        free(s);
        wpd_buf_free(&b);
    }
}
END_TEST

START_TEST(decode_unpadded_and_append)
{
    check_dec("Zg", "f");
    check_dec("Zm8", "fo");
    check_dec("Zm9vYg", "foob");
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_puts(&b, "x:");
    ck_assert_int_eq(wpd_base64_decode("Zm9v", 4, &b), 0);
    ck_assert_str_eq(wpd_buf_cstr(&b), "x:foo");
    wpd_buf_free(&b);
}
END_TEST

START_TEST(decode_invalid)
{
    check_bad("Z");
    check_bad("Zm9vY");
    check_bad("Zg=");
    check_bad("Zg===");
    check_bad("Zm9v=");
    check_bad("Zm9v==");
    check_bad("Z===");
    check_bad("====");
    check_bad("Zm=v");
    check_bad("Zm 9v");
    check_bad("Zm9v\n");
    check_bad("Zm9*");
    check_bad("Zm9\xc3\xa9");
}
END_TEST

/* Spec 7.3: X-Registry-Auth header values. */
START_TEST(registry_auth_vectors)
{
    check_url("{}", "e30=");
    check_url("{\"username\":\"user\",\"password\":\"pwd\"}",
              "eyJ1c2VybmFtZSI6InVzZXIiLCJwYXNzd29yZCI6InB3ZCJ9");
    check_url("{\"username\":\"bot\",\"password\":\"pa?ss\"}",
              "eyJ1c2VybmFtZSI6ImJvdCIsInBhc3N3b3JkIjoicGE_c3MifQ==");
    check_url("{\"username\":\"ci\",\"password\":\"s3cr3t!\"}",
              "eyJ1c2VybmFtZSI6ImNpIiwicGFzc3dvcmQiOiJzM2NyM3QhIn0=");
    /* the standard alphabet differs exactly where '_' appears */
    check_enc("{\"username\":\"bot\",\"password\":\"pa?ss\"}",
              "eyJ1c2VybmFtZSI6ImJvdCIsInBhc3N3b3JkIjoicGE/c3MifQ==");
    check_dec("eyJ1c2VybmFtZSI6ImJvdCIsInBhc3N3b3JkIjoicGE_c3MifQ==",
              "{\"username\":\"bot\",\"password\":\"pa?ss\"}");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rfc4648_vectors);
    tcase_add_test(tc, alphabets);
    tcase_add_test(tc, all_bytes_roundtrip);
    tcase_add_test(tc, decode_unpadded_and_append);
    tcase_add_test(tc, decode_invalid);
    tcase_add_test(tc, registry_auth_vectors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
