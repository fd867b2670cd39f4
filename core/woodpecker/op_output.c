/* op_output.c - TailStep (spec 2.4): a step's output.
 *
 * The output is read from an attach opened BEFORE the container starts
 * (complete by construction, as `docker run` does), not from
 * `logs?follow=1` after start as the Go reference does: Podman's follow
 * stream silently drops data in the middle (podman#21914), and Docker's
 * follow of a json-file log relays about ten times slower than attach
 * (measured: 1M short lines 48 s vs 5 s). StartStep opens the attach;
 * TailStep adopts it (what arrived before is kept and delivered then).
 *
 * Reconciliation (Podman): when the attach stream breaks off (an error, or
 * EOF inside a frame), delivered nothing at all (seen under load with 32
 * short steps at once: the attach came up after the step had ended), or
 * was not confirmed in time (untrusted), the logs are read once more
 * without follow after the container ended; the bytes that match what was
 * delivered are skipped (checked by length and FNV-1a hash per stream) and
 * the rest is delivered, so every byte arrives exactly once and in order.
 * It is not done after a clean end of the attach: Podman's non-follow logs
 * endpoint is slow (1M short lines: 32 s, against 2.6 s for the attach).
 * A TailStep without an attach (or whose attach never worked) follows the
 * logs instead. */
#include <stdlib.h>
#include <string.h>

#include "engine/containers.h"
#include "woodpecker/ops.h"

#define FNV_OFFSET 14695981039346656037ULL

static uint64_t fnv1a(uint64_t h, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct output_op {
    wpd_op base;
    bool attach;              /* opened by StartStep (else: logs?follow=1) */
    void (*ready)(void *arg); /* the start waiting for the attach */
    void *ready_arg;
    bool adopted;         /* a TailStep took it over (or the start dropped it) */
    wpd_output_fn output; /* with base.arg, as base.done */
    wpd_buf pending;      /* before adoption: [stream][u32 length][bytes]... */
    bool ended;           /* the stream ended before adoption; how: */
    wpd_stream_end end;
    bool end_failed;
    wpd_error end_err;
    bool track_sent; /* hash delivered bytes: a reconciliation may need them */
    bool discard;    /* attach not trusted: deliver only the post-exit read */
    bool attach_broken;
    uint64_t sent_hash[3], sent_len[3];
    uint64_t recon_hash[3], recon_len[3];
    bool recon_diverged;
};

static void deliver_bytes(output_op *t, int stream, const char *data, size_t len)
{
    int s = stream == 2 ? 2 : 1;
    if (t->track_sent)
        t->sent_hash[s] = fnv1a(t->sent_hash[s], data, len);
    t->sent_len[s] += len;
    t->output(t->base.arg, stream, data, len);
}

/* The op's stream call, paused at once when the backend's output is. */
static void watch(output_op *t, wpd_call *call)
{
    t->base.call = call;
    if (t->base.b->output_paused)
        wpd_call_pause(call, true);
}

/* ---- reconciliation --------------------------------------------------- */

static int recon_data(void *arg, int stream, const char *data, size_t len)
{
    output_op *t = arg;
    int s = stream == 2 ? 2 : 1;
    if (t->recon_diverged)
        return 0;
    if (t->recon_len[s] < t->sent_len[s]) {
        size_t take = (size_t)(t->sent_len[s] - t->recon_len[s]);
        if (take > len)
            take = len;
        t->recon_hash[s] = fnv1a(t->recon_hash[s], data, take);
        t->recon_len[s] += take;
        data += take;
        len -= take;
        if (t->recon_len[s] == t->sent_len[s] && t->recon_hash[s] != t->sent_hash[s]) {
            t->recon_diverged = true;
            return 0;
        }
    }
    if (len) {
        t->recon_len[s] += len;
        t->output(t->base.arg, stream, data, len);
    }
    return 0;
}

static void recon_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    (void)end;
    output_op *t = arg;
    if (op_call_done(&t->base))
        return;
    if (t->recon_diverged)
        op_notice(&t->base, "the log read after the step ended differs from the attached "
                            "stream; the output shown may be incomplete");
    else if (err)
        op_notice(&t->base, err->message);
    op_finish(&t->base, NULL);
}

/* ---- the end of the stream -------------------------------------------- */

static void output_ending(output_op *t, const wpd_stream_end *end, const wpd_error *err)
{
    wpd_op *base = &t->base;
    const wpd_settings *set = base->b->settings;
    if (!t->output) { /* dropped by its start: nobody wants the output */
        op_finish(base, NULL);
        return;
    }
    if (err && end->frame_error) {
        op_finish(base, err);
        return;
    }
    if (err && t->attach && err->kind != WPD_ERR_CANCELED &&
        set->reconcile_logs != WPD_RECONCILE_NEVER &&
        (op_podman(base) || set->reconcile_logs == WPD_RECONCILE_ALWAYS)) {
        t->attach_broken = true; /* the post-exit read below fills the gap */
        err = NULL;
    }
    if (err) {
        wpd_error e = *err;
        wpd_error_prefix(&e, "reading logs of %s", base->name);
        op_finish(base, &e);
        return;
    }
    wpd_reconcile policy = set->reconcile_logs;
    if (t->attach &&
        (policy == WPD_RECONCILE_ALWAYS || (policy == WPD_RECONCILE_AUTO && op_podman(base) &&
                                            (end->truncated || t->attach_broken || t->discard ||
                                             t->sent_len[1] + t->sent_len[2] == 0)))) {
        t->recon_hash[1] = t->recon_hash[2] = FNV_OFFSET;
        wpd_output_cbs cbs = {.data = recon_data, .done = recon_done, .arg = t};
        wpd_logs_opts o = {0};
        watch(t, wpd_ctr_logs(base->b->engine, base->name, &o, &cbs));
        return;
    }
    op_finish(base, NULL);
}

/* ---- the stream ------------------------------------------------------- */

static void stream_ready(void *arg)
{
    output_op *t = arg;
    void (*ready)(void *) = t->ready;
    t->ready = NULL;
    if (ready)
        ready(t->ready_arg);
}

static int stream_data(void *arg, int stream, const char *data, size_t len)
{
    output_op *t = arg;
    if (t->discard)
        return 0; /* delivered from the post-exit read instead */
    if (t->adopted) {
        if (t->output)
            deliver_bytes(t, stream, data, len);
        return 0;
    }
    unsigned char hdr[5] = {(unsigned char)stream, (unsigned char)(len >> 24),
                            (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                            (unsigned char)len};
    wpd_buf_append(&t->pending, hdr, sizeof hdr);
    wpd_buf_append(&t->pending, data, len);
    return 0;
}

static void stream_done(void *arg, const wpd_stream_end *end, const wpd_error *err)
{
    output_op *t = arg;
    if (op_call_done(&t->base))
        return;
    /* the attach ended before it was confirmed (e.g. the engine refused
     * it): the start goes on; TailStep then follows the logs */
    stream_ready(t);
    if (t->adopted) {
        output_ending(t, end, err);
        return;
    }
    t->ended = true;
    t->end = *end;
    t->end_failed = err != NULL;
    if (err)
        t->end_err = *err;
}

static void flush_pending(output_op *t)
{
    const unsigned char *p = (const unsigned char *)t->pending.data;
    size_t left = t->pending.len;
    while (left >= 5) {
        size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
        deliver_bytes(t, p[0], (const char *)p + 5, len);
        p += 5 + len;
        left -= 5 + len;
    }
    wpd_buf_free(&t->pending);
}

/* ---- the op ----------------------------------------------------------- */

static void output_cleanup(wpd_op *base)
{
    wpd_buf_free(&((output_op *)base)->pending);
}

static const op_class output_class = {.deliver = op_deliver_done, .cleanup = output_cleanup};

static output_op *output_new(wpd_backend *b, const wpd_step *step)
{
    output_op *t = op_new(b, &output_class, sizeof *t, step, NULL, NULL);
    t->sent_hash[1] = t->sent_hash[2] = FNV_OFFSET;
    wpd_reconcile policy = b->settings->reconcile_logs;
    t->track_sent =
        policy == WPD_RECONCILE_ALWAYS || (policy == WPD_RECONCILE_AUTO && op_podman(&t->base));
    return t;
}

output_op *output_attach_open(wpd_backend *b, const wpd_step *step, void (*ready)(void *arg),
                              void *arg)
{
    output_op *t = output_new(b, step);
    t->attach = true;
    t->ready = ready;
    t->ready_arg = arg;
    wpd_output_cbs cbs = {
        .ready = stream_ready, .data = stream_data, .done = stream_done, .arg = t};
    watch(t, wpd_ctr_attach(b->engine, t->base.name, false, &cbs));
    return t;
}

void output_attach_untrusted(output_op *t)
{
    t->ready = NULL;
    t->discard = op_podman(&t->base) && t->base.b->settings->reconcile_logs != WPD_RECONCILE_NEVER;
}

void output_attach_drop(output_op *t)
{
    t->ready = NULL;
    t->adopted = true; /* with no output and no callback: it just ends */
    wpd_buf_free(&t->pending);
    if (t->base.call)
        wpd_call_cancel(t->base.call);
    else if (t->ended)
        op_finish(&t->base, NULL);
}

static output_op *find_attach(wpd_backend *b, const wpd_step *step)
{
    for (wpd_op *op = b->ops; op; op = op->next) {
        if (op->cls != &output_class || op->step != step)
            continue;
        output_op *t = (output_op *)op;
        if (t->attach && !t->adopted)
            return t;
    }
    return NULL;
}

wpd_op *wpd_backend_tail_step(wpd_backend *b, const wpd_step *step, wpd_output_fn output,
                              wpd_op_done_fn done, void *arg)
{
    output_op *t = find_attach(b, step);
    if (t && t->ended && t->end_failed && !t->pending.len) {
        op_discard(&t->base); /* the attach never worked: follow the logs */
        t = NULL;
    }
    if (t) {
        t->adopted = true;
        t->output = output;
        t->base.done = done;
        t->base.arg = arg;
        flush_pending(t);
        if (t->ended) /* the stream ended before adoption: its ending now */
            output_ending(t, &t->end, t->end_failed ? &t->end_err : NULL);
        return &t->base;
    }
    t = output_new(b, step);
    t->adopted = true;
    t->output = output;
    t->base.done = done;
    t->base.arg = arg;
    wpd_output_cbs cbs = {.data = stream_data, .done = stream_done, .arg = t};
    wpd_logs_opts o = {.follow = true};
    watch(t, wpd_ctr_logs(b->engine, t->base.name, &o, &cbs));
    return &t->base;
}

void wpd_backend_pause_output(wpd_backend *b, bool pause)
{
    if (b->output_paused == pause)
        return;
    b->output_paused = pause;
    for (wpd_op *op = b->ops; op; op = op->next)
        if (op->cls == &output_class)
            wpd_call_pause(op->call, pause);
}
