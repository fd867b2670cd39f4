/* example_transport.c - an out-of-tree wpdock transport plugin (ABI 1.1),
 * the one a vendor copies first. It serves "example:///path/to/engine.sock":
 * it dials that unix socket itself (connect) - where a real plugin would
 * open an SSH tunnel, a bastion hop or a broker's socket - and adds a token
 * header to every request (headers), as an authenticating proxy in front
 * of an engine wants. Built with `pkg-config --cflags wpdock` and nothing
 * else (Makefile); install the .so into `pkg-config --variable=plugindir
 * wpdock` or point WPDOCK_PLUGIN_PATH at its directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <wpdock/transport.h>

typedef struct example_state {
    char path[108];
    char header[300]; /* "X-Example-Token: ..." */
    const char *headers[2];
} example_state;

/* open(): check the URI, keep what connect() and headers() need. No
 * connection here: the core's first request makes one. */
static int example_open(const char *endpoint, const wpd_transport_options *options,
                        wpd_conn_setup *setup, char *err, size_t errlen)
{
    const char *prefix = "example://";
    const char *path = endpoint + strlen(prefix);
    if (strncmp(endpoint, prefix, strlen(prefix)) != 0 || path[0] != '/') {
        snprintf(err, errlen, "example: \"%s\" is not example:///absolute/socket/path", endpoint);
        return WPD_TRANSPORT_BAD_ENDPOINT;
    }
    example_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "example: out of memory");
        return -1;
    }
    if (strlen(path) >= sizeof st->path) {
        free(st);
        snprintf(err, errlen, "example: socket path too long");
        return WPD_TRANSPORT_BAD_ENDPOINT;
    }
    snprintf(st->path, sizeof st->path, "%s", path);
    /* configuration comes through the core's lookup, not getenv() */
    const char *token = options->lookup ? options->lookup(options->ctx, "EXAMPLE_TOKEN") : NULL;
    if (token && *token) {
        snprintf(st->header, sizeof st->header, "X-Example-Token: %s", token);
        st->headers[0] = st->header;
    }
    setup->plugin_state = st;
    /* http (no TLS on this hop); the host only names the engine in Host: */
    snprintf(setup->base_url, sizeof setup->base_url, "http://engine.example");
    return 0;
}

static void example_close(wpd_conn_setup *setup)
{
    free(setup->plugin_state);
    setup->plugin_state = NULL;
}

/* connect(): one new connection, handed to the core, which owns it. */
static int example_connect(wpd_conn_setup *setup, char *err, size_t errlen)
{
    const example_state *st = setup->plugin_state;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "example: socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, st->path, strlen(st->path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "example: cannot connect to %s: %s", st->path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static const char *const *example_headers(wpd_conn_setup *setup)
{
    const example_state *st = setup->plugin_state;
    return st->headers[0] ? st->headers : NULL;
}

/* The one exported symbol. */
WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
{
    static const char *const schemes[] = {"example", NULL};
    static const wpd_transport_plugin plugin = {
        .abi_major = WPD_TRANSPORT_ABI_MAJOR,
        .abi_minor = WPD_TRANSPORT_ABI_MINOR,
        .struct_size = sizeof(wpd_transport_plugin),
        .name = "example",
        .version = "1.0.0",
        .schemes = schemes,
        .description = "example vendor plugin: its own connections and a token header",
        .open = example_open,
        .close = example_close,
        .connect = example_connect,
        .headers = example_headers,
        .min_core_minor = 1, /* connect() and headers() need a 1.1 core */
    };
    return &plugin;
}
