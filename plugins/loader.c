/* loader.c - finds transport plugin files, dlopen()s them and checks each
 * descriptor against the ABI of wpdock/transport.h. Accepted plugins and
 * refusals are kept in the registry (registry.c). */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "registry.h"

#ifndef WPDOCK_PLUGIN_INSTALL_DIR
#define WPDOCK_PLUGIN_INSTALL_DIR "/usr/local/lib/wpdock/transports"
#endif
#ifndef WPDOCK_PLUGIN_BUILD_DIR
#define WPDOCK_PLUGIN_BUILD_DIR ""
#endif

static int has_so_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Check one opened library; on refusal return a malloc'd reason. */
static char *check_descriptor(const wpd_transport_plugin *p, const wpd_plugin_registry *reg)
{
    if (!p)
        return wpd_xasprintf("entry function %s returned NULL", WPD_TRANSPORT_ENTRY_SYMBOL);
    if (p->abi_major != WPD_TRANSPORT_ABI_MAJOR)
        return wpd_xasprintf("plugin ABI major version %u (%u.%u), this wpdock speaks %u (%u.%u)",
                             p->abi_major, p->abi_major, p->abi_minor, WPD_TRANSPORT_ABI_MAJOR,
                             WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR);
    if (p->struct_size < WPD_TRANSPORT_PLUGIN_MIN_SIZE)
        return wpd_xasprintf("descriptor too small: %u bytes, ABI %u.0 needs at least %zu",
                             p->struct_size, WPD_TRANSPORT_ABI_MAJOR,
                             (size_t)WPD_TRANSPORT_PLUGIN_MIN_SIZE);
    if (!p->name || !*p->name)
        return wpd_xstrdup("descriptor has no name");
    if (!p->version)
        return wpd_xstrdup("descriptor has no version");
    if (!p->open)
        return wpd_xstrdup("descriptor has no open function");
    if (WPD_TRANSPORT_HAS(p, min_core_minor) && p->min_core_minor > WPD_TRANSPORT_ABI_MINOR)
        return wpd_xasprintf("plugin needs transport ABI %u.%u or later (built with %u.%u), this "
                             "wpdock speaks %u.%u",
                             WPD_TRANSPORT_ABI_MAJOR, p->min_core_minor, p->abi_major, p->abi_minor,
                             WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR);
    if (!p->schemes || !p->schemes[0])
        return wpd_xstrdup("descriptor serves no URI scheme");
    for (size_t i = 0; p->schemes[i]; i++) {
        const wpd_plugin_info *other = wpd_plugins_for_scheme(reg, p->schemes[i]);
        if (other)
            return wpd_xasprintf("scheme \"%s\" is already served by plugin \"%s\" (%s)",
                                 p->schemes[i], other->plugin->name, other->path);
    }
    return NULL;
}

static void load_file(wpd_plugin_registry *reg, const char *path)
{
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        char *why = wpd_xasprintf("not a loadable shared object: %s (check the file with "
                                  "`file` and its dependencies with `ldd`)",
                                  e ? e : "unknown dlopen error");
        wpd_registry_refuse(reg, path, why);
        free(why);
        return;
    }
    union {
        void *obj;
        wpd_transport_entry_fn fn;
    } entry;
    dlerror();
    entry.obj = dlsym(h, WPD_TRANSPORT_ENTRY_SYMBOL);
    if (!entry.obj) {
        char *why = wpd_xasprintf("no entry symbol %s: not a wpdock transport plugin",
                                  WPD_TRANSPORT_ENTRY_SYMBOL);
        wpd_registry_refuse(reg, path, why);
        free(why);
        dlclose(h);
        return;
    }
    const wpd_transport_plugin *p = entry.fn();
    char *why = check_descriptor(p, reg);
    if (why) {
        wpd_registry_refuse(reg, path, why);
        free(why);
        dlclose(h);
        return;
    }
    wpd_registry_accept(reg, path, h, p);
}

static void load_dir(wpd_plugin_registry *reg, const char *dir)
{
    wpd_registry_add_dir(reg, dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !has_so_suffix(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            names = wpd_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = wpd_xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *path = wpd_xasprintf("%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            load_file(reg, path);
        free(path);
        free(names[i]);
    }
    free(names);
}

wpd_plugin_registry *wpd_plugins_load(const char *const *dirs)
{
    wpd_plugin_registry *reg = wpd_registry_new();
    if (dirs) {
        for (size_t i = 0; dirs[i]; i++)
            load_dir(reg, dirs[i]);
        return reg;
    }
    const char *env = getenv("WPDOCK_PLUGIN_PATH");
    if (env && *env) {
        char *copy = wpd_xstrdup(env), *save = NULL;
        for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
            if (*tok)
                load_dir(reg, tok);
        free(copy);
    }
    load_dir(reg, WPDOCK_PLUGIN_INSTALL_DIR);
    if (*WPDOCK_PLUGIN_BUILD_DIR && strcmp(WPDOCK_PLUGIN_BUILD_DIR, WPDOCK_PLUGIN_INSTALL_DIR))
        load_dir(reg, WPDOCK_PLUGIN_BUILD_DIR);
    return reg;
}
