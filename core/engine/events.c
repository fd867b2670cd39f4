/* events.c - the event stream: line framing, the event parser and the
 * Docker/Podman naming differences (events.h). */
#include "engine/events.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/call.h"
#include "engine/dialect.h"
#include "engine/parse.h"

#define MAX_LINE (1024 * 1024)

const char *wpd_engine_event_attr(const wpd_engine_event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_attributes; i++)
        if (strcmp(ev->attributes[i].key, key) == 0)
            return ev->attributes[i].value;
    return NULL;
}

int wpd_engine_event_parse(const char *line, size_t len, wpd_arena *a, wpd_engine_event *out,
                           wpd_error *err)
{
    memset(out, 0, sizeof *out);
    while (len && isspace((unsigned char)line[len - 1]))
        len--;
    while (len && isspace((unsigned char)*line)) {
        line++;
        len--;
    }
    if (!len)
        return 0;
    wpd_json j;
    if (wpd_resp_body(&j, line, len, "event", a, err) != 0)
        return -1;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "event: not an object");
    }
    const char *action = wpd_resp_str(&j, 0, "Action", a);
    if (!*action)
        action = wpd_resp_str(&j, 0, "status", a); /* before API 1.22 */
    if (!*action) {
        wpd_json_free(&j);
        return wpd_error_set(err, WPD_ERR_PROTOCOL, 0, "event: no \"Action\"");
    }
    out->raw_action = action;
    out->type = wpd_resp_str(&j, 0, "Type", a);
    if (!*out->type)
        out->type = "container"; /* old events were all container events */
    out->action = wpd_dialect_event_action(out->type, action);
    out->n_attributes =
        wpd_resp_pairs(&j, wpd_json_path(&j, 0, "Actor.Attributes"), a, &out->attributes);
    out->actor_id = wpd_resp_str(&j, 0, "Actor.ID", a);
    if (!*out->actor_id)
        out->actor_id = wpd_resp_str(&j, 0, "id", a);
    if (!*out->actor_id && strcmp(out->type, "volume") == 0) {
        /* Podman leaves a volume's ID empty and names it in "name" */
        const char *name = wpd_engine_event_attr(out, "name");
        out->actor_id = name ? name : "";
    }
    out->scope = wpd_resp_str(&j, 0, "scope", a);
    out->time = wpd_resp_int(&j, 0, "time", 0);
    out->time_nano = wpd_resp_int(&j, 0, "timeNano", 0);
    if (!out->time_nano && out->time > 0 && out->time < INT64_MAX / 1000000000)
        out->time_nano = out->time * 1000000000;
    if (!out->time && out->time_nano)
        out->time = out->time_nano / 1000000000;
    wpd_json_free(&j);
    return 1;
}

void wpd_events_path(wpd_engine_kind kind, const wpd_pair *filters, size_t n_filters, int64_t since,
                     int64_t until, wpd_buf *path)
{
    wpd_buf_puts(path, "/events");
    char sep = '?';
    if (since > 0) {
        wpd_buf_printf(path, "%csince=%" PRId64, sep, since);
        sep = '&';
    }
    if (until > 0) {
        wpd_buf_printf(path, "%cuntil=%" PRId64, sep, until);
        sep = '&';
    }
    if (!n_filters)
        return;
    wpd_pair *v = wpd_xcalloc(n_filters, sizeof *v);
    for (size_t i = 0; i < n_filters; i++) {
        v[i].key = filters[i].key;
        v[i].value = wpd_dialect_event_filter(kind, filters[i].key, filters[i].value);
    }
    wpd_path_filters(path, sep, v, n_filters);
    free(v);
}

/* ---- the watch -------------------------------------------------------- */

typedef struct events_call {
    wpd_call base;
    wpd_events_cbs cbs;
    wpd_buf line;
    bool failed; /* a line was not an event: the stream is aborted */
    wpd_error fail_err;
} events_call;

/* Deliver one line; -1 when it was not an event. */
typedef struct event_parse {
    const char *line;
    size_t len;
    wpd_engine_event ev;
} event_parse;

static int parse_event_line(void *arg, wpd_arena *a, wpd_error *err)
{
    event_parse *ep = arg;
    return wpd_engine_event_parse(ep->line, ep->len, a, &ep->ev, err);
}

/* Deliver one line (parsed under an out-of-memory guard; running out of
 * memory ends the stream like a line that is not an event). */
static int deliver_line(events_call *ec, const char *line, size_t len)
{
    event_parse ep = {line, len, {0}};
    wpd_arena *a;
    int rc = wpd_parse_guarded(parse_event_line, &ep, &a, &ec->fail_err);
    wpd_engine_event ev = ep.ev;
    if (rc > 0 && ec->cbs.event)
        ec->cbs.event(ec->cbs.arg, &ev);
    wpd_arena_free(a);
    if (rc < 0) {
        ec->failed = true;
        return -1;
    }
    return 0;
}

static int events_data(wpd_call *c, const char *data, size_t len)
{
    events_call *ec = (events_call *)c;
    if (ec->failed || c->canceled)
        return 1;
    /* the kept bytes are an unfinished line: scan only the new ones */
    size_t from = ec->line.len;
    wpd_buf_append(&ec->line, data, len);
    size_t start = 0;
    for (size_t i = from; i < ec->line.len; i++) {
        if (ec->line.data[i] != '\n')
            continue;
        if (deliver_line(ec, ec->line.data + start, i - start) != 0 || c->canceled)
            return 1;
        start = i + 1;
    }
    wpd_buf_consume(&ec->line, start);
    if (ec->line.len > MAX_LINE) {
        wpd_error_set(&ec->fail_err, WPD_ERR_PROTOCOL, 0, "events: a line longer than %d bytes",
                      MAX_LINE);
        ec->failed = true;
        return 1;
    }
    return 0;
}

static void events_headers(wpd_call *c, const wpd_http_response *res)
{
    (void)res;
    events_call *ec = (events_call *)c;
    if (ec->cbs.ready)
        ec->cbs.ready(ec->cbs.arg);
}

static void events_complete(wpd_call *c, const wpd_http_response *res, const wpd_error *err)
{
    (void)res;
    events_call *ec = (events_call *)c;
    if (ec->failed && !c->canceled) {
        err = &ec->fail_err;
    } else if (!err && ec->line.len) {
        /* the last line had no newline */
        if (deliver_line(ec, ec->line.data, ec->line.len) != 0)
            err = &ec->fail_err;
    }
    ec->cbs.done(ec->cbs.arg, err);
}

static void events_cleanup(wpd_call *c)
{
    wpd_buf_free(&((events_call *)c)->line);
}

static const wpd_call_type events_type = {
    .complete = events_complete,
    .data = events_data,
    .headers = events_headers,
    .cleanup = events_cleanup,
};

wpd_call *wpd_events_watch(wpd_engine *e, const wpd_pair *filters, size_t n_filters, int64_t since,
                           int64_t until, const wpd_events_cbs *cbs)
{
    events_call *ec = wpd_call_new(e, &events_type, sizeof *ec);
    ec->cbs = *cbs;
    wpd_buf p = WPD_BUF_INIT;
    wpd_events_path(wpd_engine_get_kind(e), filters, n_filters, since, until, &p);
    wpd_call_req rq = {.method = "GET", .path = wpd_buf_cstr(&p)};
    wpd_call_send(&ec->base, &rq);
    wpd_buf_free(&p);
    return &ec->base;
}
