/* unix.c - transport plugin for "unix://" endpoints: the Docker (or Podman)
 * Engine API on a local unix socket. It only checks the socket path and
 * tells the core to talk HTTP through it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <wpdock/endpoint.h>
#include <wpdock/transport.h>

#define UNIX_PLUGIN_VERSION "1.0.0"

static int unix_open(const char *endpoint, const wpd_transport_options *options,
                     wpd_conn_setup *setup, char *err, size_t errlen)
{
    (void)options;
    wpd_endpoint ep;
    if (wpd_endpoint_parse(endpoint, &ep, err, errlen) != 0)
        return WPD_TRANSPORT_BAD_ENDPOINT;
    if (strcmp(ep.scheme, "unix") != 0) {
        snprintf(err, errlen, "not a unix:// endpoint: \"%s\"", endpoint);
        return WPD_TRANSPORT_BAD_ENDPOINT;
    }
    const char *path = ep.path;
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "socket path %s is longer than the %zu bytes a unix socket allows",
                 path, sizeof sun.sun_path - 1);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            snprintf(err, errlen,
                     "socket %s does not exist: is the engine running? (start dockerd or the "
                     "Podman service, or point DOCKER_HOST at the right socket)",
                     path);
        else
            snprintf(err, errlen, "cannot access socket %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists but is not a socket", path);
        return -1;
    }
    snprintf(setup->base_url, sizeof setup->base_url, "http://api.moby.localhost");
    snprintf(setup->unix_path, sizeof setup->unix_path, "%s", path);
    return 0;
}

WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
{
    static const char *const schemes[] = {"unix", NULL};
    static const wpd_transport_plugin plugin = {
        .abi_major = WPD_TRANSPORT_ABI_MAJOR,
        .abi_minor = WPD_TRANSPORT_ABI_MINOR,
        .struct_size = sizeof(wpd_transport_plugin),
        .name = "unix",
        .version = UNIX_PLUGIN_VERSION,
        .schemes = schemes,
        .description = "Docker Engine API on a local unix socket",
        .open = unix_open,
        .close = NULL,
        .default_endpoint = NULL,
    };
    return &plugin;
}
