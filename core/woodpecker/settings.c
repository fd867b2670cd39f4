/* settings.c - backend options (spec section 6): defaults, environment
 * variables (first listed variable wins, empty counts as unset) and the
 * per-option setters used for CLI flags. */
#include "woodpecker/settings.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/credentials.h"
#include "util/buf.h"
#include "woodpecker/convert.h"

#define DEFAULT_STOP_TIMEOUT 20

int wpd_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "t", "true", "yes"};
    static const char *const no[] = {"0", "f", "false", "no"};
    if (!text)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int wpd_parse_int64(const char *text, int64_t *out)
{
    if (!text || !*text)
        return -1;
    const char *p = text;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (!*p)
        return -1;
    /* Accumulate as a negative number so INT64_MIN fits. */
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10)
            return -1;
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return -1;
        v = -v;
    }
    *out = v;
    return 0;
}

/* ---- option table ---------------------------------------------------- */

typedef enum opt_kind { OPT_STR, OPT_BOOL, OPT_INT, OPT_VOLUMES, OPT_RECONCILE } opt_kind;

typedef struct opt_def {
    const char *option; /* CLI spelling, without "--" */
    const char *env[2]; /* variables in priority order */
    opt_kind kind;
    size_t offset;       /* field in wpd_settings */
    const char *expects; /* for OPT_INT: what the number means */
    bool non_negative;
} opt_def;

#define FIELD(f) offsetof(wpd_settings, f)

static const opt_def opts[] = {
    {"host", {"WOODPECKER_BACKEND_DOCKER_HOST", "DOCKER_HOST"}, OPT_STR, FIELD(host), NULL, false},
    {"api-version",
     {"WOODPECKER_BACKEND_DOCKER_API_VERSION", "DOCKER_API_VERSION"},
     OPT_STR,
     FIELD(api_version),
     NULL,
     false},
    {"cert-path",
     {"WOODPECKER_BACKEND_DOCKER_CERT_PATH", "DOCKER_CERT_PATH"},
     OPT_STR,
     FIELD(cert_path),
     NULL,
     false},
    {"tls-verify",
     {"WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", "DOCKER_TLS_VERIFY"},
     OPT_BOOL,
     FIELD(tls_verify),
     NULL,
     false},
    {"ipv6",
     {"WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6", NULL},
     OPT_BOOL,
     FIELD(enable_ipv6),
     NULL,
     false},
    {"network", {"WOODPECKER_BACKEND_DOCKER_NETWORK", NULL}, OPT_STR, FIELD(network), NULL, false},
    {"volumes",
     {"WOODPECKER_BACKEND_DOCKER_VOLUMES", NULL},
     OPT_VOLUMES,
     FIELD(volumes),
     NULL,
     false},
    {"apparmor-profile",
     {"WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE", NULL},
     OPT_STR,
     FIELD(apparmor),
     NULL,
     false},
    {"stop-timeout",
     {"WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT", NULL},
     OPT_INT,
     FIELD(stop_timeout),
     "a whole number of seconds (0 or more)",
     true},
    {"limit-mem",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM", "WOODPECKER_LIMIT_MEM"},
     OPT_INT,
     FIELD(mem),
     "a whole number of bytes",
     false},
    {"limit-mem-swap",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP", "WOODPECKER_LIMIT_MEM_SWAP"},
     OPT_INT,
     FIELD(mem_swap),
     "a whole number of bytes",
     false},
    {"limit-shm-size",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE", "WOODPECKER_LIMIT_SHM_SIZE"},
     OPT_INT,
     FIELD(shm_size),
     "a whole number of bytes",
     false},
    {"limit-cpu-quota",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_QUOTA", "WOODPECKER_LIMIT_CPU_QUOTA"},
     OPT_INT,
     FIELD(cpu_quota),
     "a whole number of microseconds per period",
     false},
    {"limit-cpu-shares",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES", "WOODPECKER_LIMIT_CPU_SHARES"},
     OPT_INT,
     FIELD(cpu_shares),
     "a whole number",
     false},
    {"limit-cpu-set",
     {"WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET", "WOODPECKER_LIMIT_CPU_SET"},
     OPT_STR,
     FIELD(cpu_set),
     NULL,
     false},
    {"reconcile-logs",
     {"WPDOCK_RECONCILE_LOGS", NULL},
     OPT_RECONCILE,
     FIELD(reconcile_logs),
     "auto, always or never",
     false},
};

#define N_OPTS (sizeof opts / sizeof opts[0])

static void strlist_clear(wpd_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Comma-separated volumes: blank items skipped, each item normalised by
 * the volume splitter (spec 4.1) and re-joined with ':'. */
static void parse_volumes(const char *value, wpd_strlist *out)
{
    wpd_strlist l = {NULL, 0};
    const char *p = value;
    while (p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len) {
            char *item = wpd_xstrndup(p, len);
            char **parts = NULL;
            size_t n = wpd_volume_split(item, &parts);
            wpd_buf joined = WPD_BUF_INIT;
            for (size_t i = 0; i < n; i++) {
                if (i)
                    wpd_buf_putc(&joined, ':');
                wpd_buf_puts(&joined, parts[i]);
            }
            wpd_strv_free(parts, n);
            free(item);
            if (joined.len) {
                l.v = wpd_xrealloc(l.v, (l.n + 1) * sizeof *l.v);
                l.v[l.n++] = wpd_buf_steal(&joined);
            } else {
                wpd_buf_free(&joined);
            }
        }
        p = comma ? comma + 1 : NULL;
    }
    *out = l;
}

/* ---- checks of single values, before anything reaches the engine -------- */

#define MIN_MEMORY                                                                                 \
    ((int64_t)6 << 20) /* Docker refuses less ("Minimum memory limit allowed is 6MB") */

/* Why the value v of option `option` would be refused, or NULL. */
static const char *int_problem(const char *option, int64_t v)
{
    if (strcmp(option, "limit-mem-swap") == 0)
        return v < -1 ? "must be -1 (unlimited swap), 0 (the default) or a number of bytes" : NULL;
    if (v < 0)
        return "must not be negative";
    if (strcmp(option, "limit-mem") == 0 && v > 0 && v < MIN_MEMORY)
        return "must be 0 (no limit) or at least 6 MiB (6291456 bytes), the engine's minimum";
    if (strcmp(option, "limit-cpu-quota") == 0 && v > 0 && v < 1000)
        return "must be 0 (no limit) or at least 1000 microseconds, the engine's minimum";
    return NULL;
}

/* A cpuset list as the kernel reads it: "0-3,8,10-11". */
static bool valid_cpu_set(const char *s)
{
    const char *p = s;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return false;
        char *end;
        unsigned long lo = strtoul(p, &end, 10), hi = lo;
        p = end;
        if (*p == '-') {
            if (!isdigit((unsigned char)p[1]))
                return false;
            hi = strtoul(p + 1, &end, 10);
            p = end;
        }
        if (hi < lo || hi > 65535)
            return false;
        if (!*p)
            return true;
        if (*p++ != ',')
            return false;
    }
}

/* Why a string value of `option` would be refused, or NULL. */
static const char *str_problem(const char *option, const char *v, char *why, size_t n)
{
    if (strcmp(option, "limit-cpu-set") == 0 && !valid_cpu_set(v))
        return "expected a list of CPU numbers and ranges such as 0-3,8";
    if (strcmp(option, "network") == 0) {
        const char *p = wpd_name_problem(v);
        if (p) {
            snprintf(why, n, "invalid network name: %s", p);
            return why;
        }
    }
    return NULL;
}

int wpd_settings_check(const wpd_settings *s, wpd_error *err)
{
    if (s->mem_swap > 0 && s->mem == 0)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "--limit-mem-swap (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP) needs "
                             "--limit-mem (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM) as well");
    if (s->mem_swap > 0 && s->mem_swap < s->mem)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "--limit-mem-swap (%lld) is memory plus swap and must not be less "
                             "than --limit-mem (%lld)",
                             (long long)s->mem_swap, (long long)s->mem);
    return 0;
}

/* Store `value` (non-NULL, non-empty) into the option's field; `source`
 * names it in errors ("WOODPECKER_..." or "--option"). */
static int apply(wpd_settings *s, const opt_def *o, const char *source, const char *value,
                 wpd_error *err)
{
    char *field = (char *)s + o->offset;
    switch (o->kind) {
    case OPT_STR: {
        char why[WPD_ERROR_MAX / 2];
        const char *problem = *value ? str_problem(o->option, value, why, sizeof why) : NULL;
        if (problem)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: %s, got \"%s\"", source, problem,
                                 value);
        char **slot = (char **)(void *)field;
        free(*slot);
        *slot = *value ? wpd_xstrdup(value) : NULL;
        return 0;
    }
    case OPT_BOOL: {
        bool b;
        if (wpd_parse_bool(value, &b) != 0)
            return wpd_error_set(err, WPD_ERR_USAGE, 0,
                                 "%s: expected a boolean (true/false/1/0), got \"%s\"", source,
                                 value);
        *(bool *)(void *)field = b;
        return 0;
    }
    case OPT_INT: {
        int64_t v;
        if (wpd_parse_int64(value, &v) != 0 || (o->non_negative && v < 0))
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: expected %s, got \"%s\"", source,
                                 o->expects, value);
        const char *problem = int_problem(o->option, v);
        if (problem)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: %s, got %s", source, problem, value);
        *(int64_t *)(void *)field = v;
        return 0;
    }
    case OPT_RECONCILE: {
        static const char *const names[] = {"auto", "always", "never"};
        for (int i = 0; i < 3; i++) {
            if (strcmp(value, names[i]) == 0) {
                *(wpd_reconcile *)(void *)field = (wpd_reconcile)i;
                return 0;
            }
        }
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: expected %s, got \"%s\"", source,
                             o->expects, value);
    }
    case OPT_VOLUMES: {
        wpd_strlist *l = (wpd_strlist *)(void *)field;
        strlist_clear(l);
        parse_volumes(value, l);
        return 0;
    }
    }
    return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "%s: unhandled option kind", source);
}

static void set_defaults(wpd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->tls_verify = true;
    s->stop_timeout = DEFAULT_STOP_TIMEOUT;
}

static const char *process_getenv(const char *name)
{
    return getenv(name);
}

int wpd_settings_load(wpd_settings *s, wpd_getenv_fn getenv_fn, wpd_error *err)
{
    if (!getenv_fn)
        getenv_fn = process_getenv;
    set_defaults(s);
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt_def *o = &opts[i];
        for (size_t j = 0; j < 2 && o->env[j]; j++) {
            const char *v = getenv_fn(o->env[j]);
            if (!v || !*v)
                continue;
            if (apply(s, o, o->env[j], v, err) != 0) {
                wpd_settings_free(s);
                set_defaults(s);
                return -1;
            }
            break;
        }
    }
    /* read when a pull needs a credential helper, which is late to find a
     * typo: checked here, with the other variables */
    long helper_ms;
    if (wpd_cred_helper_timeout(getenv_fn, &helper_ms, err) != 0) {
        wpd_settings_free(s);
        set_defaults(s);
        return -1;
    }
    return 0;
}

void wpd_settings_free(wpd_settings *s)
{
    if (!s)
        return;
    free(s->host);
    free(s->api_version);
    free(s->cert_path);
    free(s->network);
    free(s->apparmor);
    free(s->cpu_set);
    strlist_clear(&s->volumes);
    s->host = s->api_version = s->cert_path = s->network = s->apparmor = s->cpu_set = NULL;
}

int wpd_settings_set(wpd_settings *s, const char *option, const char *value, wpd_error *err)
{
    if (!option)
        return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "settings: no option name given");
    for (size_t i = 0; i < N_OPTS; i++) {
        if (strcmp(opts[i].option, option) != 0)
            continue;
        char source[64];
        snprintf(source, sizeof source, "--%s", option);
        if (!value)
            value = "";
        if (!*value && opts[i].kind != OPT_STR && opts[i].kind != OPT_VOLUMES)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: a value is required", source);
        return apply(s, &opts[i], source, value, err);
    }
    return wpd_error_set(err, WPD_ERR_INTERNAL, 0, "settings: unknown option \"%s\"", option);
}
