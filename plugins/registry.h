/* registry.h - the set of accepted transport plugins and refused files
 * (internal side of wpdock/plugins.h, used by the loader). */
#ifndef WPDOCK_REGISTRY_H
#define WPDOCK_REGISTRY_H

#include <wpdock/plugins.h>

wpd_plugin_registry *wpd_registry_new(void);
void wpd_registry_add_dir(wpd_plugin_registry *reg, const char *dir);
void wpd_registry_accept(wpd_plugin_registry *reg, const char *path, void *handle,
                         const wpd_transport_plugin *plugin);
void wpd_registry_refuse(wpd_plugin_registry *reg, const char *path, const char *reason);

#endif
