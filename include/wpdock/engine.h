/* wpdock/engine.h - a connection to one container engine (Docker or
 * Podman) through a transport plugin: endpoint selection, API version
 * negotiation, engine detection and platform. */
#ifndef WPDOCK_ENGINE_H
#define WPDOCK_ENGINE_H

#include <wpdock/error.h>
#include <wpdock/export.h>
#include <wpdock/plugins.h>
#include <wpdock/reactor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API versions this wpdock speaks. */
#define WPD_API_VERSION_MAX "1.55"
#define WPD_API_VERSION_MIN "1.40"
#define WPD_DEFAULT_ENDPOINT "unix:///var/run/docker.sock"

typedef struct wpd_engine wpd_engine;

typedef enum wpd_engine_kind {
    WPD_ENGINE_UNKNOWN = 0,
    WPD_ENGINE_DOCKER,
    WPD_ENGINE_PODMAN
} wpd_engine_kind;

typedef struct wpd_engine_info {
    const char *name;        /* engine name given by the user ("default" if none) */
    const char *endpoint;    /* e.g. "unix:///var/run/docker.sock" */
    const char *plugin_name; /* transport plugin serving it */
    const char *plugin_version;
    const char *plugin_path;
    wpd_engine_kind kind;
    const char *kind_name;          /* "docker", "podman" or "unknown" */
    const char *engine_version;     /* e.g. "20.10.24"; "" before connect */
    const char *engine_api_version; /* the engine's maximum API version */
    const char *api_version;        /* the version used in request paths */
    int api_pinned;                 /* 1: set by DOCKER_API_VERSION, not negotiated */
    const char *libpod_version;     /* Podman's libpod API version, "" for Docker */
    const char *os_type;            /* "linux" */
    const char *arch;               /* "x86_64" */
    const char *platform;           /* "linux/amd64" */
    const char *warning;            /* from the transport plugin, "" when none */
} wpd_engine_info;

/* Lookup for configuration values by variable name (NULL = getenv). */
typedef const char *(*wpd_lookup_fn)(void *ctx, const char *name);

/* The endpoint the environment selects: WOODPECKER_BACKEND_DOCKER_HOST,
 * then DOCKER_HOST, then WPD_DEFAULT_ENDPOINT. */
WPD_EXPORT const char *wpd_endpoint_from_env(wpd_lookup_fn lookup, void *ctx);

/* Choose the transport plugin by the endpoint's scheme and let it prepare
 * the connection. Does not talk to the engine yet. `name` labels the engine
 * in messages (NULL = "default"). `lookup` answers configuration variables
 * such as DOCKER_API_VERSION and DOCKER_CERT_PATH (NULL = getenv). */
WPD_EXPORT wpd_engine *wpd_engine_new(wpd_reactor *r, const wpd_plugin_registry *reg,
                                      const char *name, const char *endpoint, wpd_lookup_fn lookup,
                                      void *ctx, wpd_error *err);
WPD_EXPORT void wpd_engine_free(wpd_engine *e);

/* Ping, negotiate the API version, identify the engine, read its
 * platform. cb runs once, from the loop; err is NULL on success. */
typedef void (*wpd_engine_ready_fn)(wpd_engine *e, const wpd_error *err, void *arg);
WPD_EXPORT void wpd_engine_connect(wpd_engine *e, wpd_engine_ready_fn cb, void *arg);
/* The same, running the reactor until it is done. */
WPD_EXPORT int wpd_engine_connect_sync(wpd_engine *e, wpd_error *err);
WPD_EXPORT int wpd_engine_connected(const wpd_engine *e);

WPD_EXPORT const wpd_engine_info *wpd_engine_get_info(const wpd_engine *e);
WPD_EXPORT wpd_reactor *wpd_engine_reactor(const wpd_engine *e);

#ifdef __cplusplus
}
#endif
#endif
