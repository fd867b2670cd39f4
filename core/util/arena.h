/* arena.h - bump allocator: everything parsed from one workflow lives in one
 * arena and is freed at once with wpd_arena_free. */
#ifndef WPDOCK_ARENA_H
#define WPDOCK_ARENA_H

#include <stddef.h>

typedef struct wpd_arena wpd_arena;

wpd_arena *wpd_arena_new(void);
void wpd_arena_free(wpd_arena *a);
/* The same, zeroing everything first (the arena held secrets). */
void wpd_arena_wipe_free(wpd_arena *a);
/* Zeroed, 16-byte aligned memory owned by the arena. */
void *wpd_arena_alloc(wpd_arena *a, size_t n);
char *wpd_arena_strndup(wpd_arena *a, const char *s, size_t n);
char *wpd_arena_strdup(wpd_arena *a, const char *s);
char *wpd_arena_printf(wpd_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
