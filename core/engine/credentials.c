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
    *user = wpd_xstrndup(s, (size_t)(colon - s));
    *password = wpd_xstrdup(colon + 1);
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

/* `section["key"]` with the key escaped for display. */
static char *entry_name(const char *section, const char *key)
{
    wpd_buf b = WPD_BUF_INIT;
    wpd_buf_printf(&b, "%s[", section);
    wpd_json_escape(&b, key, strlen(key));
    wpd_buf_putc(&b, ']');
    return wpd_buf_steal(&b);
}

/* Keys of object obj that match host, canonical key (the server URL)
 * first, then the others in document order. Returns the number stored in
 * keys (value token indexes of the keys). */
static size_t matching_keys(const wpd_json *j, int obj, const char *host, int *keys, size_t max)
{
    char *canonical = wpd_cred_server_url(host);
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        int k = obj + 1;
        for (int i = 0; i < j->toks[obj].size; i++, k = wpd_json_skip(j, k)) {
            char *name = wpd_json_str(j, k);
            bool exact = name && strcmp(name, canonical) == 0;
            bool match = name && wpd_cred_key_matches(name, host);
            free(name);
            if (match && exact == (pass == 0) && n < max)
                keys[n++] = k;
        }
    }
    free(canonical);
    return n;
}

static int type_error(wpd_error *err, const char *file, const char *what, const char *want)
{
    return wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: %s: expected %s", file, what, want);
}

#define MAX_MATCHES 16

static int select_helper(const wpd_json *j, int root, const char *file, const char *host,
                         wpd_cred_source *out, wpd_error *err)
{
    int helpers = wpd_json_get(j, root, "credHelpers");
    if (helpers >= 0 && !wpd_json_is_null(j, helpers)) {
        if (wpd_json_type_of(j, helpers) != WPD_JSON_OBJECT)
            return type_error(err, file, "credHelpers", "an object");
        int keys[MAX_MATCHES];
        size_t n = matching_keys(j, helpers, host, keys, MAX_MATCHES);
        for (size_t i = 0; i < n; i++) {
            char *key = wpd_json_str(j, keys[i]);
            char *where = entry_name("credHelpers", key);
            free(key);
            char *name = wpd_json_str(j, keys[i] + 1);
            if (!name) {
                int rc = type_error(err, file, where, "a string");
                free(where);
                return rc;
            }
            if (!*name) { /* an empty entry configures nothing */
                free(name);
                free(where);
                continue;
            }
            if (!valid_helper_name(name)) {
                free(name);
                int rc = wpd_error_set(err, WPD_ERR_INPUT, 0,
                                       "%s: %s: invalid credential helper name", file, where);
                free(where);
                return rc;
            }
            out->kind = WPD_CRED_HELPER;
            out->helper = name;
            out->where = where;
            return 1;
        }
    }
    int store = wpd_json_get(j, root, "credsStore");
    if (store >= 0 && !wpd_json_is_null(j, store)) {
        char *name = wpd_json_str(j, store);
        if (!name)
            return type_error(err, file, "credsStore", "a string");
        if (!*name) {
            free(name);
            return 0;
        }
        if (!valid_helper_name(name)) {
            free(name);
            return wpd_error_set(err, WPD_ERR_INPUT, 0,
                                 "%s: credsStore: invalid credential helper name", file);
        }
        out->kind = WPD_CRED_HELPER;
        out->helper = name;
        out->where = wpd_xstrdup("credsStore");
        return 1;
    }
    return 0;
}

static int select_auths(const wpd_json *j, int root, const char *file, const char *host,
                        wpd_cred_source *out, wpd_error *err)
{
    int auths = wpd_json_get(j, root, "auths");
    if (auths < 0 || wpd_json_is_null(j, auths))
        return 0;
    if (wpd_json_type_of(j, auths) != WPD_JSON_OBJECT)
        return type_error(err, file, "auths", "an object");
    int keys[MAX_MATCHES];
    size_t n = matching_keys(j, auths, host, keys, MAX_MATCHES);
    for (size_t i = 0; i < n; i++) {
        int v = keys[i] + 1;
        char *key = wpd_json_str(j, keys[i]);
        char *where = entry_name("auths", key);
        free(key);
        int rc = 0;
        if (wpd_json_type_of(j, v) != WPD_JSON_OBJECT) {
            rc = type_error(err, file, where, "an object");
            free(where);
            return rc;
        }
        const char *fields[] = {"identitytoken", "auth", "username", "password"};
        char *val[4] = {NULL, NULL, NULL, NULL};
        for (int f = 0; f < 4 && rc == 0; f++) {
            int t = wpd_json_get(j, v, fields[f]);
            if (t < 0 || wpd_json_is_null(j, t))
                continue;
            val[f] = wpd_json_str(j, t);
            if (!val[f]) {
                char *what = wpd_xasprintf("%s.%s", where, fields[f]);
                rc = type_error(err, file, what, "a string");
                free(what);
            }
        }
        if (rc == 0 && val[0] && *val[0]) {
            out->kind = WPD_CRED_TOKEN;
            out->token = val[0];
            val[0] = NULL;
            rc = 1;
        } else if (rc == 0 && val[1] && *val[1]) {
            wpd_error e;
            if (wpd_cred_decode_auth(val[1], &out->username, &out->password, &e) != 0) {
                rc =
                    wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: %s.auth: %s", file, where, e.message);
            } else {
                out->kind = WPD_CRED_BASIC;
                rc = 1;
            }
        } else if (rc == 0 && val[2] && *val[2] && val[3] && *val[3]) {
            out->kind = WPD_CRED_BASIC;
            out->username = val[2];
            out->password = val[3];
            val[2] = val[3] = NULL;
            rc = 1;
        }
        for (int f = 0; f < 4; f++) {
            if (val[f]) {
                explicit_bzero(val[f], strlen(val[f]));
                free(val[f]);
            }
        }
        if (rc == 1) {
            out->where = where;
            return 1;
        }
        free(where);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int wpd_cred_select(const char *file, const char *json, size_t len, const char *host,
                    wpd_cred_source *out, wpd_error *err)
{
    memset(out, 0, sizeof *out);
    if (wpd_cred_blank(json, len))
        return 0;
    wpd_json j;
    if (wpd_json_parse(&j, json, len, err) != 0) {
        if (err->kind != WPD_ERR_NOMEM)
            err->kind = WPD_ERR_INPUT;
        wpd_error_prefix(err, "%s", file);
        wpd_json_free(&j);
        return -1;
    }
    int rc;
    if (wpd_json_type_of(&j, 0) != WPD_JSON_OBJECT)
        rc = wpd_error_set(err, WPD_ERR_INPUT, 0, "%s: expected a JSON object, found %s", file,
                           wpd_json_type_name(j.toks[0].type));
    else if ((rc = select_helper(&j, 0, file, host, out, err)) == 0)
        rc = select_auths(&j, 0, file, host, out, err);
    wpd_json_free(&j);
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
