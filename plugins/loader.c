/* loader.c - finds transport plugin files, dlopen()s them and checks each
 * descriptor against the ABI of wpdock/transport.h. Only trusted files are
 * loaded: a plugin file and the directory holding it must be owned by root
 * or by the effective user and not be writable by group or others.
 * Accepted plugins and refusals are kept in the registry (registry.c). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "registry.h"

#ifndef WPDOCK_PLUGIN_INSTALL_DIR
#define WPDOCK_PLUGIN_INSTALL_DIR "/usr/local/lib/wpdock/transports"
#endif
#ifndef WPDOCK_PLUGIN_BUILD_DIR
#define WPDOCK_PLUGIN_BUILD_DIR ""
#endif
#ifndef WPDOCK_BUILD_ROOT
#define WPDOCK_BUILD_ROOT ""
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

/* ---- trust ---- */

char *wpd_plugin_untrusted(const char *path, const struct stat *st)
{
    int foreign = st->st_uid != 0 && st->st_uid != geteuid();
    mode_t w = st->st_mode & (S_IWGRP | S_IWOTH);
    if (!foreign && !w)
        return NULL;
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_printf(&b, "%s is ", path);
    if (foreign)
        wpd_buf_printf(&b, "owned by uid %u (not root or you)", (unsigned)st->st_uid);
    if (w)
        wpd_buf_printf(&b, "%swritable by %s (mode %04o; chmod go-w %s)", foreign ? " and " : "",
                       w == (S_IWGRP | S_IWOTH) ? "group and others"
                       : w == S_IWGRP           ? "group"
                                                : "others",
                       (unsigned)(st->st_mode & 07777), path);
    return wpd_buf_steal(&b);
}

char *wpd_plugin_dir_untrusted(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return wpd_xasprintf("cannot stat directory %s: %s", dir, strerror(errno));
    return wpd_plugin_untrusted(dir, &st);
}

char *wpd_plugin_dir_of(const char *path)
{
    char *copy = wpd_xstrdup(path);
    char *d = wpd_xstrdup(dirname(copy));
    free(copy);
    return d;
}

char *wpd_plugin_link_dir(const char *path)
{
    struct stat lst;
    if (lstat(path, &lst) != 0 || !S_ISLNK(lst.st_mode))
        return NULL;
    char *real = realpath(path, NULL);
    if (!real)
        return NULL;
    char *d = wpd_plugin_dir_of(real);
    free(real);
    return d;
}

/* Why the plugin file at path (not its directory) is not trusted, or NULL:
 * the file a symlink points to, and the directory that file is in. */
static char *file_untrusted(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return wpd_xasprintf("cannot stat %s: %s", path, strerror(errno));
    char *why = wpd_plugin_untrusted(path, &st);
    if (why)
        return why;
    char *ldir = wpd_plugin_link_dir(path);
    if (!ldir)
        return NULL;
    char *dwhy = wpd_plugin_dir_untrusted(ldir);
    if (dwhy) {
        why = wpd_xasprintf("%s is a symlink into %s: %s", path, ldir, dwhy);
        free(dwhy);
    }
    free(ldir);
    return why;
}

/* ---- the descriptor ---- */

static int scheme_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' ||
              *s == '.'))
            return 0;
    return 1;
}

static void item(wpd_plugin_check_fn cb, void *arg, size_t *failed, const char *name,
                 wpd_check_status st, char *detail)
{
    if (st == WPD_CHECK_FAILED)
        (*failed)++;
    cb(arg, name, st, detail);
    free(detail);
}

size_t wpd_descriptor_items(const wpd_transport_plugin *p, wpd_plugin_check_fn cb, void *arg)
{
    size_t failed = 0;
    static const char *const later[] = {
        "name", "version", "open", "min_core_minor", "schemes", "description", "abi 1.1 functions"};
    const size_t n_later = sizeof later / sizeof later[0];
    if (p->abi_major != WPD_TRANSPORT_ABI_MAJOR) {
        item(cb, arg, &failed, "abi_major", WPD_CHECK_FAILED,
             wpd_xasprintf("plugin ABI major version %u (%u.%u), this wpdock speaks %u (%u.%u)",
                           p->abi_major, p->abi_major, p->abi_minor, WPD_TRANSPORT_ABI_MAJOR,
                           WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR));
        item(cb, arg, &failed, "struct_size", WPD_CHECK_SKIPPED,
             wpd_xstrdup("not checked: another ABI major version"));
        for (size_t i = 0; i < n_later; i++)
            item(cb, arg, &failed, later[i], WPD_CHECK_SKIPPED,
                 wpd_xstrdup("not read: another ABI major version"));
        return failed;
    }
    item(cb, arg, &failed, "abi_major", WPD_CHECK_OK,
         wpd_xasprintf("%u (plugin built with ABI %u.%u, this wpdock speaks %u.%u%s)", p->abi_major,
                       p->abi_major, p->abi_minor, WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR,
                       p->abi_minor > WPD_TRANSPORT_ABI_MINOR
                           ? "; fields of the newer minor version are not read"
                           : ""));
    if (p->struct_size < WPD_TRANSPORT_PLUGIN_MIN_SIZE) {
        item(cb, arg, &failed, "struct_size", WPD_CHECK_FAILED,
             wpd_xasprintf("descriptor too small: %u bytes, ABI %u.0 needs at least %zu",
                           p->struct_size, WPD_TRANSPORT_ABI_MAJOR,
                           (size_t)WPD_TRANSPORT_PLUGIN_MIN_SIZE));
        for (size_t i = 0; i < n_later; i++)
            item(cb, arg, &failed, later[i], WPD_CHECK_SKIPPED,
                 wpd_xstrdup("not read: the descriptor is too small"));
        return failed;
    }
    item(cb, arg, &failed, "struct_size", WPD_CHECK_OK,
         wpd_xasprintf("%u bytes (ABI %u.0 needs at least %zu; this wpdock's descriptor has %zu)",
                       p->struct_size, WPD_TRANSPORT_ABI_MAJOR,
                       (size_t)WPD_TRANSPORT_PLUGIN_MIN_SIZE, sizeof(wpd_transport_plugin)));
    if (!p->name || !*p->name)
        item(cb, arg, &failed, "name", WPD_CHECK_FAILED, wpd_xstrdup("descriptor has no name"));
    else
        item(cb, arg, &failed, "name", WPD_CHECK_OK, wpd_xasprintf("\"%s\"", p->name));
    if (!p->version)
        item(cb, arg, &failed, "version", WPD_CHECK_FAILED,
             wpd_xstrdup("descriptor has no version"));
    else
        item(cb, arg, &failed, "version", WPD_CHECK_OK, wpd_xasprintf("\"%s\"", p->version));
    if (!p->open)
        item(cb, arg, &failed, "open", WPD_CHECK_FAILED,
             wpd_xstrdup("descriptor has no open function"));
    else
        item(cb, arg, &failed, "open", WPD_CHECK_OK, wpd_xstrdup("set"));
    if (!WPD_TRANSPORT_HAS(p, min_core_minor))
        item(cb, arg, &failed, "min_core_minor", WPD_CHECK_SKIPPED,
             wpd_xasprintf("not in a %u-byte descriptor (ABI 1.0): any %u.x core loads it",
                           p->struct_size, WPD_TRANSPORT_ABI_MAJOR));
    else if (p->min_core_minor > WPD_TRANSPORT_ABI_MINOR)
        item(cb, arg, &failed, "min_core_minor", WPD_CHECK_FAILED,
             wpd_xasprintf("plugin needs transport ABI %u.%u or later (built with %u.%u), this "
                           "wpdock speaks %u.%u",
                           WPD_TRANSPORT_ABI_MAJOR, p->min_core_minor, p->abi_major, p->abi_minor,
                           WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR));
    else if (p->min_core_minor == 0)
        item(cb, arg, &failed, "min_core_minor", WPD_CHECK_OK,
             wpd_xasprintf("0 (any %u.x core loads it)", WPD_TRANSPORT_ABI_MAJOR));
    else
        item(cb, arg, &failed, "min_core_minor", WPD_CHECK_OK,
             wpd_xasprintf("%u (needs a %u.%u core or later; this wpdock speaks %u.%u)",
                           p->min_core_minor, WPD_TRANSPORT_ABI_MAJOR, p->min_core_minor,
                           WPD_TRANSPORT_ABI_MAJOR, WPD_TRANSPORT_ABI_MINOR));
    if (!p->schemes || !p->schemes[0]) {
        item(cb, arg, &failed, "schemes", WPD_CHECK_FAILED,
             wpd_xstrdup("descriptor serves no URI scheme"));
    } else {
        wpd_buf b = WPD_BUF_INIT;
        const char *bad = NULL;
        for (size_t i = 0; p->schemes[i]; i++) {
            if (!bad && !scheme_ok(p->schemes[i]))
                bad = p->schemes[i];
            wpd_buf_printf(&b, "%s%s://", i ? ", " : "", p->schemes[i]);
        }
        if (bad) {
            item(cb, arg, &failed, "schemes", WPD_CHECK_FAILED,
                 wpd_xasprintf("scheme \"%s\" can never match an endpoint: a scheme is "
                               "lower-case letters, digits, '+', '-' and '.'",
                               bad));
            wpd_buf_free(&b);
        } else {
            item(cb, arg, &failed, "schemes", WPD_CHECK_OK, wpd_buf_steal(&b));
        }
    }
    if (p->description)
        item(cb, arg, &failed, "description", WPD_CHECK_OK,
             wpd_xasprintf("\"%s\"", p->description));
    else
        item(cb, arg, &failed, "description", WPD_CHECK_OK,
             wpd_xstrdup("not set (allowed; `wpdock plugins` shows none)"));
    if (!WPD_TRANSPORT_HAS(p, headers))
        item(cb, arg, &failed, "abi 1.1 functions", WPD_CHECK_SKIPPED,
             wpd_xstrdup("an ABI 1.0 descriptor: the core dials every connection itself"));
    else
        item(cb, arg, &failed, "abi 1.1 functions", WPD_CHECK_OK,
             wpd_xasprintf("connect %s, headers %s", p->connect ? "set" : "not set",
                           p->headers ? "set" : "not set"));
    return failed;
}

struct first_failure {
    char *why;
};

static void keep_first_failure(void *arg, const char *name, wpd_check_status st, const char *detail)
{
    (void)name;
    struct first_failure *f = arg;
    if (st == WPD_CHECK_FAILED && !f->why)
        f->why = wpd_xstrdup(detail);
}

/* Check one opened library; on refusal return a malloc'd reason. */
static char *check_descriptor(const wpd_transport_plugin *p, const wpd_plugin_registry *reg)
{
    if (!p)
        return wpd_xasprintf("entry function %s returned NULL", WPD_TRANSPORT_ENTRY_SYMBOL);
    struct first_failure f = {NULL};
    wpd_descriptor_items(p, keep_first_failure, &f);
    if (f.why)
        return f.why;
    for (size_t i = 0; p->schemes[i]; i++) {
        const wpd_plugin_info *other = wpd_plugins_for_scheme(reg, p->schemes[i]);
        if (other)
            return wpd_xasprintf("scheme \"%s\" is already served by plugin \"%s\" (%s)",
                                 p->schemes[i], other->plugin->name, other->path);
    }
    return NULL;
}

/* ---- loading ---- */

static void refuse(wpd_plugin_registry *reg, const char *path, char *why)
{
    wpd_registry_refuse(reg, path, why);
    free(why);
}

/* Trust of the file itself here; its directory was checked by the caller. */
static void load_file(wpd_plugin_registry *reg, const char *path)
{
    char *untrusted = file_untrusted(path);
    if (untrusted) {
        refuse(reg, path, untrusted);
        return;
    }
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        refuse(reg, path,
               wpd_xasprintf("not a loadable shared object: %s (check the file with "
                             "`file` and its dependencies with `ldd`)",
                             e ? e : "unknown dlopen error"));
        return;
    }
    union {
        void *obj;
        wpd_transport_entry_fn fn;
    } entry;
    dlerror();
    entry.obj = dlsym(h, WPD_TRANSPORT_ENTRY_SYMBOL);
    if (!entry.obj) {
        refuse(reg, path,
               wpd_xasprintf("no entry symbol %s: not a wpdock transport plugin",
                             WPD_TRANSPORT_ENTRY_SYMBOL));
        dlclose(h);
        return;
    }
    const wpd_transport_plugin *p = entry.fn();
    char *why = check_descriptor(p, reg);
    if (why) {
        refuse(reg, path, why);
        dlclose(h);
        return;
    }
    wpd_registry_accept(reg, path, h, p);
}

static void load_dir(wpd_plugin_registry *reg, const char *dir)
{
    wpd_registry_add_dir(reg, dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return;
    char *untrusted = wpd_plugin_untrusted(dir, &st);
    if (untrusted) {
        refuse(reg, dir, wpd_xasprintf("%s: no plugin is loaded from it", untrusted));
        free(untrusted);
        return;
    }
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
        struct stat fst;
        if (stat(path, &fst) == 0 && S_ISREG(fst.st_mode))
            load_file(reg, path);
        free(path);
        free(names[i]);
    }
    free(names);
}

char *wpd_plugin_path_for_dlopen(const char *path)
{
    /* without a slash dlopen() would search the library path instead */
    return strchr(path, '/') ? wpd_xstrdup(path) : wpd_xasprintf("./%s", path);
}

wpd_plugin_registry *wpd_plugins_load_file(const char *path)
{
    wpd_plugin_registry *reg = wpd_registry_new();
    char *p = wpd_plugin_path_for_dlopen(path);
    struct stat st;
    char *dir = wpd_plugin_dir_of(p);
    char *dwhy = NULL;
    if (stat(p, &st) != 0)
        refuse(reg, p, wpd_xasprintf("cannot stat %s: %s", p, strerror(errno)));
    else if (!S_ISREG(st.st_mode))
        refuse(reg, p, wpd_xasprintf("%s is not a regular file", p));
    else if ((dwhy = wpd_plugin_dir_untrusted(dir)))
        refuse(reg, p, wpd_xstrdup(dwhy));
    else
        load_file(reg, p);
    free(dwhy);
    free(dir);
    free(p);
    return reg;
}

/* An installed library finds its plugins next to itself
 * (<libdir>/wpdock/transports, wherever the tree was installed: --prefix
 * may be chosen at install time); NULL when this code runs from the build
 * tree (the build tree's library or a test program), which searches the
 * configured install directory and then the build tree's transports. */
static char *installed_plugin_dir(void)
{
    Dl_info info;
    if (!dladdr((void *)installed_plugin_dir, &info) || !info.dli_fname)
        return NULL;
    char *real = realpath(info.dli_fname, NULL);
    if (!real)
        return NULL;
    char *slash = strrchr(real, '/');
    size_t rootlen = strlen(WPDOCK_BUILD_ROOT);
    int in_build = rootlen && strncmp(real, WPDOCK_BUILD_ROOT, rootlen) == 0 &&
                   (real[rootlen] == '/' || real[rootlen] == '\0');
    if (in_build || !slash) {
        free(real);
        return NULL;
    }
    *slash = '\0';
    char *dir = wpd_xasprintf("%s/wpdock/transports", real);
    free(real);
    return dir;
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
    char *installed = installed_plugin_dir();
    if (installed) {
        load_dir(reg, installed);
        free(installed);
        return reg;
    }
    load_dir(reg, WPDOCK_PLUGIN_INSTALL_DIR);
    if (*WPDOCK_PLUGIN_BUILD_DIR && strcmp(WPDOCK_PLUGIN_BUILD_DIR, WPDOCK_PLUGIN_INSTALL_DIR))
        load_dir(reg, WPDOCK_PLUGIN_BUILD_DIR);
    return reg;
}
