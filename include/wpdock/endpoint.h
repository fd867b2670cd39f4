/* wpdock/endpoint.h - parsing engine endpoint URIs, shared by the core and
 * by transport plugins (header-only, so plugins need not link libwpdock).
 *
 *   unix:///var/run/docker.sock     scheme "unix", path "/var/run/docker.sock"
 *   tcp://host:2376                 scheme "tcp", host "host", port 2376, path ""
 *   tcp://host:2376/base            ... path "/base"
 *   tcp://[::1]:2376                host "::1"
 *   podman:///run/podman/podman.sock
 */
#ifndef WPDOCK_ENDPOINT_H
#define WPDOCK_ENDPOINT_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WPD_ENDPOINT_PART_MAX 4096

typedef struct wpd_endpoint {
    char scheme[32];                  /* lower-case */
    char host[256];                   /* "" for socket schemes */
    int port;                         /* 0 when absent */
    char path[WPD_ENDPOINT_PART_MAX]; /* socket path, or base path ("" or "/base") */
} wpd_endpoint;

/* Parse uri into *ep. Returns 0, or -1 with a message in err. Socket-style
 * schemes (anything but tcp/http/https/ssh) take an absolute path; tcp-style
 * schemes take host[:port][/base]. */
static inline int wpd_endpoint_parse(const char *uri, wpd_endpoint *ep, char *err, size_t errlen)
{
    memset(ep, 0, sizeof *ep);
    const char *sep = uri ? strstr(uri, "://") : NULL;
    if (!sep || sep == uri || (size_t)(sep - uri) >= sizeof ep->scheme) {
        snprintf(err, errlen,
                 "\"%s\" is not an endpoint URI: expected e.g. unix:///var/run/docker.sock or "
                 "tcp://host:2376",
                 uri ? uri : "");
        return -1;
    }
    for (size_t i = 0; uri + i < sep; i++) {
        char c = (char)tolower((unsigned char)uri[i]);
        if (!isalnum((unsigned char)c) && c != '+' && c != '-' && c != '.') {
            snprintf(err, errlen, "\"%s\": invalid character in the URI scheme", uri);
            return -1;
        }
        ep->scheme[i] = c;
    }
    const char *rest = sep + 3;
    int tcp_like = !strcmp(ep->scheme, "tcp") || !strcmp(ep->scheme, "http") ||
                   !strcmp(ep->scheme, "https") || !strcmp(ep->scheme, "ssh");
    if (!tcp_like) {
        if (rest[0] != '/') {
            snprintf(err, errlen, "\"%s\": the socket path must be absolute, e.g. %s:///run/x.sock",
                     uri, ep->scheme);
            return -1;
        }
        if (strlen(rest) >= sizeof ep->path) {
            snprintf(err, errlen, "endpoint socket path too long (%zu bytes, at most %zu)",
                     strlen(rest), sizeof ep->path - 1);
            return -1;
        }
        strcpy(ep->path, rest);
        return 0;
    }
    const char *hs = rest, *he;
    const char *after;
    if (*hs == '[') {
        he = strchr(hs, ']');
        if (!he) {
            snprintf(err, errlen, "\"%s\": unterminated [IPv6] host", uri);
            return -1;
        }
        after = he + 1;
        hs++;
    } else {
        he = hs + strcspn(hs, ":/");
        after = he;
    }
    if (he == hs) {
        snprintf(err, errlen, "\"%s\": missing host name", uri);
        return -1;
    }
    if ((size_t)(he - hs) >= sizeof ep->host) {
        snprintf(err, errlen, "endpoint host name too long (%zu bytes, at most %zu)",
                 (size_t)(he - hs), sizeof ep->host - 1);
        return -1;
    }
    for (const char *h = hs; h < he; h++) {
        if (isspace((unsigned char)*h) || strchr("?#[]\\\"", *h)) {
            snprintf(err, errlen, "\"%s\": invalid character in the host name", uri);
            return -1;
        }
    }
    memcpy(ep->host, hs, (size_t)(he - hs));
    if (*after == ':') {
        char *end;
        long port = strtol(after + 1, &end, 10);
        if (!isdigit((unsigned char)after[1]) || port < 1 || port > 65535 ||
            (*end && *end != '/')) {
            snprintf(err, errlen, "\"%s\": invalid port (expected 1-65535)", uri);
            return -1;
        }
        ep->port = (int)port;
        after = end;
    } else if (*after && *after != '/') {
        snprintf(err, errlen, "\"%s\": unexpected text after the host", uri);
        return -1;
    }
    if (*after == '/') {
        size_t n = strlen(after);
        while (n > 1 && after[n - 1] == '/')
            n--;
        if (n == 1)
            n = 0;
        if (n >= sizeof ep->path) {
            snprintf(err, errlen, "endpoint base path too long (%zu bytes, at most %zu)", n,
                     sizeof ep->path - 1);
            return -1;
        }
        memcpy(ep->path, after, n);
    }
    return 0;
}

#endif
