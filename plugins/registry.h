/* registry.h - the set of accepted transport plugins and refused files
 * (internal side of wpdock/plugins.h, used by the loader), and the
 * loader's rules shared with the conformance check (check.c), and the ELF
 * export reader under it (elfsyms.c). */
#ifndef WPDOCK_REGISTRY_H
#define WPDOCK_REGISTRY_H

#include <stddef.h>
#include <sys/stat.h>
#include <wpdock/plugins.h>

wpd_plugin_registry *wpd_registry_new(void);
void wpd_registry_add_dir(wpd_plugin_registry *reg, const char *dir);
void wpd_registry_accept(wpd_plugin_registry *reg, const char *path, void *handle,
                         const wpd_transport_plugin *plugin);
void wpd_registry_refuse(wpd_plugin_registry *reg, const char *path, const char *reason);

/* Why a file or directory (path, stat'ed into st) is not trusted, or NULL:
 * owned by neither root nor the effective user, or writable by group or
 * others. malloc'd, e.g. "/p/x.so is writable by others (mode 0757; ...)". */
char *wpd_plugin_untrusted(const char *path, const struct stat *st);
/* The same for a directory by name (also when it cannot be stat'ed). */
char *wpd_plugin_dir_untrusted(const char *dir);
/* The directory part of path (malloc'd). */
char *wpd_plugin_dir_of(const char *path);
/* When path is a symlink: the directory holding the file it resolves to
 * (malloc'd); NULL otherwise. */
char *wpd_plugin_link_dir(const char *path);
/* path as dlopen() must get it: with a slash (malloc'd). */
char *wpd_plugin_path_for_dlopen(const char *path);

/* The descriptor rules, one item at a time, in the loader's order (its
 * refusal is the first failed item's detail); fields past a wrong major
 * version or a too small descriptor are not read (skipped items). The
 * duplicate-scheme rule needs a registry and is not among them. Returns
 * the number of failed items. */
size_t wpd_descriptor_items(const wpd_transport_plugin *p, wpd_plugin_check_fn cb, void *arg);

/* ---- elfsyms.c: the exported dynamic symbols of a shared object, read
 * from its bytes (the .dynsym section and its string table), for the
 * conformance check. Pure: no I/O, every offset bounds-checked. ---- */

/* Called once per exported symbol: name[0..len) (NUL-terminated in the
 * input; len may be 0 for an unnamed symbol). */
typedef void (*wpd_elf_sym_fn)(void *arg, const char *name, size_t len);

/* The exported dynamic symbols of the ELF shared object data[0..len): those
 * defined in it (not SHN_UNDEF), with global, weak or unique binding and
 * default or protected visibility. Only the native class and byte order
 * are understood (what dlopen() could load). Returns how many there are
 * (cb, when not NULL, sees each), or -1 with a message in err. */
long wpd_elf_exports(const unsigned char *data, size_t len, wpd_elf_sym_fn cb, void *arg, char *err,
                     size_t errlen);

#endif
