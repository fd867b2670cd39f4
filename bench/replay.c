/* replay.c - a stand-in engine for the start-up benchmark: serves recorded
 * Engine API answers on a unix socket, so that `wpdock info` can be timed
 * without the real engine's own (and noisy) request time in it.
 *
 *   replay SOCKET DIR
 *
 * DIR holds one file per request, named after its method and path with '/'
 * turned into '_' (GET /v1.41/info -> GET_v1.41_info), each a complete HTTP
 * response (status line, headers with Content-Length, body). A HEAD request
 * is answered with the headers of the matching GET. Unknown requests get 404.
 * Connections are kept alive and served together with poll(); the process
 * runs until it is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 64

typedef struct conn {
    int fd;
    char buf[8192];
    size_t len;
} conn;

static const char *dir;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Read the recorded answer for METHOD PATH; NULL if there is none. */
static char *load(const char *method, const char *path, size_t *len)
{
    char name[1024];
    int n = snprintf(name, sizeof name, "%s/%s", dir, method);
    for (const char *p = path; *p && *p != '?' && n < (int)sizeof name - 1; p++)
        name[n++] = *p == '/' ? '_' : *p;
    name[n] = '\0';
    FILE *f = fopen(name, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 65536;
            data = realloc(data, cap);
            if (!data)
                die("realloc");
        }
        size_t r = fread(data + *len, 1, cap - *len, f);
        if (r == 0)
            break;
        *len += r;
    }
    fclose(f);
    return data;
}

/* Answer every complete request in c->buf; returns -1 to close. */
static int serve(conn *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return c->len == sizeof c->buf ? -1 : 0;
        size_t used = (size_t)(end - c->buf) + 4;
        char method[16], path[1024];
        if (sscanf(c->buf, "%15s %1023s", method, path) != 2)
            return -1;
        /* the requests replayed here carry no body */
        int head = strcmp(method, "HEAD") == 0;
        size_t n = 0;
        char *answer = load(head ? "GET" : method, path, &n);
        if (!answer) {
            static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            write_all(c->fd, nf, sizeof nf - 1);
        } else {
            if (head) {
                char *h = memmem(answer, n, "\r\n\r\n", 4);
                if (h)
                    n = (size_t)(h - answer) + 4;
            }
            write_all(c->fd, answer, n);
            free(answer);
        }
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: replay SOCKET DIR\n", stderr);
        return 2;
    }
    dir = argv[2];
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0)
        die("socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof sa.sun_path) {
        fputs("replay: socket path too long\n", stderr);
        return 2;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    if (listen(ls, 16) != 0)
        die("listen");

    struct pollfd pfd[MAX_CONNS + 1];
    conn *conns[MAX_CONNS + 1] = {0};
    size_t n = 1;
    pfd[0] = (struct pollfd){.fd = ls, .events = POLLIN};
    for (;;) {
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (size_t i = n; i-- > 1;) {
            if (!pfd[i].revents)
                continue;
            conn *c = conns[i];
            ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
            if (r > 0) {
                c->len += (size_t)r;
                if (serve(c) == 0)
                    continue;
            } else if (r < 0 && errno == EINTR) {
                continue;
            }
            close(c->fd);
            free(c);
            pfd[i] = pfd[n - 1];
            conns[i] = conns[n - 1];
            n--;
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept(ls, NULL, NULL);
            if (fd >= 0 && n <= MAX_CONNS) {
                conn *c = calloc(1, sizeof *c);
                if (!c)
                    die("calloc");
                c->fd = fd;
                conns[n] = c;
                pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
            } else if (fd >= 0) {
                close(fd);
            }
        }
    }
}
