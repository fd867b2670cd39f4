/* follow.c - a container's output while it starts (log waits) and, with
 * wpd_spec_on_line, until it is terminated: an attach opened before start
 * (complete by construction; a logs follow opened after start lost lines
 * on Docker 20.10), split into lines per stream, each line handed to the
 * run's log waits and to the test's callback. */
#include <stdlib.h>
#include <string.h>

#include "harness/harness_private.h"

static void emit(wpd_ctr *c, int stream, const char *line, size_t len)
{
    if (len && line[len - 1] == '\r')
        len--;
    if (c->run)
        hx_waits_log_line(c->run, line, len);
    if (c->on_line) {
        hx_cb_enter(c->s);
        c->on_line(c->on_line_arg, stream, line, len);
        hx_cb_leave(c->s);
    }
}

static int on_data(void *arg, int stream, const char *data, size_t len)
{
    wpd_ctr *c = arg;
    wpd_buf *part = &c->lines.part[stream == 2 ? 1 : 0];
    while (len) {
        const char *nl = memchr(data, '\n', len);
        if (!nl) {
            wpd_buf_append(part, data, len);
            break;
        }
        size_t n = (size_t)(nl - data);
        if (part->len) {
            wpd_buf_append(part, data, n);
            emit(c, stream == 2 ? 2 : 1, part->data, part->len);
            wpd_buf_reset(part);
        } else {
            emit(c, stream == 2 ? 2 : 1, data, n);
        }
        data += n + 1;
        len -= n + 1;
        if (!c->follow)
            return 1; /* stopped from a callback */
    }
    return 0;
}

static void on_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    wpd_ctr *c = arg;
    (void)end;
    (void)err;
    c->follow = NULL;
    for (int i = 0; i < 2; i++)
        if (c->lines.part[i].len) {
            emit(c, i + 1, c->lines.part[i].data, c->lines.part[i].len);
            wpd_buf_reset(&c->lines.part[i]);
        }
    if (c->run)
        hx_waits_follow_ended(c->run);
}

static void on_ready(void *arg)
{
    wpd_ctr *c = arg;
    if (c->run)
        hx_run_attached(c->run);
}

void hx_follow_start(wpd_ctr *c)
{
    if (c->follow)
        return;
    wpd_output_cbs cbs = {.ready = on_ready, .data = on_data, .done = on_done, .arg = c};
    c->follow = wpd_ctr_attach(c->s->e, c->id, false, &cbs);
}

void hx_follow_stop(wpd_ctr *c)
{
    if (c->follow) {
        wpd_call_abandon(c->follow);
        c->follow = NULL;
    }
}
