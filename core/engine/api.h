/* api.h - the typed, asynchronous Engine API layer: what every call of
 * containers.h, exec.h, archive.h, networks.h, volumes.h, images.h and
 * events.h shares. The layer knows the Docker and Podman APIs (their
 * differences live in dialect.c, once) and nothing of Woodpecker.
 *
 * Every call returns a wpd_call handle and completes exactly once through
 * the reactor, never from inside the function that started it: its typed
 * callback gets either a result (err NULL) or a wpd_error classified by
 * status and operation. Results and their strings are valid only during
 * the callback. The handle is valid until the callback has returned;
 * wpd_call_cancel() makes the callback run (once) with WPD_ERR_CANCELED
 * unless the call had already completed. */
#ifndef WPDOCK_ENGINE_API_H
#define WPDOCK_ENGINE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wpdock/engine.h>
#include <wpdock/error.h>

typedef struct wpd_call wpd_call;

/* Abort a call that has not completed; NULL is ignored. */
void wpd_call_cancel(wpd_call *c);
/* Abort it and never run its callback: for an owner that goes away with
 * the call still in flight (freeing a backend mid-run). */
void wpd_call_abandon(wpd_call *c);
/* Back-pressure on a streaming call (attach, logs): paused, its data
 * callback stops after the chunk being delivered and the engine's sends
 * block until it is unpaused. NULL and non-streaming calls are ignored. */
void wpd_call_pause(wpd_call *c, bool pause);

/* A key and a value: labels of objects, list filters ("label" ->
 * "wp_uuid", "network" -> name; repeated keys are OR-ed by the engine). */
typedef struct wpd_pair {
    const char *key;
    const char *value;
} wpd_pair;

/* How a state-changing call (start, stop, kill, remove) ended. The
 * "nothing to do" answers of both engines are not errors. */
typedef enum wpd_change {
    WPD_CHANGE_DONE = 0, /* the engine did what was asked */
    WPD_CHANGE_ALREADY,  /* already in that state: started, stopped, not
                            running (kill), removal already in progress */
    WPD_CHANGE_NOT_FOUND /* no such object */
} wpd_change;

typedef void (*wpd_done_fn)(void *arg, const wpd_error *err);
typedef void (*wpd_change_fn)(void *arg, wpd_change outcome, const wpd_error *err);

/* Output of a container or exec stream (attach, logs, exec start),
 * demultiplexed: stream 1 = stdout (stdin frames count as stdout), 2 =
 * stderr; a raw (TTY) stream is all stdout. */
typedef struct wpd_stream_end {
    bool truncated;   /* the stream ended inside a frame (cut off) */
    bool frame_error; /* err comes from the stream's content: a daemon
                         error frame or an unknown stream byte */
} wpd_stream_end;

typedef struct wpd_output_cbs {
    /* optional: the engine answered and the stream is in place. Podman
     * (4.3 and 5.x) sends no headers on logs?follow=1 before the first
     * output byte, so there it may come late or never; an attach is
     * confirmed at once by Docker, within a few hundred ms by Podman */
    void (*ready)(void *arg);
    /* payload bytes; return non-zero to abort (done gets WPD_ERR_CANCELED) */
    int (*data)(void *arg, int stream, const char *data, size_t len);
    /* once, at the end: err NULL for a clean end of the stream; an error
     * frame of the daemon (stream 3) or an unknown stream byte is an error */
    void (*done)(void *arg, const wpd_stream_end *end, const wpd_error *err);
    void *arg;
} wpd_output_cbs;

#endif
