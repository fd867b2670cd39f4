/* printable.h - writing untrusted text (names from workflow files, engine
 * messages, container output) to a terminal without letting it control
 * the terminal. Control characters become \n, \r, \t or \xNN, C1 controls
 * and bidi overrides \uNNNN, bytes that are not UTF-8 \xNN. */
#ifndef WPDOCK_CLI_PRINTABLE_H
#define WPDOCK_CLI_PRINTABLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Write s[0..n) escaped. keep_sgr: colour sequences (ESC [ ... m) and tabs
 * pass through, for container output that colours its own lines. */
void put_printable(FILE *out, const char *s, size_t n, bool keep_sgr);
/* fputs of a NUL-terminated string, escaped (NULL writes nothing). */
void fputs_printable(const char *s, FILE *out);
/* vfprintf, the formatted text escaped. */
void vfprintf_printable(FILE *out, const char *fmt, va_list ap);
/* Columns the escaped form of s takes (one per code point). */
size_t printable_width(const char *s);
/* Length of the valid UTF-8 sequence at p (n bytes available), 0 if none. */
size_t utf8_seq_len(const unsigned char *p, size_t n);

#endif
