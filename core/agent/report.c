/* report.c - one workflow's reports to the server, strictly in order, one
 * call at a time: log lines batched into Log calls (flushed at 1 MiB of
 * entries or 1 s after the first line of a batch), step Updates (pending
 * lines always go first, so a step's logs precede its final state) and
 * finally Done. Failed Log batches are dropped after their retries, as the
 * Go agent does; every failure is logged.
 *
 * Back-pressure: when the bytes waiting for the server (sealed batches,
 * the call in flight and the batch being filled) reach BACKLOG_HIGH the
 * owner is told to stop reading step output, and told to go on once they
 * are down to BACKLOG_LOW, so a step printing faster than the server
 * takes it blocks on its output instead of growing the agent. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_private.h"
#include "util/buf.h"

#define BATCH_BYTES ((size_t)1 << 20)
#define FLUSH_MS 1000L
#define SHUTDOWN_MS 5000L
#define BACKLOG_HIGH ((size_t)4 << 20)
#define BACKLOG_LOW ((size_t)2 << 20)

typedef enum { ITEM_LOG, ITEM_UPDATE, ITEM_DONE } item_kind;

typedef struct item {
    item_kind kind;
    wpd_buf req; /* packed request */
    size_t n_lines;
    struct item *next;
} item;

struct agent_report {
    wpd_reactor *r;
    agent_peer *p;
    wpd_agent *a;
    char *id;
    /* the batch being filled */
    Proto__LogEntry **entries;
    size_t n_entries, cap_entries;
    size_t batch_bytes;
    wpd_timer *flush_timer;
    /* queue */
    item *head, *tail;
    item *sending;
    rpc_call *call;
    bool hurry;
    void (*finished)(void *arg);
    void *finished_arg;
    bool done_queued;
    wpd_timer *finish_timer;
    /* back-pressure */
    size_t backlog; /* packed bytes of the queue and the call in flight */
    size_t peak;    /* the most backlog + batch seen */
    unsigned pauses;
    bool over;
    void (*pressure)(void *arg, bool over);
    void *pressure_arg;
};

static void kick(agent_report *q);

static void on_flush_timer(void *arg);
static void on_finish_timer(void *arg);

agent_report *agent_report_new(wpd_reactor *r, agent_peer *p, const char *workflow_id, wpd_agent *a)
{
    agent_report *q = wpd_xcalloc(1, sizeof *q);
    q->r = r;
    q->p = p;
    q->a = a;
    q->id = wpd_xstrdup(workflow_id);
    q->flush_timer = wpd_timer_new(r, on_flush_timer, q);
    q->finish_timer = wpd_timer_new(r, on_finish_timer, q);
    return q;
}

static void free_entries(agent_report *q)
{
    for (size_t i = 0; i < q->n_entries; i++) {
        free(q->entries[i]->step_uuid);
        free(q->entries[i]->data.data);
        free(q->entries[i]);
    }
    q->n_entries = 0;
    q->batch_bytes = 0;
}

static void free_item(item *it)
{
    wpd_buf_free(&it->req);
    free(it);
}

void agent_report_set_pressure(agent_report *q, void (*fn)(void *arg, bool over), void *arg)
{
    q->pressure = fn;
    q->pressure_arg = arg;
}

void agent_report_backlog(const agent_report *q, agent_backlog *out)
{
    out->bytes = q->backlog + q->batch_bytes;
    out->peak = q->peak;
    out->pauses = q->pauses;
    out->paused = q->over;
}

static void check_pressure(agent_report *q)
{
    size_t b = q->backlog + q->batch_bytes;
    if (b > q->peak)
        q->peak = b;
    bool over = q->over ? b > BACKLOG_LOW : b >= BACKLOG_HIGH;
    if (over == q->over)
        return;
    q->over = over;
    q->pauses += over;
    if (q->pressure)
        q->pressure(q->pressure_arg, over);
}

/* An item leaves the queue for good. */
static void drop_item(agent_report *q, item *it)
{
    q->backlog -= it->req.len;
    free_item(it);
}

void agent_report_free(agent_report *q)
{
    if (!q)
        return;
    rpc_abandon(q->call);
    if (q->sending)
        free_item(q->sending);
    while (q->head) {
        item *it = q->head;
        q->head = it->next;
        free_item(it);
    }
    free_entries(q);
    free(q->entries);
    wpd_timer_free(q->flush_timer);
    wpd_timer_free(q->finish_timer);
    free(q->id);
    free(q);
}

static void push(agent_report *q, item_kind kind, const ProtobufCMessage *m, size_t n_lines)
{
    item *it = wpd_xcalloc(1, sizeof *it);
    it->kind = kind;
    it->n_lines = n_lines;
    size_t n = protobuf_c_message_get_packed_size(m);
    wpd_buf_reserve(&it->req, n + 1);
    protobuf_c_message_pack(m, (uint8_t *)it->req.data);
    it->req.len = n;
    q->backlog += n;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
}

/* Turn the batch into a queued Log call. */
static void seal(agent_report *q)
{
    wpd_timer_stop(q->flush_timer);
    if (q->n_entries == 0)
        return;
    Proto__LogRequest req = PROTO__LOG_REQUEST__INIT;
    req.n_logentries = q->n_entries;
    req.logentries = q->entries;
    push(q, ITEM_LOG, &req.base, q->n_entries);
    free_entries(q);
}

static void on_flush_timer(void *arg)
{
    agent_report *q = arg;
    seal(q);
    kick(q);
}

void agent_report_log(agent_report *q, const char *uuid, int64_t time, int32_t line,
                      const char *data, size_t len)
{
    if (q->done_queued)
        return;
    Proto__LogEntry *e = wpd_xmalloc(sizeof *e);
    proto__log_entry__init(e);
    e->step_uuid = wpd_xstrdup(uuid);
    e->time = time;
    e->line = line;
    e->type = 0;
    e->data.len = len;
    e->data.data = wpd_xmalloc(len ? len : 1);
    memcpy(e->data.data, data, len);
    if (q->n_entries == q->cap_entries) {
        q->cap_entries = q->cap_entries ? q->cap_entries * 2 : 64;
        q->entries = wpd_xrealloc(q->entries, q->cap_entries * sizeof *q->entries);
    }
    q->entries[q->n_entries++] = e;
    /* the entry's size inside the LogRequest: key, length, body */
    q->batch_bytes += protobuf_c_message_get_packed_size(&e->base) + 6;
    if (q->batch_bytes >= BATCH_BYTES) {
        seal(q);
        kick(q);
    } else if (!wpd_timer_pending(q->flush_timer)) {
        wpd_timer_start(q->flush_timer, FLUSH_MS);
    }
    check_pressure(q);
}

void agent_report_update(agent_report *q, const Proto__StepState *st)
{
    if (q->done_queued)
        return;
    seal(q);
    Proto__UpdateRequest req = PROTO__UPDATE_REQUEST__INIT;
    req.id = q->id;
    req.state = (Proto__StepState *)st;
    push(q, ITEM_UPDATE, &req.base, 0);
    kick(q);
}

void agent_report_done(agent_report *q, const Proto__WorkflowState *st, void (*finished)(void *arg),
                       void *arg)
{
    seal(q);
    Proto__DoneRequest req = PROTO__DONE_REQUEST__INIT;
    req.id = q->id;
    req.state = (Proto__WorkflowState *)st;
    push(q, ITEM_DONE, &req.base, 0);
    q->done_queued = true;
    q->finished = finished;
    q->finished_arg = arg;
    kick(q);
}

static const char *const item_method[] = {"Log", "Update", "Done"};

static void on_sent(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_report *q = arg;
    item *it = q->sending;
    q->sending = NULL;
    q->call = NULL;
    if (st->code != WPD_GRPC_OK) {
        if (it->kind == ITEM_LOG)
            agent_log(q->a, WPD_AGENT_LOG_ERROR,
                      "workflow %s: %zu log lines were not delivered: %s: %s", q->id, it->n_lines,
                      wpd_grpc_code_name(st->code), st->message);
        else
            agent_log(q->a, WPD_AGENT_LOG_ERROR, "workflow %s: %s failed: %s: %s", q->id,
                      item_method[it->kind], wpd_grpc_code_name(st->code), st->message);
    }
    drop_item(q, it);
    kick(q);
    check_pressure(q);
}

static void on_finish_timer(void *arg)
{
    agent_report *q = arg;
    void (*fn)(void *) = q->finished;
    q->finished = NULL;
    if (fn)
        fn(q->finished_arg);
}

static void kick(agent_report *q)
{
    if (q->sending)
        return;
    if (!q->head) {
        if (q->done_queued && q->finished && !wpd_timer_pending(q->finish_timer))
            wpd_timer_start(q->finish_timer, 0);
        return;
    }
    item *it = q->head;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    it->next = NULL;
    q->sending = it;
    long t = q->hurry ? SHUTDOWN_MS : 0;
    /* from a protobuf-c message built of the packed bytes: the rpc layer
     * packs messages, so hand it a pre-packed one */
    q->call = rpc_start_packed(q->p, item_method[it->kind], (const uint8_t *)it->req.data,
                               it->req.len, NULL, RPC_RETRY, t, t, on_sent, q);
}

void agent_report_hurry(agent_report *q, bool force)
{
    q->hurry = true;
    if (!force)
        return;
    /* drop what is queued; the one in flight ends at once */
    while (q->head) {
        item *it = q->head;
        q->head = it->next;
        drop_item(q, it);
    }
    q->tail = NULL;
    free_entries(q);
    check_pressure(q);
    wpd_timer_stop(q->flush_timer);
    if (q->call)
        rpc_cancel(q->call);
    else
        kick(q);
}
