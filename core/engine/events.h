/* events.h - the engine's event stream (GET /events): one typed event per
 * line of newline-delimited JSON, until the caller cancels or the engine
 * ends the stream at `until` (see api.h for the rules every call follows).
 *
 * Docker and Podman name two container events differently; the layer
 * speaks Docker's names both ways:
 *   - Podman reports a container's removal as "remove": read as "destroy";
 *   - Podman's "event" filter takes libpod's names ("died", "remove"): a
 *     filter on "die" or "destroy" is translated on Podman.
 * With `until`, Docker replays the events it keeps (since `since`, or all
 * of them without it); Podman 4.3 sends nothing at all when `until` is
 * already past. */
#ifndef WPDOCK_ENGINE_EVENTS_H
#define WPDOCK_ENGINE_EVENTS_H

#include <wpdock/engine.h>

#include "engine/api.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct wpd_engine_event {
    const char *type;           /* "container", "network", "volume", "image", ... */
    const char *action;         /* "create", "start", "die", "destroy",
                                   "health_status: healthy", ... (Docker's names) */
    const char *raw_action;     /* as the engine sent it ("remove" on Podman) */
    const char *actor_id;       /* container or network id, volume name, ... */
    const wpd_pair *attributes; /* labels, "name", "image", "exitCode", ... */
    size_t n_attributes;
    const char *scope; /* "local", "swarm"; "" when absent */
    int64_t time;      /* seconds since the epoch */
    int64_t time_nano; /* nanoseconds since the epoch */
} wpd_engine_event;

/* The value of attribute key, or NULL. */
const char *wpd_engine_event_attr(const wpd_engine_event *ev, const char *key);

/* One line of the stream (trailing whitespace ignored): 1 and *out filled
 * (strings in a), 0 for a blank line, -1 with err (WPD_ERR_PROTOCOL) for
 * anything that is not an event object (no "Action"/"status"). Pure. */
int wpd_engine_event_parse(const char *line, size_t len, wpd_arena *a, wpd_engine_event *out,
                           wpd_error *err);

/* The request path "/events?since=..&until=..&filters=.." for an engine of
 * `kind` (since/until 0 = none; Podman's event names translated). Pure. */
void wpd_events_path(wpd_engine_kind kind, const wpd_pair *filters, size_t n_filters, int64_t since,
                     int64_t until, wpd_buf *path);

typedef struct wpd_events_cbs {
    /* optional: the engine answered and the stream is in place */
    void (*ready)(void *arg);
    /* each event, valid during the call; wpd_call_cancel() may be called
     * from here (no further event is delivered then) */
    void (*event)(void *arg, const wpd_engine_event *ev);
    /* once: err NULL when the engine ended the stream (at `until`);
     * WPD_ERR_CANCELED after wpd_call_cancel; WPD_ERR_PROTOCOL for a line
     * that is not an event or longer than 1 MiB */
    void (*done)(void *arg, const wpd_error *err);
    void *arg;
} wpd_events_cbs;

/* Watch events matching filters ("type" -> "container", "label" -> "k=v",
 * "container" -> id or name, "event" -> "die", ...; repeated keys are
 * OR-ed, different keys AND-ed) from `since` (unix seconds of the engine's
 * clock; 0 = none: from now on, but see above for Docker with `until`)
 * until `until` (0 = until canceled). */
wpd_call *wpd_events_watch(wpd_engine *e, const wpd_pair *filters, size_t n_filters, int64_t since,
                           int64_t until, const wpd_events_cbs *cbs);

#endif
