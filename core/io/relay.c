/* relay.c - see relay.h. A pair is curl's accepted end and the plugin's
 * socket, two bufferevents copying into each other; a side that reads
 * faster than the other writes stops reading past RELAY_HIGH bytes. When
 * either side ends, what is still buffered for the other is written, then
 * both close. */
#include "io/relay.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"

#define RELAY_HIGH ((size_t)1 << 20)
#define RELAY_LOW ((size_t)256 << 10)

typedef struct relay_pair {
    struct wpd_relay *rl;
    struct bufferevent *side[2]; /* 0: curl's end, 1: the plugin's socket */
    int closing;                 /* a side ended: flush, then free */
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
    bufferevent_free(p->side[0]);
    bufferevent_free(p->side[1]);
    free(p);
}

static int side_of(const relay_pair *p, const struct bufferevent *bev)
{
    return p->side[0] == bev ? 0 : 1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    relay_pair *p = arg;
    struct bufferevent *other = p->side[!side_of(p, bev)];
    struct evbuffer *out = bufferevent_get_output(other);
    evbuffer_add_buffer(out, bufferevent_get_input(bev));
    if (evbuffer_get_length(out) > RELAY_HIGH)
        bufferevent_disable(bev, EV_READ); /* until other drains (on_write) */
}

static void on_write(struct bufferevent *bev, void *arg)
{
    relay_pair *p = arg;
    if (p->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            pair_free(p);
        return;
    }
    bufferevent_enable(p->side[!side_of(p, bev)], EV_READ);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    relay_pair *p = arg;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    struct bufferevent *other = p->side[!side_of(p, bev)];
    /* what the ended side sent last still goes to the other */
    if (what & BEV_EVENT_EOF)
        evbuffer_add_buffer(bufferevent_get_output(other), bufferevent_get_input(bev));
    bufferevent_disable(bev, EV_READ | EV_WRITE);
    bufferevent_disable(other, EV_READ);
    if (p->closing || evbuffer_get_length(bufferevent_get_output(other)) == 0) {
        pair_free(p);
        return;
    }
    p->closing = 1;
    bufferevent_setwatermark(other, EV_WRITE, 0, 0);
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
    evutil_make_socket_nonblocking(pfd);
    struct event_base *base = wpd_reactor_base(rl->r);
    relay_pair *p = wpd_xcalloc(1, sizeof *p);
    p->rl = rl;
    p->side[0] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    p->side[1] = bufferevent_socket_new(base, pfd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->side[0] || !p->side[1]) {
        if (p->side[0])
            bufferevent_free(p->side[0]);
        else
            close(fd);
        if (p->side[1])
            bufferevent_free(p->side[1]);
        else
            close(pfd);
        free(p);
        return;
    }
    for (int i = 0; i < 2; i++) {
        bufferevent_setcb(p->side[i], on_read, on_write, on_event, p);
        bufferevent_setwatermark(p->side[i], EV_WRITE, RELAY_LOW, 0);
        bufferevent_enable(p->side[i], EV_READ | EV_WRITE);
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

size_t wpd_relay_active(const wpd_relay *rl)
{
    return rl->n_pairs;
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
