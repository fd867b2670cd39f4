/* stream.c - an output stream call: response headers -> ready, framed
 * body -> demultiplexed data, end -> done with whether a frame was cut. */
#include "engine/stream.h"

#include "engine/stdcopy.h"

typedef struct stream_call {
    wpd_call base;
    wpd_output_cbs cbs;
    bool raw;
    wpd_stdcopy demux;
    bool demux_failed;
    wpd_error demux_err;
} stream_call;

static int stream_sink(void *arg, int stream, const char *data, size_t len)
{
    stream_call *s = arg;
    return s->cbs.data ? s->cbs.data(s->cbs.arg, stream, data, len) : 0;
}

static int stream_data(wpd_call *c, const char *data, size_t len)
{
    stream_call *s = (stream_call *)c;
    if (s->demux_failed)
        return 1;
    if (s->raw)
        return stream_sink(s, 1, data, len);
    if (wpd_stdcopy_feed(&s->demux, data, len, stream_sink, s, &s->demux_err) != 0) {
        /* a sink's non-zero answer is the caller's abort: report it as
         * the cancellation it is, not as a stream error */
        if (s->demux_err.kind != WPD_ERR_IO)
            s->demux_failed = true;
        return 1;
    }
    return 0;
}

static void stream_headers(wpd_call *c, const wpd_http_response *res)
{
    (void)res;
    stream_call *s = (stream_call *)c;
    if (s->cbs.ready)
        s->cbs.ready(s->cbs.arg);
}

static void stream_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    stream_call *s = (stream_call *)c;
    wpd_stream_end end = {
        .truncated = !s->raw && ((s->demux.hdr_len > 0 && s->demux.hdr_len < 8) ||
                                 (s->demux.hdr_len == 8 && s->demux.remaining > 0)),
        .frame_error = s->demux_failed,
    };
    wpd_error e;
    if (s->demux_failed)
        err = &s->demux_err;
    else if (!err && wpd_stdcopy_finish(&s->demux, &e) != 0)
        err = &e;
    s->cbs.done(s->cbs.arg, &end, err);
}

static void stream_cleanup(wpd_call *c)
{
    wpd_stdcopy_free(&((stream_call *)c)->demux);
}

static const wpd_call_type stream_type = {
    .complete = stream_complete,
    .data = stream_data,
    .headers = stream_headers,
    .cleanup = stream_cleanup,
};

wpd_call *wpd_stream_open(wpd_engine *e, const wpd_call_req *rq, bool raw,
                          const wpd_output_cbs *cbs)
{
    stream_call *s = wpd_call_new(e, &stream_type, sizeof *s);
    s->cbs = *cbs;
    s->raw = raw;
    wpd_stdcopy_init(&s->demux);
    return wpd_call_send(&s->base, rq);
}
