/* fuzz_elf_exports.c - the ELF dynamic symbol reader of the plugin
 * conformance check (wpd_elf_exports, plugins/elfsyms.c), which reads a
 * plugin file's bytes from disk. Seeds: two tiny stripped shared objects
 * (tests/fuzz/corpus/elf_exports).
 *
 * Asserts: a refusal has a message; otherwise the count equals the number
 * of callbacks, and every name handed out lies inside the input. */
#include <string.h>

#include "registry.h"
#include "fuzz.h"

struct seen {
    const uint8_t *data;
    size_t size;
    long n;
};

static void on_sym(void *arg, const char *name, size_t len)
{
    struct seen *s = arg;
    const uint8_t *p = (const uint8_t *)name;
    FZ_ASSERT(p >= s->data && p + len < s->data + s->size);
    FZ_ASSERT(memchr(name, '\0', len) == NULL && p[len] == '\0');
    s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {data, size, 0};
    char err[256];
    memset(err, 0, sizeof err);
    long n = wpd_elf_exports(data, size, on_sym, &s, err, sizeof err);
    if (n < 0) {
        FZ_ASSERT(n == -1 && err[0] && memchr(err, '\0', sizeof err));
        return 0;
    }
    FZ_ASSERT(n == s.n);
    return 0;
}
