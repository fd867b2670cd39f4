/* fuzz.h - small helpers shared by the libFuzzer targets of tests/fuzz:
 * reading control bytes off the front of an input (the data-splitting
 * idiom), and an assertion that stops the fuzzer with a message. */
#ifndef WPDOCK_FUZZ_H
#define WPDOCK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the target checks: a violation aborts, which libFuzzer
 * reports as a crash and saves the input. */
#define FZ_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input, consumed from the front. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

/* Next byte, 0 when the input is used up. */
static inline unsigned fz_byte(fz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* Up to want bytes; *got says how many there were. */
static inline const uint8_t *fz_take(fz_in *in, size_t want, size_t *got)
{
    const uint8_t *p = in->p;
    *got = want < in->n ? want : in->n;
    in->p += *got;
    in->n -= *got;
    return p;
}

/* A NUL-terminated malloc'd copy of p[0..n) (NUL bytes inside stay, so
 * a C-string reader sees the text up to the first one). */
static inline char *fz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    for (size_t i = 0; i < n; i++)
        s[i] = (char)p[i];
    s[n] = '\0';
    return s;
}

/* Chunk sizes for feeding a stream: up to 8 sizes of 1..256 bytes read
 * from the input (a count byte, then one byte each), cycled through;
 * none means the whole stream at once. */
typedef struct fz_chunks {
    size_t size[8];
    size_t n, next;
} fz_chunks;

static inline void fz_chunks_read(fz_in *in, fz_chunks *c)
{
    c->n = fz_byte(in) % 9;
    c->next = 0;
    for (size_t i = 0; i < c->n; i++)
        c->size[i] = 1 + fz_byte(in);
}

/* Length of the next chunk of a stream with left bytes to go. */
static inline size_t fz_chunk(fz_chunks *c, size_t left)
{
    if (!c->n)
        return left;
    size_t k = c->size[c->next++ % c->n];
    return k < left ? k : left;
}

#endif
