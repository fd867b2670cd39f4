/* elfsyms.h - the exported dynamic symbols of a shared object, read from
 * its bytes (the .dynsym section and its string table), for the plugin
 * conformance check. Pure: no I/O, every offset bounds-checked. */
#ifndef WPDOCK_ELFSYMS_H
#define WPDOCK_ELFSYMS_H

#include <stddef.h>

/* Called once per exported symbol: name[0..len) (not NUL-terminated in
 * the input; len may be 0 for an unnamed symbol). */
typedef void (*wpd_elf_sym_fn)(void *arg, const char *name, size_t len);

/* The exported dynamic symbols of the ELF shared object data[0..len): those
 * defined in it (not SHN_UNDEF), with global, weak or unique binding and
 * default or protected visibility. Only the native class and byte order
 * are understood (what dlopen() could load). Returns how many there are
 * (cb, when not NULL, sees each), or -1 with a message in err. */
long wpd_elf_exports(const unsigned char *data, size_t len, wpd_elf_sym_fn cb, void *arg, char *err,
                     size_t errlen);

#endif
