/* elfsyms.c - list the exported dynamic symbols of a shared object from its
 * section headers: the SHT_DYNSYM section and the string table it links to.
 * The input is foreign bytes: every header is copied out (no alignment
 * assumed) and every offset and size is checked against the input. */
#include "registry.h"

#include <elf.h>
#include <endian.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif
#if __ELF_NATIVE_CLASS == 64
#define NATIVE_CLASS ELFCLASS64
#else
#define NATIVE_CLASS ELFCLASS32
#endif

/* [off, off + size) lies inside [0, len) */
static int in_bounds(size_t len, uint64_t off, uint64_t size)
{
    return off <= len && size <= len - off;
}

static long fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

long wpd_elf_exports(const unsigned char *data, size_t len, wpd_elf_sym_fn cb, void *arg, char *err,
                     size_t errlen)
{
    ElfW(Ehdr) eh;
    if (len < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "not an ELF file (no \\x7fELF magic)");
    if (data[EI_CLASS] != NATIVE_CLASS) {
        snprintf(err, errlen, "ELF class %s, this wpdock is %d-bit",
                 data[EI_CLASS] == ELFCLASS32   ? "32-bit"
                 : data[EI_CLASS] == ELFCLASS64 ? "64-bit"
                                                : "unknown",
                 __ELF_NATIVE_CLASS);
        return -1;
    }
    if (data[EI_DATA] != NATIVE_DATA)
        return fail(err, errlen, "ELF byte order differs from this machine's");
    if (len < sizeof eh)
        return fail(err, errlen, "ELF header cut off");
    memcpy(&eh, data, sizeof eh);
    if (eh.e_type != ET_DYN) {
        snprintf(err, errlen, "ELF type %u, not a shared object (ET_DYN)", (unsigned)eh.e_type);
        return -1;
    }
    if (eh.e_shoff == 0)
        return fail(err, errlen, "no section headers: the dynamic symbols cannot be listed");
    if (eh.e_shentsize != sizeof(ElfW(Shdr)))
        return fail(err, errlen, "section header entries have an unexpected size");
    if (!in_bounds(len, eh.e_shoff, sizeof(ElfW(Shdr))))
        return fail(err, errlen, "section headers lie outside the file");
    uint64_t shnum = eh.e_shnum;
    if (shnum == 0) { /* more than SHN_LORESERVE sections: the count is in section 0 */
        ElfW(Shdr) s0;
        memcpy(&s0, data + eh.e_shoff, sizeof s0);
        shnum = s0.sh_size;
    }
    if (shnum == 0 || shnum > (len - eh.e_shoff) / sizeof(ElfW(Shdr)))
        return fail(err, errlen, "section headers lie outside the file");

    long count = 0;
    int found = 0;
    for (uint64_t i = 0; i < shnum; i++) {
        ElfW(Shdr) sh;
        memcpy(&sh, data + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        found = 1;
        if (sh.sh_entsize != sizeof(ElfW(Sym)) || !in_bounds(len, sh.sh_offset, sh.sh_size))
            return fail(err, errlen, "the dynamic symbol table (.dynsym) is malformed");
        if (sh.sh_link == 0 || sh.sh_link >= shnum)
            return fail(err, errlen, "the dynamic symbol table links to no string table");
        ElfW(Shdr) st;
        memcpy(&st, data + eh.e_shoff + (uint64_t)sh.sh_link * sizeof st, sizeof st);
        if (st.sh_type != SHT_STRTAB || !in_bounds(len, st.sh_offset, st.sh_size))
            return fail(err, errlen, "the dynamic string table (.dynstr) is malformed");
        const char *strtab = (const char *)data + st.sh_offset;
        uint64_t nsym = sh.sh_size / sizeof(ElfW(Sym));
        for (uint64_t k = 1; k < nsym; k++) { /* entry 0 is the null symbol */
            ElfW(Sym) sym;
            memcpy(&sym, data + sh.sh_offset + k * sizeof sym, sizeof sym);
            /* the ELF32_ and ELF64_ forms of these are the same */
            unsigned bind = ELF64_ST_BIND(sym.st_info), type = ELF64_ST_TYPE(sym.st_info);
            unsigned vis = ELF64_ST_VISIBILITY(sym.st_other);
            if (sym.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE)
                continue;
            if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
                continue;
            if (vis != STV_DEFAULT && vis != STV_PROTECTED)
                continue;
            if (sym.st_name >= st.sh_size)
                return fail(err, errlen, "a dynamic symbol's name lies outside .dynstr");
            const char *name = strtab + sym.st_name;
            const char *end = memchr(name, '\0', st.sh_size - sym.st_name);
            if (!end)
                return fail(err, errlen, "a dynamic symbol's name is not terminated");
            count++;
            if (cb)
                cb(arg, name, (size_t)(end - name));
        }
    }
    if (!found)
        return 0; /* no dynamic symbol table: nothing is exported */
    return count;
}
