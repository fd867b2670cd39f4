/* relay.c - see relay.h. A pair is curl's accepted end and the plugin's
 * socket; each direction has a buffer: what one side reads is written to
 * the other with send(MSG_NOSIGNAL) (a peer that went away is an error, not
 * a SIGPIPE in the caller's process), the rest waits for the other side to
 * become writable, and a side stops being read while more than RELAY_HIGH
 * bytes wait for the other. When a side ends, what is still buffered for
 * the other is written, then both close. */
#include "io/relay.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"

#define RELAY_HIGH ((size_t)1 << 20)

typedef struct relay_side {
    struct relay_pair *p;
    int fd;
    struct event rd, wr;
    struct evbuffer *out; /* bytes waiting to be written to this side */
    int eof;              /* this side ended (read 0 or an error) */
} relay_side;

typedef struct relay_pair {
    struct wpd_relay *rl;
    relay_side side[2]; /* 0: curl's end, 1: the plugin's socket */
    struct relay_pair *prev, *next;
} relay_pair;

struct wpd_relay {
    wpd_reactor *r;
    struct evconnlistener *listener;
    int *fds; /* plugin sockets waiting for curl's connection, in order */
    size_t n_fds, cap_fds;
    relay_pair *pairs;
    size_t n_pairs;
};

static void pair_free(relay_pair *p)
{
    wpd_relay *rl = p->rl;
    if (p->prev)
        p->prev->next = p->next;
    else
        rl->pairs = p->next;
    if (p->next)
        p->next->prev = p->prev;
    rl->n_pairs--;
    for (int i = 0; i < 2; i++) {
        event_del(&p->side[i].rd);
        event_del(&p->side[i].wr);
        evbuffer_free(p->side[i].out);
        close(p->side[i].fd);
    }
    free(p);
}

/* Write what waits for side s; -1 when s cannot take it any more. */
static int flush_side(relay_side *s)
{
    while (evbuffer_get_length(s->out) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(s->out, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = send(s->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(&s->wr, NULL);
            return 0;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        evbuffer_drain(s->out, (size_t)n);
    }
    event_del(&s->wr);
    return 0;
}

/* After any change: end the pair when nothing more can move, throttle. */
static void settle(relay_pair *p)
{
    for (int i = 0; i < 2; i++) {
        relay_side *s = &p->side[i], *o = &p->side[!i];
        /* a side that ended and has nothing left for the other: done */
        if (s->eof && evbuffer_get_length(o->out) == 0) {
            pair_free(p);
            return;
        }
        if (!s->eof && !o->eof && evbuffer_get_length(o->out) <= RELAY_HIGH)
            event_add(&s->rd, NULL);
        else
            event_del(&s->rd);
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    relay_side *s = arg;
    relay_pair *p = s->p;
    relay_side *o = &p->side[s == &p->side[0]];
    int n = evbuffer_read(o->out, s->fd, 65536);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0)
        s->eof = 1;
    if (evbuffer_get_length(o->out) > 0 && flush_side(o) != 0) {
        o->eof = 1; /* the other side is gone: what it was sent is lost */
        evbuffer_drain(o->out, evbuffer_get_length(o->out));
        evbuffer_drain(s->out, evbuffer_get_length(s->out));
    }
    settle(p);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    relay_side *s = arg;
    if (flush_side(s) != 0) {
        s->eof = 1;
        evbuffer_drain(s->out, evbuffer_get_length(s->out));
        relay_side *o = &s->p->side[s == &s->p->side[0]];
        evbuffer_drain(o->out, evbuffer_get_length(o->out));
    }
    settle(s->p);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    wpd_relay *rl = arg;
    if (rl->n_fds == 0) { /* no socket from the plugin for it */
        close(fd);
        return;
    }
    int pfd = rl->fds[0];
    memmove(rl->fds, rl->fds + 1, --rl->n_fds * sizeof *rl->fds);
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_nonblocking(pfd);
    struct event_base *base = wpd_reactor_base(rl->r);
    relay_pair *p = wpd_xcalloc(1, sizeof *p);
    p->rl = rl;
    int fds[2] = {fd, pfd};
    for (int i = 0; i < 2; i++) {
        relay_side *sd = &p->side[i];
        sd->p = p;
        sd->fd = fds[i];
        sd->out = evbuffer_new();
        event_assign(&sd->rd, base, sd->fd, EV_READ | EV_PERSIST, on_readable, sd);
        event_assign(&sd->wr, base, sd->fd, EV_WRITE | EV_PERSIST, on_writable, sd);
        event_add(&sd->rd, NULL);
    }
    p->next = rl->pairs;
    if (rl->pairs)
        rl->pairs->prev = p;
    rl->pairs = p;
    rl->n_pairs++;
}

wpd_relay *wpd_relay_new(wpd_reactor *r, char *name, size_t namelen, wpd_error *err)
{
    static unsigned next;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "wpdock-relay-%ld-%u", (long)getpid(),
                     ++next);
    if (n < 0 || (size_t)n >= namelen) {
        wpd_error_set(err, WPD_ERR_INTERNAL, 0, "relay socket name too long");
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sl) != 0 || listen(fd, 64) != 0) {
        wpd_error_set(err, WPD_ERR_CONNECT, errno,
                      "cannot listen for the transport plugin's "
                      "connections: %s",
                      strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    wpd_relay *rl = wpd_xcalloc(1, sizeof *rl);
    rl->r = r;
    rl->listener = evconnlistener_new(wpd_reactor_base(r), on_accept, rl,
                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (!rl->listener) {
        close(fd);
        free(rl);
        wpd_error_set(err, WPD_ERR_INTERNAL, 0, "cannot watch the relay socket");
        return NULL;
    }
    memcpy(name, sa.sun_path + 1, (size_t)n + 1);
    return rl;
}

void wpd_relay_push(wpd_relay *rl, int fd)
{
    if (rl->n_fds == rl->cap_fds) {
        rl->cap_fds = rl->cap_fds ? rl->cap_fds * 2 : 4;
        rl->fds = wpd_xrealloc(rl->fds, rl->cap_fds * sizeof *rl->fds);
    }
    rl->fds[rl->n_fds++] = fd;
}

void wpd_relay_free(wpd_relay *rl)
{
    if (!rl)
        return;
    evconnlistener_free(rl->listener);
    while (rl->pairs)
        pair_free(rl->pairs);
    for (size_t i = 0; i < rl->n_fds; i++)
        close(rl->fds[i]);
    free(rl->fds);
    free(rl);
}
