/* printable.c - text for a terminal: everything that a terminal would
 * interpret (control characters, escape sequences, C1 controls, bidi
 * overrides) and bytes that are not UTF-8 are written as visible escapes,
 * so that no workflow file, step name or engine answer can forge output
 * lines or rewrite the screen. */
#define _GNU_SOURCE /* vasprintf */
#include "printable.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    uint32_t cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static uint32_t utf8_decode(const unsigned char *p, size_t len)
{
    uint32_t cp = p[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

/* Code points a terminal acts on although they are not ASCII controls: C1
 * controls, and the bidirectional overrides and isolates that reorder what
 * is shown. */
static bool invisible_control(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of an SGR (colour) sequence ESC [ digits/';'/':' m at p, or 0. */
static size_t sgr_len(const unsigned char *p, size_t n)
{
    if (n < 3 || p[0] != 0x1b || p[1] != '[')
        return 0;
    for (size_t i = 2; i < n && i < 64; i++) {
        if (p[i] == 'm')
            return i + 1;
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == ';' || p[i] == ':'))
            return 0;
    }
    return 0;
}

/* Calls emit(piece, len, arg) for the printable form of s[0..n). */
static void render(const char *s, size_t n, bool keep_sgr,
                   void (*emit)(const char *, size_t, void *), void *arg)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[16];
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f)
            run++;
        if (run > i) {
            emit(s + i, run - i, arg);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        size_t l;
        if (keep_sgr && (l = sgr_len(p + i, n - i)) > 0) {
            emit(s + i, l, arg);
            i += l;
        } else if (c == '\t' && keep_sgr) {
            emit("\t", 1, arg);
            i++;
        } else if (c < 0x80) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (named)
                emit(named, 2, arg);
            else
                emit(esc, (size_t)snprintf(esc, sizeof esc, "\\x%02x", c), arg);
            i++;
        } else if ((l = utf8_seq_len(p + i, n - i)) > 0) {
            uint32_t cp = utf8_decode(p + i, l);
            if (invisible_control(cp))
                emit(esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp), arg);
            else
                emit(s + i, l, arg);
            i += l;
        } else {
            emit(esc, (size_t)snprintf(esc, sizeof esc, "\\x%02x", c), arg);
            i++;
        }
    }
}

static void emit_file(const char *piece, size_t len, void *arg)
{
    fwrite(piece, 1, len, (FILE *)arg);
}

void put_printable(FILE *out, const char *s, size_t n, bool keep_sgr)
{
    render(s, n, keep_sgr, emit_file, out);
}

void fputs_printable(const char *s, FILE *out)
{
    if (s)
        render(s, strlen(s), false, emit_file, out);
}

void vfprintf_printable(FILE *out, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    fputs_printable(s ? s : fmt, out);
    free(s);
}

static void count_width(const char *piece, size_t len, void *arg)
{
    size_t *w = arg;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)piece[i] & 0xC0) != 0x80)
            (*w)++;
}

size_t printable_width(const char *s)
{
    size_t w = 0;
    if (s)
        render(s, strlen(s), false, count_width, &w);
    return w;
}
