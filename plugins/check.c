/* check.c - the conformance check of one plugin file (`wpdock plugins
 * --check`): every rule of the loader (loader.c) reported item by item,
 * plus the ABI's one-exported-symbol rule, read from the file's ELF
 * dynamic symbol table (elfsyms.c). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "registry.h"

/* A plugin file is a few hundred KiB; this is far past any real one. */
#define CHECK_FILE_MAX (256u << 20)

struct ctx {
    wpd_plugin_check_fn cb;
    void *arg;
    size_t failed;
};

static void report(struct ctx *c, const char *item, wpd_check_status st, char *detail)
{
    if (st == WPD_CHECK_FAILED)
        c->failed++;
    c->cb(c->arg, item, st, detail);
    free(detail);
}

static void forward(void *arg, const char *item, wpd_check_status st, const char *detail)
{
    struct ctx *c = arg;
    if (st == WPD_CHECK_FAILED)
        c->failed++;
    c->cb(c->arg, item, st, detail);
}

static void skip_rest(struct ctx *c, const char *const *items, const char *why)
{
    for (size_t i = 0; items[i]; i++)
        report(c, items[i], WPD_CHECK_SKIPPED, wpd_xstrdup(why));
}

/* ---- exports ---- */

struct exports {
    size_t n;
    int has_entry;
    wpd_buf names; /* the first few, comma-separated */
};

static void on_export(void *arg, const char *name, size_t len)
{
    struct exports *x = arg;
    x->n++;
    if (len == strlen(WPD_TRANSPORT_ENTRY_SYMBOL) &&
        memcmp(name, WPD_TRANSPORT_ENTRY_SYMBOL, len) == 0)
        x->has_entry = 1;
    if (x->n <= 8)
        wpd_buf_printf(&x->names, "%s%.*s", x->n > 1 ? ", " : "", (int)(len > 200 ? 200 : len),
                       len ? name : "(unnamed)");
    else if (x->n == 9)
        wpd_buf_puts(&x->names, ", ...");
}

/* The file's bytes (malloc'd), or NULL with *why. */
static unsigned char *read_all(const char *path, size_t *len, char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = wpd_xasprintf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    wpd_buf b = WPD_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > CHECK_FILE_MAX) {
            *why = wpd_xasprintf("%s is larger than %u MiB: not read", path, CHECK_FILE_MAX >> 20);
            fclose(f);
            wpd_buf_free(&b);
            return NULL;
        }
        wpd_buf_append(&b, chunk, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        *why = wpd_xasprintf("cannot read %s", path);
        wpd_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    if (!b.data)
        return (unsigned char *)wpd_xstrdup("");
    return (unsigned char *)wpd_buf_steal(&b);
}

static void check_exports(struct ctx *c, const char *path)
{
    size_t len = 0;
    char *why = NULL;
    unsigned char *data = read_all(path, &len, &why);
    if (!data) {
        report(c, "exports", WPD_CHECK_FAILED, why);
        return;
    }
    struct exports x = {0, 0, WPD_BUF_INIT};
    char err[256] = "";
    long n = wpd_elf_exports(data, len, on_export, &x, err, sizeof err);
    free(data);
    if (n < 0)
        report(c, "exports", WPD_CHECK_FAILED,
               wpd_xasprintf("cannot list the dynamic symbols: %s", err));
    else if (n == 1 && x.has_entry)
        report(c, "exports", WPD_CHECK_OK,
               wpd_xasprintf("exactly one dynamic symbol, %s", WPD_TRANSPORT_ENTRY_SYMBOL));
    else if (!x.has_entry)
        report(c, "exports", WPD_CHECK_FAILED,
               wpd_xasprintf("%s is not exported (%zu exported symbol%s%s%s); define it with "
                             "WPD_TRANSPORT_EXPORT",
                             WPD_TRANSPORT_ENTRY_SYMBOL, x.n, x.n == 1 ? "" : "s", x.n ? ": " : "",
                             wpd_buf_cstr(&x.names)));
    else
        report(c, "exports", WPD_CHECK_FAILED,
               wpd_xasprintf("%zu exported dynamic symbols (%s); a plugin exports only %s: build "
                             "with -fvisibility=hidden",
                             x.n, wpd_buf_cstr(&x.names), WPD_TRANSPORT_ENTRY_SYMBOL));
    wpd_buf_free(&x.names);
}

/* ---- the whole check ---- */

static const char *const after_load[] = {"dlopen", "entry symbol", "entry()", NULL};
static const char *const descriptor_items[] = {
    "abi_major",      "struct_size", "name",        "version",           "open",
    "min_core_minor", "schemes",     "description", "abi 1.1 functions", NULL};

size_t wpd_plugin_check_file(const char *path, wpd_plugin_check_fn cb, void *arg)
{
    struct ctx c = {cb, arg, 0};
    char *p = wpd_plugin_path_for_dlopen(path);
    struct stat st, lst;
    int src = stat(p, &st), serr = errno;
    if (src != 0 || !S_ISREG(st.st_mode)) {
        report(&c, "file", WPD_CHECK_FAILED,
               src != 0 ? wpd_xasprintf("cannot stat %s: %s", p, strerror(serr))
                        : wpd_xasprintf("%s is not a regular file", p));
        skip_rest(&c, (const char *const[]){"trust: file", "trust: directory", "exports", NULL},
                  "not checked: no plugin file");
        skip_rest(&c, after_load, "not checked: no plugin file");
        skip_rest(&c, descriptor_items, "not checked: no plugin file");
        free(p);
        return c.failed;
    }
    char *ldir = wpd_plugin_link_dir(p);
    int is_link = lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode);
    report(&c, "file", WPD_CHECK_OK,
           wpd_xasprintf("%s: a regular file of %lld bytes%s", p, (long long)st.st_size,
                         is_link ? " (through a symlink)" : ""));

    int trusted = 1;
    char *why = wpd_plugin_untrusted(p, &st);
    if (why) {
        trusted = 0;
        report(&c, "trust: file", WPD_CHECK_FAILED, why);
    } else {
        report(&c, "trust: file", WPD_CHECK_OK,
               wpd_xasprintf("owned by uid %u (root or you), not writable by group or others",
                             (unsigned)st.st_uid));
    }
    char *dir = wpd_plugin_dir_of(p);
    why = wpd_plugin_dir_untrusted(dir);
    if (why) {
        trusted = 0;
        report(&c, "trust: directory", WPD_CHECK_FAILED, why);
    } else {
        report(&c, "trust: directory", WPD_CHECK_OK,
               wpd_xasprintf("%s: owned by root or you, not writable by group or others "
                             "(its parent directories are not checked)",
                             dir));
    }
    if (ldir) {
        why = wpd_plugin_dir_untrusted(ldir);
        if (why) {
            trusted = 0;
            report(&c, "trust: link target's directory", WPD_CHECK_FAILED, why);
        } else {
            report(
                &c, "trust: link target's directory", WPD_CHECK_OK,
                wpd_xasprintf("%s: owned by root or you, not writable by group or others", ldir));
        }
    }
    free(dir);
    free(ldir);

    check_exports(&c, p);

    if (!trusted) {
        const char *no = "not checked: an untrusted file is not loaded (its code would run)";
        skip_rest(&c, after_load, no);
        skip_rest(&c, descriptor_items, no);
        free(p);
        return c.failed;
    }
    dlerror();
    void *h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        report(&c, "dlopen", WPD_CHECK_FAILED,
               wpd_xasprintf("not a loadable shared object with RTLD_NOW: %s",
                             e ? e : "unknown dlopen error"));
        skip_rest(&c, after_load + 1, "not checked: the file did not load");
        skip_rest(&c, descriptor_items, "not checked: the file did not load");
        free(p);
        return c.failed;
    }
    report(&c, "dlopen", WPD_CHECK_OK,
           wpd_xstrdup("loads with RTLD_NOW | RTLD_LOCAL: every symbol it needs resolves"));
    union {
        void *obj;
        wpd_transport_entry_fn fn;
    } entry;
    dlerror();
    entry.obj = dlsym(h, WPD_TRANSPORT_ENTRY_SYMBOL);
    if (!entry.obj) {
        report(&c, "entry symbol", WPD_CHECK_FAILED,
               wpd_xasprintf("no entry symbol %s: not a wpdock transport plugin",
                             WPD_TRANSPORT_ENTRY_SYMBOL));
        skip_rest(&c, after_load + 2, "not checked: no entry symbol");
        skip_rest(&c, descriptor_items, "not checked: no entry symbol");
    } else {
        report(&c, "entry symbol", WPD_CHECK_OK,
               wpd_xasprintf("%s found", WPD_TRANSPORT_ENTRY_SYMBOL));
        const wpd_transport_plugin *d = entry.fn();
        if (!d) {
            report(&c, "entry()", WPD_CHECK_FAILED,
                   wpd_xasprintf("entry function %s returned NULL", WPD_TRANSPORT_ENTRY_SYMBOL));
            skip_rest(&c, descriptor_items, "not checked: no descriptor");
        } else {
            report(&c, "entry()", WPD_CHECK_OK, wpd_xstrdup("returned a descriptor"));
            wpd_descriptor_items(d, forward, &c);
        }
    }
    dlclose(h);
    free(p);
    return c.failed;
}
