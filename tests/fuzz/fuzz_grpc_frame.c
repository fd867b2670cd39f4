/* fuzz_grpc_frame.c - the pure gRPC layer (core/grpc/frame.c) on arbitrary
 * bytes: the response deframer fed in arbitrary splits with a small limit,
 * grpc-message decoding and WOODPECKER_SERVER target parsing.
 *
 * Input: [limit][why length][chunk sizes][stream]. limit: the message
 * limit (byte % 64, or 64 KiB when the byte is 0xff). The stream is the
 * response body for the deframer; the whole input, as a C string, is the
 * grpc-message text and the target.
 * Asserts:
 *   - the deframer fed in chunks gives the same code, the same complete()
 *     answer and the same message as a plain reference reading of the
 *     whole stream, and so does feeding it all at once; it never keeps
 *     more memory than the limit calls for; a refusal has a reason, and
 *     leaves the deframer incomplete and refusing;
 *   - grpc-message decoding equals a reference decoder, is NUL-terminated
 *     within outlen, holds no control byte, and a truncated decoding is a
 *     prefix of the full one;
 *   - an accepted target is a unix socket with an absolute path of at most
 *     107 bytes and authority "localhost", or host:port with a port of
 *     1..65535 written in digits and a host without a space, control
 *     byte or any of / ? # @ \; a refused one has a reason. */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "grpc/frame.h"

/* ---------------------------------------------------------------- deframer */

typedef struct ref_result {
    int code; /* 0, WPD_GRPC_INTERNAL or WPD_GRPC_RESOURCE_EXHAUSTED */
    int complete;
    const uint8_t *msg;
    size_t msg_len;
} ref_result;

/* The reading the protocol describes, of the whole body at once. */
static ref_result ref_deframe(const uint8_t *s, size_t n, size_t limit)
{
    ref_result r = {0, 0, NULL, 0};
    size_t at = 0, messages = 0;
    int partial = 0;
    while (at < n) {
        if (n - at < 5) {
            partial = 1;
            break;
        }
        const uint8_t *h = s + at;
        if (h[0] != 0 || messages > 0) {
            r.code = WPD_GRPC_INTERNAL;
            return r;
        }
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (len > limit) {
            r.code = WPD_GRPC_RESOURCE_EXHAUSTED;
            return r;
        }
        messages++;
        at += 5;
        r.msg = s + at;
        if (n - at < len) {
            r.msg_len = n - at;
            partial = 1;
            break;
        }
        r.msg_len = len;
        at += len;
    }
    r.complete = messages == 1 && !partial;
    return r;
}

static void check_deframer(const uint8_t *s, size_t n, size_t limit, size_t whylen,
                           const fz_chunks *ch0)
{
    ref_result want = ref_deframe(s, n, limit);
    for (int pass = 0; pass < 2; pass++) {
        fz_chunks ch = *ch0;
        if (pass == 1)
            ch.n = 0; /* all at once */
        wpd_grpc_deframer d;
        wpd_grpc_deframer_init(&d, limit);
        char why[300];
        memset(why, 0, sizeof why);
        int code = 0;
        size_t at = 0;
        while (at < n && code == 0) {
            size_t k = fz_chunk(&ch, n - at);
            code = wpd_grpc_deframer_feed(&d, (const char *)s + at, k, why, whylen);
            at += k;
            /* memory follows the limit, not the announced lengths */
            FZ_ASSERT(d.msg.cap <= 2 * (limit + 1) || d.msg.cap <= 64);
        }
        FZ_ASSERT(code == want.code);
        if (code) {
            FZ_ASSERT(whylen < 2 || why[0] != '\0');
            FZ_ASSERT(whylen == 0 || strlen(why) < whylen);
            FZ_ASSERT(!wpd_grpc_deframer_complete(&d));
            /* fed on, it stays refused */
            char why2[300];
            FZ_ASSERT(wpd_grpc_deframer_feed(&d, "\0\0\0\0\1x", 6, why2, sizeof why2) == code);
            FZ_ASSERT(!wpd_grpc_deframer_complete(&d));
        } else {
            FZ_ASSERT(wpd_grpc_deframer_complete(&d) == (bool)want.complete);
            FZ_ASSERT(d.msg.len == want.msg_len);
            FZ_ASSERT(!d.msg.len || memcmp(d.msg.data, want.msg, d.msg.len) == 0);
            FZ_ASSERT(!d.msg.data || d.msg.data[d.msg.len] == '\0');
            FZ_ASSERT(d.n_messages <= 1);
        }
        wpd_grpc_deframer_free(&d);
    }

    /* a complete message frames back to the stream itself */
    if (want.complete) {
        wpd_buf b = WPD_BUF_INIT;
        wpd_grpc_frame(&b, want.msg, want.msg_len);
        FZ_ASSERT(b.len == n && memcmp(b.data, s, n) == 0);
        wpd_buf_free(&b);
    }
}

/* ---------------------------------------------------------------- grpc-message */

static int ref_hex(int c)
{
    static const char digits[] = "0123456789abcdef0123456789ABCDEF";
    const char *p = c ? strchr(digits, c) : NULL;
    return p ? (int)((p - digits) % 16) : -1;
}

/* The whole decoding, unbounded. */
static size_t ref_decode(const char *in, char *out)
{
    size_t o = 0;
    for (size_t i = 0; in[i]; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%' && ref_hex((unsigned char)in[i + 1]) >= 0 &&
            ref_hex((unsigned char)in[i + 2]) >= 0) {
            c = (unsigned char)(ref_hex((unsigned char)in[i + 1]) * 16 +
                                ref_hex((unsigned char)in[i + 2]));
            i += 2;
        }
        out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
    out[o] = '\0';
    return o;
}

static void check_decode(const char *in, size_t outlen_hint)
{
    size_t n = strlen(in);
    char *full = malloc(n + 1);
    char *got = malloc(n + 2);
    if (!full || !got)
        abort();
    size_t flen = ref_decode(in, full);
    FZ_ASSERT(flen <= n);

    /* room for everything */
    memset(got, 'Z', n + 2);
    wpd_grpc_decode_message(in, got, n + 1);
    FZ_ASSERT(strcmp(got, full) == 0);
    FZ_ASSERT(got[n + 1] == 'Z');
    for (size_t i = 0; i < flen; i++)
        FZ_ASSERT((unsigned char)got[i] >= 0x20 && got[i] != 0x7f);

    /* truncated: a prefix, within outlen */
    size_t outlen = 1 + outlen_hint % (n + 1);
    memset(got, 'Z', n + 2);
    wpd_grpc_decode_message(in, got, outlen);
    size_t glen = strnlen(got, outlen);
    FZ_ASSERT(glen < outlen);
    FZ_ASSERT(glen == (flen < outlen - 1 ? flen : outlen - 1));
    FZ_ASSERT(memcmp(got, full, glen) == 0);
    for (size_t i = outlen; i < n + 2; i++)
        FZ_ASSERT(got[i] == 'Z');
    free(full);
    free(got);
}

/* ---------------------------------------------------------------- target */

static void check_target(const char *in, size_t whylen)
{
    wpd_grpc_target t;
    char why[1200];
    memset(why, 0, sizeof why);
    int rc = wpd_grpc_target_parse(in, &t, why, whylen);
    FZ_ASSERT(rc == 0 || rc == -1);
    if (rc != 0) {
        FZ_ASSERT(whylen < 2 || why[0] != '\0');
        FZ_ASSERT(whylen == 0 || strlen(why) < whylen);
        return;
    }
    for (const char *p = in; *p; p++)
        FZ_ASSERT((unsigned char)*p > ' ' && *p != 0x7f);
    if (t.unix_socket) {
        FZ_ASSERT(strncmp(in, "unix:", 5) == 0);
        FZ_ASSERT(t.unix_path[0] == '/');
        size_t pl = strlen(t.unix_path);
        FZ_ASSERT(pl <= 107);
        /* the path given ends the absolute one */
        const char *given = strncmp(in, "unix://", 7) == 0 ? in + 7 : in + 5;
        size_t gl = strlen(given);
        FZ_ASSERT(gl >= 1 && gl <= pl && strcmp(t.unix_path + pl - gl, given) == 0);
        FZ_ASSERT(strcmp(t.authority, "localhost") == 0);
        return;
    }
    FZ_ASSERT(t.unix_path[0] == '\0');
    const char *hp = strncmp(in, "dns:///", 7) == 0 ? in + 7 : in;
    FZ_ASSERT(hp == in + 7 || !strstr(in, "://"));
    size_t al = strlen(t.authority);
    FZ_ASSERT(al > 0 && al < sizeof t.authority);
    /* the authority is the target's host:port, ":port" on the local host */
    if (hp[0] == ':')
        FZ_ASSERT(strncmp(t.authority, "localhost", 9) == 0 && strcmp(t.authority + 9, hp) == 0);
    else
        FZ_ASSERT(strcmp(t.authority, hp) == 0);
    const char *colon = strrchr(t.authority, ':');
    FZ_ASSERT(colon && isdigit((unsigned char)colon[1]));
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        FZ_ASSERT(isdigit((unsigned char)*p));
        if (port <= 65535)
            port = port * 10 + (*p - '0');
    }
    FZ_ASSERT(port >= 1 && port <= 65535);
    const char *host = t.authority;
    size_t hl = (size_t)(colon - host);
    FZ_ASSERT(hl > 0);
    if (host[0] == '[') {
        FZ_ASSERT(hl >= 3 && host[hl - 1] == ']');
        host++;
        hl -= 2;
    } else {
        FZ_ASSERT(!memchr(host, ':', hl)); /* a bare IPv6 address is refused */
    }
    for (size_t i = 0; i < hl; i++)
        FZ_ASSERT(!strchr("/?#@\\[]", host[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    unsigned lb = fz_byte(&in);
    size_t limit = lb == 0xff ? 65536 : lb % 64;
    size_t whylen = fz_byte(&in) % 300;
    fz_chunks ch;
    fz_chunks_read(&in, &ch);
    check_deframer(in.p, in.n, limit, whylen, &ch);

    char *s = fz_strndup(data, size);
    check_decode(s, lb * 7 + whylen);
    check_target(s, whylen);
    if (size > 2) {
        /* the same text without the control bytes in front */
        check_decode(s + 2, lb);
        check_target(s + 2, 1200);
    }
    free(s);
    return 0;
}
