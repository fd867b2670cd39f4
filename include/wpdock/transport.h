/* wpdock/transport.h - the transport plugin ABI (version 1.1).
 *
 * A transport plugin turns an endpoint URI ("unix:///var/run/docker.sock",
 * "tcp://host:2376", ...) into a connection setup that the core's HTTP layer
 * (libcurl) uses. It knows nothing of the Docker Engine API: it only says
 * where and how to connect.
 *
 * Writing a plugin
 * ----------------
 * Build a shared object (e.g. `cc -shared -fPIC -fvisibility=hidden`) that
 * exports exactly one symbol, the entry function named by
 * WPD_TRANSPORT_ENTRY_SYMBOL:
 *
 *     WPD_TRANSPORT_EXPORT const wpd_transport_plugin *wpdock_transport_entry(void)
 *     {
 *         static const char *const schemes[] = {"unix", NULL};
 *         static const wpd_transport_plugin plugin = {
 *             .abi_major = WPD_TRANSPORT_ABI_MAJOR,
 *             .abi_minor = WPD_TRANSPORT_ABI_MINOR,
 *             .struct_size = sizeof(wpd_transport_plugin),
 *             .name = "unix", .version = "1.0.0", .schemes = schemes,
 *             .description = "Docker Engine API over a local unix socket",
 *             .open = my_open, .close = my_close,
 *         };
 *         return &plugin;
 *     }
 *
 * The loader (plugins/) dlopen()s the file with RTLD_NOW | RTLD_LOCAL, calls
 * the entry function once, and refuses the plugin when:
 *   - abi_major differs from the core's WPD_TRANSPORT_ABI_MAJOR;
 *   - struct_size is smaller than the ABI 1.0 descriptor
 *     (WPD_TRANSPORT_PLUGIN_MIN_SIZE);
 *   - name, version, schemes or open is NULL, or schemes is empty;
 *   - a scheme is already served by a plugin found earlier in the search path.
 * A plugin built against a newer minor version of this header works with an
 * older core: fields are only ever appended, and the core reads only the
 * first min(struct_size, sizeof) bytes. From ABI 1.1 on a plugin may set
 * min_core_minor: a core whose WPD_TRANSPORT_ABI_MINOR is lower refuses it
 * with a message naming both versions (a 1.0 core knows nothing of the
 * field; set it only when the plugin cannot work without a 1.1 feature,
 * and say so in its documentation).
 *
 * Bringing your own connection (ABI 1.1)
 * --------------------------------------
 * A plugin that sets connect() dials every connection itself (an SSH
 * tunnel, a bastion, a socket broker) and hands the core a connected
 * stream socket; the core speaks HTTP over it (TLS too, with an https
 * base_url and the TLS fields), keeps it alive for reuse and closes it.
 * headers() adds fixed request headers (an authenticating proxy's token).
 *
 * Threads and memory
 * ------------------
 * The core is single-threaded: every function here is called on the thread
 * that runs the wpdock reactor, never concurrently. Nothing is freed across
 * the boundary: the descriptor and the strings it points to are the
 * plugin's and must stay valid until the library is unloaded; the
 * wpd_conn_setup passed to open() is owned by the core, which fills it with
 * zeros before the call; strings the plugin writes into it are copied into
 * its fixed-size arrays. A plugin that needs more state (e.g. a helper
 * process) keeps it behind `plugin_state` and releases it in close().
 */
#ifndef WPDOCK_TRANSPORT_H
#define WPDOCK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WPD_TRANSPORT_ABI_MAJOR 1
#define WPD_TRANSPORT_ABI_MINOR 1

/* Name of the one symbol a plugin exports, and its type. */
#define WPD_TRANSPORT_ENTRY_SYMBOL "wpdock_transport_entry"
struct wpd_transport_plugin;
typedef const struct wpd_transport_plugin *(*wpd_transport_entry_fn)(void);

#if defined(__GNUC__)
#define WPD_TRANSPORT_EXPORT __attribute__((visibility("default")))
#else
#define WPD_TRANSPORT_EXPORT
#endif

#define WPD_TRANSPORT_PATH_MAX 4096
#define WPD_TRANSPORT_URL_MAX 1024
#define WPD_TRANSPORT_MSG_MAX 512

/* Where and how to connect; filled by open(), read by the core's HTTP layer. */
typedef struct wpd_conn_setup {
    /* Base URL every API path is appended to, without a trailing slash:
     * "http://localhost" for unix sockets, "https://10.0.0.5:2376" or
     * "http://host:2375/base" for TCP. Required. */
    char base_url[WPD_TRANSPORT_URL_MAX];
    /* Non-empty: connect through this unix socket (at most 107 bytes on
     * Linux); the host in base_url is then not resolved. */
    char unix_path[WPD_TRANSPORT_PATH_MAX];
    /* TLS (only with an https base_url). PEM files; empty = not used. */
    char ca_file[WPD_TRANSPORT_PATH_MAX];   /* trust anchors for the server */
    char cert_file[WPD_TRANSPORT_PATH_MAX]; /* client certificate */
    char key_file[WPD_TRANSPORT_PATH_MAX];  /* client private key */
    int tls_verify_peer;                    /* 1: verify the server certificate chain */
    int tls_verify_host;                    /* 1: verify the server name against the certificate */
    int tcp_keepalive;                      /* 1: enable TCP keep-alive (long log streams) */
    /* Engine dialect hint: "" (find out from /_ping), "docker" or "podman". */
    char engine_hint[32];
    /* Something the user must hear about (e.g. "TLS verification is off"),
     * printed by the CLI as a warning; empty = nothing to say. */
    char warning[WPD_TRANSPORT_MSG_MAX];
    /* For the plugin's own use; the core never touches it. */
    void *plugin_state;
} wpd_conn_setup;

/* Options the core passes to open(): a lookup for configuration values by
 * environment-variable name (e.g. "DOCKER_CERT_PATH"). The core may answer
 * from the process environment or from per-engine settings; a plugin should
 * use this instead of getenv(). Returns NULL when unset. */
typedef struct wpd_transport_options {
    uint32_t struct_size; /* sizeof(wpd_transport_options) of the core */
    const char *(*lookup)(void *ctx, const char *name);
    void *ctx;
} wpd_transport_options;

/* open()'s answer for an endpoint URI that is malformed (see open). */
#define WPD_TRANSPORT_BAD_ENDPOINT (-2)

typedef struct wpd_transport_plugin {
    /* --- ABI 1.0 header: never reordered --- */
    uint16_t abi_major;   /* WPD_TRANSPORT_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* WPD_TRANSPORT_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(wpd_transport_plugin) the plugin was built with */
    const char *name;     /* short unique name, e.g. "unix" */
    const char *version;  /* the plugin's own version, e.g. "1.0.0" */
    /* NULL-terminated list of URI schemes served, e.g. {"unix", NULL}. */
    const char *const *schemes;
    const char *description; /* one line for `wpdock plugins`; may be NULL */

    /* Turn `endpoint` (a URI with one of `schemes`, exactly as the user
     * wrote it: the core checks only the scheme) into *setup. Returns 0 on
     * success; on failure returns -1 and writes a message for the user
     * into err (errlen bytes, NUL-terminated), e.g. "socket
     * /run/x.sock does not exist". Return WPD_TRANSPORT_BAD_ENDPOINT
     * instead of -1 when the URI itself is malformed (no path, a bad
     * port...): the core then reports a usage error, not an unreachable
     * engine. Must not block for long: it may check files but must not
     * connect (the core's first request does). */
    int (*open)(const char *endpoint, const wpd_transport_options *options, wpd_conn_setup *setup,
                char *err, size_t errlen);
    /* Release whatever open() kept in setup->plugin_state. May be NULL. */
    void (*close)(wpd_conn_setup *setup);

    /* Write the endpoint to use when the user configured none (e.g. a
     * discovered Podman socket) into out; return 0, or -1 when there is no
     * default. May be NULL. */
    int (*default_endpoint)(const wpd_transport_options *options, char *out, size_t outlen);

    /* --- ABI 1.1 --- */
    /* Open one new connection to the engine and return a connected stream
     * socket, which the core owns and closes; -1 with a message in err on
     * failure. When set, the core's HTTP layer gets every new connection
     * through it and dials nothing itself (unix_path and the base URL's host
     * are not used for connecting; base_url still gives http/https and the
     * Host header). Called on the reactor thread; it may block only
     * briefly. May be NULL. */
    int (*connect)(wpd_conn_setup *setup, char *err, size_t errlen);
    /* Extra headers sent with every request, "Name: value" strings,
     * NULL-terminated; NULL for none. Called once after open() (the core
     * copies them). May be NULL. */
    const char *const *(*headers)(wpd_conn_setup *setup);
    /* The lowest core ABI minor version the plugin works with; 0 = any. */
    uint16_t min_core_minor;
    /* --- end of ABI 1.1; later minor versions append fields here --- */
} wpd_transport_plugin;

#define WPD_TRANSPORT_PLUGIN_MIN_SIZE                                                              \
    (offsetof(wpd_transport_plugin, default_endpoint) + sizeof(void *))

/* Whether a descriptor of p->struct_size bytes has `field` (the core
 * reads a field only when it does). */
#define WPD_TRANSPORT_HAS(p, field)                                                                \
    ((p)->struct_size >=                                                                           \
     offsetof(wpd_transport_plugin, field) + sizeof(((const wpd_transport_plugin *)0)->field))

#ifdef __cplusplus
}
#endif
#endif
