/* fuzz_stdcopy.c - the stdcopy demultiplexer (core/engine/stdcopy.c) fed
 * in arbitrary chunk splits.
 *
 * Input: [flags][chunk sizes (fz_chunks)][stream bytes]. flags bit 0..3:
 * the sink refuses its Nth call (0 = never). The same bytes are also
 * walked by a plain reference reader of the frame format. Asserts: the
 * bytes the sink receives, and on which stream, are exactly the payloads
 * of the stdin/stdout/stderr frames before the first error or refusal (so
 * the output bytes equal the sum of those frames' payload sizes); an
 * error frame (stream 3) or an unknown stream byte fails with
 * WPD_ERR_PROTOCOL, a refusal with WPD_ERR_IO, and every later feed
 * fails; a stream ending inside a frame is not an error; the sink never
 * sees an empty chunk. */
#include <string.h>

#include "fuzz.h"
#include "engine/stdcopy.h"
#include "util/buf.h"

typedef struct sink_state {
    wpd_buf out;     /* payload bytes received */
    wpd_buf streams; /* '1' or '2' per byte */
    unsigned calls, refuse_at;
    int refused;
} sink_state;

static int sink(void *arg, int stream, const char *data, size_t len)
{
    sink_state *s = arg;
    FZ_ASSERT(stream == 1 || stream == 2);
    FZ_ASSERT(len > 0);
    FZ_ASSERT(!s->refused);
    if (++s->calls == s->refuse_at) {
        s->refused = 1;
        return -1;
    }
    wpd_buf_append(&s->out, data, len);
    for (size_t i = 0; i < len; i++)
        wpd_buf_putc(&s->streams, (char)('0' + stream));
    return 0;
}

/* Reference: the payload bytes and streams of the complete stream; 1 when
 * it ends in an error (stream 3 frame completed, or a bad stream byte). */
static int reference(const uint8_t *p, size_t n, wpd_buf *out, wpd_buf *streams)
{
    size_t at = 0;
    while (n - at >= 8) {
        unsigned st = p[at];
        size_t len = (size_t)p[at + 4] << 24 | (size_t)p[at + 5] << 16 | (size_t)p[at + 6] << 8 |
                     (size_t)p[at + 7];
        at += 8;
        if (st > 3)
            return 1;
        size_t have = n - at < len ? n - at : len;
        if (st != 3) {
            wpd_buf_append(out, p + at, have);
            for (size_t i = 0; i < have; i++)
                wpd_buf_putc(streams, st == 2 ? '2' : '1');
        }
        at += have;
        if (have < len)
            return 0; /* cut off inside the payload */
        if (st == 3)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned flags = fz_byte(&in);
    fz_chunks ch;
    fz_chunks_read(&in, &ch);
    const char *stream = (const char *)in.p;
    size_t len = in.n;

    sink_state s = {WPD_BUF_INIT, WPD_BUF_INIT, 0, flags & 15, 0};
    wpd_stdcopy d;
    wpd_stdcopy_init(&d);
    wpd_error err = {0};
    int rc = 0;
    size_t at = 0;
    while (at < len) {
        size_t k = fz_chunk(&ch, len - at);
        rc = wpd_stdcopy_feed(&d, stream + at, k, sink, &s, &err);
        at += k;
        if (rc != 0)
            break;
    }
    wpd_error err2;
    if (rc != 0) {
        FZ_ASSERT(rc == -1);
        FZ_ASSERT(err.kind == (s.refused ? WPD_ERR_IO : WPD_ERR_PROTOCOL));
        FZ_ASSERT(wpd_stdcopy_feed(&d, "x", 1, sink, &s, &err2) == -1);
        FZ_ASSERT(wpd_stdcopy_finish(&d, &err2) == -1);
    } else {
        FZ_ASSERT(wpd_stdcopy_finish(&d, &err2) == 0);
    }
    wpd_stdcopy_free(&d);

    wpd_buf want = WPD_BUF_INIT, want_streams = WPD_BUF_INIT;
    int bad = reference(in.p, len, &want, &want_streams);
    if (!s.refused) {
        FZ_ASSERT((rc != 0) == (bad != 0));
        FZ_ASSERT(s.out.len == want.len && s.streams.len == want.len);
        FZ_ASSERT(want.len == 0 || memcmp(s.out.data, want.data, want.len) == 0);
        FZ_ASSERT(want.len == 0 || memcmp(s.streams.data, want_streams.data, want.len) == 0);
    } else {
        /* refused: what was delivered before is a prefix of the reference */
        FZ_ASSERT(s.out.len <= want.len);
        FZ_ASSERT(s.out.len == 0 || memcmp(s.out.data, want.data, s.out.len) == 0);
        FZ_ASSERT(s.out.len == 0 || memcmp(s.streams.data, want_streams.data, s.out.len) == 0);
    }
    wpd_buf_free(&want);
    wpd_buf_free(&want_streams);
    wpd_buf_free(&s.out);
    wpd_buf_free(&s.streams);
    return 0;
}
