/* dotenv.c - parsing `.env` files (godotenv's rules) and loading one into
 * the environment without overriding what is already set. */
#include "dotenv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOTENV_MAX_BYTES ((size_t)1 << 20)

typedef struct scan {
    const char *p, *end;
    size_t line;
} scan;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool is_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

/* Skip blank lines, indentation and comment lines. */
static void skip_to_statement(scan *s)
{
    while (s->p < s->end) {
        if (*s->p == '\n') {
            s->line++;
            s->p++;
        } else if (is_space(*s->p)) {
            s->p++;
        } else if (*s->p == '#') {
            while (s->p < s->end && *s->p != '\n')
                s->p++;
        } else {
            return;
        }
    }
}

static char *xstrndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (!r)
        abort();
    return r;
}

/* The rest of the line after a closing quote: spaces, then nothing or a comment. */
static int rest_of_line(scan *s, char *msg, size_t msglen)
{
    while (s->p < s->end && is_space(*s->p))
        s->p++;
    if (s->p < s->end && *s->p != '\n' && *s->p != '#') {
        snprintf(msg, msglen, "unexpected text after the closing quote");
        return -1;
    }
    while (s->p < s->end && *s->p != '\n')
        s->p++;
    return 0;
}

/* A quoted value starting at the opening quote; may span lines. */
static char *quoted_value(scan *s, char *msg, size_t msglen)
{
    char q = *s->p++;
    const char *start = s->p;
    size_t lines = 0;
    const char *close = NULL;
    for (const char *c = start; c < s->end; c++) {
        if (*c == '\n')
            lines++;
        else if (*c == q && c[-1] != '\\') {
            close = c;
            break;
        }
    }
    if (!close) {
        snprintf(msg, msglen, "unterminated quoted value (no closing %c)", q);
        return NULL;
    }
    size_t n = (size_t)(close - start);
    char *v = malloc(n + 1);
    if (!v)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = start[i];
        if (q == '"' && c == '\\' && i + 1 < n && start[i + 1] != '$') {
            char e = start[++i];
            v[o++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e;
        } else if (c == '\r' && i + 1 < n && start[i + 1] == '\n') {
            continue; /* CRLF inside a multi-line value */
        } else {
            v[o++] = c;
        }
    }
    v[o] = '\0';
    s->line += lines;
    s->p = close + 1;
    if (rest_of_line(s, msg, msglen) != 0) {
        memset(v, 0, o);
        free(v);
        return NULL;
    }
    return v;
}

/* An unquoted value: the rest of the line, without a ` #` comment, trimmed. */
static char *plain_value(scan *s)
{
    const char *start = s->p;
    while (s->p < s->end && *s->p != '\n')
        s->p++;
    const char *e = s->p;
    for (const char *c = start + 1; c < e; c++)
        if (*c == '#' && is_space(c[-1])) {
            e = c;
            break;
        }
    while (start < e && is_space(*start))
        start++;
    while (e > start && is_space(e[-1]))
        e--;
    return xstrndup(start, (size_t)(e - start));
}

static int statement(scan *s, dotenv_entry *ent, char *msg, size_t msglen)
{
    if ((size_t)(s->end - s->p) > 7 && memcmp(s->p, "export", 6) == 0 && is_space(s->p[6])) {
        s->p += 6;
        while (s->p < s->end && is_space(*s->p))
            s->p++;
    }
    const char *k = s->p;
    while (s->p < s->end && is_key_char(*s->p))
        s->p++;
    const char *ke = s->p;
    while (s->p < s->end && is_space(*s->p))
        s->p++;
    if (s->p == s->end || *s->p == '\n') {
        snprintf(msg, msglen, "\"%.*s\" is not KEY=VALUE", (int)(ke - k), k);
        return -1;
    }
    if (*s->p != '=' && *s->p != ':') {
        snprintf(msg, msglen,
                 "unexpected character '%c' in a variable name (letters, digits, _ and .)", *s->p);
        return -1;
    }
    if (ke == k) {
        snprintf(msg, msglen, "a variable name is missing before '%c'", *s->p);
        return -1;
    }
    s->p++;
    while (s->p < s->end && is_space(*s->p))
        s->p++;
    ent->key = xstrndup(k, (size_t)(ke - k));
    if (s->p < s->end && (*s->p == '"' || *s->p == '\''))
        ent->value = quoted_value(s, msg, msglen);
    else
        ent->value = plain_value(s);
    if (!ent->value) {
        free(ent->key);
        ent->key = NULL;
        return -1;
    }
    return 0;
}

int dotenv_parse(const char *text, size_t len, dotenv_entry **out, size_t *n, size_t *err_line,
                 char *msg, size_t msglen)
{
    *out = NULL;
    *n = 0;
    scan s = {text, text + len, 1};
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        s.p += 3; /* a UTF-8 byte-order mark */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        *err_line = 1;
        for (const char *c = text; c < nul; c++)
            *err_line += *c == '\n';
        snprintf(msg, msglen, "contains a NUL byte");
        return -1;
    }
    for (;;) {
        skip_to_statement(&s);
        if (s.p >= s.end)
            return 0;
        size_t line = s.line;
        dotenv_entry ent = {NULL, NULL, line};
        if (statement(&s, &ent, msg, msglen) != 0) {
            *err_line = line;
            dotenv_free(*out, *n);
            *out = NULL;
            *n = 0;
            return -1;
        }
        dotenv_entry *v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v)
            abort();
        *out = v;
        v[(*n)++] = ent;
    }
}

void dotenv_free(dotenv_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        if (v[i].value)
            memset(v[i].value, 0, strlen(v[i].value));
        free(v[i].value);
    }
    free(v);
}

int dotenv_load(const char *path, char *msg, size_t msglen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        snprintf(msg, msglen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(DOTENV_MAX_BYTES + 1);
    if (!text)
        abort();
    size_t len = fread(text, 1, DOTENV_MAX_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    if (rd_err || len > DOTENV_MAX_BYTES) {
        snprintf(msg, msglen, "%s: %s", path, rd_err ? "cannot be read" : "is larger than 1 MiB");
        free(text);
        return -1;
    }
    dotenv_entry *v;
    size_t n, line = 0;
    char why[256];
    int rc = dotenv_parse(text, len, &v, &n, &line, why, sizeof why);
    memset(text, 0, len);
    free(text);
    if (rc != 0) {
        snprintf(msg, msglen, "%s:%zu: %s", path, line, why);
        return -1;
    }
    /* what was set before the file counts, not what an earlier line set */
    bool *keep = calloc(n + 1, sizeof *keep);
    if (!keep)
        abort();
    for (size_t i = 0; i < n; i++)
        keep[i] = getenv(v[i].key) != NULL;
    for (size_t i = 0; i < n; i++)
        if (!keep[i] && setenv(v[i].key, v[i].value, 1) != 0) {
            snprintf(msg, msglen, "%s:%zu: cannot set %s: %s", path, v[i].line, v[i].key,
                     strerror(errno));
            free(keep);
            dotenv_free(v, n);
            return -1;
        }
    free(keep);
    dotenv_free(v, n);
    return 0;
}
