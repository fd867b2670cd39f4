/* output.c - rendering runtime events: `[step] line` text with step-start
 * and step-result lines, or the JSON event lines of `--log-format json`. */
#include "output.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "printable.h"

void json_put_string(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    putc('"', out);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc(c, out);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", out); break;
            case '\r': fputs("\\r", out); break;
            case '\t': fputs("\\t", out); break;
            default: fprintf(out, "\\u%04x", c);
            }
            i++;
        } else if (c < 0x80) {
            size_t run = i;
            while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
                run++;
            fwrite(p + i, 1, run - i, out);
            i = run;
        } else {
            size_t l = utf8_seq_len(p + i, n - i);
            if (l) {
                fwrite(p + i, 1, l, out);
                i += l;
            } else {
                fputs("\\ufffd", out);
                i++;
            }
        }
    }
    putc('"', out);
}

static void jkey_str(FILE *out, const char *key, const char *v)
{
    fprintf(out, ",\"%s\":", key);
    json_put_string(out, v ? v : "", v ? strlen(v) : 0);
}

static void json_event(output *o, const wpd_event *ev)
{
    FILE *out = o->out;
    static const char *const types[] = {"workflow", "step", "log", "pull", "notice"};
    fprintf(out, "{\"event\":\"%s\"", types[ev->type]);
    jkey_str(out, "workflow", ev->workflow);
    if (o->show_engine)
        jkey_str(out, "engine", ev->engine);
    switch (ev->type) {
    case WPD_EVENT_WORKFLOW:
        if (ev->workflow_id)
            jkey_str(out, "workflow_id", ev->workflow_id);
        jkey_str(out, "status", ev->status);
        if (ev->error)
            jkey_str(out, "error", ev->error);
        break;
    case WPD_EVENT_STEP:
        jkey_str(out, "step", ev->step);
        jkey_str(out, "uuid", ev->uuid);
        jkey_str(out, "status", ev->status);
        if (ev->has_exit_code)
            fprintf(out, ",\"exit_code\":%d", ev->exit_code);
        if (ev->has_oom)
            fprintf(out, ",\"oom_killed\":%s", ev->oom_killed ? "true" : "false");
        if (ev->started)
            fprintf(out, ",\"started\":%" PRId64, ev->started);
        if (ev->finished)
            fprintf(out, ",\"finished\":%" PRId64, ev->finished);
        if (ev->error)
            jkey_str(out, "error", ev->error);
        break;
    case WPD_EVENT_LOG:
        jkey_str(out, "step", ev->step);
        jkey_str(out, "stream", ev->stream);
        fputs(",\"line\":", out);
        json_put_string(out, ev->line, ev->line_len);
        break;
    case WPD_EVENT_PULL:
        jkey_str(out, "step", ev->step);
        jkey_str(out, "image", ev->image);
        jkey_str(out, "layer", ev->layer);
        jkey_str(out, "status", ev->status);
        if (ev->total)
            fprintf(out, ",\"current\":%" PRId64 ",\"total\":%" PRId64, ev->current, ev->total);
        break;
    case WPD_EVENT_NOTICE: break;
    }
    fputs("}\n", out);
}

static unsigned name_color(const char *s)
{
    static const unsigned colors[] = {32, 33, 34, 35, 36, 92, 93, 94, 95, 96};
    unsigned h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return colors[h % (sizeof colors / sizeof colors[0])];
}

static void step_prefix(output *o, const wpd_event *ev, const char *suffix)
{
    if (o->color)
        fprintf(o->out, "\033[%um", name_color(ev->step ? ev->step : ""));
    /* plain stdio calls: this runs for every log line */
    putc('[', o->out);
    if (o->multi) {
        fputs_printable(ev->workflow, o->out);
        putc('/', o->out);
    }
    fputs_printable(ev->step, o->out);
    fputs(suffix, o->out);
    putc(']', o->out);
    if (o->color)
        fputs("\033[0m", o->out);
    putc(' ', o->out);
}

/* Text mode prints a pull line only when a layer's status changes. */
static bool pull_changed(output *o, const wpd_event *ev)
{
    char *key = NULL;
    size_t kl = strlen(ev->workflow) + strlen(ev->step) + strlen(ev->layer) + 3;
    key = malloc(kl);
    snprintf(key, kl, "%s/%s/%s", ev->workflow, ev->step, ev->layer);
    for (size_t i = 0; i < o->n_pull_state; i += 2) {
        if (strcmp(o->pull_state[i], key) == 0) {
            free(key);
            if (strcmp(o->pull_state[i + 1], ev->status) == 0)
                return false;
            free(o->pull_state[i + 1]);
            o->pull_state[i + 1] = strdup(ev->status);
            return true;
        }
    }
    o->pull_state = realloc(o->pull_state, (o->n_pull_state + 2) * sizeof *o->pull_state);
    o->pull_state[o->n_pull_state++] = key;
    o->pull_state[o->n_pull_state++] = strdup(ev->status);
    return true;
}

static void live_reset(output *o)
{
    for (size_t i = 0; i < o->n_live; i++)
        free(o->live_keys[i]);
    o->n_live = 0;
}

static void format_bytes(char *buf, size_t n, int64_t v)
{
    if (v >= 1024 * 1024)
        snprintf(buf, n, "%.1f MiB", (double)v / (1024.0 * 1024.0));
    else if (v >= 1024)
        snprintf(buf, n, "%.1f KiB", (double)v / 1024.0);
    else
        snprintf(buf, n, "%lld B", (long long)v);
}

static void pull_line(output *o, const wpd_event *ev)
{
    step_prefix(o, ev, "");
    fputs("pull", o->out);
    if (*ev->layer) {
        putc(' ', o->out);
        fputs_printable(ev->layer, o->out);
    }
    fputs(": ", o->out);
    fputs_printable(ev->status, o->out);
    if (ev->total > 0) {
        char cur[32], tot[32];
        format_bytes(cur, sizeof cur, ev->current);
        format_bytes(tot, sizeof tot, ev->total);
        fprintf(o->out, " %s/%s", cur, tot);
    }
}

/* On a terminal: one line per layer, rewritten in place while the pull
 * lines are the last thing printed; other output freezes them. */
static void pull_live(output *o, const wpd_event *ev)
{
    size_t kl = strlen(ev->workflow) + strlen(ev->step) + strlen(ev->layer) + 3;
    char *key = malloc(kl);
    snprintf(key, kl, "%s/%s/%s", ev->workflow, ev->step, ev->layer);
    for (size_t i = 0; i < o->n_live; i++) {
        if (strcmp(o->live_keys[i], key) == 0) {
            size_t up = o->n_live - i;
            fprintf(o->out, "\033[%zuA\r\033[K", up);
            pull_line(o, ev);
            fprintf(o->out, "\033[%zuB\r", up);
            free(key);
            return;
        }
    }
    pull_line(o, ev);
    putc('\n', o->out);
    o->live_keys = realloc(o->live_keys, (o->n_live + 1) * sizeof *o->live_keys);
    o->live_keys[o->n_live++] = key;
}

/* A diagnostic on stderr, in both output formats. */
static void notice(const wpd_event *ev)
{
    fputs("wpdock: warning: ", stderr);
    fputs_printable(ev->workflow, stderr);
    fputs(": ", stderr);
    if (ev->step) {
        putc('[', stderr);
        fputs_printable(ev->step, stderr);
        fputs("] ", stderr);
    }
    fputs_printable(ev->error, stderr);
    putc('\n', stderr);
}

static void text_event(output *o, const wpd_event *ev)
{
    FILE *out = o->out;
    if (ev->type != WPD_EVENT_PULL)
        live_reset(o);
    switch (ev->type) {
    case WPD_EVENT_WORKFLOW:
        fputs("=== ", out);
        fputs_printable(ev->workflow, out);
        fputs(": ", out);
        fputs_printable(ev->status, out);
        if (strcmp(ev->status, "started") == 0 && ev->workflow_id) {
            fputs(" (workflow id ", out);
            fputs_printable(ev->workflow_id, out);
            putc(')', out);
        }
        if (ev->error) {
            fputs(": ", out);
            fputs_printable(ev->error, out);
        }
        putc('\n', out);
        break;
    case WPD_EVENT_STEP:
        step_prefix(o, ev, "");
        if (strcmp(ev->status, "started") == 0) {
            fputs("--- started: image ", out);
            fputs_printable(ev->image, out);
            fputs(ev->detached ? " (detached)\n" : "\n", out);
            break;
        }
        fputs("--- ", out);
        fputs_printable(ev->status, out);
        if (ev->has_exit_code)
            fprintf(out, " (exit code %d%s)", ev->exit_code, ev->oom_killed ? ", OOM killed" : "");
        if (ev->error) {
            fputs(": ", out);
            fputs_printable(ev->error, out);
        }
        putc('\n', out);
        break;
    case WPD_EVENT_LOG:
        step_prefix(o, ev, strcmp(ev->stream, "stderr") == 0 ? ":stderr" : "");
        put_printable(out, ev->line, ev->line_len, true);
        putc('\n', out);
        break;
    case WPD_EVENT_PULL:
        if (o->live) {
            pull_live(o, ev);
        } else if (pull_changed(o, ev)) {
            pull_line(o, ev);
            putc('\n', out);
        }
        break;
    case WPD_EVENT_NOTICE: notice(ev); break;
    }
}

void output_event(output *o, const wpd_event *ev)
{
    if (o->json) {
        if (ev->type == WPD_EVENT_NOTICE) {
            notice(ev);
            return;
        }
        json_event(o, ev);
    } else {
        text_event(o, ev);
    }
    if (ev->type != WPD_EVENT_LOG)
        fflush(o->out);
    else if (o->flush_timer && !wpd_timer_pending(o->flush_timer))
        wpd_timer_start(o->flush_timer, 0);
}

static void flush_now(void *arg)
{
    output *o = arg;
    fflush(o->out);
}

void output_attach(output *o, wpd_reactor *r)
{
    o->flush_timer = wpd_timer_new(r, flush_now, o);
}

void output_free(output *o)
{
    live_reset(o);
    free(o->live_keys);
    o->live_keys = NULL;
    wpd_timer_free(o->flush_timer);
    o->flush_timer = NULL;
    for (size_t i = 0; i < o->n_pull_state; i++)
        free(o->pull_state[i]);
    free(o->pull_state);
    o->pull_state = NULL;
    o->n_pull_state = 0;
}
