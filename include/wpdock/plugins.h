/* wpdock/plugins.h - finding and loading transport plugins.
 *
 * The registry searches, in order: the directories in WPDOCK_PLUGIN_PATH
 * (colon-separated), the install plugin directory, then the build tree's
 * transport directory. Every `*.so` file there is dlopen()ed with
 * RTLD_NOW | RTLD_LOCAL and checked against the ABI in wpdock/transport.h;
 * a file that fails a check is recorded as refused, with the reason. Only
 * trusted files and directories are used (see "Trust" below). */
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

/* ---- added with the trust rules and the conformance check ----
 *
 * Trust: a plugin file (the file a symlink resolves to, and the directory
 * holding that file) and every searched directory must be owned by root or
 * by the effective user and must not be writable by group or others; what
 * is not is refused with the reason, e.g. "/opt/p/x.so is writable by
 * others". An untrusted directory is one refusal (its path, no file of it
 * loaded). Only the file and its own directory are checked, not every
 * ancestor directory. */

/* A registry holding just the plugin file `path` (accepted, or refused with
 * the reason), loaded with the same trust rules and checks as a file found
 * on the search path; searches no directory. NULL only when out of memory. */
WPD_EXPORT wpd_plugin_registry *wpd_plugins_load_file(const char *path);

/* One item of a conformance check. */
typedef enum wpd_check_status {
    WPD_CHECK_OK = 0,
    WPD_CHECK_FAILED,
    WPD_CHECK_SKIPPED /* does not apply, or not checked because an earlier item failed */
} wpd_check_status;

/* Called once per item, in order: a short item name ("dlopen", "exports",
 * "abi_major", ...) and what was found, or why the item fails. */
typedef void (*wpd_plugin_check_fn)(void *arg, const char *item, wpd_check_status status,
                                    const char *detail);

/* Check the plugin file `path` against every rule the loader applies (trust,
 * dlopen with RTLD_NOW | RTLD_LOCAL, the entry symbol, the descriptor's
 * fields and ABI versions) and the ABI's rule that the entry symbol is the
 * only exported dynamic symbol (read from the file's ELF .dynsym). An
 * untrusted file is not dlopen()ed (its code would run). The library is
 * unloaded again. Returns the number of failed items. */
WPD_EXPORT size_t wpd_plugin_check_file(const char *path, wpd_plugin_check_fn cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
