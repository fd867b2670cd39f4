/* fuzz_events.c - the engine's event stream (core/engine/events.c):
 * newline-delimited JSON events, each read by wpd_engine_event_parse the
 * way the watch call splits its body; the attributes of every event then
 * go back out as the filters of an events request path
 * (wpd_events_path, Docker's and Podman's spelling).
 *
 * Asserts: a line is blank (0), an event (1) or a WPD_ERR_PROTOCOL error
 * with a message (-1); an event has a non-empty action, every string set,
 * its attributes found again by wpd_engine_event_attr, Podman's "remove"
 * read as "destroy", and time / timeNano consistent when only one was
 * given; the request path built from its attributes is percent-encoded
 * (printable ASCII, no space, '#', or quote). */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "engine/events.h"
#include "util/json.h"

static void check_path(const wpd_engine_event *ev, wpd_engine_kind kind)
{
    wpd_buf path = WPD_BUF_INIT;
    wpd_events_path(kind, ev->attributes, ev->n_attributes, ev->time, ev->time_nano, &path);
    for (size_t i = 0; i < path.len; i++) {
        char c = path.data[i];
        FZ_ASSERT(c > ' ' && c < 0x7f && c != '#' && c != '"');
    }
    wpd_buf_free(&path);
}

/* time and timeNano: each kept as sent; one missing (or 0) is derived
 * from the other. */
static void check_times(const wpd_engine_event *ev, const char *line, size_t len)
{
    wpd_json j;
    while (len && isspace((unsigned char)line[0])) {
        line++;
        len--;
    }
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    FZ_ASSERT(wpd_json_parse(&j, line, len, NULL) == 0); /* it was an event */
    int64_t t = 0, tn = 0;
    (void)wpd_json_get_int64(&j, 0, "time", &t);
    (void)wpd_json_get_int64(&j, 0, "timeNano", &tn);
    wpd_json_free(&j);
    if (tn == 0 && t > 0 && t < INT64_MAX / 1000000000)
        tn = t * 1000000000;
    if (t == 0 && tn != 0)
        t = tn / 1000000000;
    FZ_ASSERT(ev->time == t && ev->time_nano == tn);
}

static void one_line(const char *line, size_t len)
{
    wpd_arena *a = wpd_arena_new();
    wpd_engine_event ev;
    wpd_error err;
    int rc = wpd_engine_event_parse(line, len, a, &ev, &err);
    if (rc < 0) {
        FZ_ASSERT(rc == -1 && err.kind == WPD_ERR_PROTOCOL && err.message[0]);
    } else if (rc == 0) {
        for (size_t i = 0; i < len; i++)
            FZ_ASSERT(strchr(" \t\r\n\v\f", line[i]));
    } else {
        FZ_ASSERT(rc == 1);
        FZ_ASSERT(ev.type && ev.type[0] && ev.action && ev.action[0] && ev.raw_action);
        FZ_ASSERT(ev.actor_id && ev.scope);
        if (strcmp(ev.raw_action, "remove") == 0 &&
            (!strcmp(ev.type, "container") || !strcmp(ev.type, "volume") ||
             !strcmp(ev.type, "network")))
            FZ_ASSERT(strcmp(ev.action, "destroy") == 0);
        else
            FZ_ASSERT(strcmp(ev.action, ev.raw_action) == 0);
        FZ_ASSERT(ev.n_attributes == 0 || ev.attributes);
        for (size_t i = 0; i < ev.n_attributes; i++) {
            FZ_ASSERT(ev.attributes[i].key && ev.attributes[i].value);
            FZ_ASSERT(wpd_engine_event_attr(&ev, ev.attributes[i].key) != NULL);
        }
        check_times(&ev, line, len);
        check_path(&ev, WPD_ENGINE_DOCKER);
        check_path(&ev, WPD_ENGINE_PODMAN);
    }
    wpd_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (s[i] == '\n') {
            one_line(s + start, i - start);
            start = i + 1;
        }
    }
    if (start < size)
        one_line(s + start, size - start);
    return 0;
}
