/* stdcopy.h - incremental demultiplexer for Docker's framed log stream
 * (spec 2.4): frames of [stream:1][0:3][size:4 big-endian][payload:size].
 * Payload bytes are handed to a sink as they arrive, so frames of any size
 * stream without being buffered; the demultiplexer itself allocates
 * nothing, so it cannot run out of memory. */
#ifndef WPDOCK_STDCOPY_H
#define WPDOCK_STDCOPY_H

#include <stddef.h>
#include <stdint.h>

#include <wpdock/error.h>

/* Receives payload bytes; stream is 1 (stdout, also for stdin frames) or 2
 * (stderr). Returning nonzero stops the demultiplexer with an error. */
typedef int (*wpd_stdcopy_sink)(void *arg, int stream, const char *data, size_t len);

typedef struct wpd_stdcopy {
    unsigned char hdr[8];       /* header bytes of the current frame */
    size_t hdr_len;             /* how many of hdr are filled (8 = in payload) */
    uint32_t remaining;         /* payload bytes of the current frame still to come */
    int stream;                 /* raw stream byte of the current frame */
    char errmsg[WPD_ERROR_MAX]; /* stream-3 payload collected so far (cut) */
    size_t errmsg_len;
    int failed; /* an error was reported; further input is refused */
} wpd_stdcopy;

void wpd_stdcopy_init(wpd_stdcopy *s);
/* Consume data[0..len). Returns 0, or -1 with *err set (WPD_ERR_PROTOCOL for
 * a daemon error frame or an unknown stream byte, WPD_ERR_IO when the sink
 * returned nonzero). After -1 every further call fails. */
int wpd_stdcopy_feed(wpd_stdcopy *s, const char *data, size_t len, wpd_stdcopy_sink sink, void *arg,
                     wpd_error *err);
/* End of input: a truncated final frame is dropped silently (returns 0);
 * returns -1 only when the stream had already failed. */
int wpd_stdcopy_finish(wpd_stdcopy *s, wpd_error *err);
void wpd_stdcopy_free(wpd_stdcopy *s);

#endif
