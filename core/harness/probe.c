/* probe.c - the host side of the port and HTTP waits: a non-blocking TCP
 * connect to ip:port, optionally followed by one HTTP/1.0 GET, on the
 * reactor's event base. One attempt per probe; the waits poll. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/harness_private.h"
#include "io/reactor.h"

#define PROBE_MAX_BODY (1u << 20)

struct hx_probe {
    wpd_reactor *r;
    int fd;
    struct event *ev;
    wpd_timer *t_done;
    bool http, connected, finished;
    char *req;
    size_t req_len, sent;
    wpd_buf resp;
    long long deadline;
    hx_probe_fn done;
    void *arg;
    int status;
    char why[256];
};

static void probe_free(hx_probe *p)
{
    if (p->ev)
        event_free(p->ev);
    if (p->fd >= 0)
        close(p->fd);
    if (p->t_done)
        wpd_timer_free(p->t_done);
    free(p->req);
    wpd_buf_free(&p->resp);
    free(p);
}

static void deliver(void *arg)
{
    hx_probe *p = arg;
    const char *body = NULL;
    size_t blen = 0;
    if (p->http && p->status > 0 && p->resp.data) {
        const char *sep = strstr(p->resp.data, "\r\n\r\n");
        if (sep) {
            body = sep + 4;
            blen = p->resp.len - (size_t)(body - p->resp.data);
        }
    }
    p->done(p->arg, p->status, body, blen, p->why);
    probe_free(p);
}

static void finish(hx_probe *p, int status, const char *fmt, ...) WPD_PRINTF(3, 4);
static void finish(hx_probe *p, int status, const char *fmt, ...)
{
    if (p->finished)
        return;
    p->finished = true;
    p->status = status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, sizeof p->why, fmt, ap);
        va_end(ap);
    }
    if (p->ev)
        event_del(p->ev);
    wpd_timer_start(p->t_done, 0);
}

static void parse_status(hx_probe *p)
{
    /* "HTTP/1.x NNN ..." */
    const char *s = p->resp.data;
    if (!s || strncmp(s, "HTTP/", 5) != 0) {
        finish(p, -1, "not an HTTP answer");
        return;
    }
    const char *sp = strchr(s, ' ');
    int code = sp ? atoi(sp + 1) : 0;
    if (code < 100 || code > 999)
        finish(p, -1, "no HTTP status in the answer");
    else
        finish(p, code, NULL);
}

static void on_event(evutil_socket_t fd, short what, void *arg);

static void arm(hx_probe *p, short what)
{
    long long left = p->deadline - hx_now_ms();
    if (left < 1)
        left = 1;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    if (p->ev)
        event_free(p->ev);
    p->ev = event_new(wpd_reactor_base(p->r), p->fd, what, on_event, p);
    if (!p->ev || event_add(p->ev, &tv) != 0)
        finish(p, -1, "cannot watch the socket");
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    hx_probe *p = arg;
    if (p->finished)
        return;
    if (what & EV_TIMEOUT) {
        finish(p, -1, "%s timed out", p->connected ? "the HTTP request" : "connect");
        return;
    }
    if (!p->connected) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            soerr = errno;
        if (soerr) {
            finish(p, -1, "connect: %s", strerror(soerr));
            return;
        }
        p->connected = true;
        if (!p->http) {
            finish(p, 0, NULL);
            return;
        }
    }
    if (p->sent < p->req_len) {
        ssize_t n = send(fd, p->req + p->sent, p->req_len - p->sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            finish(p, -1, "send: %s", strerror(errno));
            return;
        }
        if (n > 0)
            p->sent += (size_t)n;
        arm(p, p->sent < p->req_len ? EV_WRITE : EV_READ);
        return;
    }
    char buf[16384];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            arm(p, EV_READ);
            return;
        }
        if (p->resp.len)
            parse_status(p);
        else
            finish(p, -1, "recv: %s", strerror(errno));
        return;
    }
    if (n == 0) {
        if (p->resp.len)
            parse_status(p);
        else
            finish(p, -1, "the connection closed without an answer");
        return;
    }
    if (p->resp.len + (size_t)n > PROBE_MAX_BODY) {
        parse_status(p);
        return;
    }
    wpd_buf_append(&p->resp, buf, (size_t)n);
    arm(p, EV_READ);
}

hx_probe *hx_probe_start(wpd_reactor *r, const char *ip, int port, const char *http_path,
                         long timeout_ms, hx_probe_fn done, void *arg)
{
    hx_probe *p = wpd_xcalloc(1, sizeof *p);
    p->r = r;
    p->fd = -1;
    p->done = done;
    p->arg = arg;
    p->t_done = wpd_timer_new(r, deliver, p);
    p->deadline = hx_now_ms() + timeout_ms;
    if (http_path) {
        p->http = true;
        p->req = wpd_xasprintf("GET %s HTTP/1.0\r\nHost: %s:%d\r\nUser-Agent: wpdock-harness\r\n"
                               "Connection: close\r\n\r\n",
                               http_path, ip, port);
        p->req_len = strlen(p->req);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        finish(p, -1, "\"%s\" is not an IPv4 address", ip);
        return p;
    }
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        finish(p, -1, "socket: %s", strerror(errno));
        return p;
    }
    if (connect(p->fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        finish(p, -1, "connect: %s", strerror(errno));
        return p;
    }
    arm(p, EV_WRITE);
    return p;
}

void hx_probe_cancel(hx_probe *p)
{
    if (p)
        probe_free(p);
}
