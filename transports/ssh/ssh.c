/* ssh.c - transport plugin for "ssh://[user@]host[:port][/path]" endpoints,
 * as the docker CLI's: the system's ssh client (WPDOCK_SSH_COMMAND, default
 * "ssh", run like git's GIT_SSH_COMMAND) reaches the remote engine, so the
 * user's ~/.ssh/config, agent, keys and known_hosts apply. Without a path
 * the remote dockerd answers as the docker CLI there would reach it: its
 * unix socket forwarded (found with `docker context inspect`), else
 * `docker system dial-stdio` per connection (always with
 * WPDOCK_SSH_DIAL_STDIO=1); with a path, that socket (a Podman socket, say).
 * One master connection per engine carries every connection (session.c).
 * ABI 1.1: connect(). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wpdock/transport.h>

#include "ssh_private.h"

#define SSH_PLUGIN_VERSION "1.0.0"

int ssh_parse(const char *endpoint, ssh_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *p = endpoint;
    if (strncasecmp(p, "ssh://", 6) != 0) {
        snprintf(err, errlen, "not an ssh:// endpoint: \"%s\"", endpoint);
        return -1;
    }
    p += 6;
    const char *end = p + strcspn(p, "/");
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at) {
        if (at == p || *p == '-' || (size_t)(at - p) >= sizeof t->user) {
            snprintf(err, errlen, "\"%s\": bad user name", endpoint);
            return -1;
        }
        memcpy(t->user, p, (size_t)(at - p));
        if (strpbrk(t->user, "'\"\\;&|`$ \t")) {
            snprintf(err, errlen, "\"%s\": bad user name", endpoint);
            return -1;
        }
        p = at + 1;
    }
    const char *hs = p, *he;
    if (*p == '[') {
        he = memchr(p, ']', (size_t)(end - p));
        if (!he) {
            snprintf(err, errlen, "\"%s\": unclosed [ in the host", endpoint);
            return -1;
        }
        hs = p + 1;
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/");
        if (he > end)
            he = end;
        p = he;
    }
    if (he == hs || (size_t)(he - hs) >= sizeof t->host) {
        snprintf(err, errlen, "\"%s\": missing or too long host name", endpoint);
        return -1;
    }
    for (const char *c = hs; c < he; c++)
        if (isspace((unsigned char)*c) || (c == hs && *c == '-') || strchr("'\"\\;&|`$", *c)) {
            snprintf(err, errlen, "\"%s\": invalid character in the host name", endpoint);
            return -1;
        }
    memcpy(t->host, hs, (size_t)(he - hs));
    if (*p == ':') {
        char *e;
        long port = strtol(p + 1, &e, 10);
        if (!isdigit((unsigned char)p[1]) || port < 1 || port > 65535 || e != end) {
            snprintf(err, errlen, "\"%s\": invalid port (expected 1-65535)", endpoint);
            return -1;
        }
        t->port = (int)port;
    } else if (p != end) {
        snprintf(err, errlen, "\"%s\": unexpected text after the host", endpoint);
        return -1;
    }
    if (*end == '/' && end[1]) {
        if (strlen(end) >= sizeof t->path) {
            snprintf(err, errlen, "\"%s\": socket path too long", endpoint);
            return -1;
        }
        snprintf(t->path, sizeof t->path, "%s", end);
    }
    if (strpbrk(t->path, "'\"\\;&|`$ \t\n")) {
        snprintf(err, errlen, "\"%s\": the socket path holds characters a shell would read",
                 endpoint);
        return -1;
    }
    char port[16] = "";
    if (t->port)
        snprintf(port, sizeof port, ":%d", t->port);
    snprintf(t->label, sizeof t->label, "%s%s%s%s", t->user, t->user[0] ? "@" : "", t->host, port);
    return 0;
}

static int ssh_open(const char *endpoint, const wpd_transport_options *options,
                    wpd_conn_setup *setup, char *err, size_t errlen)
{
    ssh_target t;
    if (ssh_parse(endpoint, &t, err, errlen) != 0)
        return WPD_TRANSPORT_BAD_ENDPOINT;
    const char *cmd =
        options && options->lookup ? options->lookup(options->ctx, "WPDOCK_SSH_COMMAND") : NULL;
    snprintf(t.command, sizeof t.command, "%s", cmd && *cmd ? cmd : "ssh");
    const char *ds =
        options && options->lookup ? options->lookup(options->ctx, "WPDOCK_SSH_DIAL_STDIO") : NULL;
    t.dial_stdio = ds && strcmp(ds, "1") == 0;
    ssh_session *s = ssh_session_new(&t, err, errlen);
    if (!s)
        return -1;
    setup->plugin_state = s;
    /* the Host header; nothing is resolved (connect() dials) */
    snprintf(setup->base_url, sizeof setup->base_url, "http://api.moby.localhost");
    if (t.path[0] && strstr(t.path, "podman"))
        snprintf(setup->engine_hint, sizeof setup->engine_hint, "podman");
    return 0;
}

static void ssh_close(wpd_conn_setup *setup)
{
    ssh_session_free(setup->plugin_state);
    setup->plugin_state = NULL;
}

static int ssh_connect(wpd_conn_setup *setup, char *err, size_t errlen)
{
    return ssh_session_connect(setup->plugin_state, err, errlen);
}

WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
{
    static const char *const schemes[] = {"ssh", NULL};
    static const wpd_transport_plugin plugin = {
        .abi_major = WPD_TRANSPORT_ABI_MAJOR,
        .abi_minor = WPD_TRANSPORT_ABI_MINOR,
        .struct_size = sizeof(wpd_transport_plugin),
        .name = "ssh",
        .version = SSH_PLUGIN_VERSION,
        .schemes = schemes,
        .description = "the engine on another host over ssh (the system's ssh client; "
                       "dial-stdio or a remote socket)",
        .open = ssh_open,
        .close = ssh_close,
        .connect = ssh_connect,
        .min_core_minor = 1,
    };
    return &plugin;
}
