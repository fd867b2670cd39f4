/* podman.c - transport plugin for Podman's API socket: "podman:///path"
 * for an explicit socket, "podman://" to discover one. Discovery order:
 * DOCKER_SOCK (the seed documentation's way to point at the Podman
 * socket), CONTAINER_HOST (podman-remote's variable, unix:// only), the
 * rootless socket $XDG_RUNTIME_DIR/podman/podman.sock, then the rootful
 * /run/podman/podman.sock. It marks the connection as Podman; the core
 * still confirms that from /_ping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <wpdock/endpoint.h>
#include <wpdock/transport.h>

#define PODMAN_PLUGIN_VERSION "1.0.0"

static const char *opt(const wpd_transport_options *o, const char *name)
{
    if (!o || !o->lookup)
        return NULL;
    const char *v = o->lookup(o->ctx, name);
    return v && *v ? v : NULL;
}

static int is_socket(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Strip an optional unix:// prefix. */
static const char *socket_path_of(const char *v)
{
    if (strncmp(v, "unix://", 7) == 0)
        return v + 7;
    return v;
}

/* Find a Podman socket; writes the path into out. Returns 0 or -1 with
 * a message naming every place looked at. */
static int discover(const wpd_transport_options *o, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    char tried[1024] = "";
    char cand[4][WPD_TRANSPORT_PATH_MAX];
    const char *from[4];
    int n = 0;
    const char *v;
    if ((v = opt(o, "DOCKER_SOCK")) && n < 4) {
        snprintf(cand[n], sizeof cand[n], "%s", socket_path_of(v));
        from[n++] = "DOCKER_SOCK";
    }
    if ((v = opt(o, "CONTAINER_HOST")) && strncmp(v, "unix://", 7) == 0 && n < 4) {
        snprintf(cand[n], sizeof cand[n], "%s", v + 7);
        from[n++] = "CONTAINER_HOST";
    }
    if ((v = opt(o, "XDG_RUNTIME_DIR")) && n < 4) {
        snprintf(cand[n], sizeof cand[n], "%s/podman/podman.sock", v);
        from[n++] = "rootless";
    }
    snprintf(cand[n], sizeof cand[n], "/run/podman/podman.sock");
    from[n++] = "rootful";
    for (int i = 0; i < n; i++) {
        if (is_socket(cand[i])) {
            snprintf(out, outlen, "%s", cand[i]);
            return 0;
        }
        size_t l = strlen(tried);
        snprintf(tried + l, sizeof tried - l, "%s%s (%s)", i ? ", " : "", cand[i], from[i]);
    }
    snprintf(err, errlen,
             "no Podman socket found (looked at %s): start the Podman API service "
             "(`systemctl enable --now podman.socket`, or `podman system service --time=0`) "
             "or name the socket, e.g. podman:///run/podman/podman.sock",
             tried);
    return -1;
}

static int podman_open(const char *endpoint, const wpd_transport_options *options,
                       wpd_conn_setup *setup, char *err, size_t errlen)
{
    char path[WPD_TRANSPORT_PATH_MAX];
    if (strcmp(endpoint, "podman://") == 0 || strcmp(endpoint, "podman:") == 0) {
        if (discover(options, path, sizeof path, err, errlen) != 0)
            return -1;
    } else {
        wpd_endpoint ep;
        if (wpd_endpoint_parse(endpoint, &ep, err, errlen) != 0)
            return WPD_TRANSPORT_BAD_ENDPOINT;
        if (strcmp(ep.scheme, "podman") != 0) {
            snprintf(err, errlen, "not a podman:// endpoint: \"%s\"", endpoint);
            return WPD_TRANSPORT_BAD_ENDPOINT;
        }
        snprintf(path, sizeof path, "%s", ep.path);
        if (!is_socket(path)) {
            struct stat st;
            if (stat(path, &st) != 0)
                snprintf(err, errlen,
                         "socket %s does not exist: is the Podman API service running? "
                         "(`podman system service --time=0 unix://%s`)",
                         path, path);
            else
                snprintf(err, errlen, "%s exists but is not a socket", path);
            return -1;
        }
    }
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "socket path %s is longer than the %zu bytes a unix socket allows",
                 path, sizeof sun.sun_path - 1);
        return -1;
    }
    snprintf(setup->base_url, sizeof setup->base_url, "http://d");
    snprintf(setup->unix_path, sizeof setup->unix_path, "%s", path);
    snprintf(setup->engine_hint, sizeof setup->engine_hint, "podman");
    return 0;
}

static int podman_default(const wpd_transport_options *options, char *out, size_t outlen)
{
    char path[WPD_TRANSPORT_PATH_MAX], err[16];
    if (discover(options, path, sizeof path, err, sizeof err) != 0)
        return -1;
    snprintf(out, outlen, "podman://%s", path);
    return 0;
}

WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
{
    static const char *const schemes[] = {"podman", NULL};
    static const wpd_transport_plugin plugin = {
        .abi_major = WPD_TRANSPORT_ABI_MAJOR,
        .abi_minor = WPD_TRANSPORT_ABI_MINOR,
        .struct_size = sizeof(wpd_transport_plugin),
        .name = "podman",
        .version = PODMAN_PLUGIN_VERSION,
        .schemes = schemes,
        .description = "Podman API service on a unix socket, with socket discovery",
        .open = podman_open,
        .close = NULL,
        .default_endpoint = podman_default,
    };
    return &plugin;
}
