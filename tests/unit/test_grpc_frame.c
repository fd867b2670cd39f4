/* test_grpc_frame.c - the pure gRPC layer (core/grpc/frame.c): message
 * framing and the incremental deframer, grpc-message decoding, status
 * names, the HTTP -> gRPC status mapping, WOODPECKER_SERVER target parsing;
 * and the protobuf encodings of the protocol spec (section 2, "Protobuf
 * notes") with the generated protobuf-c messages. */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/woodpecker_messages.pb-c.h"
#include "grpc/frame.h"
#include "wpdock/runtime.h"

/* ---------------------------------------------------------------- helpers */

/* A small deterministic generator (xorshift64*) for the random splits. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint8_t *pattern(size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
    return p;
}

/* Frame msg, deframe it fed in pieces of the sizes rng picks (1..maxpiece,
 * or byte by byte for maxpiece 1) and check the message comes back. */
static void roundtrip(const uint8_t *msg, size_t len, size_t maxpiece)
{
    wpd_buf f = WPD_BUF_INIT;
    wpd_grpc_frame(&f, msg, len);
    ck_assert_uint_eq(f.len, len + 5);

    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    char why[256] = "";
    size_t at = 0;
    /* checked without an assertion per piece (each one costs Check a
     * message to its parent process) */
    int rc = 0, early = 0;
    while (at < f.len && rc == 0) {
        early |= wpd_grpc_deframer_complete(&d);
        size_t k = maxpiece <= 1 ? 1 : 1 + (size_t)(rng() % maxpiece);
        if (k > f.len - at)
            k = f.len - at;
        rc = wpd_grpc_deframer_feed(&d, f.data + at, k, why, sizeof why);
        at += k;
    }
    ck_assert_msg(rc == 0, "len %zu: %d %s", len, rc, why);
    ck_assert_msg(!early, "len %zu: complete before the end", len);
    ck_assert_msg(wpd_grpc_deframer_complete(&d), "len %zu maxpiece %zu", len, maxpiece);
    ck_assert_uint_eq(d.msg.len, len);
    ck_assert_uint_eq(d.n_messages, 1);
    if (len)
        ck_assert_mem_eq(d.msg.data, msg, len);
    wpd_grpc_deframer_free(&d);
    wpd_buf_free(&f);
}

/* Feed everything at once; the code returned. */
static int feed_all(wpd_grpc_deframer *d, const void *data, size_t len, char *why, size_t whylen)
{
    return wpd_grpc_deframer_feed(d, data, len, why, whylen);
}

/* ---------------------------------------------------------------- framing */

START_TEST(frame_empty_message)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_grpc_frame(&b, NULL, 0);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.data, "\0\0\0\0\0", 5);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(frame_prefix_and_append)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_puts(&b, "xy");
    wpd_grpc_frame(&b, (const uint8_t *)"abc", 3);
    ck_assert_uint_eq(b.len, 2 + 5 + 3);
    ck_assert_mem_eq(b.data, "xy\0\0\0\0\3abc", 10);
    /* a second frame goes after the first */
    wpd_grpc_frame(&b, (const uint8_t *)"\0", 1);
    ck_assert_uint_eq(b.len, 16);
    ck_assert_mem_eq(b.data + 10, "\0\0\0\0\1\0", 6);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(frame_length_is_big_endian)
{
    static const struct {
        size_t len;
        uint8_t head[5];
    } v[] = {
        {255, {0, 0, 0, 0, 0xff}},      {256, {0, 0, 0, 1, 0}},
        {65535, {0, 0, 0, 0xff, 0xff}}, {65536, {0, 0, 1, 0, 0}},
        {0x010203, {0, 0, 1, 2, 3}},    {(size_t)4 << 20, {0, 0, 0x40, 0, 0}},
        {0x01000203, {0, 1, 0, 2, 3}},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t *msg = pattern(v[i].len);
        wpd_buf b = WPD_BUF_INIT;
        wpd_grpc_frame(&b, msg, v[i].len);
        ck_assert_uint_eq(b.len, v[i].len + 5);
        ck_assert_mem_eq(b.data, v[i].head, 5);
        ck_assert_mem_eq(b.data + 5, msg, v[i].len);
        wpd_buf_free(&b);
        free(msg);
    }
}
END_TEST

/* ---------------------------------------------------------------- deframer */

START_TEST(deframe_roundtrip_sizes)
{
    static const size_t sizes[] = {0,   1,   2,    4,     5,     6,     127,   128,
                                   255, 256, 1000, 65535, 65536, 65537, 200000};
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *msg = pattern(sizes[i]);
        roundtrip(msg, sizes[i], (size_t)-1); /* all at once */
        if (sizes[i] <= 65537)
            roundtrip(msg, sizes[i], 1); /* byte by byte */
        roundtrip(msg, sizes[i], 3);
        roundtrip(msg, sizes[i], 17);
        roundtrip(msg, sizes[i], 4096);
        free(msg);
    }
}
END_TEST

START_TEST(deframe_random_splits)
{
    rng_state = 0x0123456789abcdefULL;
    for (int round = 0; round < 500; round++) {
        size_t len = (size_t)(rng() % 300);
        uint8_t *msg = malloc(len + 1);
        for (size_t i = 0; i < len; i++)
            msg[i] = (uint8_t)rng();
        roundtrip(msg, len, 1 + (size_t)(rng() % 12));
        free(msg);
    }
}
END_TEST

START_TEST(deframe_big_message)
{
    /* just over 16 MiB, what the spec asks the agent to accept at least */
    size_t len = ((size_t)16 << 20) + 3;
    uint8_t *msg = pattern(len);
    rng_state = 42;
    roundtrip(msg, len, (size_t)-1);
    roundtrip(msg, len, 16384); /* chunks as libcurl hands them over */
    free(msg);
}
END_TEST

START_TEST(deframe_empty_message)
{
    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, 0); /* even a limit of 0 takes an empty message */
    char why[128] = "";
    ck_assert(!wpd_grpc_deframer_complete(&d)); /* no body at all */
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\0", 5, why, sizeof why), 0);
    ck_assert(wpd_grpc_deframer_complete(&d));
    ck_assert_uint_eq(d.msg.len, 0);
    ck_assert_str_eq(wpd_buf_cstr(&d.msg), "");
    wpd_grpc_deframer_free(&d);

    /* byte by byte */
    wpd_grpc_deframer_init(&d, 0);
    for (int i = 0; i < 5; i++) {
        ck_assert(!wpd_grpc_deframer_complete(&d));
        ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "\0", 1, why, sizeof why), 0);
    }
    ck_assert(wpd_grpc_deframer_complete(&d));
    wpd_grpc_deframer_free(&d);
}
END_TEST

START_TEST(deframe_zero_length_feeds)
{
    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, 100);
    char why[128] = "";
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "", 0, why, sizeof why), 0);
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "\0\0\0", 3, why, sizeof why), 0);
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "", 0, why, sizeof why), 0);
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "\0\2", 2, why, sizeof why), 0);
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "", 0, why, sizeof why), 0);
    ck_assert(!wpd_grpc_deframer_complete(&d));
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "hi", 2, why, sizeof why), 0);
    ck_assert_int_eq(wpd_grpc_deframer_feed(&d, "", 0, why, sizeof why), 0);
    ck_assert(wpd_grpc_deframer_complete(&d));
    ck_assert_str_eq(wpd_buf_cstr(&d.msg), "hi");
    wpd_grpc_deframer_free(&d);
}
END_TEST

START_TEST(deframe_incomplete)
{
    /* a body that ends inside the prefix or inside the message */
    static const struct {
        const char *data;
        size_t len;
    } v[] = {
        {"\0", 1},         {"\0\0\0\0", 4},    {"\0\0\0\0\1", 5}, {"\0\0\0\0\4abc", 8},
        {"\0\0\0\1\0", 5}, {"\0\0\0\0\2x", 6},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        wpd_grpc_deframer d;
        wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
        char why[128] = "";
        ck_assert_int_eq(feed_all(&d, v[i].data, v[i].len, why, sizeof why), 0);
        ck_assert_msg(!wpd_grpc_deframer_complete(&d), "case %zu complete", i);
        wpd_grpc_deframer_free(&d);
    }
}
END_TEST

START_TEST(deframe_compressed_flag)
{
    /* flag 1 (compressed) is refused whatever follows, also fed byte by byte */
    const char in[] = "\1\0\0\0\3abc";
    for (int split = 0; split < 2; split++) {
        wpd_grpc_deframer d;
        wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
        char why[128] = "";
        int rc = 0;
        if (split) {
            for (size_t i = 0; i < 5 && rc == 0; i++) {
                rc = wpd_grpc_deframer_feed(&d, in + i, 1, why, sizeof why);
                if (i < 4)
                    ck_assert_int_eq(rc, 0);
            }
        } else {
            rc = feed_all(&d, in, sizeof in - 1, why, sizeof why);
        }
        ck_assert_int_eq(rc, WPD_GRPC_INTERNAL);
        ck_assert_ptr_nonnull(strstr(why, "compressed"));
        ck_assert(!wpd_grpc_deframer_complete(&d));
        wpd_grpc_deframer_free(&d);
    }
    /* any odd flag byte is "compressed"; other flag bits are a bad prefix */
    static const struct {
        uint8_t flag;
        const char *why;
    } v[] = {
        {0x03, "compressed"},
        {0x81, "compressed"},
        {0x02, "bad message prefix 0x02"},
        {0x80, "bad message prefix 0x80"},
        {0xfe, "bad message prefix 0xfe"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t head[5] = {v[i].flag, 0, 0, 0, 0};
        wpd_grpc_deframer d;
        wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
        char why[128] = "";
        ck_assert_int_eq(feed_all(&d, head, 5, why, sizeof why), WPD_GRPC_INTERNAL);
        ck_assert_msg(strstr(why, v[i].why), "0x%02x: %s", v[i].flag, why);
        wpd_grpc_deframer_free(&d);
    }
}
END_TEST

START_TEST(deframe_second_message)
{
    const char two[] = "\0\0\0\0\2hi\0\0\0\0\0";
    /* all at once */
    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    char why[128] = "";
    ck_assert_int_eq(feed_all(&d, two, sizeof two - 1, why, sizeof why), WPD_GRPC_INTERNAL);
    ck_assert_ptr_nonnull(strstr(why, "more than one message"));
    wpd_grpc_deframer_free(&d);

    /* in pieces: complete after the first message, no longer once a
     * second prefix begins, refused when it is whole */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, two, 7, why, sizeof why), 0);
    ck_assert(wpd_grpc_deframer_complete(&d));
    ck_assert_int_eq(feed_all(&d, two + 7, 2, why, sizeof why), 0);
    ck_assert(!wpd_grpc_deframer_complete(&d)); /* a partial second prefix */
    ck_assert_int_eq(feed_all(&d, two + 9, 3, why, sizeof why), WPD_GRPC_INTERNAL);
    ck_assert_ptr_nonnull(strstr(why, "more than one message"));
    wpd_grpc_deframer_free(&d);

    /* two empty messages */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\0\0\0\0\0\0", 10, why, sizeof why), WPD_GRPC_INTERNAL);
    wpd_grpc_deframer_free(&d);

    /* a compressed second message: INTERNAL as well */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\0\1\0\0\0\0", 10, why, sizeof why), WPD_GRPC_INTERNAL);
    wpd_grpc_deframer_free(&d);
}
END_TEST

START_TEST(deframe_limit)
{
    char why[160] = "";
    wpd_grpc_deframer d;

    /* exactly the limit is fine */
    wpd_grpc_deframer_init(&d, 3);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\3abc", 8, why, sizeof why), 0);
    ck_assert(wpd_grpc_deframer_complete(&d));
    wpd_grpc_deframer_free(&d);

    /* one above it is refused as soon as the prefix is whole */
    wpd_grpc_deframer_init(&d, 3);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0", 4, why, sizeof why), 0);
    ck_assert_int_eq(feed_all(&d, "\4", 1, why, sizeof why), WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(why, "the response message of 4 bytes exceeds the limit of 3");
    ck_assert(!wpd_grpc_deframer_complete(&d));
    ck_assert_uint_eq(d.msg.cap, 0); /* nothing was allocated */
    wpd_grpc_deframer_free(&d);

    /* a 4 GiB - 1 announcement against the real limit: refused before any
     * allocation */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\xff\xff\xff\xff", 5, why, sizeof why),
                     WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(why, "the response message of 4294967295 bytes exceeds the limit of 67108864");
    ck_assert_ptr_null(d.msg.data);
    ck_assert_uint_eq(d.msg.cap, 0);
    wpd_grpc_deframer_free(&d);

    /* 64 MiB + 1 */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\4\0\0\1", 5, why, sizeof why), WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_uint_eq(d.msg.cap, 0);
    wpd_grpc_deframer_free(&d);

    /* a large message within the limit does not reserve its whole size up
     * front: memory follows the bytes that arrived */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\3\xff\xff\xff", 5, why, sizeof why), 0);
    ck_assert_uint_le(d.msg.cap, 2 * 65536 + 2);
    ck_assert_int_eq(feed_all(&d, "abc", 3, why, sizeof why), 0);
    ck_assert_uint_le(d.msg.cap, 2 * 65536 + 2);
    ck_assert(!wpd_grpc_deframer_complete(&d));
    wpd_grpc_deframer_free(&d);

    /* the limit of 0 refuses any non-empty message */
    wpd_grpc_deframer_init(&d, 0);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\1x", 6, why, sizeof why), WPD_GRPC_RESOURCE_EXHAUSTED);
    wpd_grpc_deframer_free(&d);
}
END_TEST

/* After a refused prefix the deframer is not complete, and bytes fed on
 * are refused the same way (they never become a message). */
START_TEST(deframe_errors_stay)
{
    static const struct {
        const char *data;
        size_t len, limit;
        int code;
    } v[] = {
        {"\1\0\0\0\0", 5, 100, WPD_GRPC_INTERNAL},
        {"\2\0\0\0\0", 5, 100, WPD_GRPC_INTERNAL},
        {"\0\0\0\0\0\0\0\0\0\0", 10, 100, WPD_GRPC_INTERNAL},
        {"\0\0\0\0\1x\0\0\0\0\1", 11, 100, WPD_GRPC_INTERNAL},
        {"\0\0\0\0\5", 5, 4, WPD_GRPC_RESOURCE_EXHAUSTED},
        {"\0\xff\xff\xff\xff", 5, WPD_GRPC_MAX_RECV, WPD_GRPC_RESOURCE_EXHAUSTED},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        wpd_grpc_deframer d;
        wpd_grpc_deframer_init(&d, v[i].limit);
        char why[160] = "", why2[160] = "";
        ck_assert_int_eq(feed_all(&d, v[i].data, v[i].len, why, sizeof why), v[i].code);
        ck_assert_msg(!wpd_grpc_deframer_complete(&d), "case %zu complete after %s", i, why);
        size_t cap = d.msg.cap;
        for (int k = 0; k < 3; k++) {
            ck_assert_int_eq(feed_all(&d, "\0\0\0\0\0abc", 8, why2, sizeof why2), v[i].code);
            ck_assert_str_eq(why2, why);
            ck_assert(!wpd_grpc_deframer_complete(&d));
        }
        ck_assert_uint_eq(d.msg.cap, cap); /* nothing more was kept */
        wpd_grpc_deframer_free(&d);
    }
}
END_TEST

START_TEST(deframe_out_of_memory)
{
    char why[160] = "";
    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    wpd_alloc_fail_nth(1); /* the reservation made when the prefix is whole */
    int rc = feed_all(&d, "\0\0\0\0\3abc", 8, why, sizeof why);
    wpd_alloc_fail_nth(0);
    ck_assert_int_eq(rc, WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(why, "out of memory for a response of 3 bytes");
    wpd_grpc_deframer_free(&d);

    /* growing for a later chunk */
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    /* 192 KiB: 64 KiB (a 128 KiB buffer) are reserved at the prefix */
    ck_assert_int_eq(feed_all(&d, "\0\0\3\0\0", 5, why, sizeof why), 0);
    uint8_t *chunk = pattern(140000);
    wpd_alloc_fail_nth(1);
    rc = feed_all(&d, chunk, 140000, why, sizeof why);
    wpd_alloc_fail_nth(0);
    ck_assert_int_eq(rc, WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(why, "out of memory for a response of 196608 bytes");
    ck_assert_uint_eq(d.msg.len, 0);
    free(chunk);
    wpd_grpc_deframer_free(&d);
}
END_TEST

START_TEST(deframe_short_why_buffer)
{
    char why[8];
    memset(why, 'x', sizeof why);
    wpd_grpc_deframer d;
    wpd_grpc_deframer_init(&d, 1);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\2", 5, why, sizeof why), WPD_GRPC_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(why, "the res");
    wpd_grpc_deframer_free(&d);
}
END_TEST

START_TEST(deframe_reinit_after_free)
{
    /* what the client does when it sends a call again */
    wpd_grpc_deframer d;
    char why[128];
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\3ab", 7, why, sizeof why), 0);
    wpd_grpc_deframer_free(&d);
    wpd_grpc_deframer_init(&d, WPD_GRPC_MAX_RECV);
    ck_assert(!wpd_grpc_deframer_complete(&d));
    ck_assert_int_eq(feed_all(&d, "\0\0\0\0\1z", 6, why, sizeof why), 0);
    ck_assert(wpd_grpc_deframer_complete(&d));
    ck_assert_str_eq(wpd_buf_cstr(&d.msg), "z");
    wpd_grpc_deframer_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- grpc-message */

static void check_decode(const char *in, size_t outlen, const char *want)
{
    char out[256];
    ck_assert_uint_le(outlen, sizeof out);
    memset(out, 'Z', sizeof out);
    wpd_grpc_decode_message(in, out, outlen);
    ck_assert_msg(strcmp(out, want) == 0, "decode(\"%s\", %zu) = \"%s\", want \"%s\"", in, outlen,
                  out, want);
    /* nothing written past outlen */
    for (size_t i = outlen; i < sizeof out; i++)
        ck_assert_int_eq(out[i], 'Z');
}

START_TEST(decode_escapes)
{
    check_decode("", 64, "");
    check_decode("plain text", 64, "plain text");
    check_decode("%C3%A9", 64, "\xC3\xA9");
    check_decode("caf%c3%a9", 64, "caf\xC3\xA9"); /* lower-case hex */
    check_decode("%41%42c", 64, "ABc");
    check_decode("a%20b", 64, "a b");
    check_decode("%25", 64, "%");
    check_decode("%2541", 64, "%41"); /* decoded once */
    check_decode("token is not provided", 64, "token is not provided");
    check_decode("%E2%9C%93 ok", 64, "\xE2\x9C\x93 ok");
    check_decode("\xC3\xA9 raw", 64, "\xC3\xA9 raw"); /* raw UTF-8 passes */
}
END_TEST

START_TEST(decode_bad_escapes_kept)
{
    check_decode("100%", 64, "100%");
    check_decode("%", 64, "%");
    check_decode("%4", 64, "%4");
    check_decode("%4g", 64, "%4g");
    check_decode("%zz", 64, "%zz");
    check_decode("%%41", 64, "%A");
    check_decode("%g1%", 64, "%g1%");
    check_decode("% 1", 64, "% 1");
    check_decode("%\xC3\xA9", 64, "%\xC3\xA9"); /* a byte above 0x7f after % */
    check_decode("%4\xC3", 64, "%4\xC3");
    check_decode("%\xff\xff", 64, "%\xff\xff");
}
END_TEST

START_TEST(decode_control_bytes)
{
    check_decode("a%0Ab", 64, "a?b");
    check_decode("%0d%0a", 64, "??");
    check_decode("%00x", 64, "?x"); /* an encoded NUL does not end the text */
    check_decode("%1F%7F%7f", 64, "???");
    check_decode("%20%7E", 64, " ~");
    check_decode("tab\there", 64, "tab?here");
    check_decode("\x1b[31mred", 64, "?[31mred");
    check_decode("del\x7f", 64, "del?");
    check_decode("%80%FF", 64, "\x80\xff"); /* high bytes are not control bytes */
}
END_TEST

START_TEST(decode_truncation)
{
    check_decode("abcdef", 4, "abc");
    check_decode("abc", 4, "abc");
    check_decode("abcd", 4, "abc");
    check_decode("abcdef", 1, "");
    check_decode("ab%41%42", 4, "abA");
    check_decode("ab%41", 3, "ab");
    check_decode("%C3%A9%C3%A9", 3, "\xC3\xA9");
    check_decode("%0A%0A%0A", 3, "??");

    /* outlen 0: nothing is written */
    char out[4] = "xyz";
    wpd_grpc_decode_message("abc", out, 0);
    ck_assert_str_eq(out, "xyz");

    /* a long message into the client's buffer size */
    char in[3 * 2000 + 1];
    for (int i = 0; i < 2000; i++)
        memcpy(in + 3 * i, "%41", 3);
    in[sizeof in - 1] = '\0';
    char big[1024];
    wpd_grpc_decode_message(in, big, sizeof big);
    ck_assert_uint_eq(strlen(big), sizeof big - 1);
    for (size_t i = 0; i < sizeof big - 1; i++)
        ck_assert_int_eq(big[i], 'A');
}
END_TEST

/* ---------------------------------------------------------------- codes */

START_TEST(http_status_mapping)
{
    static const struct {
        long http;
        int code;
    } v[] = {
        {400, WPD_GRPC_INTERNAL},
        {401, WPD_GRPC_UNAUTHENTICATED},
        {403, WPD_GRPC_PERMISSION_DENIED},
        {404, WPD_GRPC_UNIMPLEMENTED},
        {429, WPD_GRPC_UNAVAILABLE},
        {502, WPD_GRPC_UNAVAILABLE},
        {503, WPD_GRPC_UNAVAILABLE},
        {504, WPD_GRPC_UNAVAILABLE},
        {0, WPD_GRPC_UNKNOWN},
        {-1, WPD_GRPC_UNKNOWN},
        {100, WPD_GRPC_UNKNOWN},
        {200, WPD_GRPC_UNKNOWN},
        {204, WPD_GRPC_UNKNOWN},
        {301, WPD_GRPC_UNKNOWN},
        {402, WPD_GRPC_UNKNOWN},
        {405, WPD_GRPC_UNKNOWN},
        {408, WPD_GRPC_UNKNOWN},
        {415, WPD_GRPC_UNKNOWN},
        {500, WPD_GRPC_UNKNOWN},
        {501, WPD_GRPC_UNKNOWN},
        {505, WPD_GRPC_UNKNOWN},
        {599, WPD_GRPC_UNKNOWN},
        {1000, WPD_GRPC_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ck_assert_msg(wpd_grpc_code_for_http(v[i].http) == v[i].code, "HTTP %ld -> %d, want %d",
                      v[i].http, wpd_grpc_code_for_http(v[i].http), v[i].code);
}
END_TEST

START_TEST(code_names)
{
    /* Go's codes.Code.String() */
    static const char *const want[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    for (int i = 0; i <= 16; i++)
        ck_assert_str_eq(wpd_grpc_code_name(i), want[i]);
    ck_assert_str_eq(wpd_grpc_code_name(WPD_GRPC_UNAVAILABLE), "Unavailable");
    ck_assert_str_eq(wpd_grpc_code_name(WPD_GRPC_UNAUTHENTICATED), "Unauthenticated");
    /* numbers without a name (frame.h: "Code(N)") */
    ck_assert_str_eq(wpd_grpc_code_name(17), "Code(17)");
    ck_assert_str_eq(wpd_grpc_code_name(-1), "Code(-1)");
    ck_assert_str_eq(wpd_grpc_code_name(2147483647), "Code(2147483647)");
    ck_assert_str_eq(wpd_grpc_code_name(-2147483647 - 1), "Code(-2147483648)");
}
END_TEST

/* ---------------------------------------------------------------- targets */

static void check_target(const char *in, const char *authority, const char *unix_path)
{
    wpd_grpc_target t;
    char why[512] = "";
    ck_assert_msg(wpd_grpc_target_parse(in, &t, why, sizeof why) == 0, "\"%s\" refused: %s", in,
                  why);
    ck_assert_str_eq(t.authority, authority);
    ck_assert_int_eq(t.unix_socket, unix_path != NULL);
    ck_assert_str_eq(t.unix_path, unix_path ? unix_path : "");
}

static void check_bad_target(const char *in, const char *want_why)
{
    wpd_grpc_target t;
    char why[512] = "";
    ck_assert_msg(wpd_grpc_target_parse(in, &t, why, sizeof why) == -1, "\"%s\" accepted",
                  in ? in : "(null)");
    ck_assert_msg(strcmp(why, want_why) == 0, "\"%s\": \"%s\", want \"%s\"", in ? in : "(null)",
                  why, want_why);
}

START_TEST(target_host_port)
{
    check_target("localhost:9000", "localhost:9000", NULL);
    check_target("woodpecker-server:9000", "woodpecker-server:9000", NULL);
    check_target("ci.example.com:443", "ci.example.com:443", NULL);
    check_target("10.0.0.1:1", "10.0.0.1:1", NULL);
    check_target("h:65535", "h:65535", NULL);
    check_target("h:09000", "h:09000", NULL);
    check_target(":9000", "localhost:9000", NULL); /* Go's dialer: the local host */
    check_target("[::1]:9000", "[::1]:9000", NULL);
    check_target("[2001:db8::1]:443", "[2001:db8::1]:443", NULL);
    check_target("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.1]:80", NULL);
    check_target("dns:///h:1", "h:1", NULL);
    check_target("dns:///server.example:9000", "server.example:9000", NULL);
    check_target("dns:///:9000", "localhost:9000", NULL);
    check_target("dns:///[::1]:9000", "[::1]:9000", NULL);
    check_target("under_score:80", "under_score:80", NULL);
}
END_TEST

START_TEST(target_unix)
{
    check_target("unix:///abs/path.sock", "localhost", "/abs/path.sock");
    check_target("unix:/abs", "localhost", "/abs");
    check_target("unix:///run/woodpecker/grpc.sock", "localhost", "/run/woodpecker/grpc.sock");

    char cwd[2048];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    char want[4200];
    snprintf(want, sizeof want, "%s/rel/path", cwd);
    if (strlen(want) <= 107) {
        check_target("unix:rel/path", "localhost", want);
        check_target("unix://rel/path", "localhost", want); /* the spec's unix://path */
    }
    snprintf(want, sizeof want, "%s/s", cwd);
    if (strlen(want) <= 107)
        check_target("unix:s", "localhost", want);

    /* sun_path holds 107 bytes and the NUL */
    char path[200], in[220];
    memset(path, 'a', sizeof path);
    path[0] = '/';
    path[107] = '\0';
    snprintf(in, sizeof in, "unix://%s", path);
    check_target(in, "localhost", path);
    path[107] = 'a';
    path[108] = '\0';
    snprintf(in, sizeof in, "unix://%s", path);
    char why[300];
    snprintf(why, sizeof why, "the socket path \"%s\" is longer than 107 bytes", path);
    check_bad_target(in, why);
}
END_TEST

START_TEST(target_unix_relative_too_long)
{
    /* a relative path that makes the absolute one too long */
    char in[200] = "unix:";
    memset(in + 5, 'r', 120);
    in[125] = '\0';
    wpd_grpc_target t;
    char why[512];
    ck_assert_int_eq(wpd_grpc_target_parse(in, &t, why, sizeof why), -1);
    ck_assert_ptr_nonnull(strstr(why, "is longer than 107 bytes"));
}
END_TEST

START_TEST(target_rejects)
{
    check_bad_target(NULL, "the server address is empty");
    check_bad_target("", "the server address is empty");
    check_bad_target("host :9000", "the server address contains a space or control character");
    check_bad_target("host:9000\n", "the server address contains a space or control character");
    check_bad_target("\thost:1", "the server address contains a space or control character");
    check_bad_target("h\x7f:1", "the server address contains a space or control character");
    check_bad_target("unix:", "\"unix:\" names no socket path");
    check_bad_target("unix://", "\"unix://\" names no socket path");
    check_bad_target("http://host:9000", "\"http://host:9000\" is not a gRPC target (use host:port "
                                         "or unix:///path, without http://)");
    check_bad_target("grpc://h:1",
                     "\"grpc://h:1\" is not a gRPC target (use host:port or unix:///path, "
                     "without http://)");
    check_bad_target("dns://authority/h:1", "\"dns://authority/h:1\" is not a gRPC target (use "
                                            "host:port or unix:///path, without http://)");
    check_bad_target("host", "\"host\" is not host:port");
    check_bad_target("dns:///", "\"dns:///\" is not host:port");
    check_bad_target("dns:///host", "\"dns:///host\" is not host:port");
    check_bad_target("::1:9000", "\"::1:9000\" is not host:port");
    check_bad_target("a:b:9000", "\"a:b:9000\" is not host:port");
    check_bad_target("[::1]", "\"[::1]\" is not host:port");
    check_bad_target("[::1]9000", "\"[::1]9000\" is not host:port");
    check_bad_target("[::1:9000", "\"[::1:9000\" is not host:port");
    check_bad_target("host:", "\"host:\": the port must be a number from 1 to 65535");
    check_bad_target(":", "\":\": the port must be a number from 1 to 65535");
    check_bad_target("host:0", "\"host:0\": the port must be a number from 1 to 65535");
    check_bad_target("host:65536", "\"host:65536\": the port must be a number from 1 to 65535");
    check_bad_target("host:-1", "\"host:-1\": the port must be a number from 1 to 65535");
    check_bad_target("host:abc", "\"host:abc\": the port must be a number from 1 to 65535");
    check_bad_target("host:90x", "\"host:90x\": the port must be a number from 1 to 65535");
    check_bad_target("host:99999999999999999999999",
                     "\"host:99999999999999999999999\": the port must be a number from 1 to 65535");
    check_bad_target("[::1]:", "\"[::1]:\": the port must be a number from 1 to 65535");
    check_bad_target("[::1]:70000", "\"[::1]:70000\": the port must be a number from 1 to 65535");
}
END_TEST

/* Targets that used to pass and then made a URL that does not name the
 * host:port given (client.c builds "http://<authority>/..."). */
START_TEST(target_rejects_url_breakers)
{
    check_bad_target("host:+80", "\"host:+80\": the port must be a number from 1 to 65535");
    check_bad_target("host:+0", "\"host:+0\": the port must be a number from 1 to 65535");
    check_bad_target("user@host:9000", "\"user@host:9000\" is not host:port");
    check_bad_target("host/path:9000", "\"host/path:9000\" is not host:port");
    check_bad_target("host?q:9000", "\"host?q:9000\" is not host:port");
    check_bad_target("host#f:9000", "\"host#f:9000\" is not host:port");
    check_bad_target("a\\b:9000", "\"a\\b:9000\" is not host:port");
    check_bad_target("dns:///evil.com/x:1", "\"dns:///evil.com/x:1\" is not host:port");
    check_bad_target("[]:9000", "\"[]:9000\" is not host:port");
    check_bad_target("[a]b]:9000", "\"[a]b]:9000\" is not host:port");
    check_bad_target("[::1]]:9000", "\"[::1]]:9000\" is not host:port");
    check_bad_target("[[::1]:9000", "\"[[::1]:9000\" is not host:port");
    check_bad_target("[::1/x]:9000", "\"[::1/x]:9000\" is not host:port");
    check_bad_target("h]:9000", "\"h]:9000\" is not host:port");
}
END_TEST

START_TEST(target_too_long)
{
    /* host:port needs "localhost" + the text in the authority */
    char in[1100];
    memset(in, 'h', sizeof in);
    snprintf(in + 985, sizeof in - 985, ":9000");
    check_target(in, in, NULL); /* 990 bytes: fits */
    memset(in, 'h', sizeof in);
    snprintf(in + 986, sizeof in - 986, ":9000");
    check_bad_target(in, "the server address is too long");

    char un[5000] = "unix://";
    memset(un + 7, 'p', 4200);
    un[7] = '/';
    un[4207] = '\0';
    check_bad_target(un, "the server address is too long");
}
END_TEST

START_TEST(target_short_why)
{
    wpd_grpc_target t;
    char why[6];
    ck_assert_int_eq(wpd_grpc_target_parse("nope", &t, why, sizeof why), -1);
    ck_assert_str_eq(why, "\"nope");
}
END_TEST

/* ---------------------------------------------------------------- protobuf */

static void check_packed(const ProtobufCMessage *m, const uint8_t *want, size_t want_len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    ck_assert_uint_eq(n, want_len);
    uint8_t buf[128];
    ck_assert_uint_le(n, sizeof buf);
    ck_assert_uint_eq(protobuf_c_message_pack(m, buf), want_len);
    ck_assert_mem_eq(buf, want, want_len);
}

START_TEST(proto_next_request_example)
{
    /* spec 2: NextRequest{filter{labels{"repo":"*"}}} */
    Proto__Filter__LabelsEntry e = PROTO__FILTER__LABELS_ENTRY__INIT;
    e.key = "repo";
    e.value = "*";
    Proto__Filter__LabelsEntry *entries[] = {&e};
    Proto__Filter f = PROTO__FILTER__INIT;
    f.n_labels = 1;
    f.labels = entries;
    Proto__NextRequest r = PROTO__NEXT_REQUEST__INIT;
    r.filter = &f;
    static const uint8_t want[] = {0x0A, 0x0B, 0x0A, 0x09, 0x0A, 0x04, 0x72,
                                   0x65, 0x70, 0x6F, 0x12, 0x01, 0x2A};
    check_packed(&r.base, want, sizeof want);

    /* and back */
    Proto__NextRequest *u = proto__next_request__unpack(NULL, sizeof want, want);
    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_nonnull(u->filter);
    ck_assert_uint_eq(u->filter->n_labels, 1);
    ck_assert_str_eq(u->filter->labels[0]->key, "repo");
    ck_assert_str_eq(u->filter->labels[0]->value, "*");
    proto__next_request__free_unpacked(u, NULL);

    /* framed for the wire */
    wpd_buf b = WPD_BUF_INIT;
    wpd_grpc_frame(&b, want, sizeof want);
    ck_assert_mem_eq(b.data, "\0\0\0\0\x0d", 5);
    wpd_buf_free(&b);
}
END_TEST

START_TEST(proto_auth_request_negative_id)
{
    /* spec 2: agent_id = -1 is the 10-byte varint of the two's complement */
    Proto__AuthRequest r = PROTO__AUTH_REQUEST__INIT;
    r.agent_id = -1;
    static const uint8_t varint[] = {0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                     0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    check_packed(&r.base, varint, sizeof varint); /* empty agent_token: left off */

    r.agent_token = "s3cr3t";
    uint8_t buf[64];
    size_t n = proto__auth_request__pack(&r, buf);
    static const uint8_t want[] = {0x0A, 0x06, 's',  '3',  'c',  'r',  '3',  't',  0x10, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_mem_eq(buf, want, n);
    ck_assert_ptr_nonnull(memmem(buf, n, varint, sizeof varint));

    Proto__AuthRequest *u = proto__auth_request__unpack(NULL, n, buf);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(u->agent_id, -1);
    ck_assert_str_eq(u->agent_token, "s3cr3t");
    proto__auth_request__free_unpacked(u, NULL);

    /* proto3: zero values are left off the wire */
    Proto__AuthRequest z = PROTO__AUTH_REQUEST__INIT;
    ck_assert_uint_eq(proto__auth_request__get_packed_size(&z), 0);
}
END_TEST

START_TEST(proto_responses_decode)
{
    /* AuthResponse{status "ok", agent_id 7, access_token "t"} */
    static const uint8_t auth[] = {0x0A, 0x02, 'o', 'k', 0x10, 0x07, 0x1A, 0x01, 't'};
    Proto__AuthResponse *a = proto__auth_response__unpack(NULL, sizeof auth, auth);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->status, "ok");
    ck_assert_int_eq(a->agent_id, 7);
    ck_assert_str_eq(a->access_token, "t");
    proto__auth_response__free_unpacked(a, NULL);

    /* VersionResponse{16, "3.17.0"} with an unknown field 9 skipped */
    static const uint8_t ver[] = {0x08, 0x10, 0x12, 0x06, '3',  '.',  '1',
                                  '7',  '.',  '0',  0x48, 0x01, 0x4A, 0x00};
    Proto__VersionResponse *v = proto__version_response__unpack(NULL, sizeof ver, ver);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->grpc_version, 16);
    ck_assert_str_eq(v->server_version, "3.17.0");
    proto__version_response__free_unpacked(v, NULL);

    /* an empty NextResponse: no work */
    Proto__NextResponse *nr = proto__next_response__unpack(NULL, 0, (const uint8_t *)"");
    ck_assert_ptr_nonnull(nr);
    ck_assert_ptr_null(nr->workflow);
    proto__next_response__free_unpacked(nr, NULL);

    /* NextResponse{workflow{id "42", timeout 60, payload <json>}} */
    const char *json = "{\"pipeline\":[{\"steps\":[{\"name\":\"a\",\"image\":\"alpine\","
                       "\"commands\":[\"echo hi\"]}]}]}";
    Proto__Workflow w = PROTO__WORKFLOW__INIT;
    w.id = "42";
    w.timeout = 60;
    w.payload.data = (uint8_t *)json;
    w.payload.len = strlen(json);
    Proto__NextResponse n = PROTO__NEXT_RESPONSE__INIT;
    n.workflow = &w;
    uint8_t buf[256];
    size_t len = proto__next_response__pack(&n, buf);
    ck_assert_uint_eq(buf[0], 0x0A);
    nr = proto__next_response__unpack(NULL, len, buf);
    ck_assert_ptr_nonnull(nr);
    ck_assert_ptr_nonnull(nr->workflow);
    ck_assert_str_eq(nr->workflow->id, "42");
    ck_assert_int_eq(nr->workflow->timeout, 60);
    ck_assert_uint_eq(nr->workflow->payload.len, strlen(json));
    ck_assert_mem_eq(nr->workflow->payload.data, json, strlen(json));
    /* the payload is the backend Config the runtime reads */
    wpd_error err;
    wpd_workflow *wf = wpd_workflow_parse("workflow 42", (const char *)nr->workflow->payload.data,
                                          nr->workflow->payload.len, &err);
    ck_assert_msg(wf != NULL, "%s", err.message);
    wpd_workflow_free(wf);
    proto__next_response__free_unpacked(nr, NULL);

    /* RegisterAgentResponse{agent_id 12}, WaitResponse{canceled} */
    Proto__RegisterAgentResponse *ra =
        proto__register_agent_response__unpack(NULL, 2, (const uint8_t *)"\x08\x0c");
    ck_assert_ptr_nonnull(ra);
    ck_assert_int_eq(ra->agent_id, 12);
    proto__register_agent_response__free_unpacked(ra, NULL);
    Proto__WaitResponse *wr = proto__wait_response__unpack(NULL, 2, (const uint8_t *)"\x08\x01");
    ck_assert_ptr_nonnull(wr);
    ck_assert(wr->canceled);
    proto__wait_response__free_unpacked(wr, NULL);

    /* a truncated message is refused */
    ck_assert_ptr_null(proto__auth_response__unpack(NULL, 3, auth));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("grpc_frame");
    TCase *tc = tcase_create("frame");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, frame_empty_message);
    tcase_add_test(tc, frame_prefix_and_append);
    tcase_add_test(tc, frame_length_is_big_endian);
    tcase_add_test(tc, deframe_roundtrip_sizes);
    tcase_add_test(tc, deframe_random_splits);
    tcase_add_test(tc, deframe_big_message);
    tcase_add_test(tc, deframe_empty_message);
    tcase_add_test(tc, deframe_zero_length_feeds);
    tcase_add_test(tc, deframe_incomplete);
    tcase_add_test(tc, deframe_compressed_flag);
    tcase_add_test(tc, deframe_second_message);
    tcase_add_test(tc, deframe_limit);
    tcase_add_test(tc, deframe_errors_stay);
    tcase_add_test(tc, deframe_out_of_memory);
    tcase_add_test(tc, deframe_short_why_buffer);
    tcase_add_test(tc, deframe_reinit_after_free);
    suite_add_tcase(s, tc);

    tc = tcase_create("message");
    tcase_add_test(tc, decode_escapes);
    tcase_add_test(tc, decode_bad_escapes_kept);
    tcase_add_test(tc, decode_control_bytes);
    tcase_add_test(tc, decode_truncation);
    tcase_add_test(tc, http_status_mapping);
    tcase_add_test(tc, code_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("target");
    tcase_add_test(tc, target_host_port);
    tcase_add_test(tc, target_unix);
    tcase_add_test(tc, target_unix_relative_too_long);
    tcase_add_test(tc, target_rejects);
    tcase_add_test(tc, target_rejects_url_breakers);
    tcase_add_test(tc, target_too_long);
    tcase_add_test(tc, target_short_why);
    suite_add_tcase(s, tc);

    tc = tcase_create("protobuf");
    tcase_add_test(tc, proto_next_request_example);
    tcase_add_test(tc, proto_auth_request_negative_id);
    tcase_add_test(tc, proto_responses_decode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
