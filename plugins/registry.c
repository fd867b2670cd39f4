/* registry.c - keeps accepted plugins (with their dlopen handles), refusals
 * and the searched directories; answers "which plugin serves scheme X". */
#include "registry.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct loaded {
    wpd_plugin_info info;
    void *handle;
};

struct wpd_plugin_registry {
    struct loaded *plugins;
    size_t n_plugins;
    wpd_plugin_refusal *refused;
    size_t n_refused;
    char **dirs;
    size_t n_dirs;
};

wpd_plugin_registry *wpd_registry_new(void)
{
    return wpd_xcalloc(1, sizeof(wpd_plugin_registry));
}

void wpd_registry_add_dir(wpd_plugin_registry *reg, const char *dir)
{
    reg->dirs = wpd_xrealloc(reg->dirs, (reg->n_dirs + 1) * sizeof *reg->dirs);
    reg->dirs[reg->n_dirs++] = wpd_xstrdup(dir);
}

void wpd_registry_accept(wpd_plugin_registry *reg, const char *path, void *handle,
                         const wpd_transport_plugin *plugin)
{
    reg->plugins = wpd_xrealloc(reg->plugins, (reg->n_plugins + 1) * sizeof *reg->plugins);
    struct loaded *l = &reg->plugins[reg->n_plugins++];
    l->info.path = wpd_xstrdup(path);
    l->info.plugin = plugin;
    l->handle = handle;
}

void wpd_registry_refuse(wpd_plugin_registry *reg, const char *path, const char *reason)
{
    reg->refused = wpd_xrealloc(reg->refused, (reg->n_refused + 1) * sizeof *reg->refused);
    wpd_plugin_refusal *r = &reg->refused[reg->n_refused++];
    r->path = wpd_xstrdup(path);
    r->reason = wpd_xstrdup(reason);
}

void wpd_plugins_free(wpd_plugin_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n_plugins; i++) {
        free((char *)reg->plugins[i].info.path);
        dlclose(reg->plugins[i].handle);
    }
    for (size_t i = 0; i < reg->n_refused; i++) {
        free((char *)reg->refused[i].path);
        free((char *)reg->refused[i].reason);
    }
    for (size_t i = 0; i < reg->n_dirs; i++)
        free(reg->dirs[i]);
    free(reg->plugins);
    free(reg->refused);
    free(reg->dirs);
    free(reg);
}

size_t wpd_plugins_count(const wpd_plugin_registry *reg)
{
    return reg->n_plugins;
}

const wpd_plugin_info *wpd_plugins_get(const wpd_plugin_registry *reg, size_t i)
{
    return i < reg->n_plugins ? &reg->plugins[i].info : NULL;
}

size_t wpd_plugins_refused_count(const wpd_plugin_registry *reg)
{
    return reg->n_refused;
}

const wpd_plugin_refusal *wpd_plugins_refused(const wpd_plugin_registry *reg, size_t i)
{
    return i < reg->n_refused ? &reg->refused[i] : NULL;
}

size_t wpd_plugins_dir_count(const wpd_plugin_registry *reg)
{
    return reg->n_dirs;
}

const char *wpd_plugins_dir(const wpd_plugin_registry *reg, size_t i)
{
    return i < reg->n_dirs ? reg->dirs[i] : NULL;
}

const wpd_plugin_info *wpd_plugins_for_scheme(const wpd_plugin_registry *reg, const char *scheme)
{
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const wpd_transport_plugin *p = reg->plugins[i].info.plugin;
        for (size_t k = 0; p->schemes[k]; k++)
            if (strcmp(p->schemes[k], scheme) == 0)
                return &reg->plugins[i].info;
    }
    return NULL;
}
