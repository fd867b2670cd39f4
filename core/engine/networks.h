/* networks.h - typed network calls: create, connect, remove, list. */
#ifndef WPDOCK_ENGINE_NETWORKS_H
#define WPDOCK_ENGINE_NETWORKS_H

#include "engine/api.h"
#include "util/arena.h"
#include "util/buf.h"

/* wpdock/harness.h publishes wpd_net_create and wpd_net_remove (a test
 * author's network); these engine calls link as wpd_engine_net_*. */
#define wpd_net_create wpd_engine_net_create
#define wpd_net_remove wpd_engine_net_remove

typedef struct wpd_net_spec {
    const char *name;
    const char *driver; /* NULL = "bridge" */
    bool ipv6;
    bool internal;
    const wpd_pair *labels; /* none: no "Labels" key */
    size_t n_labels;
} wpd_net_spec;

/* The create body: {"Name":..,"Driver":..,"EnableIPv6":..[,"Internal":true][,"Labels":{..}]}.
 * Pure, for tests. */
void wpd_net_create_body(const wpd_net_spec *spec, wpd_buf *out);

typedef void (*wpd_net_create_fn)(void *arg, const char *id, const wpd_error *err);
wpd_call *wpd_net_create(wpd_engine *e, const wpd_net_spec *spec, wpd_net_create_fn done,
                         void *arg);

/* How a container joins a network: aliases (n_aliases 0 = "Aliases":null). */
typedef struct wpd_net_endpoint {
    const char *const *aliases;
    size_t n_aliases;
} wpd_net_endpoint;

/* The connect body {"Container":..[,"EndpointConfig":{"Aliases":..}]}; ep
 * NULL leaves EndpointConfig out. Pure, for tests. */
void wpd_net_connect_body(const char *container, const wpd_net_endpoint *ep, wpd_buf *out);
wpd_call *wpd_net_connect(wpd_engine *e, const char *network, const char *container,
                          const wpd_net_endpoint *ep, wpd_done_fn done, void *arg);

/* 404: NOT_FOUND. An error wpd_dialect_in_use() recognises ("active
 * endpoints") may go away when detaching endpoints are gone. */
wpd_call *wpd_net_remove(wpd_engine *e, const char *network, wpd_change_fn done, void *arg);

typedef struct wpd_net_summary {
    const char *id;
    const char *name;
    const char *driver;
    const wpd_pair *labels;
    size_t n_labels;
} wpd_net_summary;
typedef void (*wpd_net_list_fn)(void *arg, const wpd_net_summary *v, size_t n,
                                const wpd_error *err);
wpd_call *wpd_net_list(wpd_engine *e, const wpd_pair *filters, size_t n_filters,
                       wpd_net_list_fn done, void *arg);
int wpd_net_list_parse(const char *body, size_t len, wpd_arena *a, wpd_net_summary **out, size_t *n,
                       wpd_error *err);

#endif
