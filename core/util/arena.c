/* arena.c - bump allocator made of a linked list of blocks. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define ARENA_BLOCK 8192

struct block {
    struct block *next;
    size_t used, size;
    _Alignas(16) unsigned char mem[];
};

struct wpd_arena {
    struct block *head;
};

wpd_arena *wpd_arena_new(void)
{
    return wpd_xcalloc(1, sizeof(wpd_arena));
}

void wpd_arena_free(wpd_arena *a)
{
    if (!a)
        return;
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void wpd_arena_wipe_free(wpd_arena *a)
{
    if (!a)
        return;
    for (struct block *b = a->head; b; b = b->next)
        explicit_bzero(b->mem, b->used);
    wpd_arena_free(a);
}

void *wpd_arena_alloc(wpd_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!n)
        n = 16;
    struct block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = wpd_xmalloc(sizeof(struct block) + size);
        b->used = 0;
        b->size = size;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->mem + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *wpd_arena_strndup(wpd_arena *a, const char *s, size_t n)
{
    char *p = wpd_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *wpd_arena_strdup(wpd_arena *a, const char *s)
{
    return wpd_arena_strndup(a, s, strlen(s));
}

char *wpd_arena_printf(wpd_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = wpd_arena_alloc(a, n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
