/* settings.h - the backend options of spec section 6, read from the
 * environment (first listed variable wins) and overridable by CLI flags. */
#ifndef WPDOCK_SETTINGS_H
#define WPDOCK_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <wpdock/error.h>
#include <wpdock/runtime.h>

#include "util/env.h"
#include "woodpecker/config.h"

/* When to re-read a step's complete log after it ended (see backend.c). */
typedef enum wpd_reconcile {
    WPD_RECONCILE_AUTO,   /* Podman, when the live stream broke off */
    WPD_RECONCILE_ALWAYS, /* every step, every engine */
    WPD_RECONCILE_NEVER
} wpd_reconcile;

typedef struct wpd_settings {
    char *host;           /* WOODPECKER_BACKEND_DOCKER_HOST, DOCKER_HOST; NULL = default */
    char *api_version;    /* ..._API_VERSION, DOCKER_API_VERSION; NULL = negotiate */
    char *cert_path;      /* ..._CERT_PATH, DOCKER_CERT_PATH; NULL = no TLS */
    bool tls_verify;      /* ..._TLS_VERIFY, DOCKER_TLS_VERIFY; default true */
    bool enable_ipv6;     /* WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6 */
    char *network;        /* WOODPECKER_BACKEND_DOCKER_NETWORK */
    wpd_strlist volumes;  /* WOODPECKER_BACKEND_DOCKER_VOLUMES, normalised (spec 4.1) */
    char *apparmor;       /* WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE */
    int64_t stop_timeout; /* WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT, default 20 */
    int64_t mem_swap, mem, shm_size, cpu_quota, cpu_shares; /* LIMIT_* */
    char *cpu_set;
    wpd_reconcile reconcile_logs; /* WPDOCK_RECONCILE_LOGS / --reconcile-logs */
} wpd_settings;

/* Defaults, then the environment. Bad values (e.g. a non-numeric limit or
 * boolean) fail with WPD_ERR_USAGE naming the variable and the value. */
int wpd_settings_load(wpd_settings *s, wpd_getenv_fn getenv_fn, wpd_error *err);
void wpd_settings_free(wpd_settings *s);

/* Setters used for CLI flags (`--volumes`, `--stop-timeout`, ...): the
 * option name is used in error messages. They replace the current value. */
int wpd_settings_set(wpd_settings *s, const char *option, const char *value, wpd_error *err);

/* Checks that involve several options (swap needs a memory limit and is at
 * least as large), once all of them are set: 0, or -1 with WPD_ERR_USAGE.
 * Single values are checked when they are set or loaded. */
int wpd_settings_check(const wpd_settings *s, wpd_error *err);

/* Parse helpers shared with the CLI. */
int wpd_parse_bool(const char *text, bool *out); /* 1/0/true/false/t/f/yes/no, case-insensitive */
int wpd_parse_int64(const char *text, int64_t *out); /* whole string, decimal */

#endif
