/* frame.c - gRPC message framing, status names and mappings, target
 * parsing (pure; see frame.h). */
#include "grpc/frame.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *wpd_grpc_code_name(int code)
{
    static const char *const names[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    if (code >= 0 && (size_t)code < sizeof names / sizeof names[0])
        return names[code];
    static _Thread_local char buf[24];
    snprintf(buf, sizeof buf, "Code(%d)", code);
    return buf;
}

void wpd_grpc_frame(wpd_buf *out, const uint8_t *msg, size_t len)
{
    uint8_t head[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    wpd_buf_append(out, head, sizeof head);
    if (len)
        wpd_buf_append(out, msg, len);
}

void wpd_grpc_deframer_init(wpd_grpc_deframer *d, size_t limit)
{
    memset(d, 0, sizeof *d);
    d->limit = limit;
}

void wpd_grpc_deframer_free(wpd_grpc_deframer *d)
{
    wpd_buf_free(&d->msg);
}

int wpd_grpc_deframer_feed(wpd_grpc_deframer *d, const char *data, size_t len, char *why,
                           size_t whylen)
{
    while (len > 0) {
        if (!d->in_message) {
            size_t take = sizeof d->head - d->head_have;
            take = take < len ? take : len;
            memcpy(d->head + d->head_have, data, take);
            d->head_have += take;
            data += take;
            len -= take;
            if (d->head_have < sizeof d->head)
                return 0;
            /* head_have stays 5 and n_messages unchanged until the prefix
             * passed every check: a refused prefix leaves the deframer
             * incomplete, and is refused again if fed on */
            if (d->head[0] & 1) {
                snprintf(why, whylen,
                         "the server sent a compressed message, which was not asked for");
                return WPD_GRPC_INTERNAL;
            }
            if (d->head[0] != 0) {
                snprintf(why, whylen, "bad message prefix 0x%02x", d->head[0]);
                return WPD_GRPC_INTERNAL;
            }
            if (d->n_messages > 0) {
                snprintf(why, whylen, "more than one message in a unary response");
                return WPD_GRPC_INTERNAL;
            }
            size_t want = (size_t)d->head[1] << 24 | (size_t)d->head[2] << 16 |
                          (size_t)d->head[3] << 8 | (size_t)d->head[4];
            if (want > d->limit) {
                snprintf(why, whylen, "the response message of %zu bytes exceeds the limit of %zu",
                         want, d->limit);
                return WPD_GRPC_RESOURCE_EXHAUSTED;
            }
            d->head_have = 0;
            d->n_messages++;
            d->want = want;
            d->in_message = true;
            if (wpd_buf_try_reserve(&d->msg, d->want < 65536 ? d->want : 65536) != 0) {
                snprintf(why, whylen, "out of memory for a response of %zu bytes", d->want);
                return WPD_GRPC_RESOURCE_EXHAUSTED;
            }
            d->msg.data[d->msg.len] = '\0'; /* a wpd_buf is NUL-terminated once allocated */
            if (d->want == 0) {
                d->in_message = false;
                continue;
            }
        }
        size_t need = d->want - d->msg.len;
        size_t take = need < len ? need : len;
        if (wpd_buf_try_reserve(&d->msg, take) != 0) {
            snprintf(why, whylen, "out of memory for a response of %zu bytes", d->want);
            return WPD_GRPC_RESOURCE_EXHAUSTED;
        }
        wpd_buf_append(&d->msg, data, take);
        data += take;
        len -= take;
        if (d->msg.len == d->want)
            d->in_message = false;
    }
    return 0;
}

bool wpd_grpc_deframer_complete(const wpd_grpc_deframer *d)
{
    return d->n_messages == 1 && !d->in_message && d->head_have == 0;
}

/* c must be an unsigned char value: tolower is undefined for a negative
 * one other than EOF (a plain char above 0x7f). */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void wpd_grpc_decode_message(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    for (const char *p = in; *p && o + 1 < outlen; p++) {
        int c = (unsigned char)*p;
        int h1 = c == '%' ? hexval((unsigned char)p[1]) : -1;
        int h2 = h1 >= 0 ? hexval((unsigned char)p[2]) : -1;
        if (h2 >= 0) {
            c = h1 * 16 + h2;
            p += 2;
        }
        out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    out[o] = '\0';
}

int wpd_grpc_code_for_http(long status)
{
    switch (status) {
    case 400: return WPD_GRPC_INTERNAL;
    case 401: return WPD_GRPC_UNAUTHENTICATED;
    case 403: return WPD_GRPC_PERMISSION_DENIED;
    case 404: return WPD_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return WPD_GRPC_UNAVAILABLE;
    default: return WPD_GRPC_UNKNOWN;
    }
}

/* The host part h[0..n) of host:port goes into a URL and :authority as it
 * is: no character that would end or re-read the URL's authority there
 * ('/', '?', '#', '@', '\\'), and brackets only around a non-empty
 * IPv6 literal. n == 0 is ":port". */
static bool host_ok(const char *h, size_t n)
{
    size_t from = 0, to = n;
    if (n && h[0] == '[') {
        if (n < 3 || h[n - 1] != ']')
            return false;
        from = 1;
        to = n - 1;
    }
    for (size_t i = from; i < to; i++)
        if (strchr("/?#@\\[]", h[i]))
            return false;
    return true;
}

int wpd_grpc_target_parse(const char *target, wpd_grpc_target *t, char *why, size_t whylen)
{
    memset(t, 0, sizeof *t);
    if (!target || !*target) {
        snprintf(why, whylen, "the server address is empty");
        return -1;
    }
    for (const char *p = target; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(why, whylen, "the server address contains a space or control character");
            return -1;
        }
    const char *path = NULL;
    if (strncmp(target, "unix://", 7) == 0)
        path = target + 7;
    else if (strncmp(target, "unix:", 5) == 0)
        path = target + 5;
    if (path) {
        if (!*path) {
            snprintf(why, whylen, "\"%s\" names no socket path", target);
            return -1;
        }
        t->unix_socket = true;
        if (path[0] == '/') {
            if (strlen(path) >= sizeof t->unix_path)
                goto toolong;
            snprintf(t->unix_path, sizeof t->unix_path, "%s", path);
        } else {
            char cwd[2048];
            if (!getcwd(cwd, sizeof cwd)) {
                snprintf(why, whylen, "cannot make \"%s\" absolute: no working directory", path);
                return -1;
            }
            int n = snprintf(t->unix_path, sizeof t->unix_path, "%s/%s", cwd, path);
            if (n < 0 || (size_t)n >= sizeof t->unix_path)
                goto toolong;
        }
        if (strlen(t->unix_path) > 107) {
            snprintf(why, whylen, "the socket path \"%s\" is longer than 107 bytes", t->unix_path);
            return -1;
        }
        snprintf(t->authority, sizeof t->authority, "localhost");
        return 0;
    }
    const char *hp = target;
    if (strncmp(hp, "dns:///", 7) == 0)
        hp += 7;
    else if (strstr(hp, "://")) {
        snprintf(why, whylen,
                 "\"%s\" is not a gRPC target (use host:port or unix:///path, without http://)",
                 target);
        return -1;
    }
    const char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    if (hp[0] == '[' && colon)
        colon++;
    if (!colon || (hp[0] != '[' && memchr(hp, ':', (size_t)(colon - hp))) ||
        !host_ok(hp, (size_t)(colon - hp))) {
        snprintf(why, whylen, "\"%s\" is not host:port", target);
        return -1;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535) {
        snprintf(why, whylen, "\"%s\": the port must be a number from 1 to 65535", target);
        return -1;
    }
    if (strlen(hp) + 9 >= sizeof t->authority)
        goto toolong;
    /* ":9000" is the local host, as for Go's dialer */
    snprintf(t->authority, sizeof t->authority, "%s%s", colon == hp ? "localhost" : "", hp);
    return 0;
toolong:
    snprintf(why, whylen, "the server address is too long");
    return -1;
}
