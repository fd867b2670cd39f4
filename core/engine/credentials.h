/* credentials.h - registry credentials for an image pull, resolved the way
 * the docker CLI does and turned into an X-Registry-Auth header value.
 *
 * Most specific first:
 *   1. the step's auth_config (username and password both non-empty);
 *   2. the Docker config file: $WOODPECKER_DOCKER_CONFIG (a config.json),
 *      else $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json;
 *      for the image's registry host: credHelpers[host], else credsStore,
 *      else auths[host] (identitytoken, else auth = base64 "user:password").
 * A helper runs as `docker-credential-<name> get` with the server URL on
 * stdin, through the reactor (never blocking the loop), with a timeout
 * (10 s; WPDOCK_CREDENTIAL_HELPER_TIMEOUT seconds overrides it).
 *
 * No message produced here ever contains a password, secret or token. */
#ifndef WPDOCK_CREDENTIALS_H
#define WPDOCK_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/error.h>
#include <wpdock/reactor.h>

#include "util/env.h"

#define WPD_DOCKERHUB_SERVER_URL "https://index.docker.io/v1/"
#define WPD_CRED_HELPER_TIMEOUT_MS 10000L

/* ---- pure pieces ------------------------------------------------------- */

/* Registry host of an image reference (Docker's rules): `alpine` ->
 * "docker.io", `127.0.0.1:5000/x/y:tag` -> "127.0.0.1:5000", `localhost/x`
 * -> "localhost". malloc'd; NULL with err (WPD_ERR_INPUT) for an invalid
 * reference. */
char *wpd_cred_registry_host(const char *image, wpd_error *err);
/* Docker Hub under any of its names (docker.io, index.docker.io,
 * registry-1.docker.io)? */
bool wpd_cred_is_dockerhub(const char *host);
/* Server URL the docker CLI uses for a host: WPD_DOCKERHUB_SERVER_URL for
 * Docker Hub, else the host itself. It is what a credential helper gets on
 * stdin and what goes into "serveraddress". malloc'd. */
char *wpd_cred_server_url(const char *host);
/* Does a config.json key (in credHelpers or auths) name this registry?
 * Docker Hub: `https://index.docker.io/v1/`, `index.docker.io`,
 * `docker.io`, `registry-1.docker.io`; others: `host`, `https://host`,
 * `http://host`, with or without a trailing `/` (a path after the host is
 * ignored, as the docker CLI does). Host names compare case-insensitively. */
bool wpd_cred_key_matches(const char *key, const char *host);

/* Decode an auths[].auth value: base64 of "user:password" (NULs around
 * it stripped, split at the first ':'; both parts required). *user and
 * *password are malloc'd. The error never quotes the value. */
int wpd_cred_decode_auth(const char *b64, char **user, char **password, wpd_error *err);

typedef enum wpd_cred_kind {
    WPD_CRED_NONE = 0, /* nothing configured for this registry */
    WPD_CRED_HELPER,   /* ask docker-credential-<helper> */
    WPD_CRED_BASIC,    /* username + password */
    WPD_CRED_TOKEN     /* identity token */
} wpd_cred_kind;

typedef struct wpd_cred_source {
    wpd_cred_kind kind;
    char *helper;              /* HELPER: the helper's name (`pass` for docker-credential-pass) */
    char *where;               /* which entry matched, for messages: `credHelpers["ghcr.io"]`,
                                  `credsStore`, `auths["https://index.docker.io/v1/"]` */
    char *username, *password; /* BASIC */
    char *token;               /* TOKEN */
} wpd_cred_source;

/* Choose the source for host from the contents of a config.json; `file`
 * names it in messages. Empty or whitespace-only contents mean no
 * credentials. Invalid JSON, a root that is not an object, a wrongly typed
 * credHelpers/credsStore/auths member or an undecodable `auth` fail with
 * WPD_ERR_INPUT naming the file (and the problem, never a secret). Among
 * several matching keys the canonical one (the server URL) wins, then the
 * first in the file. */
int wpd_cred_select(const char *file, const char *json, size_t len, const char *host,
                    wpd_cred_source *out, wpd_error *err);
void wpd_cred_source_free(wpd_cred_source *s);

/* X-Registry-Auth values (base64url with '=' padding, as Docker expects):
 * {"username":..,"password":..,"serveraddress":..} and
 * {"identitytoken":..,"serveraddress":..}. malloc'd. */
char *wpd_cred_header_basic(const char *user, const char *password, const char *server_url);
char *wpd_cred_header_token(const char *token, const char *server_url);

/* The config file to read: $WOODPECKER_DOCKER_CONFIG, else
 * $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json (empty values
 * count as unset). malloc'd; NULL when none can be named. lookup NULL =
 * getenv. */
char *wpd_cred_config_path(wpd_getenv_fn lookup);

/* Helper timeout in ms from WPDOCK_CREDENTIAL_HELPER_TIMEOUT (seconds, a
 * decimal number > 0), else WPD_CRED_HELPER_TIMEOUT_MS. A bad value fails
 * with WPD_ERR_USAGE naming the variable. */
int wpd_cred_helper_timeout(wpd_getenv_fn lookup, long *ms, wpd_error *err);

/* Find `docker-credential-<name>` in the directories of path_env (a
 * PATH value; NULL = the system default path). malloc'd full path, or NULL
 * when there is no executable file of that name. */
char *wpd_cred_find_helper(const char *name, const char *path_env);

/* Prefix of every message about a helper:
 * "docker-credential-<helper> (credential helper for <host> configured in
 * <file>)". malloc'd. */
char *wpd_cred_helper_label(const char *helper, const char *host, const char *file);

/* A finished helper run: its exit code (-1 when it did not exit) or the
 * signal that ended it, and what it wrote. */
typedef struct wpd_cred_helper_run {
    int exit_code;
    int term_signal;
    const char *out;
    size_t out_len;
    const char *err;
    size_t err_len;
} wpd_cred_helper_run;

/* Outcome of a helper run: 0 with *header malloc'd, or NULL for "no
 * credentials" (a "credentials not found" answer, or an empty Secret);
 * -1 with err (WPD_ERR_IO, starting with `label`) otherwise. A Username of
 * "<token>" makes the Secret an identity token (as in the docker CLI).
 * Failure messages quote the helper's stderr (else its stdout, unless that
 * looks like JSON), trimmed, on one line, with every known secret replaced
 * by "********": those in `secrets` (NULL-terminated, may be NULL) and the
 * Secret of a JSON answer on stdout. */
int wpd_cred_helper_answer(const char *label, const char *server_url,
                           const wpd_cred_helper_run *run, const char *const *secrets,
                           char **header, wpd_error *err);

/* Replace every occurrence of each non-empty secret in text with
 * "********". malloc'd. */
char *wpd_cred_redact(const char *text, size_t len, const char *const *secrets);

/* ---- the asynchronous resolution --------------------------------------- */

typedef struct wpd_cred_request wpd_cred_request;

/* Called exactly once, from the loop (never from inside
 * wpd_credentials_resolve or wpd_credentials_cancel).
 * x_registry_auth: the header value (without "X-Registry-Auth: "), NULL
 * when there are no credentials (the pull goes without the header); err
 * non-NULL on failure (then x_registry_auth is NULL). Both are valid only
 * during the call. The request is freed right after it returns. */
typedef void (*wpd_cred_done_fn)(void *arg, const char *x_registry_auth, const wpd_error *err);

/* Resolve credentials for pulling `image`. user/password: the step's
 * auth_config (NULL or "" = none). lookup: environment lookup (NULL =
 * getenv) for WOODPECKER_DOCKER_CONFIG, DOCKER_CONFIG, HOME, PATH and
 * WPDOCK_CREDENTIAL_HELPER_TIMEOUT. Never returns NULL. */
wpd_cred_request *wpd_credentials_resolve(wpd_reactor *r, const char *image, const char *user,
                                          const char *password, wpd_getenv_fn lookup,
                                          wpd_cred_done_fn done, void *arg);
/* done follows once with WPD_ERR_CANCELED (a running helper is killed),
 * unless the request had already finished. A no-op from inside done. */
void wpd_credentials_cancel(wpd_cred_request *req);
/* Stop at once (killing and reaping a running helper) and free the
 * request without calling done. A no-op from inside done. */
void wpd_credentials_abort(wpd_cred_request *req);

#endif
