/* test_stdcopy.c - demultiplexing of Docker's framed log stream (spec 2.4,
 * 7.10), fed in one piece, split at every offset, byte by byte and at random. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stdcopy.h"
#include "util/buf.h"

/* What the sink saw: the merged bytes, the stream of each byte, and the
 * per-stream bytes. */
typedef struct capture {
    wpd_buf merged;
    wpd_buf streams;
    wpd_buf out, err;
    size_t calls;
    size_t refuse_after; /* 0 = never refuse */
} capture;

static int sink(void *arg, int stream, const char *data, size_t len)
{
    capture *c = arg;
    ck_assert(stream == 1 || stream == 2);
    ck_assert_uint_gt(len, 0);
    c->calls++;
    if (c->refuse_after && c->calls >= c->refuse_after)
        return -1;
    wpd_buf_append(&c->merged, data, len);
    for (size_t i = 0; i < len; i++)
        wpd_buf_putc(&c->streams, (char)('0' + stream));
    wpd_buf_append(stream == 1 ? &c->out : &c->err, data, len);
    return 0;
}

static void capture_free(capture *c)
{
    wpd_buf_free(&c->merged);
    wpd_buf_free(&c->streams);
    wpd_buf_free(&c->out);
    wpd_buf_free(&c->err);
}

static void frame(wpd_buf *b, int stream, const void *payload, size_t len)
{
    unsigned char h[8] = {(unsigned char)stream,
                          0,
                          0,
                          0,
                          (unsigned char)(len >> 24),
                          (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8),
                          (unsigned char)len};
    wpd_buf_append(b, h, 8);
    wpd_buf_append(b, payload, len);
}

/* Feed data cut at the given offsets (ascending), then finish. */
static int run_cuts(const char *data, size_t len, const size_t *cuts, size_t ncuts, capture *c,
                    wpd_error *err)
{
    wpd_stdcopy s;
    wpd_stdcopy_init(&s);
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        rc = wpd_stdcopy_feed(&s, data + at, end - at, sink, c, err);
        at = end;
    }
    if (rc == 0)
        rc = wpd_stdcopy_finish(&s, err);
    wpd_stdcopy_free(&s);
    return rc;
}

static int run_once(const char *data, size_t len, capture *c, wpd_error *err)
{
    return run_cuts(data, len, NULL, 0, c, err);
}

START_TEST(spec_vector_merged)
{
    static const char in[] = "\x01\x00\x00\x00\x00\x00\x00\x06"
                             "hello\n"
                             "\x02\x00\x00\x00\x00\x00\x00\x04"
                             "err\n";
    capture c = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in, sizeof in - 1, &c, &err), 0);
    ck_assert_str_eq(wpd_buf_cstr(&c.merged), "hello\nerr\n");
    ck_assert_str_eq(wpd_buf_cstr(&c.streams), "1111112222");
    ck_assert_str_eq(wpd_buf_cstr(&c.out), "hello\n");
    ck_assert_str_eq(wpd_buf_cstr(&c.err), "err\n");
    capture_free(&c);
}
END_TEST

START_TEST(spec_vector_unrecognized_stream)
{
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 1, "ok", 2);
    frame(&in, 5, "zzz", 3);
    frame(&in, 1, "never", 5);
    capture c = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in.data, in.len, &c, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_PROTOCOL);
    ck_assert_str_eq(err.message, "unrecognized stream: 5");
    ck_assert_str_eq(wpd_buf_cstr(&c.merged), "ok");
    capture_free(&c);
    wpd_buf_free(&in);

    /* the error comes as soon as the header is complete */
    static const char hdr[] = "\xff\x00\x00\x00\x00\x00\x10\x00";
    wpd_stdcopy s;
    wpd_stdcopy_init(&s);
    capture c2 = {0};
    ck_assert_int_eq(wpd_stdcopy_feed(&s, hdr, 8, sink, &c2, &err), -1);
    ck_assert_str_eq(err.message, "unrecognized stream: 255");
    /* and the demultiplexer stays failed */
    ck_assert_int_eq(wpd_stdcopy_feed(&s, "x", 1, sink, &c2, &err), -1);
    ck_assert_int_eq(wpd_stdcopy_finish(&s, &err), -1);
    wpd_stdcopy_free(&s);
    capture_free(&c2);
}
END_TEST

START_TEST(spec_vector_daemon_error)
{
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 1, "before\n", 7);
    frame(&in, 3, "boom", 4);
    frame(&in, 1, "after\n", 6);
    for (size_t cut = 0; cut <= in.len; cut++) {
        capture c = {0};
        wpd_error err = {0};
        ck_assert_int_eq(run_cuts(in.data, in.len, &cut, 1, &c, &err), -1);
        ck_assert_int_eq(err.kind, WPD_ERR_PROTOCOL);
        ck_assert_str_eq(err.message, "error from daemon in stream: boom");
        ck_assert_str_eq(wpd_buf_cstr(&c.merged), "before\n");
        capture_free(&c);
    }
    wpd_buf_free(&in);

    /* empty daemon error frame */
    wpd_buf e = WPD_BUF_INIT;
    frame(&e, 3, "", 0);
    capture c = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(e.data, e.len, &c, &err), -1);
    ck_assert_str_eq(err.message, "error from daemon in stream: ");
    capture_free(&c);
    wpd_buf_free(&e);
}
END_TEST

START_TEST(daemon_error_long_payload_capped)
{
    size_t n = 100000;
    char *p = malloc(n);
    memset(p, 'e', n);
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 3, p, n);
    capture c = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in.data, in.len, &c, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_PROTOCOL);
    ck_assert(strncmp(err.message, "error from daemon in stream: eeee", 33) == 0);
    ck_assert_uint_eq(strlen(err.message), WPD_ERROR_MAX - 1);
    /* a truncated daemon-error frame at EOF is dropped like any other */
    capture c2 = {0};
    ck_assert_int_eq(run_once(in.data, in.len - 1, &c2, &err), 0);
    capture_free(&c);
    capture_free(&c2);
    wpd_buf_free(&in);
    free(p);
}
END_TEST

START_TEST(spec_vector_truncated_header)
{
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 1, "hello\n", 6);
    wpd_buf_append(&in, "\x02\x00\x00\x00\x00", 5);
    capture c = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in.data, in.len, &c, &err), 0);
    ck_assert_str_eq(wpd_buf_cstr(&c.merged), "hello\n");
    capture_free(&c);

    /* EOF mid-payload: the missing rest is dropped without an error */
    wpd_buf t = WPD_BUF_INIT;
    frame(&t, 1, "hello\n", 6);
    frame(&t, 2, "truncated", 9);
    capture c2 = {0};
    ck_assert_int_eq(run_once(t.data, t.len - 4, &c2, &err), 0);
    ck_assert_str_eq(wpd_buf_cstr(&c2.out), "hello\n");
    ck_assert_str_eq(wpd_buf_cstr(&c2.err), "trunc");
    capture_free(&c2);

    /* empty input */
    capture c3 = {0};
    ck_assert_int_eq(run_once("", 0, &c3, &err), 0);
    ck_assert_uint_eq(c3.merged.len, 0);
    capture_free(&c3);
    wpd_buf_free(&in);
    wpd_buf_free(&t);
}
END_TEST

/* Several frames of all kinds, including empty ones and stdin (0). */
static void multi_input(wpd_buf *in)
{
    frame(in, 1, "line one\n", 9);
    frame(in, 2, "warning: x\n", 11);
    frame(in, 1, "", 0);
    frame(in, 0, "from stdin", 10);
    frame(in, 1, " continued\n", 11);
    frame(in, 2, "", 0);
    frame(in, 2, "e", 1);
    char bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (char)(i * 7);
    frame(in, 1, bin, sizeof bin);
    frame(in, 2, "last\n", 5);
}

START_TEST(split_everywhere)
{
    wpd_buf in = WPD_BUF_INIT;
    multi_input(&in);
    capture ref = {0};
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in.data, in.len, &ref, &err), 0);
    ck_assert_uint_eq(ref.merged.len, 9 + 11 + 10 + 11 + 1 + 300 + 5);
    ck_assert_uint_eq(ref.out.len, 9 + 10 + 11 + 300);
    ck_assert_str_eq(wpd_buf_cstr(&ref.err), "warning: x\nelast\n");
    ck_assert_mem_eq(ref.out.data, "line one\nfrom stdin continued\n", 30);

    for (size_t cut = 0; cut <= in.len; cut++) {
        capture c = {0};
        ck_assert_int_eq(run_cuts(in.data, in.len, &cut, 1, &c, &err), 0);
        ck_assert_uint_eq(c.merged.len, ref.merged.len);
        ck_assert_mem_eq(c.merged.data, ref.merged.data, ref.merged.len);
        ck_assert_mem_eq(c.streams.data, ref.streams.data, ref.streams.len);
        capture_free(&c);
    }

    size_t *cuts = malloc(in.len * sizeof *cuts);
    for (size_t i = 0; i < in.len; i++)
        cuts[i] = i;
    capture c = {0};
    ck_assert_int_eq(run_cuts(in.data, in.len, cuts, in.len, &c, &err), 0);
    ck_assert_uint_eq(c.merged.len, ref.merged.len);
    ck_assert_mem_eq(c.merged.data, ref.merged.data, ref.merged.len);
    ck_assert_mem_eq(c.streams.data, ref.streams.data, ref.streams.len);
    /* byte by byte: payload bytes are passed on as they arrive */
    ck_assert_uint_eq(c.calls, ref.merged.len);
    capture_free(&c);
    free(cuts);
    capture_free(&ref);
    wpd_buf_free(&in);
}
END_TEST

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

START_TEST(large_frame_random_splits)
{
    size_t n = (size_t)1 << 20;
    char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)rnd();
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 2, "small\n", 6);
    frame(&in, 1, p, n);
    frame(&in, 2, "tail\n", 5);

    for (int round = 0; round < 5; round++) {
        size_t cuts[64];
        size_t nc = 0, at = 0;
        while (nc < 64) {
            at += 1 + rnd() % (n / 16);
            if (at >= in.len)
                break;
            cuts[nc++] = at;
        }
        capture c = {0};
        wpd_error err = {0};
        ck_assert_int_eq(run_cuts(in.data, in.len, cuts, nc, &c, &err), 0);
        ck_assert_uint_eq(c.out.len, n);
        ck_assert_mem_eq(c.out.data, p, n);
        ck_assert_str_eq(wpd_buf_cstr(&c.err), "small\ntail\n");
        ck_assert_uint_eq(c.merged.len, n + 11);
        ck_assert_mem_eq(c.merged.data + 6, p, n);
        /* streamed: more than one sink call for the big frame */
        ck_assert_uint_gt(c.calls, 3);
        capture_free(&c);
    }
    wpd_buf_free(&in);
    free(p);
}
END_TEST

START_TEST(sink_refusal_stops)
{
    wpd_buf in = WPD_BUF_INIT;
    frame(&in, 1, "a", 1);
    frame(&in, 2, "b", 1);
    frame(&in, 1, "c", 1);
    capture c = {0};
    c.refuse_after = 2;
    wpd_error err = {0};
    ck_assert_int_eq(run_once(in.data, in.len, &c, &err), -1);
    ck_assert_int_eq(err.kind, WPD_ERR_IO);
    ck_assert_str_eq(wpd_buf_cstr(&c.merged), "a");
    ck_assert_uint_eq(c.calls, 2);
    capture_free(&c);
    wpd_buf_free(&in);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stdcopy");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, spec_vector_merged);
    tcase_add_test(tc, spec_vector_unrecognized_stream);
    tcase_add_test(tc, spec_vector_daemon_error);
    tcase_add_test(tc, daemon_error_long_payload_capped);
    tcase_add_test(tc, spec_vector_truncated_header);
    tcase_add_test(tc, split_everywhere);
    tcase_add_test(tc, large_frame_random_splits);
    tcase_add_test(tc, sink_refusal_stops);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
