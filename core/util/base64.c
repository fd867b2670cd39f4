/* base64.c - RFC 4648 base64 encoding and decoding. */
#include "util/base64.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const unsigned char *p, size_t len, const char *alpha)
{
    size_t outlen = (len + 2) / 3 * 4;
    char *out = wpd_xmalloc(outlen + 1);
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        *o++ = alpha[v >> 6 & 63];
        *o++ = alpha[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)p[i] << 16;
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (len - i == 2) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
        *o++ = alpha[v >> 18 & 63];
        *o++ = alpha[v >> 12 & 63];
        *o++ = alpha[v >> 6 & 63];
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

char *wpd_base64_encode(const void *data, size_t len)
{
    return encode(data, len, std_alphabet);
}

char *wpd_base64url_encode(const void *data, size_t len)
{
    return encode(data, len, url_alphabet);
}

/* Value of one base64 character in either alphabet, or -1. */
static int digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int wpd_base64_decode(const char *in, size_t len, wpd_buf *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = len;
    size_t pad = 0;
    while (n > 0 && p[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (pad > 0 && len % 4 != 0)
        return -1; /* padding present but incomplete or misplaced */
    if (n % 4 == 1)
        return -1;
    if (pad > 0 && (n % 4) + pad != 4)
        return -1; /* e.g. "AAAA==" */

    size_t start = out->len;
    wpd_buf_reserve(out, n / 4 * 3 + 2);
    unsigned char *o = (unsigned char *)out->data + out->len;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit(p[i]);
        if (d < 0) {
            out->len = start;
            out->data[start] = '\0';
            return -1;
        }
        v = (v << 6 | (unsigned)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(v >> bits);
        }
    }
    out->len = (size_t)((char *)o - out->data);
    out->data[out->len] = '\0';
    return 0;
}
