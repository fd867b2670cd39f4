/* credentials.c - registry credentials for image pulls: registry hosts and
 * config.json keys, `auth` decoding, choosing the source for a registry
 * from the Docker config file (credHelpers, credsStore, auths), the
 * X-Registry-Auth header values and the environment (which config file,
 * the helper timeout). Running credential helpers and the asynchronous
 * resolution are in credentials_helper.c. Never puts a secret into a
 * message. */
#define _GNU_SOURCE
#include "engine/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/arena.h"
#include "util/base64.h"
#include "util/buf.h"
#include "engine/credentials_private.h"
#include "engine/imageref.h"
#include "engine/registry_auth.h"
#include "util/json.h"
#include "util/jsonw.h"

/* ---- hosts and keys ---------------------------------------------------- */

char *wpd_cred_registry_host(const char *image, wpd_error *err)
{
    wpd_image_ref ref;
    if (wpd_image_ref_parse(image, &ref, err) != 0)
        return NULL;
    /* a reference without a domain part is pulled from Docker Hub */
    char *host = wpd_xstrdup(ref.registry && *ref.registry ? ref.registry : "docker.io");
    wpd_image_ref_free(&ref);
    return host;
}

bool wpd_cred_is_dockerhub(const char *host)
{
    return host &&
           (strcasecmp(host, "docker.io") == 0 || strcasecmp(host, "index.docker.io") == 0 ||
            strcasecmp(host, "registry-1.docker.io") == 0);
}

char *wpd_cred_server_url(const char *host)
{
    if (wpd_cred_is_dockerhub(host))
        return wpd_xstrdup(WPD_DOCKERHUB_SERVER_URL);
    return wpd_xstrdup(host ? host : "");
}

bool wpd_cred_key_matches(const char *key, const char *host)
{
    if (!key || !host || !*host)
        return false;
    const char *k = key;
    if (strncasecmp(k, "https://", 8) == 0)
        k += 8;
    else if (strncasecmp(k, "http://", 7) == 0)
        k += 7;
    size_t n = strcspn(k, "/");
    if (n == 0)
        return false;
    if (wpd_cred_is_dockerhub(host)) {
        static const char *const hub[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
        for (size_t i = 0; i < sizeof hub / sizeof hub[0]; i++)
            if (n == strlen(hub[i]) && strncasecmp(k, hub[i], n) == 0)
                return true;
        return false;
    }
    return n == strlen(host) && strncasecmp(k, host, n) == 0;
}

/* ---- auth decoding ----------------------------------------------------- */

int wpd_cred_decode_auth(const char *b64, char **user, char **password, wpd_error *err)
{
    *user = *password = NULL;
    wpd_buf raw = WPD_BUF_INIT;
    if (wpd_base64_decode(b64, strlen(b64), &raw) != 0) {
        wpd_buf_free(&raw);
        return wpd_error_set(err, WPD_ERR_INPUT, 0, "not valid base64");
    }
    /* drop NUL bytes (some tools pad the value with them) */
    size_t w = 0;
    for (size_t i = 0; i < raw.len; i++)
        if (raw.data[i] != '\0')
            raw.data[w++] = raw.data[i];
    raw.len = w;
    const char *s = wpd_buf_cstr(&raw);
    if (raw.data)
        raw.data[w] = '\0';
    const char *colon = memchr(s, ':', raw.len);
    if (!colon || colon == s || colon[1] == '\0') {
        wpd_cred_wipe_buf(&raw);
        return wpd_error_set(err, WPD_ERR_INPUT, 0,
                             "expected base64 of \"username:password\" with both parts set");
    }
    /* fallible, so that no decoded secret is left in unwiped memory when
     * memory runs out (the caller may run under an out-of-memory guard) */
    size_t ul = (size_t)(colon - s), pl = raw.len - ul - 1;
    char *u = wpd_try_malloc(ul + 1), *p = wpd_try_malloc(pl + 1);
    if (!u || !p) {
        free(u);
        free(p);
        wpd_cred_wipe_buf(&raw);
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "out of memory");
    }
    memcpy(u, s, ul);
    u[ul] = '\0';
    memcpy(p, colon + 1, pl);
    p[pl] = '\0';
    *user = u;
    *password = p;
    wpd_cred_wipe_buf(&raw);
    return 0;
}

/* ---- config.json selection --------------------------------------------- */

void wpd_cred_source_free(wpd_cred_source *s)
{
    if (!s)
        return;
    free(s->helper);
    free(s->where);
    free(s->username);
    if (s->password) {
        explicit_bzero(s->password, strlen(s->password));
        free(s->password);
    }
    if (s->token) {
        explicit_bzero(s->token, strlen(s->token));
        free(s->token);
    }
    memset(s, 0, sizeof *s);
}

static bool valid_helper_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

/* The selection keeps what it reads from the file (keys, names, values) in
 * a scratch arena that is wiped before it is freed, and copies only what it
 * selects into the caller's wpd_cred_source; so it can run under an
 * out-of-memory guard: a failed allocation loses nothing and leaves no
 * secret in freed memory. */

/* `section["key"]` with the key escaped for display, in the arena. */
static char *entry_name(wpd_arena *tmp, const char *section, const char *key)
{
    size_t sl = strlen(section), kl = strlen(key);
    char *out = wpd_arena_alloc(tmp, sl + kl * 6 + 5);
    char *o = out;
    memcpy(o, section, sl);
    o += sl;
    *o++ = '[';
    *o++ = '"';
    for (const unsigned char *k = (const unsigned char *)key; *k; k++) {
        if (*k == '"' || *k == '\\') {
            *o++ = '\\';
            *o++ = (char)*k;
        } else if (*k < 0x20) {
            o += sprintf(o, "\\u%04x", *k);
        } else {
            *o++ = (char)*k;
        }
    }
    *o++ = '"';
    *o++ = ']';
    *o = '\0';
    return out;
}

/* Keys of object obj that match host, canonical key (the server URL)
 * first, then the others in document order. Returns the number stored in
 * keys (value token indexes of the keys). */
static size_t matching_keys(const wpd_json *j, int obj, const char *host, wpd_arena *tmp, int *keys,
                            size_t max)
{
    const char *canonical =
        wpd_cred_is_dockerhub(host) ? WPD_DOCKERHUB_SERVER_URL : (host ? host : "");
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        int k = obj + 1;
        for (int i = 0; i < j->toks[obj].size; i++, k = wpd_json_skip(j, k)) {
            const char *name = wpd_json_str_arena(j, k, tmp);
            bool exact = name && strcmp(name, canonical) == 0;
            bool match = name && wpd_cred_key_matches(name, host);
            if (match && exact == (pass == 0) && n < max)
                keys[n++] = k;
        }
    }
    return n;
}

static int type_error(wpd_error *err, const char *file, const char *what, const char *want)
{
    return wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: %s: expected %s", file, what, want);
}

#define MAX_MATCHES 16

static int select_helper(const wpd_json *j, int root, const char *file, const char *host,
                         wpd_arena *tmp, wpd_cred_source *out, wpd_error *err)
{
    int helpers = wpd_json_get(j, root, "credHelpers");
    if (helpers >= 0 && !wpd_json_is_null(j, helpers)) {
        if (wpd_json_type_of(j, helpers) != WPD_JSON_OBJECT)
            return type_error(err, file, "credHelpers", "an object");
        int keys[MAX_MATCHES];
        size_t n = matching_keys(j, helpers, host, tmp, keys, MAX_MATCHES);
        for (size_t i = 0; i < n; i++) {
            const char *where = entry_name(tmp, "credHelpers", wpd_json_str_arena(j, keys[i], tmp));
            const char *name = wpd_json_str_arena(j, keys[i] + 1, tmp);
            if (!name)
                return type_error(err, file, where, "a string");
            if (!*name) /* an empty entry configures nothing */
                continue;
            if (!valid_helper_name(name))
                return wpd_error_set(err, WPD_ERR_INPUT, 0,
                                     "%s: %s: invalid credential helper name", file, where);
            out->helper = wpd_xstrdup(name);
            out->where = wpd_xstrdup(where);
            out->kind = WPD_CRED_HELPER;
            return 1;
        }
    }
    int store = wpd_json_get(j, root, "credsStore");
    if (store >= 0 && !wpd_json_is_null(j, store)) {
        const char *name = wpd_json_str_arena(j, store, tmp);
        if (!name)
            return type_error(err, file, "credsStore", "a string");
        if (!*name)
            return 0;
        if (!valid_helper_name(name))
            return wpd_error_set(err, WPD_ERR_INPUT, 0,
                                 "%s: credsStore: invalid credential helper name", file);
        out->helper = wpd_xstrdup(name);
        out->where = wpd_xstrdup("credsStore");
        out->kind = WPD_CRED_HELPER;
        return 1;
    }
    return 0;
}

static int select_auths(const wpd_json *j, int root, const char *file, const char *host,
                        wpd_arena *tmp, wpd_cred_source *out, wpd_error *err)
{
    int auths = wpd_json_get(j, root, "auths");
    if (auths < 0 || wpd_json_is_null(j, auths))
        return 0;
    if (wpd_json_type_of(j, auths) != WPD_JSON_OBJECT)
        return type_error(err, file, "auths", "an object");
    int keys[MAX_MATCHES];
    size_t n = matching_keys(j, auths, host, tmp, keys, MAX_MATCHES);
    for (size_t i = 0; i < n; i++) {
        int v = keys[i] + 1;
        const char *where = entry_name(tmp, "auths", wpd_json_str_arena(j, keys[i], tmp));
        if (wpd_json_type_of(j, v) != WPD_JSON_OBJECT)
            return type_error(err, file, where, "an object");
        const char *fields[] = {"identitytoken", "auth", "username", "password"};
        const char *val[4] = {NULL, NULL, NULL, NULL};
        for (int f = 0; f < 4; f++) {
            int t = wpd_json_get(j, v, fields[f]);
            if (t < 0 || wpd_json_is_null(j, t))
                continue;
            val[f] = wpd_json_str_arena(j, t, tmp);
            if (!val[f])
                return type_error(err, file, wpd_arena_printf(tmp, "%s.%s", where, fields[f]),
                                  "a string");
        }
        if (val[0] && *val[0]) {
            out->token = wpd_xstrdup(val[0]);
            out->kind = WPD_CRED_TOKEN;
        } else if (val[1] && *val[1]) {
            wpd_error e;
            if (wpd_cred_decode_auth(val[1], &out->username, &out->password, &e) != 0)
                return wpd_error_set(err, e.kind == WPD_ERR_NOMEM ? WPD_ERR_NOMEM : WPD_ERR_INPUT,
                                     0, "%s: %s.auth: %s", file, where, e.message);
            out->kind = WPD_CRED_BASIC;
        } else if (val[2] && *val[2] && val[3] && *val[3]) {
            out->username = wpd_xstrdup(val[2]);
            out->password = wpd_xstrdup(val[3]);
            out->kind = WPD_CRED_BASIC;
        } else {
            continue;
        }
        out->where = wpd_xstrdup(where);
        return 1;
    }
    return 0;
}

int wpd_cred_select(const char *file, const char *json, size_t len, const char *host,
                    wpd_cred_source *out, wpd_error *err)
{
    memset(out, 0, sizeof *out);
    if (wpd_cred_blank(json, len))
        return 0;
    wpd_arena *volatile tmp = NULL; /* read in the recovery branch */
    wpd_oom_guard guard;
    wpd_oom_guard_push(&guard);
    if (setjmp(guard.env) != 0) {
        wpd_cred_source_free(out);
        wpd_arena_wipe_free(tmp);
        return wpd_error_set(err, WPD_ERR_NOMEM, 0, "%s: out of memory while reading it", file);
    }
    tmp = wpd_arena_new();
    wpd_json j;
    int rc;
    if (wpd_json_parse_in(&j, json, len, tmp, err) != 0) {
        err->kind = WPD_ERR_INPUT;
        rc = wpd_error_prefix(err, "%s", file);
    } else if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT) {
        rc = wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: expected a JSON object, found %s", file,
                           wpd_json_type_name(j.toks[0].type));
    } else if ((rc = select_helper(&j, 0, file, host, tmp, out, err)) == 0) {
        rc = select_auths(&j, 0, file, host, tmp, out, err);
    }
    wpd_oom_guard_pop(&guard);
    wpd_arena_wipe_free(tmp);
    if (rc < 0) {
        wpd_cred_source_free(out);
        return -1;
    }
    return 0;
}

/* ---- header values ----------------------------------------------------- */

char *wpd_cred_header_basic(const char *user, const char *password, const char *server_url)
{
    return wpd_registry_auth_encode(user, password, server_url);
}

char *wpd_cred_header_token(const char *token, const char *server_url)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_jsonw w;
    wpd_jw_init(&w, &b);
    wpd_jw_obj_begin(&w);
    wpd_jw_kstr(&w, "identitytoken", token);
    if (server_url && *server_url)
        wpd_jw_kstr(&w, "serveraddress", server_url);
    wpd_jw_obj_end(&w);
    char *r = wpd_base64url_encode(b.data, b.len);
    wpd_cred_wipe_buf(&b);
    return r;
}

/* ---- environment ------------------------------------------------------- */

char *wpd_cred_config_path(wpd_getenv_fn lookup)
{
    const char *v;
    if ((v = wpd_cred_env_get(lookup, "WOODPECKER_DOCKER_CONFIG")) != NULL)
        return wpd_xstrdup(v);
    if ((v = wpd_cred_env_get(lookup, "DOCKER_CONFIG")) != NULL)
        return wpd_xasprintf("%s/config.json", v);
    if ((v = wpd_cred_env_get(lookup, "HOME")) != NULL)
        return wpd_xasprintf("%s/.docker/config.json", v);
    return NULL;
}

int wpd_cred_helper_timeout(wpd_getenv_fn lookup, long *ms, wpd_error *err)
{
    *ms = WPD_CRED_HELPER_TIMEOUT_MS;
    const char *v = wpd_cred_env_get(lookup, "WPDOCK_CREDENTIAL_HELPER_TIMEOUT");
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    double s = strtod(v, &end);
    if (errno || end == v || *end || !(s > 0) || s > 86400)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "WPDOCK_CREDENTIAL_HELPER_TIMEOUT=\"%s\": expected a number of "
                             "seconds greater than 0",
                             v);
    *ms = (long)(s * 1000.0 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}
