/* reactor.c - one libevent event_base glued to one libcurl multi handle
 * through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION and
 * curl_multi_socket_action; plus one-shot timers and signal handlers. */
#include "io/reactor.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct wpd_reactor {
    struct event_base *base;
    CURLM *multi;
    struct event *curl_timer;
    int stopping;
    int running; /* wpd_reactor_run* calls in progress */
};

/* Per-socket state, attached to curl's socket with curl_multi_assign. */
struct sockinfo {
    wpd_reactor *r;
    curl_socket_t fd;
    struct event ev;
    int assigned;
};

struct wpd_timer {
    wpd_reactor *r;
    struct event ev;
    wpd_timer_fn cb;
    void *arg;
};

struct wpd_signal {
    struct event *ev;
    wpd_signal_fn cb;
    void *arg;
};

static void check_multi_info(wpd_reactor *r)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(r->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        void *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        if (priv) {
            wpd_transfer_hook *hook = priv;
            hook->complete(priv, result);
        } else {
            curl_multi_remove_handle(r->multi, easy);
        }
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct sockinfo *si = arg;
    wpd_reactor *r = si->r;
    int flags = 0, running = 0;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(r->multi, fd, flags, &running);
    check_multi_info(r);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wpd_reactor *r = arg;
    int running = 0;
    curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(r);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    wpd_reactor *r = userp;
    struct sockinfo *si = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (si) {
            if (si->assigned)
                event_del(&si->ev);
            curl_multi_assign(r->multi, s, NULL);
            free(si);
        }
        return 0;
    }
    if (!si) {
        si = wpd_xcalloc(1, sizeof *si);
        si->r = r;
        si->fd = s;
        curl_multi_assign(r->multi, s, si);
    } else if (si->assigned) {
        event_del(&si->ev);
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    event_assign(&si->ev, r->base, s, kind, on_socket_event, si);
    si->assigned = 1;
    event_add(&si->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    wpd_reactor *r = userp;
    if (timeout_ms < 0) {
        evtimer_del(r->curl_timer);
        return 0;
    }
    /* Never call libcurl from here: even a 0 timeout goes through the loop. */
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(r->curl_timer, &tv);
    return 0;
}

wpd_reactor *wpd_reactor_new(wpd_error *err)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            wpd_error_set(err, WPD_ERR_INTERNAL, 0, "libcurl global initialisation failed");
            return NULL;
        }
        curl_ready = 1;
    }
    wpd_reactor *r = wpd_xcalloc(1, sizeof *r);
    r->base = event_base_new();
    r->multi = curl_multi_init();
    if (!r->base || !r->multi) {
        wpd_error_set(err, WPD_ERR_INTERNAL, 0, "cannot create the event loop");
        wpd_reactor_free(r);
        return NULL;
    }
    r->curl_timer = evtimer_new(r->base, on_curl_timer, r);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
    /* HTTP/2 (the agent's gRPC calls): long polls of many workflows share
     * one connection; the server's SETTINGS limit still applies */
    curl_multi_setopt(r->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
    return r;
}

void wpd_reactor_free(wpd_reactor *r)
{
    if (!r)
        return;
    /* curl may call socket_cb during cleanup: keep the base alive until after. */
    if (r->multi)
        curl_multi_cleanup(r->multi);
    if (r->curl_timer)
        event_free(r->curl_timer);
    if (r->base)
        event_base_free(r->base);
    free(r);
}

struct event_base *wpd_reactor_base(wpd_reactor *r)
{
    return r->base;
}

CURLM *wpd_reactor_multi(wpd_reactor *r)
{
    return r->multi;
}

int wpd_reactor_run(wpd_reactor *r)
{
    r->stopping = 0;
    r->running++;
    int rc = event_base_loop(r->base, 0) < 0 ? -1 : 0;
    r->running--;
    return rc;
}

bool wpd_reactor_in_callback(const wpd_reactor *r)
{
    return r->running > 0;
}

int wpd_reactor_run_until(wpd_reactor *r, const volatile bool *done)
{
    r->stopping = 0;
    while (!*done && !r->stopping) {
        r->running++;
        int rc = event_base_loop(r->base, EVLOOP_ONCE);
        r->running--;
        if (rc < 0)
            return -1;
        if (rc == 1 && !*done)
            return -1; /* nothing left that could ever set *done */
    }
    return 0;
}

void wpd_reactor_stop(wpd_reactor *r)
{
    r->stopping = 1;
    event_base_loopbreak(r->base);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    wpd_timer *t = arg;
    t->cb(t->arg);
}

wpd_timer *wpd_timer_new(wpd_reactor *r, wpd_timer_fn cb, void *arg)
{
    wpd_timer *t = wpd_xcalloc(1, sizeof *t);
    t->r = r;
    t->cb = cb;
    t->arg = arg;
    evtimer_assign(&t->ev, r->base, on_timer, t);
    return t;
}

void wpd_timer_start(wpd_timer *t, long ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(&t->ev, &tv);
}

void wpd_timer_stop(wpd_timer *t)
{
    if (!t)
        return;
    evtimer_del(&t->ev);
}

bool wpd_timer_pending(const wpd_timer *t)
{
    return t && evtimer_pending(&t->ev, NULL) != 0;
}

void wpd_timer_free(wpd_timer *t)
{
    if (!t)
        return;
    evtimer_del(&t->ev);
    free(t);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    wpd_signal *s = arg;
    s->cb((int)fd, s->arg);
}

wpd_signal *wpd_signal_new(wpd_reactor *r, int signo, wpd_signal_fn cb, void *arg)
{
    wpd_signal *s = wpd_xcalloc(1, sizeof *s);
    s->cb = cb;
    s->arg = arg;
    s->ev = evsignal_new(r->base, signo, on_signal, s);
    if (!s->ev || evsignal_add(s->ev, NULL) != 0) {
        if (s->ev)
            event_free(s->ev);
        free(s);
        return NULL;
    }
    return s;
}

void wpd_signal_free(wpd_signal *s)
{
    if (!s)
        return;
    event_free(s->ev);
    free(s);
}
