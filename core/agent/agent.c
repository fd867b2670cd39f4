/* agent.c - the agent's lifecycle (spec 5.1): configuration checks, then
 * per engine Auth -> Version -> RegisterAgent (startup attempts on
 * Unavailable/DeadlineExceeded), ReportHealth every 10 s, max_workflows
 * runner loops of Next; shutdown (cancel, every Done, UnregisterAgent for
 * a stateless agent) and fatal errors. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wpdock/agent.h>

#include "agent/agent_private.h"
#include "util/buf.h"

#define HEALTH_MS 10000L
#define NEXT_PAUSE_MS 5000L
#define SHUTDOWN_MS 5000L

enum { STAGE_AUTH, STAGE_VERSION, STAGE_REGISTER, STAGE_SWEEP, STAGE_RUNNING };

static const char *const level_names[] = {"TRC", "DBG", "INF", "WRN", "ERR", ""};

void agent_log(wpd_agent *a, wpd_agent_log_level level, const char *fmt, ...)
{
    if (level < a->log_level || a->log_level == WPD_AGENT_LOG_DISABLED)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (a->log) {
        a->log(level, msg, a->log_arg);
        return;
    }
    fprintf(stderr, "%s %s\n", level_names[level], msg);
}

static void peer_log(void *arg, int level, const char *fmt, ...)
{
    wpd_agent *a = arg;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    agent_log(a, (wpd_agent_log_level)level, "%s", msg);
}

void wpd_agent_config_init(wpd_agent_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->server = "localhost:9000";
    cfg->retry_timeout = 120;
    cfg->connect_retry_count = 5;
    cfg->connect_retry_delay = 2;
    cfg->healthcheck_addr = ":3000";
    cfg->log_level = WPD_AGENT_LOG_INFO;
}

/* ------------------------------------------------------------ new/free */

static int parse_labels(wpd_agent *a, const char *const *labels, wpd_error *err)
{
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *l = labels[i];
        const char *eq = strchr(l, '=');
        if (!*l)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "agent labels: empty string in slice");
        if (!eq || eq == l || !eq[1])
            return wpd_error_set(err, WPD_ERR_USAGE, 0,
                                 "agent labels: key '%.*s' does not have a value assigned",
                                 (int)(eq ? (size_t)(eq - l) : strlen(l)), l);
        a->labels = wpd_xrealloc(a->labels, (a->n_labels + 1) * sizeof *a->labels);
        a->labels[a->n_labels++] =
            (agent_label){wpd_xstrndup(l, (size_t)(eq - l)), wpd_xstrdup(eq + 1)};
    }
    return 0;
}

static void add_filter(agent_engine *ae, const char *k, const char *v)
{
    for (size_t i = 0; i < ae->n_filter; i++)
        if (strcmp(ae->filter[i].key, k) == 0) {
            free(ae->filter[i].value);
            ae->filter[i].value = wpd_xstrdup(v);
            return;
        }
    ae->filter = wpd_xrealloc(ae->filter, (ae->n_filter + 1) * sizeof *ae->filter);
    ae->filter[ae->n_filter++] = (agent_label){wpd_xstrdup(k), wpd_xstrdup(v)};
}

static void on_peer_auth(void *arg, int64_t id);
static void on_peer_contact(void *arg, bool reachable);

wpd_agent *wpd_agent_new(wpd_reactor *r, const wpd_agent_config *cfg, wpd_error *err)
{
    if (!cfg->secret || !*cfg->secret) {
        wpd_error_set(err, WPD_ERR_USAGE, 0,
                      "no agent secret (set WOODPECKER_AGENT_SECRET or "
                      "WOODPECKER_AGENT_SECRET_FILE)");
        return NULL;
    }
    if (!cfg->settings) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "no backend settings");
        return NULL;
    }
    if (cfg->n_engines == 0 || !cfg->engines) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "no engine to run workflows on");
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_engines; i++) {
        const wpd_agent_engine *e = &cfg->engines[i];
        const char *name = e->name ? e->name : "default";
        if (!e->engine || !wpd_engine_connected(e->engine)) {
            wpd_error_set(err, WPD_ERR_USAGE, 0, "engine %s is not connected", name);
            return NULL;
        }
        if (e->max_workflows < 1) {
            wpd_error_set(err, WPD_ERR_USAGE, 0,
                          "engine %s: the number of workflows at once must be at least 1, not %d",
                          name, e->max_workflows);
            return NULL;
        }
        if (cfg->n_engines > 1 && (!e->name || !*e->name)) {
            wpd_error_set(err, WPD_ERR_USAGE, 0, "with several engines every engine needs a name");
            return NULL;
        }
    }
    if (cfg->retry_timeout < 0 || cfg->connect_retry_count < 0 || cfg->connect_retry_delay < 0) {
        wpd_error_set(err, WPD_ERR_USAGE, 0, "retry settings must not be negative");
        return NULL;
    }
    wpd_agent *a = wpd_xcalloc(1, sizeof *a);
    a->r = r;
    a->server = wpd_xstrdup(cfg->server ? cfg->server : "localhost:9000");
    a->secret = wpd_xstrdup(cfg->secret);
    char host[256] = "";
    if (cfg->hostname && *cfg->hostname)
        snprintf(host, sizeof host, "%s", cfg->hostname);
    else if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    a->hostname = wpd_xstrdup(host);
    a->config_file = cfg->config_file && *cfg->config_file ? wpd_xstrdup(cfg->config_file) : NULL;
    a->version = wpd_xstrdup(cfg->version ? cfg->version : WPDOCK_VERSION);
    a->retry_timeout = cfg->retry_timeout;
    a->single_workflow = cfg->single_workflow;
    a->connect_retry_count = cfg->connect_retry_count;
    a->connect_retry_delay = cfg->connect_retry_delay;
    a->settings = cfg->settings;
    a->log_level = cfg->log_level;
    a->log = cfg->log;
    a->log_arg = cfg->log_arg;
    a->reachable = false;
    a->stop_timer = NULL;
    if (parse_labels(a, cfg->labels, err) != 0) {
        wpd_agent_free(a);
        return NULL;
    }
    wpd_grpc_tls tls = {.enabled = cfg->grpc_secure,
                        .skip_verify = cfg->grpc_skip_verify,
                        .ca_file = cfg->grpc_ca_file};
    a->ch = wpd_grpc_channel_new(r, a->server, &tls, err);
    if (!a->ch) {
        wpd_agent_free(a);
        return NULL;
    }
    a->n_engines = cfg->n_engines;
    a->engines = wpd_xcalloc(a->n_engines, sizeof *a->engines);
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        const wpd_agent_engine *e = &cfg->engines[i];
        const wpd_engine_info *info = wpd_engine_get_info(e->engine);
        ae->a = a;
        ae->name = e->name && *e->name ? wpd_xstrdup(e->name) : NULL;
        ae->engine = e->engine;
        ae->max = a->single_workflow ? 1 : e->max_workflows;
        ae->platform =
            wpd_xstrdup(info->platform && *info->platform ? info->platform : "linux/amd64");
        ae->kind = info->kind == WPD_ENGINE_PODMAN ? "podman" : "docker";
        ae->stored_id = -1;
    }
    agent_conf_load(a);
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        char peer_host[512];
        if (a->n_engines > 1)
            snprintf(peer_host, sizeof peer_host, "%s/%s", a->hostname, ae->name);
        else
            snprintf(peer_host, sizeof peer_host, "%s", a->hostname);
        agent_peer_config pc = {.r = r,
                                .ch = a->ch,
                                .secret = a->secret,
                                .hostname = peer_host,
                                .agent_id = ae->stored_id,
                                .retry_timeout = a->retry_timeout,
                                .log = peer_log,
                                .log_arg = a,
                                .on_auth = on_peer_auth,
                                .on_contact = on_peer_contact,
                                .arg = ae};
        ae->peer = agent_peer_new(&pc);
        /* filter labels: the defaults, then the custom ones over them */
        add_filter(ae, "hostname", a->hostname);
        add_filter(ae, "platform", ae->platform);
        add_filter(ae, "backend", "docker");
        add_filter(ae, "engine", ae->kind);
        add_filter(ae, "repo", "*");
        for (size_t k = 0; k < a->n_labels; k++)
            add_filter(ae, a->labels[k].key, a->labels[k].value);
        ae->n_slots = (size_t)ae->max;
        ae->slots = wpd_xcalloc(ae->n_slots, sizeof *ae->slots);
        for (size_t k = 0; k < ae->n_slots; k++) {
            ae->slots[k].ae = ae;
            ae->slots[k].index = k;
        }
    }
    if (cfg->healthcheck_addr && *cfg->healthcheck_addr) {
        a->health = agent_health_new(a, cfg->healthcheck_addr, err);
        if (!a->health) {
            wpd_agent_free(a);
            return NULL;
        }
    }
    return a;
}

static void free_labels(agent_label *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

void wpd_agent_free(wpd_agent *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        for (size_t k = 0; k < ae->n_slots; k++) {
            agent_slot *s = &ae->slots[k];
            rpc_abandon(s->next_call);
            wpd_timer_free(s->timer);
            agent_workflow_free(s->wf);
        }
        free(ae->slots);
        rpc_abandon(ae->startup_call);
        wpd_cleanup_free(ae->sweep);
        rpc_abandon(ae->health_call);
        rpc_abandon(ae->unregister_call);
        wpd_timer_free(ae->startup_timer);
        wpd_timer_free(ae->health_timer);
        agent_peer_free(ae->peer);
        free_labels(ae->filter, ae->n_filter);
        free(ae->name);
        free(ae->platform);
    }
    free(a->engines);
    agent_health_free(a->health);
    wpd_grpc_channel_free(a->ch);
    wpd_timer_free(a->stop_timer);
    free_labels(a->labels, a->n_labels);
    free(a->server);
    if (a->secret)
        memset(a->secret, 0, strlen(a->secret));
    free(a->secret);
    free(a->hostname);
    free(a->config_file);
    free(a->version);
    free(a);
}

const wpd_error *wpd_agent_error(const wpd_agent *a)
{
    return a->failed ? &a->err : NULL;
}

/* ------------------------------------------------------------ state */

size_t agent_running_count(const wpd_agent *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_engines; i++)
        for (size_t k = 0; k < a->engines[i].n_slots; k++)
            n += a->engines[i].slots[k].wf != NULL;
    return n;
}

size_t agent_capacity(const wpd_agent *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_engines; i++)
        n += a->engines[i].n_slots;
    return n;
}

bool agent_connected(const wpd_agent *a)
{
    if (!a->reachable || a->stopped)
        return false;
    for (size_t i = 0; i < a->n_engines; i++)
        if (!a->engines[i].ready || !agent_peer_authenticated(a->engines[i].peer))
            return false;
    return true;
}

static void on_peer_contact(void *arg, bool reachable)
{
    agent_engine *ae = arg;
    ae->a->reachable = reachable;
}

static void on_peer_auth(void *arg, int64_t id)
{
    agent_engine *ae = arg;
    if (id != ae->stored_id) {
        ae->stored_id = id;
        agent_conf_store(ae->a);
    }
}

/* ------------------------------------------------------------ stopping */

static void on_stop_timer(void *arg)
{
    wpd_agent *a = arg;
    if (a->stopped)
        return;
    a->stopped = true;
    if (a->on_stopped)
        a->on_stopped(a, a->stopped_arg);
}

static void maybe_stopped(wpd_agent *a)
{
    if (!a->stopping || a->stopped || agent_running_count(a) > 0)
        return;
    for (size_t i = 0; i < a->n_engines; i++)
        if (a->engines[i].unregister_call || a->engines[i].sweep)
            return;
    if (!wpd_timer_pending(a->stop_timer))
        wpd_timer_start(a->stop_timer, 0);
}

static void on_unregistered(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_engine *ae = arg;
    ae->unregister_call = NULL;
    if (st->code != WPD_GRPC_OK)
        agent_log(ae->a, WPD_AGENT_LOG_WARN, "unregistering agent %lld: %s: %s",
                  (long long)agent_peer_id(ae->peer), wpd_grpc_code_name(st->code), st->message);
    else
        agent_log(ae->a, WPD_AGENT_LOG_INFO, "agent %lld unregistered",
                  (long long)agent_peer_id(ae->peer));
    maybe_stopped(ae->a);
}

/* Every workflow has ended: a stateless agent unregisters. */
static void unregister_all(wpd_agent *a)
{
    if (a->config_file || a->forced)
        return;
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        if (!ae->ready || ae->unregister_call || !agent_peer_authenticated(ae->peer))
            continue;
        ae->ready = false;
        Proto__Empty e = PROTO__EMPTY__INIT;
        ae->unregister_call = rpc_start(ae->peer, "UnregisterAgent", &e.base, NULL, 0, SHUTDOWN_MS,
                                        0, on_unregistered, ae);
    }
}

static void begin_stop(wpd_agent *a)
{
    bool again = a->stopping;
    if (again)
        a->forced = true;
    a->stopping = true;
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        if (ae->startup_call) {
            rpc_abandon(ae->startup_call);
            ae->startup_call = NULL;
        }
        wpd_timer_stop(ae->startup_timer);
        if (a->forced) { /* a sweep in progress is finished, unless in a hurry */
            wpd_cleanup_free(ae->sweep);
            ae->sweep = NULL;
        }
        wpd_timer_stop(ae->health_timer);
        if (ae->health_call) {
            rpc_abandon(ae->health_call);
            ae->health_call = NULL;
        }
        if (a->forced && ae->unregister_call) {
            rpc_abandon(ae->unregister_call);
            ae->unregister_call = NULL;
        }
        for (size_t k = 0; k < ae->n_slots; k++) {
            agent_slot *s = &ae->slots[k];
            wpd_timer_stop(s->timer);
            if (s->next_call) {
                rpc_abandon(s->next_call);
                s->next_call = NULL;
            }
        }
    }
    /* cancel every running workflow; their Dones follow (5 s each) */
    for (size_t i = 0; i < a->n_engines; i++) {
        agent_engine *ae = &a->engines[i];
        for (size_t k = 0; k < ae->n_slots; k++) {
            agent_slot *s = &ae->slots[k];
            if (!s->wf)
                continue;
            agent_workflow_cancel(s->wf, true);
            if (s->wf) /* cancel may have ended it */
                agent_workflow_hurry(s->wf, a->forced);
        }
    }
    if (agent_running_count(a) == 0)
        unregister_all(a);
    maybe_stopped(a);
}

static void agent_fail(wpd_agent *a, wpd_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void agent_fail(wpd_agent *a, wpd_errkind kind, const char *fmt, ...)
{
    if (!a->failed) {
        a->failed = true;
        va_list ap;
        va_start(ap, fmt);
        wpd_error_vset(&a->err, kind, 0, fmt, ap);
        va_end(ap);
        agent_log(a, WPD_AGENT_LOG_ERROR, "%s", a->err.message);
    }
    if (!a->stopping)
        begin_stop(a);
}

void wpd_agent_shutdown(wpd_agent *a)
{
    if (a->stopped)
        return;
    agent_log(a, WPD_AGENT_LOG_INFO,
              a->stopping ? "stopping now, without waiting for the server"
                          : "stopping: canceling running workflows");
    begin_stop(a);
}

/* ------------------------------------------------------------ runners */

static void poll_next(agent_slot *s);

static void on_next_pause(void *arg)
{
    poll_next(arg);
}

static void on_next(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    agent_slot *s = arg;
    agent_engine *ae = s->ae;
    wpd_agent *a = ae->a;
    s->next_call = NULL;
    if (st->local || a->stopping)
        return;
    if (st->code == WPD_GRPC_OK) {
        Proto__NextResponse *nr = (Proto__NextResponse *)resp;
        if (!nr->workflow) {
            poll_next(s);
            return;
        }
        s->wf = agent_workflow_start(s, nr->workflow);
        return;
    }
    if (rpc_code_retryable(st->code)) {
        agent_fail(a, WPD_ERR_CONNECT, "connection to the Woodpecker server at %s lost: %s: %s",
                   a->server, wpd_grpc_code_name(st->code), st->message);
        return;
    }
    if (a->single_workflow) {
        agent_fail(a, WPD_ERR_PROTOCOL, "asking %s for work failed: %s: %s", a->server,
                   wpd_grpc_code_name(st->code), st->message);
        return;
    }
    agent_log(a, WPD_AGENT_LOG_ERROR, "asking for work failed: %s: %s; again in 5 s",
              wpd_grpc_code_name(st->code), st->message);
    if (!s->timer)
        s->timer = wpd_timer_new(a->r, on_next_pause, s);
    wpd_timer_start(s->timer, NEXT_PAUSE_MS);
}

static void poll_next(agent_slot *s)
{
    agent_engine *ae = s->ae;
    if (ae->a->stopping || s->wf || s->next_call)
        return;
    Proto__Filter__LabelsEntry *entries = wpd_xcalloc(ae->n_filter, sizeof *entries);
    Proto__Filter__LabelsEntry **ptrs = wpd_xcalloc(ae->n_filter, sizeof *ptrs);
    for (size_t i = 0; i < ae->n_filter; i++) {
        proto__filter__labels_entry__init(&entries[i]);
        entries[i].key = ae->filter[i].key;
        entries[i].value = ae->filter[i].value;
        ptrs[i] = &entries[i];
    }
    Proto__Filter f = PROTO__FILTER__INIT;
    f.n_labels = ae->n_filter;
    f.labels = ptrs;
    Proto__NextRequest req = PROTO__NEXT_REQUEST__INIT;
    req.filter = &f;
    s->next_call = rpc_start(ae->peer, "Next", &req.base, &proto__next_response__descriptor,
                             RPC_RETRY, 0, 0, on_next, s);
    free(ptrs);
    free(entries);
}

void agent_slot_workflow_ended(agent_slot *s)
{
    wpd_agent *a = s->ae->a;
    agent_workflow_free(s->wf);
    s->wf = NULL;
    a->workflows_done++;
    if (a->single_workflow && !a->stopping) {
        agent_log(a, WPD_AGENT_LOG_INFO, "single workflow done; stopping");
        begin_stop(a);
        return;
    }
    if (a->stopping) {
        if (agent_running_count(a) == 0)
            unregister_all(a);
        maybe_stopped(a);
        return;
    }
    poll_next(s);
}

/* ------------------------------------------------------------ health */

static void on_health_done(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    (void)resp;
    agent_engine *ae = arg;
    ae->health_call = NULL;
    if (st->code != WPD_GRPC_OK && !st->local)
        agent_log(ae->a, WPD_AGENT_LOG_WARN, "reporting health: %s: %s",
                  wpd_grpc_code_name(st->code), st->message);
}

static void on_health_timer(void *arg)
{
    agent_engine *ae = arg;
    if (ae->a->stopping)
        return;
    wpd_timer_start(ae->health_timer, HEALTH_MS);
    if (ae->health_call)
        return;
    Proto__ReportHealthRequest req = PROTO__REPORT_HEALTH_REQUEST__INIT;
    req.status = "I am alive!";
    ae->health_call =
        rpc_start(ae->peer, "ReportHealth", &req.base, NULL, RPC_RETRY, 0, 0, on_health_done, ae);
}

/* ------------------------------------------------------------ sweep */

void agent_owner_label(const agent_engine *ae, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%lld", ae->a->hostname, (long long)agent_peer_id(ae->peer));
}

/* Leave alone what a live process (another agent with this id on this
 * host) is using. */
static bool owner_alive(void *arg, const wpd_pair *labels, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(labels[i].key, AGENT_PID_LABEL) != 0)
            continue;
        char *end;
        long pid = strtol(labels[i].value, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid())
            return false;
        return kill((pid_t)pid, 0) == 0 || errno == EPERM;
    }
    return false;
}

static void on_swept_object(const wpd_leftover *lo, void *arg)
{
    agent_engine *ae = arg;
    if (lo->removed)
        agent_log(ae->a, WPD_AGENT_LOG_INFO, "removed %s %s left by an earlier run of this agent",
                  lo->kind, lo->name);
    else
        agent_log(ae->a, WPD_AGENT_LOG_WARN, "cannot remove %s %s left by an earlier run: %s",
                  lo->kind, lo->name, lo->error ? lo->error : "unknown error");
}

static void on_swept(void *arg, size_t found, const wpd_error *err)
{
    agent_engine *ae = arg;
    wpd_cleanup_free(ae->sweep);
    ae->sweep = NULL;
    if (err)
        agent_log(ae->a, WPD_AGENT_LOG_WARN, "looking for what an earlier run left: %s",
                  err->message);
    else if (found)
        agent_log(ae->a, WPD_AGENT_LOG_DEBUG, "swept %zu objects", found);
    if (ae->a->stopping) {
        maybe_stopped(ae->a);
        return;
    }
    ae->stage = STAGE_RUNNING;
    for (size_t k = 0; k < ae->n_slots; k++)
        poll_next(&ae->slots[k]);
}

static void start_sweep(agent_engine *ae)
{
    char owner[600];
    char key[512];
    agent_owner_label(ae, key, sizeof key);
    snprintf(owner, sizeof owner, "%s=%s", AGENT_OWNER_LABEL, key);
    wpd_cleanup_spec spec = {
        .owner_label = owner, .skip = owner_alive, .fn = on_swept_object, .arg = ae};
    ae->sweep = wpd_cleanup_start(ae->engine, &spec, on_swept, ae);
}

/* ------------------------------------------------------------ startup */

static void startup_step(agent_engine *ae);

static void on_startup_timer(void *arg)
{
    startup_step(arg);
}

/* A startup call failed: try again (Unavailable, DeadlineExceeded) or give up. */
static void startup_failed(agent_engine *ae, const char *what, const wpd_grpc_status *st)
{
    wpd_agent *a = ae->a;
    bool transient = st->code == WPD_GRPC_UNAVAILABLE || st->code == WPD_GRPC_DEADLINE_EXCEEDED;
    if (transient && ae->attempts < a->connect_retry_count) {
        agent_log(a, WPD_AGENT_LOG_WARN,
                  "cannot reach the Woodpecker server at %s (%s: %s); attempt %d of %d, again in "
                  "%.1f s",
                  a->server, wpd_grpc_code_name(st->code), st->message, ae->attempts,
                  a->connect_retry_count, a->connect_retry_delay);
        if (!ae->startup_timer)
            ae->startup_timer = wpd_timer_new(a->r, on_startup_timer, ae);
        wpd_timer_start(ae->startup_timer, (long)(a->connect_retry_delay * 1000));
        return;
    }
    if (transient)
        agent_fail(a, WPD_ERR_CONNECT,
                   "cannot reach the Woodpecker server at %s after %d attempt%s: %s: %s", a->server,
                   ae->attempts, ae->attempts == 1 ? "" : "s", wpd_grpc_code_name(st->code),
                   st->message);
    else
        agent_fail(a, WPD_ERR_PROTOCOL, "the Woodpecker server at %s refused %s: %s: %s", a->server,
                   what, wpd_grpc_code_name(st->code), st->message);
}

static void on_startup(void *arg, const wpd_grpc_status *st, ProtobufCMessage *resp)
{
    agent_engine *ae = arg;
    wpd_agent *a = ae->a;
    ae->startup_call = NULL;
    if (a->stopping)
        return;
    static const char *const what[] = {"to authenticate this agent", "the version check",
                                       "to register this agent"};
    if (st->code != WPD_GRPC_OK) {
        startup_failed(ae, what[ae->stage], st);
        return;
    }
    ae->attempts = 0; /* each stage gets its attempts */
    switch (ae->stage) {
    case STAGE_AUTH:
        agent_log(a, WPD_AGENT_LOG_DEBUG, "authenticated with %s as agent %lld", a->server,
                  (long long)agent_peer_id(ae->peer));
        ae->stage = STAGE_VERSION;
        break;
    case STAGE_VERSION: {
        Proto__VersionResponse *v = (Proto__VersionResponse *)resp;
        if (v->grpc_version != WPD_AGENT_PROTO_VERSION) {
            agent_fail(a, WPD_ERR_PROTOCOL,
                       "the Woodpecker server at %s (version %s) speaks gRPC protocol version %d, "
                       "but this agent speaks version %d",
                       a->server, v->server_version ? v->server_version : "?", v->grpc_version,
                       WPD_AGENT_PROTO_VERSION);
            return;
        }
        agent_log(a, WPD_AGENT_LOG_DEBUG, "server %s is version %s", a->server,
                  v->server_version ? v->server_version : "?");
        ae->stage = STAGE_REGISTER;
        break;
    }
    case STAGE_REGISTER: {
        Proto__RegisterAgentResponse *rr = (Proto__RegisterAgentResponse *)resp;
        if (rr->agent_id != ae->stored_id && rr->agent_id > 0) {
            ae->stored_id = rr->agent_id;
            agent_conf_store(a);
        }
        ae->stage = STAGE_SWEEP;
        ae->ready = true;
        agent_log(a, WPD_AGENT_LOG_INFO,
                  "registered with %s as agent %lld%s%s (%s, %s, %d workflow%s at once)", a->server,
                  (long long)agent_peer_id(ae->peer), ae->name ? " for engine " : "",
                  ae->name ? ae->name : "", ae->kind, ae->platform, ae->max,
                  ae->max == 1 ? "" : "s");
        if (!ae->health_timer)
            ae->health_timer = wpd_timer_new(a->r, on_health_timer, ae);
        on_health_timer(ae);
        start_sweep(ae);
        return;
    }
    }
    startup_step(ae);
}

static void startup_step(agent_engine *ae)
{
    wpd_agent *a = ae->a;
    if (a->stopping)
        return;
    ae->attempts++;
    switch (ae->stage) {
    case STAGE_AUTH: agent_peer_auth(ae->peer, on_startup, ae); return;
    case STAGE_VERSION: {
        Proto__Empty e = PROTO__EMPTY__INIT;
        ae->startup_call = rpc_start(ae->peer, "Version", &e.base,
                                     &proto__version_response__descriptor, 0, 0, 0, on_startup, ae);
        return;
    }
    case STAGE_REGISTER: {
        Proto__AgentInfo__CustomLabelsEntry *entries =
            wpd_xcalloc(a->n_labels + 1, sizeof *entries);
        Proto__AgentInfo__CustomLabelsEntry **ptrs = wpd_xcalloc(a->n_labels + 1, sizeof *ptrs);
        for (size_t i = 0; i < a->n_labels; i++) {
            proto__agent_info__custom_labels_entry__init(&entries[i]);
            entries[i].key = a->labels[i].key;
            entries[i].value = a->labels[i].value;
            ptrs[i] = &entries[i];
        }
        Proto__AgentInfo info = PROTO__AGENT_INFO__INIT;
        info.platform = ae->platform;
        info.capacity = ae->max;
        info.backend = "docker";
        info.version = a->version;
        info.n_customlabels = a->n_labels;
        info.customlabels = ptrs;
        Proto__RegisterAgentRequest req = PROTO__REGISTER_AGENT_REQUEST__INIT;
        req.info = &info;
        ae->startup_call =
            rpc_start(ae->peer, "RegisterAgent", &req.base,
                      &proto__register_agent_response__descriptor, 0, 0, 0, on_startup, ae);
        free(ptrs);
        free(entries);
        return;
    }
    }
}

void wpd_agent_start(wpd_agent *a, wpd_agent_stopped_fn stopped, void *arg)
{
    a->on_stopped = stopped;
    a->stopped_arg = arg;
    a->started = true;
    a->stop_timer = wpd_timer_new(a->r, on_stop_timer, a);
    agent_log(a, WPD_AGENT_LOG_INFO,
              "starting agent %s for %s (%zu engine%s, %zu workflow%s at once)", a->hostname,
              a->server, a->n_engines, a->n_engines == 1 ? "" : "s", agent_capacity(a),
              agent_capacity(a) == 1 ? "" : "s");
    for (size_t i = 0; i < a->n_engines; i++)
        startup_step(&a->engines[i]);
}
