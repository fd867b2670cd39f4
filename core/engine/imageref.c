/* imageref.c - image references -> pull call parameters, normalised like
 * the Docker client (spec 2.3.4). */
#include "engine/imageref.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* ---- image references ------------------------------------------------ */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
    return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

/* [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)* over s[0..n). */
static bool valid_path_component(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t run = i;
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == run)
            return false;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

/* Path components separated by '/'. */
static bool valid_remote_name(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (!valid_path_component(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* domain-name components ([a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])
 * joined by '.', or a bracketed IPv6 address; then optionally :port. */
static bool valid_domain(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '[') {
        i = 1;
        while (i < n && (is_hex(s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i >= n || s[i] != ']')
            return false;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i == n)
        return true;
    if (s[i] != ':')
        return false;
    i++;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128 || !is_word((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_word((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* Digest syntax plus the algorithm check of the digest package. Returns
 * NULL when fine, else a reason. */
static const char *digest_problem(const char *s)
{
    /* algorithm: [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)* */
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return "invalid checksum digest format";
    for (const char *p = s; p < colon;) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return "invalid checksum digest format";
        p++;
        while (p < colon && is_alnum(*p))
            p++;
        if (p < colon) {
            if (*p != '-' && *p != '_' && *p != '+' && *p != '.')
                return "invalid checksum digest format";
            p++;
            if (p == colon)
                return "invalid checksum digest format";
        }
    }
    const char *hex = colon + 1;
    size_t hn = strlen(hex);
    if (hn < 32)
        return "invalid checksum digest format";
    for (size_t i = 0; i < hn; i++)
        if (!is_hex(hex[i]))
            return "invalid checksum digest format";
    size_t alen = (size_t)(colon - s), want;
    if (alen == 6 && memcmp(s, "sha256", 6) == 0)
        want = 64;
    else if (alen == 6 && memcmp(s, "sha384", 6) == 0)
        want = 96;
    else if (alen == 6 && memcmp(s, "sha512", 6) == 0)
        want = 128;
    else
        return "unsupported digest algorithm";
    if (hn != want)
        return "invalid checksum digest length";
    for (size_t i = 0; i < hn; i++)
        if (!is_lower_hex(hex[i]))
            return "invalid checksum digest format";
    return NULL;
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

void wpd_image_ref_free(wpd_image_ref *r)
{
    if (!r)
        return;
    free(r->from_image);
    free(r->tag);
    free(r->registry);
    r->from_image = r->tag = r->registry = NULL;
}

int wpd_image_ref_parse(const char *image, wpd_image_ref *out, wpd_error *err)
{
    memset(out, 0, sizeof *out);
    const char *img = image ? image : "";
    size_t n = strlen(img);
    const char *why = NULL;
    char *domain = NULL, *rem = NULL;

    if (n == 0) {
        why = "repository name must have at least one component";
        goto fail;
    }
    if (n == 64) {
        bool all_hex = true;
        for (size_t i = 0; i < n; i++)
            all_hex = all_hex && is_lower_hex(img[i]);
        if (all_hex) {
            why = "cannot specify 64-byte hexadecimal strings";
            goto fail;
        }
    }

    /* Split off the registry domain the way Docker does. */
    const char *slash = strchr(img, '/');
    if (!slash) {
        domain = wpd_xstrdup("docker.io");
        rem = wpd_xstrdup(img);
    } else {
        size_t fl = (size_t)(slash - img);
        bool hostish = memchr(img, '.', fl) || memchr(img, ':', fl) ||
                       (fl == 9 && memcmp(img, "localhost", 9) == 0) || has_upper(img, fl);
        if (hostish) {
            domain = wpd_xstrndup(img, fl);
            rem = wpd_xstrdup(slash + 1);
        } else {
            domain = wpd_xstrdup("docker.io");
            rem = wpd_xstrdup(img);
        }
    }
    if (strcmp(domain, "index.docker.io") == 0) {
        free(domain);
        domain = wpd_xstrdup("docker.io");
    }
    if (strcmp(domain, "docker.io") == 0 && !strchr(rem, '/')) {
        char *t = wpd_xasprintf("library/%s", rem);
        free(rem);
        rem = t;
    }

    /* Repository name (up to the first ':') must be lower case. */
    const char *tagsep = strchr(rem, ':');
    size_t rn = tagsep ? (size_t)(tagsep - rem) : strlen(rem);
    if (has_upper(rem, rn)) {
        why = "repository name must be lowercase";
        goto fail;
    }

    /* rem = path[:tag][@digest] */
    char *digest = strchr(rem, '@');
    if (digest)
        *digest++ = '\0';
    char *tag = strchr(rem, ':');
    if (tag)
        *tag++ = '\0';
    size_t pn = strlen(rem);
    if (!valid_remote_name(rem, pn)) {
        why = "invalid reference format";
        goto fail;
    }
    if (!valid_domain(domain, strlen(domain))) {
        /* Without a valid domain, the whole name may still be a plain path
         * (e.g. "a_b.com/x"); the reference then has no domain. */
        if (!valid_path_component(domain, strlen(domain))) {
            why = "invalid reference format";
            goto fail;
        }
        char *whole = wpd_xasprintf("%s/%s", domain, rem);
        free(domain);
        domain = wpd_xstrdup("");
        free(out->from_image);
        out->from_image = whole;
    }
    if (tag && !valid_tag(tag)) {
        why = "invalid reference format";
        goto fail;
    }
    if (digest && (why = digest_problem(digest)) != NULL)
        goto fail;

    if (!out->from_image)
        out->from_image = wpd_xasprintf("%s/%s", domain, rem);
    if (strlen(out->from_image) > 255) {
        why = "repository name must not be more than 255 characters";
        goto fail;
    }
    out->tag = wpd_xstrdup(digest ? digest : tag ? tag : "latest");
    out->registry = domain;
    free(rem);
    return 0;

fail:
    free(domain);
    free(rem);
    wpd_image_ref_free(out);
    return wpd_error_set(err, WPD_ERR_INPUT, 0, "invalid image reference \"%s\": %s", img, why);
}
