/* runner.c - one workflow handed out by Next (spec 5.2): Wait and Extend
 * (every 20 s) in the background, Init, the runtime with the agent's
 * CI_MACHINE, the step events turned into Updates and log entries as the
 * Go agent's tracer and line writer make them (spec 5.4), the workflow
 * timeout, and Done with `error` only for runtime errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_private.h"
#include "util/buf.h"
#include "woodpecker/config.h"

#define EXTEND_MS 20000L

typedef struct step_track {
    char *uuid;
    int32_t lines;
    double opened; /* monotonic seconds; 0 = the stream has not opened */
} step_track;

struct agent_workflow {
    agent_slot *slot;
    wpd_agent *a;
    agent_peer *p;
    char *id;
    int64_t timeout_min;
    wpd_workflow *wf;
    wpd_run *run;
    agent_report *report;
    rpc_call *wait_call, *init_call, *extend_call;
    wpd_timer *extend_timer, *timeout_timer;
    int64_t started; /* unix s, taken right after Next */
    bool canceled;   /* by the server, the timeout or shutdown */
    bool run_done;
    bool done_sent;    /* Done queued */
    bool finished;     /* Done delivered or given up */
    char *setup_error; /* the payload could not be used */
    step_track *steps;
    size_t n_steps;
    char *repo, *number;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *agent_workflow_id(const agent_workflow *w)
{
    return w->id;
}
const char *agent_workflow_repo(const agent_workflow *w)
{
    return w->repo ? w->repo : "";
}
const char *agent_workflow_pipeline_number(const agent_workflow *w)
{
    return w->number ? w->number : "";
}
int64_t agent_workflow_started(const agent_workflow *w)
{
    return w->started;
}
void agent_workflow_backlog(const agent_workflow *w, agent_backlog *out)
{
    agent_report_backlog(w->report, out);
}

int64_t agent_workflow_timeout_s(const agent_workflow *w)
{
    return w->timeout_min * 60;
}

static step_track *track(agent_workflow *w, const char *uuid)
{
    for (size_t i = 0; i < w->n_steps; i++)
        if (strcmp(w->steps[i].uuid, uuid) == 0)
            return &w->steps[i];
    w->steps = wpd_xrealloc(w->steps, (w->n_steps + 1) * sizeof *w->steps);
    step_track *t = &w->steps[w->n_steps++];
    memset(t, 0, sizeof *t);
    t->uuid = wpd_xstrdup(uuid);
    return t;
}

/* ------------------------------------------------------------ events */

static void update(agent_workflow *w, const char *uuid, int64_t started, int64_t finished,
                   bool exited, int exit_code, const char *error, bool canceled, bool skipped)
{
    Proto__StepState st = PROTO__STEP_STATE__INIT;
    st.step_uuid = (char *)uuid;
    st.started = started;
    st.finished = finished;
    st.exited = exited;
    st.exit_code = exit_code;
    st.error = (char *)(error ? error : "");
    st.canceled = canceled;
    st.skipped = skipped;
    agent_report_update(w->report, &st);
}

static void on_event(const wpd_event *ev, void *arg)
{
    agent_workflow *w = arg;
    int64_t now = (int64_t)time(NULL);
    switch (ev->type) {
    case WPD_EVENT_STEP: {
        if (!ev->uuid || !*ev->uuid)
            return;
        step_track *t = track(w, ev->uuid);
        const char *s = ev->status;
        if (strcmp(s, "started") == 0) {
            if (!t->opened)
                t->opened = now_mono();
            update(w, ev->uuid, 0, 0, false, 0, NULL, false, false);
        } else if (strcmp(s, "skipped") == 0) {
            update(w, ev->uuid, 0, 0, false, 0, NULL, false, true);
        } else if (strcmp(s, "success") == 0 || strcmp(s, "failure") == 0) {
            /* success is exit code 0 for the server, also for a service the
             * runner stopped (137/143): Woodpecker shows it succeeded */
            bool ok = strcmp(s, "success") == 0;
            int code = ok ? 0 : ev->has_exit_code && ev->exit_code != 0 ? ev->exit_code : 1;
            update(w, ev->uuid, ev->started ? ev->started : now, ev->finished ? ev->finished : now,
                   true, code, NULL, false, false);
        } else if (strcmp(s, "canceled") == 0) {
            if (ev->started)
                update(w, ev->uuid, ev->started, 0, false, 0, "Canceled", true, false);
            else
                update(w, ev->uuid, 0, now, true, 0, "Canceled", true, false);
        } else { /* error: the step could not be started or followed */
            update(w, ev->uuid, 0, now, true, 0, ev->error ? ev->error : "step failed", false,
                   false);
        }
        return;
    }
    case WPD_EVENT_LOG: {
        if (!ev->uuid)
            return;
        step_track *t = track(w, ev->uuid);
        if (!t->opened)
            t->opened = now_mono();
        int64_t secs = (int64_t)(now_mono() - t->opened);
        agent_report_log(w->report, ev->uuid, secs, t->lines++, ev->line, ev->line_len);
        return;
    }
    case WPD_EVENT_NOTICE:
        agent_log(w->a, WPD_AGENT_LOG_WARN, "workflow %s: %s", w->id, ev->error ? ev->error : "");
        return;
    case WPD_EVENT_WORKFLOW:
    case WPD_EVENT_PULL: return;
    }
}

/* ------------------------------------------------------------ ending */

static void stop_background(agent_workflow *w)
{
    wpd_timer_stop(w->extend_timer);
    wpd_timer_stop(w->timeout_timer);
    if (w->extend_call) {
        rpc_abandon(w->extend_call);
        w->extend_call = NULL;
    }
}

static void on_reports_finished(void *arg)
{
    agent_workflow *w = arg;
    w->finished = true;
    stop_background(w);
    if (w->wait_call) {
        rpc_abandon(w->wait_call);
        w->wait_call = NULL;
    }
    agent_log(w->a, WPD_AGENT_LOG_INFO, "workflow %s: done", w->id);
    agent_slot_workflow_ended(w->slot); /* frees w */
}

static void send_done(agent_workflow *w, const char *error)
{
    Proto__WorkflowState st = PROTO__WORKFLOW_STATE__INIT;
    st.started = w->started;
    st.finished = (int64_t)time(NULL);
    st.canceled = w->canceled;
    st.error = (char *)(w->canceled ? "" : error ? error : "");
    w->done_sent = true;
    stop_background(w);
    agent_report_done(w->report, &st, on_reports_finished, w);
}

/* The server takes the logs slower than the steps print them: hold the
 * steps' output until the backlog is sent. */
static void on_pressure(void *arg, bool over)
{
    agent_workflow *w = arg;
    if (w->run && !w->run_done)
        wpd_run_pause_output(w->run, over);
}

static void on_run_done(wpd_run *run, void *arg)
{
    agent_workflow *w = arg;
    w->run_done = true;
    wpd_run_status s = wpd_run_get_status(run);
    if (s == WPD_RUN_CANCELED)
        w->canceled = true;
    const char *error = s == WPD_RUN_ERROR ? wpd_run_error(run) : NULL;
    agent_log(w->a, WPD_AGENT_LOG_INFO, "workflow %s: %s%s%s", w->id,
              w->canceled ? "canceled" : wpd_run_status_name(s), error ? ": " : "",
              error ? error : "");
    send_done(w, error ? error : (s == WPD_RUN_ERROR ? "the workflow failed to run" : NULL));
}

void agent_workflow_cancel(agent_workflow *w, bool hurry)
{
    if (w->finished || w->done_sent)
        return;
    w->canceled = true;
    if (w->run) {
        if (!w->run_done)
            wpd_run_cancel(w->run, hurry);
        return;
    }
    /* nothing runs yet (Init in flight): end it now */
    if (w->init_call) {
        rpc_abandon(w->init_call);
        w->init_call = NULL;
    }
    send_done(w, NULL);
}

void agent_workflow_hurry(agent_workflow *w, bool force)
{
    agent_report_hurry(w->report, force);
    if (force && w->init_call) {
        rpc_abandon(w->init_call);
        w->init_call = NULL;
        w->finished = true;
        stop_background(w);
        agent_slot_workflow_ended(w->slot);
    }
}

/* ------------------------------------------------------------ background */

static void on_wait(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    agent_workflow *w = arg;
    w->wait_call = NULL;
    if (st->local || w->finished)
        return;
    if (st->code == WPD_GRPC_OK) {
        if (((Proto__WaitResponse *)resp)->canceled) {
            agent_log(w->a, WPD_AGENT_LOG_INFO, "workflow %s: canceled by the server", w->id);
            agent_workflow_cancel(w, true);
        }
        return;
    }
    /* the lease expired or the server is gone: the workflow cannot be
     * reported any more, so it ends (as the Go agent does) */
    if (!w->done_sent) {
        agent_log(w->a, WPD_AGENT_LOG_ERROR, "workflow %s: waiting on the server failed: %s: %s",
                  w->id, wpd_grpc_code_name(st->code), st->message);
        agent_workflow_cancel(w, true);
    }
}

static void on_extend_done(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_workflow *w = arg;
    w->extend_call = NULL;
    if (st->code != WPD_GRPC_OK && !st->local)
        agent_log(w->a, WPD_AGENT_LOG_WARN, "workflow %s: Extend failed: %s: %s", w->id,
                  wpd_grpc_code_name(st->code), st->message);
}

static void on_extend_timer(void *arg)
{
    agent_workflow *w = arg;
    if (w->finished)
        return;
    wpd_timer_start(w->extend_timer, EXTEND_MS);
    if (w->extend_call)
        return;
    Proto__ExtendRequest req = PROTO__EXTEND_REQUEST__INIT;
    req.id = w->id;
    w->extend_call = rpc_start(w->p, "Extend", &req.base, NULL, RPC_RETRY, 0, 0, on_extend_done, w);
}

static void on_timeout(void *arg)
{
    agent_workflow *w = arg;
    agent_log(w->a, WPD_AGENT_LOG_INFO, "workflow %s: timed out after %lld minutes; canceling",
              w->id, (long long)w->timeout_min);
    agent_workflow_cancel(w, true);
}

/* ------------------------------------------------------------ start */

static void on_init(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_workflow *w = arg;
    w->init_call = NULL;
    if (st->code != WPD_GRPC_OK) {
        /* as the Go agent: no Done; the server's lease hands it out again */
        agent_log(w->a, WPD_AGENT_LOG_ERROR, "workflow %s: Init failed: %s: %s", w->id,
                  wpd_grpc_code_name(st->code), st->message);
        w->finished = true;
        stop_background(w);
        if (w->wait_call) {
            rpc_abandon(w->wait_call);
            w->wait_call = NULL;
        }
        agent_slot_workflow_ended(w->slot);
        return;
    }
    if (w->setup_error) {
        agent_log(w->a, WPD_AGENT_LOG_ERROR, "workflow %s: %s", w->id, w->setup_error);
        send_done(w, w->setup_error);
        return;
    }
    if (w->canceled) {
        send_done(w, NULL);
        return;
    }
    agent_engine *ae = w->slot->ae;
    w->run = wpd_run_new(ae->engine, w->a->settings, w->wf, on_event, w);
    wpd_run_set_machine(w->run, w->a->hostname);
    char owner[512], pid[32];
    agent_owner_label(ae, owner, sizeof owner);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    wpd_run_add_label(w->run, AGENT_OWNER_LABEL, owner);
    wpd_run_add_label(w->run, AGENT_PID_LABEL, pid);
    agent_report_set_pressure(w->report, on_pressure, w);
    wpd_run_start(w->run, on_run_done, w);
}

static const char *env_of_first_step(const wpd_workflow *wf, const char *key)
{
    for (size_t s = 0; s < wf->n_stages; s++)
        for (size_t i = 0; i < wf->stages[s].n_steps; i++) {
            const wpd_kvlist *e = &wf->stages[s].steps[i].environment;
            for (size_t k = 0; k < e->n; k++)
                if (strcmp(e->v[k].key, key) == 0)
                    return e->v[k].value;
        }
    return NULL;
}

agent_workflow *agent_workflow_start(agent_slot *s, const Proto__Workflow *pw)
{
    agent_workflow *w = wpd_xcalloc(1, sizeof *w);
    w->slot = s;
    w->a = s->ae->a;
    w->p = s->ae->peer;
    w->id = wpd_xstrdup(pw->id ? pw->id : "");
    w->timeout_min = pw->timeout > 0 ? pw->timeout : 60;
    w->started = (int64_t)time(NULL);
    w->report = agent_report_new(w->a->r, w->p, w->id, w->a);
    w->extend_timer = wpd_timer_new(w->a->r, on_extend_timer, w);
    w->timeout_timer = wpd_timer_new(w->a->r, on_timeout, w);

    char label[96];
    snprintf(label, sizeof label, "workflow %.64s", w->id);
    wpd_error err;
    w->wf = wpd_workflow_parse(label, (const char *)pw->payload.data, pw->payload.len, &err);
    if (!w->wf) {
        w->setup_error = wpd_xasprintf("invalid workflow payload: %s", err.message);
    } else {
        const char *repo = env_of_first_step(w->wf, "CI_REPO");
        const char *num = env_of_first_step(w->wf, "CI_PIPELINE_NUMBER");
        w->repo = repo ? wpd_xstrdup(repo) : NULL;
        w->number = num ? wpd_xstrdup(num) : NULL;
    }
    agent_log(w->a, WPD_AGENT_LOG_INFO, "workflow %s: received (%s, timeout %lld min)", w->id,
              w->repo ? w->repo : "no repository", (long long)w->timeout_min);

    Proto__WaitRequest wr = PROTO__WAIT_REQUEST__INIT;
    wr.id = w->id;
    w->wait_call = rpc_start(w->p, "Wait", &wr.base, &proto__wait_response__descriptor, RPC_RETRY,
                             0, 0, on_wait, w);
    wpd_timer_start(w->extend_timer, EXTEND_MS);
    wpd_timer_start(w->timeout_timer, (long)(w->timeout_min * 60 * 1000));

    Proto__WorkflowState ws = PROTO__WORKFLOW_STATE__INIT;
    ws.started = w->started;
    Proto__InitRequest ir = PROTO__INIT_REQUEST__INIT;
    ir.id = w->id;
    ir.state = &ws;
    w->init_call = rpc_start(w->p, "Init", &ir.base, NULL, RPC_RETRY, 0, 0, on_init, w);
    return w;
}

void agent_workflow_free(agent_workflow *w)
{
    if (!w)
        return;
    rpc_abandon(w->wait_call);
    rpc_abandon(w->init_call);
    rpc_abandon(w->extend_call);
    wpd_timer_free(w->extend_timer);
    wpd_timer_free(w->timeout_timer);
    wpd_run_free(w->run);
    wpd_workflow_free(w->wf);
    agent_report_free(w->report);
    for (size_t i = 0; i < w->n_steps; i++)
        free(w->steps[i].uuid);
    free(w->steps);
    free(w->setup_error);
    free(w->repo);
    free(w->number);
    free(w->id);
    free(w);
}
