/* fuzz_credentials.c - registry credentials from foreign text
 * (core/engine/credentials.c, credentials_helper.c): a Docker config.json,
 * a credential helper's answer, an `auth` value, and image references and
 * config keys naming registries.
 *
 * Input: [selector][...]. Selector 0: [host index][config.json] through
 * wpd_cred_select; 1: [exit code][stderr length][stderr][stdout] through
 * wpd_cred_helper_answer; 2: an `auth` value for wpd_cred_decode_auth and
 * the same text as an image reference (wpd_cred_registry_host) and as a
 * config key (wpd_cred_key_matches).
 *
 * Asserts: a config.json is refused with WPD_ERR_INPUT naming the file, or
 * gives one consistent source (a helper with a valid name, a non-empty
 * token, or a non-empty user and password); a header made from a source
 * decodes back (base64url of JSON with the same user, when that is valid
 * UTF-8); a helper's failure
 * is a WPD_ERR_IO error starting with its label that contains neither the
 * caller's password nor the Secret of the helper's own JSON answer; a
 * decoded `auth` has both parts non-empty and no ':' in the user, a
 * refused one an error that does not quote it; a registry host is
 * non-empty and has no '/'. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "fuzz.h"
#include "engine/credentials.h"
#include "util/base64.h"
#include "util/json.h"

static const char *const hosts[] = {"docker.io", "ghcr.io", "localhost:5000", "127.0.0.1:5000",
                                    "Registry.Example.COM"};

/* Valid UTF-8 (what survives a JSON encoder unchanged; the header writer,
 * like Go's, turns invalid bytes into U+FFFD)? Overlongs and surrogates
 * count as invalid. */
static int utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        size_t need = *s < 0x80                  ? 0
                      : *s >= 0xC2 && *s <= 0xDF ? 1
                      : *s >= 0xE0 && *s <= 0xEF ? 2
                      : *s >= 0xF0 && *s <= 0xF4 ? 3
                                                 : 9;
        if (need == 9)
            return 0;
        unsigned c0 = *s++;
        for (size_t i = 0; i < need; i++, s++)
            if ((*s & 0xC0) != 0x80)
                return 0;
        if ((c0 == 0xE0 && s[-2] < 0xA0) || (c0 == 0xED && s[-2] >= 0xA0) ||
            (c0 == 0xF0 && s[-3] < 0x90) || (c0 == 0xF4 && s[-3] >= 0x90))
            return 0;
    }
    return 1;
}

/* base64url header value -> its JSON, "username" or "identitytoken" */
static void check_header(const char *hdr, const char *field, const char *want)
{
    FZ_ASSERT(hdr);
    wpd_buf raw = WPD_BUF_INIT;
    FZ_ASSERT(wpd_base64_decode(hdr, strlen(hdr), &raw) == 0);
    wpd_json j;
    FZ_ASSERT(wpd_json_parse(&j, raw.data, raw.len, NULL) == 0);
    if (want && utf8_ok(want)) {
        char *got = wpd_json_get_str(&j, 0, field);
        FZ_ASSERT(got && strcmp(got, want) == 0);
        free(got);
    }
    wpd_json_free(&j);
    wpd_buf_free(&raw);
}

static void config(fz_in *in)
{
    const char *host = hosts[fz_byte(in) % (sizeof hosts / sizeof hosts[0])];
    wpd_cred_source src;
    wpd_error err;
    if (wpd_cred_select("fuzz/config.json", (const char *)in->p, in->n, host, &src, &err) != 0) {
        FZ_ASSERT(err.kind == WPD_ERR_INPUT);
        FZ_ASSERT(strncmp(err.message, "fuzz/config.json", 16) == 0);
        FZ_ASSERT(src.kind == WPD_CRED_NONE && !src.helper && !src.username && !src.token);
        return;
    }
    char *url = wpd_cred_server_url(host);
    char *hdr = NULL;
    switch (src.kind) {
    case WPD_CRED_NONE: FZ_ASSERT(!src.helper && !src.username && !src.token); break;
    case WPD_CRED_HELPER:
        FZ_ASSERT(src.helper && src.helper[0] && src.where);
        FZ_ASSERT(strspn(src.helper, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-_.") == strlen(src.helper));
        break;
    case WPD_CRED_BASIC:
        FZ_ASSERT(src.username && src.username[0] && src.password && src.password[0]);
        FZ_ASSERT(src.where);
        hdr = wpd_cred_header_basic(src.username, src.password, url);
        check_header(hdr, "username", src.username);
        break;
    case WPD_CRED_TOKEN:
        FZ_ASSERT(src.token && src.token[0] && src.where);
        hdr = wpd_cred_header_token(src.token, url);
        check_header(hdr, "identitytoken", src.token);
        break;
    }
    free(hdr);
    free(url);
    wpd_cred_source_free(&src);
}

#define LABEL "docker-credential-fuzz (credential helper for ghcr.io configured in c.json)"
#define PASSWORD "hunter2hunter2"

/* A secret we can look for in a message: long enough not to occur by
 * chance in the fixed text, and without the bytes the quoting rewrites. */
static int searchable(const char *s)
{
    if (strlen(s) < 6)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '*')
            return 0;
    return !strstr(LABEL, s) && !strstr("exited with status killed by signal answered", s);
}

static void helper(fz_in *in)
{
    static const int codes[] = {0, 1, 2, -1};
    int code = codes[fz_byte(in) % 4];
    size_t elen;
    const uint8_t *e = fz_take(in, fz_byte(in), &elen);
    wpd_cred_helper_run run = {.exit_code = code,
                               .term_signal = code < 0 ? 9 : 0,
                               .out = (const char *)in->p,
                               .out_len = in->n,
                               .err = (const char *)e,
                               .err_len = elen};
    const char *secrets[] = {PASSWORD, NULL};
    char *hdr = NULL;
    wpd_error err;
    int rc = wpd_cred_helper_answer(LABEL, "ghcr.io", &run, secrets, &hdr, &err);
    if (rc == 0) {
        if (hdr)
            check_header(hdr, "serveraddress", "ghcr.io");
        free(hdr);
        return;
    }
    FZ_ASSERT(rc == -1 && !hdr && err.kind == WPD_ERR_IO);
    FZ_ASSERT(strncmp(err.message, LABEL, strlen(LABEL)) == 0);
    FZ_ASSERT(!strstr(err.message, PASSWORD));
    wpd_json j;
    if (wpd_json_parse(&j, run.out, run.out_len, NULL) == 0) {
        char *secret = wpd_json_get_str(&j, 0, "Secret");
        if (secret && searchable(secret))
            FZ_ASSERT(!strstr(err.message, secret));
        free(secret);
    }
    wpd_json_free(&j);
}

static void auth_value(fz_in *in)
{
    char *s = fz_strndup(in->p, in->n);
    char *user, *pass;
    wpd_error err;
    if (wpd_cred_decode_auth(s, &user, &pass, &err) == 0) {
        FZ_ASSERT(user && user[0] && !strchr(user, ':') && pass && pass[0]);
        free(user);
        free(pass);
    } else {
        FZ_ASSERT(!user && !pass && err.kind == WPD_ERR_INPUT);
        /* one of two fixed texts: the value is never quoted */
        FZ_ASSERT(!strcmp(err.message, "not valid base64") ||
                  !strncmp(err.message, "expected base64 of", 18));
    }
    char *host = wpd_cred_registry_host(s, &err);
    if (host) {
        FZ_ASSERT(host[0] && !strchr(host, '/'));
        char *url = wpd_cred_server_url(host);
        FZ_ASSERT(url);
        free(url);
        free(host);
    } else {
        FZ_ASSERT(err.kind == WPD_ERR_INPUT);
    }
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        (void)wpd_cred_key_matches(s, hosts[i]);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    switch (fz_byte(&in) % 3) {
    case 0: config(&in); break;
    case 1: helper(&in); break;
    default: auth_value(&in); break;
    }
    return 0;
}
