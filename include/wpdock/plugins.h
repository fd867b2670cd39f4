/* wpdock/plugins.h - finding and loading transport plugins.
 *
 * The registry searches, in order: the directories in WPDOCK_PLUGIN_PATH
 * (colon-separated), the install plugin directory, then the build tree's
 * transport directory. Every `*.so` file there is dlopen()ed with
 * RTLD_NOW | RTLD_LOCAL and checked against the ABI in wpdock/transport.h;
 * a file that fails a check is recorded as refused, with the reason. */
#ifndef WPDOCK_PLUGINS_H
#define WPDOCK_PLUGINS_H

#include <stddef.h>
#include <wpdock/error.h>
#include <wpdock/export.h>
#include <wpdock/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wpd_plugin_registry wpd_plugin_registry;

typedef struct wpd_plugin_info {
    const char *path; /* file the plugin was loaded from */
    const wpd_transport_plugin *plugin;
} wpd_plugin_info;

typedef struct wpd_plugin_refusal {
    const char *path;   /* file that was refused */
    const char *reason; /* why, e.g. "ABI major version 2, this wpdock speaks 1" */
} wpd_plugin_refusal;

/* Load plugins from `dirs` (NULL-terminated), or from the default search
 * path when dirs is NULL. Never fails for a bad plugin (that is a refusal);
 * returns NULL only when out of memory. */
WPD_EXPORT wpd_plugin_registry *wpd_plugins_load(const char *const *dirs);
WPD_EXPORT void wpd_plugins_free(wpd_plugin_registry *reg);

WPD_EXPORT size_t wpd_plugins_count(const wpd_plugin_registry *reg);
WPD_EXPORT const wpd_plugin_info *wpd_plugins_get(const wpd_plugin_registry *reg, size_t i);
WPD_EXPORT size_t wpd_plugins_refused_count(const wpd_plugin_registry *reg);
WPD_EXPORT const wpd_plugin_refusal *wpd_plugins_refused(const wpd_plugin_registry *reg, size_t i);
/* Directories that were searched, in order (including ones that do not exist). */
WPD_EXPORT size_t wpd_plugins_dir_count(const wpd_plugin_registry *reg);
WPD_EXPORT const char *wpd_plugins_dir(const wpd_plugin_registry *reg, size_t i);

/* The plugin serving `scheme` ("unix"), or NULL. */
WPD_EXPORT const wpd_plugin_info *wpd_plugins_for_scheme(const wpd_plugin_registry *reg,
                                                         const char *scheme);

#ifdef __cplusplus
}
#endif
#endif
