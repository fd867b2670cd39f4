/* stdcopy.c - demultiplex Docker's 8-byte-framed stdout/stderr log stream. */
#include "engine/stdcopy.h"

#include <string.h>

enum { STREAM_STDIN = 0, STREAM_STDOUT = 1, STREAM_STDERR = 2, STREAM_SYSERR = 3 };

/* A daemon error message longer than errmsg is cut (the error record holds
 * WPD_ERROR_MAX bytes anyway); the rest of the frame is still consumed. */

void wpd_stdcopy_init(wpd_stdcopy *s)
{
    memset(s, 0, sizeof *s);
}

void wpd_stdcopy_free(wpd_stdcopy *s)
{
    s->errmsg_len = 0;
    s->hdr_len = 0;
    s->remaining = 0;
}

static int fail(wpd_stdcopy *s)
{
    s->failed = 1;
    return -1;
}

/* The current frame's payload is complete. */
static int frame_done(wpd_stdcopy *s, wpd_error *err)
{
    s->hdr_len = 0;
    if (s->stream == STREAM_SYSERR) {
        wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "error from daemon in stream: %.*s",
                      (int)s->errmsg_len, s->errmsg);
        s->errmsg_len = 0;
        return fail(s);
    }
    return 0;
}

int wpd_stdcopy_feed(wpd_stdcopy *s, const char *data, size_t len, wpd_stdcopy_sink sink, void *arg,
                     wpd_error *err)
{
    if (s->failed)
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "log stream already failed");
    while (len > 0) {
        if (s->hdr_len < 8) {
            size_t take = 8 - s->hdr_len;
            if (take > len)
                take = len;
            memcpy(s->hdr + s->hdr_len, data, take);
            s->hdr_len += take;
            data += take;
            len -= take;
            if (s->hdr_len < 8)
                break;
            s->stream = s->hdr[0];
            s->remaining = (uint32_t)s->hdr[4] << 24 | (uint32_t)s->hdr[5] << 16 |
                           (uint32_t)s->hdr[6] << 8 | (uint32_t)s->hdr[7];
            if (s->stream > STREAM_SYSERR) {
                wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "unrecognized stream: %d", s->stream);
                return fail(s);
            }
            if (s->remaining == 0 && frame_done(s, err) < 0)
                return -1;
            continue;
        }
        size_t take = s->remaining < len ? s->remaining : len;
        if (s->stream == STREAM_SYSERR) {
            size_t room = sizeof s->errmsg - 1 - s->errmsg_len;
            size_t keep = take < room ? take : room;
            memcpy(s->errmsg + s->errmsg_len, data, keep);
            s->errmsg_len += keep;
        } else {
            int out = s->stream == STREAM_STDERR ? 2 : 1;
            if (sink(arg, out, data, take) != 0) {
                wpd_error_set(err, WPD_ERR_IO, 0, "log output refused %s data",
                              out == 2 ? "stderr" : "stdout");
                return fail(s);
            }
        }
        data += take;
        len -= take;
        s->remaining -= (uint32_t)take;
        if (s->remaining == 0 && frame_done(s, err) < 0)
            return -1;
    }
    return 0;
}

int wpd_stdcopy_finish(wpd_stdcopy *s, wpd_error *err)
{
    if (s->failed)
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "log stream already failed");
    s->hdr_len = 0;
    s->remaining = 0;
    s->errmsg_len = 0;
    return 0;
}
