/* base64.h - RFC 4648 base64 encoding (standard and URL alphabets) and a
 * lenient decoder. Used for CI_SCRIPT and the X-Registry-Auth header. */
#ifndef WPDOCK_BASE64_H
#define WPDOCK_BASE64_H

#include <stddef.h>

#include "util/buf.h"

/* Standard alphabet (+ /), '=' padding, no line breaks. malloc'd, never NULL. */
char *wpd_base64_encode(const void *data, size_t len);
/* URL alphabet (- _) WITH '=' padding, as Docker expects in X-Registry-Auth.
 * malloc'd, never NULL. */
char *wpd_base64url_encode(const void *data, size_t len);
/* Decode in[0..len) and append the bytes to *out. Accepts both alphabets
 * (even mixed) and optional '=' padding; when padding is present it must be
 * complete and only at the end. Whitespace is not allowed. Unused trailing
 * bits are ignored. Returns 0, or -1 on invalid input (out left unchanged). */
int wpd_base64_decode(const char *in, size_t len, wpd_buf *out);

#endif
