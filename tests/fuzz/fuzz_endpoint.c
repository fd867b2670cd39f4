/* fuzz_endpoint.c - the engine endpoint URI parser (wpd_endpoint_parse,
 * include/wpdock/endpoint.h), which reads DOCKER_HOST, -H and
 * WPDOCK_ENGINES values.
 *
 * Asserts: a refusal has a message (never an overrun of the caller's
 * buffer); an accepted URI has a lower-case scheme of its own characters;
 * a socket scheme has the absolute path as given and no host or port; a
 * tcp-like scheme has a non-empty host without blanks or URI delimiters,
 * a port of 1-65535 or none, and a base path that is empty or starts with
 * '/' and does not end with one. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <wpdock/endpoint.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *uri = fz_strndup(data, size);
    wpd_endpoint *ep = malloc(sizeof *ep);
    FZ_ASSERT(ep);
    char err[160];
    memset(err, 0, sizeof err);
    if (wpd_endpoint_parse(uri, ep, err, sizeof err) != 0) {
        FZ_ASSERT(err[0] && memchr(err, '\0', sizeof err));
        free(ep);
        free(uri);
        return 0;
    }
    size_t sl = strlen(ep->scheme);
    FZ_ASSERT(sl > 0 && sl < sizeof ep->scheme && strncasecmp(uri, ep->scheme, sl) == 0);
    FZ_ASSERT(strncmp(uri + sl, "://", 3) == 0);
    for (size_t i = 0; i < sl; i++)
        FZ_ASSERT(!isupper((unsigned char)ep->scheme[i]));
    const char *rest = uri + sl + 3;
    int tcp_like = !strcmp(ep->scheme, "tcp") || !strcmp(ep->scheme, "http") ||
                   !strcmp(ep->scheme, "https") || !strcmp(ep->scheme, "ssh");
    if (!tcp_like) {
        FZ_ASSERT(ep->path[0] == '/' && strcmp(ep->path, rest) == 0);
        FZ_ASSERT(!ep->host[0] && ep->port == 0);
    } else {
        FZ_ASSERT(ep->host[0] && strlen(ep->host) < sizeof ep->host);
        for (const char *h = ep->host; *h; h++)
            FZ_ASSERT(!isspace((unsigned char)*h) && !strchr("?#[]\\\"", *h));
        FZ_ASSERT(ep->port >= 0 && ep->port <= 65535);
        size_t pl = strlen(ep->path);
        FZ_ASSERT(pl == 0 || (ep->path[0] == '/' && ep->path[pl - 1] != '/'));
        FZ_ASSERT(strstr(rest, ep->host) != NULL);
    }
    free(ep);
    free(uri);
    return 0;
}
