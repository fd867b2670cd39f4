/* registry_auth.c - the X-Registry-Auth header value (spec 2.3.4, 7.3):
 * base64url with padding of the compact JSON credentials, escaped the way
 * Go's encoder does. */
#include "engine/registry_auth.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/buf.h"

/* ---- registry auth --------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Same acceptance as Go's utf8.DecodeRune (no overlongs, no surrogates,
 * nothing above U+10FFFF). Sets *cp to the code point. */
static size_t utf8_valid(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return need;
}

/* A JSON string literal exactly as Go's encoding/json writes it (with its
 * default HTML escaping). */
static void go_json_string(wpd_buf *out, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    wpd_buf_putc(out, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            switch (c) {
            case '"': wpd_buf_puts(out, "\\\""); break;
            case '\\': wpd_buf_puts(out, "\\\\"); break;
            case '\b': wpd_buf_puts(out, "\\b"); break;
            case '\f': wpd_buf_puts(out, "\\f"); break;
            case '\n': wpd_buf_puts(out, "\\n"); break;
            case '\r': wpd_buf_puts(out, "\\r"); break;
            case '\t': wpd_buf_puts(out, "\\t"); break;
            default:
                if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                    char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
                    wpd_buf_puts(out, u);
                } else {
                    wpd_buf_putc(out, (char)c);
                }
            }
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t len = utf8_valid(s + i, n - i, &cp);
        if (len == 0) {
            wpd_buf_puts(out, "\\ufffd");
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            wpd_buf_printf(out, "\\u%04x", (unsigned)cp);
            i += len;
        } else {
            wpd_buf_append(out, s + i, len);
            i += len;
        }
    }
    wpd_buf_putc(out, '"');
}

char *wpd_registry_auth_encode(const char *user, const char *password, const char *serveraddress)
{
    const char *keys[3] = {"username", "password", "serveraddress"};
    const char *vals[3] = {user, password, serveraddress};
    wpd_buf json = WPD_BUF_INIT;
    bool first = true;
    wpd_buf_putc(&json, '{');
    for (int i = 0; i < 3; i++) {
        if (!vals[i] || !vals[i][0])
            continue;
        if (!first)
            wpd_buf_putc(&json, ',');
        first = false;
        go_json_string(&json, keys[i]);
        wpd_buf_putc(&json, ':');
        go_json_string(&json, vals[i]);
    }
    wpd_buf_putc(&json, '}');
    char *r = wpd_base64url_encode(json.data, json.len);
    wpd_buf_free(&json);
    return r;
}

char *wpd_registry_auth(const char *user, const char *password, const char *serveraddress)
{
    if (!user || !user[0] || !password || !password[0])
        return NULL;
    return wpd_registry_auth_encode(user, password, serveraddress);
}
