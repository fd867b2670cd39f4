/* fuzz_pull.c - the image pull progress stream (core/engine/images.c):
 * newline-delimited JSON messages, each read by wpd_pull_line_parse, the
 * way the pull call splits its body.
 *
 * Asserts: each line is either ignored (0), progress (1: layer id and
 * status set, as strings of at most the line's length) or an error
 * message (2: set, malloc'd); ignored lines leave the result untouched. */
#include <string.h>

#include "fuzz.h"
#include "engine/images.h"

static void one_line(const char *line, size_t len)
{
    wpd_arena *a = wpd_arena_new();
    wpd_pull_progress p;
    memset(&p, 0xa5, sizeof p);
    wpd_pull_progress untouched = p;
    char *error = NULL;
    int kind = wpd_pull_line_parse(line, len, a, &p, &error);
    switch (kind) {
    case 0: FZ_ASSERT(!error && memcmp(&p, &untouched, sizeof p) == 0); break;
    case 1:
        FZ_ASSERT(!error && p.id && p.status);
        FZ_ASSERT(strlen(p.id) <= len && strlen(p.status) <= len);
        break;
    case 2:
        FZ_ASSERT(error && strlen(error) <= len);
        free(error);
        break;
    default: FZ_ASSERT(!"unexpected result");
    }
    wpd_arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (s[i] == '\n') {
            one_line(s + start, i - start);
            start = i + 1;
        }
    }
    if (start < size) /* the last line had no newline */
        one_line(s + start, size - start);
    return 0;
}
