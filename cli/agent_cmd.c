/* agent_cmd.c - `wpdock agent`: a drop-in for woodpecker-agent with the
 * docker backend. Loads .env, reads the Go agent's variables and flags
 * (with its defaults), the backend settings and engines as `wpdock exec`
 * does, then runs the library's agent on the reactor until it stops;
 * `wpdock agent ping` asks a running agent's health endpoint. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wpdock/agent.h>
#include <wpdock/engine.h>
#include <wpdock/runtime.h>

#include "cli.h"
#include "dotenv.h"
#include "engines.h"
#include "govalues.h"
#include "printable.h"
#include "settings_opts.h"

#define PING_TIMEOUT_MS 10000L
#define SECRET_FILE_MAX 65536

typedef enum opt_type { T_STR, T_SECRET, T_BOOL, T_INT, T_DUR, T_LIST } opt_type;

enum {
    O_SERVER,
    O_TOKEN,
    O_SECURE,
    O_SKIP_VERIFY,
    O_CA_FILE,
    O_RETRY_TIMEOUT,
    O_RETRY_COUNT,
    O_RETRY_DELAY,
    O_KA_TIME,
    O_KA_TIMEOUT,
    O_HOSTNAME,
    O_CONFIG,
    O_LABELS,
    O_MAX,
    O_SINGLE,
    O_BACKEND,
    O_HEALTH,
    O_HEALTH_ADDR,
    O_LOG_LEVEL,
    O_LOG_FILE,
    O_LOG_BUF,
    O_PRETTY,
    O_NOCOLOR,
    N_OPTS
};

/* agent_opt.flags */
enum {
    ENV1_DEPRECATED = 1, /* env1 is a deprecated name of env0 */
    EMPTY_COUNTS = 2     /* an empty variable is a value ("" = stateless), not unset */
};

typedef struct agent_opt {
    const char *section; /* help heading starting here, or NULL */
    const char *flag;
    const char *alias;       /* deprecated second name, or NULL */
    const char *env0, *env1; /* variables, the first one set wins; env1 may be NULL */
    unsigned flags;
    opt_type type;
    const char *def; /* for --help; NULL: none */
    const char *metavar;
    const char *help;
} agent_opt;

#define DEP ENV1_DEPRECATED
static const agent_opt opts_table[N_OPTS] = {
    [O_SERVER] = {"Server", "server", NULL, "WOODPECKER_SERVER", NULL, 0, T_STR, "localhost:9000",
                  "ADDR", "gRPC address of the Woodpecker server: HOST:PORT or unix://PATH"},
    [O_TOKEN] = {NULL, "grpc-token", NULL, "WOODPECKER_AGENT_SECRET_FILE",
                 "WOODPECKER_AGENT_SECRET", 0, T_SECRET, NULL, "SECRET",
                 "agent secret or agent token; ..._SECRET_FILE names a file holding it and "
                 "wins over ..._SECRET (whitespace around it is trimmed)"},
    [O_SECURE] = {NULL, "grpc-secure", NULL, "WOODPECKER_GRPC_SECURE", NULL, 0, T_BOOL, "false",
                  NULL, "TLS to the server (ALPN h2)"},
    [O_SKIP_VERIFY] = {NULL, "grpc-skip-insecure", "grpc-skip-insecure-deprecated",
                       "WOODPECKER_GRPC_SKIP_VERIFY", "WOODPECKER_GRPC_VERIFY", DEP, T_BOOL,
                       "false", NULL,
                       "with TLS, do not verify the server's certificate. Unlike the Go agent "
                       "(default true: no verification), wpdock verifies unless this is set, "
                       "and warns when it is"},
    [O_CA_FILE] = {NULL, "grpc-ca-file", NULL, "WPDOCK_GRPC_CA_FILE", NULL, 0, T_STR,
                   "the system's", "FILE",
                   "with TLS, the CA certificates (PEM) to verify the server against (wpdock "
                   "only)"},
    [O_RETRY_TIMEOUT] = {NULL, "retry-timeout", NULL, "WOODPECKER_RETRY_TIMEOUT", NULL, 0, T_DUR,
                         "2m", "DURATION",
                         "how long a failing call to the server is retried; 0 = forever "
                         "(durations as Go writes them: 1h2m3.5s, 500ms, 0)"},
    [O_RETRY_COUNT] = {NULL, "connect-retry-count", NULL, "WOODPECKER_CONNECT_RETRY_COUNT", NULL, 0,
                       T_INT, "5", "N", "startup attempts while the server is unavailable"},
    [O_RETRY_DELAY] = {NULL, "connect-retry-delay", NULL, "WOODPECKER_CONNECT_RETRY_DELAY", NULL, 0,
                       T_DUR, "2s", "DURATION", "pause between those attempts"},
    [O_KA_TIME] = {NULL, "keepalive-time", NULL, "WOODPECKER_KEEPALIVE_TIME", NULL, 0, T_DUR, NULL,
                   "DURATION", "accepted and ignored (the Go agent does not apply it either)"},
    [O_KA_TIMEOUT] = {NULL, "keepalive-timeout", NULL, "WOODPECKER_KEEPALIVE_TIMEOUT", NULL, 0,
                      T_DUR, "20s", "DURATION", "accepted and ignored, as keepalive-time"},
    [O_HOSTNAME] = {"Agent", "hostname", NULL, "WOODPECKER_HOSTNAME", NULL, 0, T_STR,
                    "the host's name", "NAME",
                    "agent name, its hostname label and the steps' CI_MACHINE"},
    [O_CONFIG] = {NULL, "agent-config", NULL, "WOODPECKER_AGENT_CONFIG_FILE", NULL, EMPTY_COUNTS,
                  T_STR, "/etc/woodpecker/agent.conf", "FILE",
                  "where the agent id is kept ({\"agent_id\":N}; with several engines "
                  "{\"agents\":{\"NAME\":N}}); empty = stateless: unregister when stopping"},
    [O_LABELS] = {NULL, "labels", "filter", "WOODPECKER_AGENT_LABELS", "WOODPECKER_FILTER_LABELS",
                  DEP, T_LIST, NULL, "K=V,...",
                  "custom labels (repeatable), over the defaults hostname, platform, backend "
                  "and repo=*; a value * matches anything, a !KEY must match"},
    [O_MAX] = {NULL, "max-workflows", NULL, "WOODPECKER_MAX_WORKFLOWS", "WOODPECKER_MAX_PROCS", DEP,
               T_INT, "1", "N",
               "workflows at once on each engine (unless its ,max=N says otherwise)"},
    [O_SINGLE] = {NULL, "single-workflow", NULL, "WOODPECKER_AGENT_SINGLE_WORKFLOW", NULL, 0,
                  T_BOOL, "false", NULL, "stop after one workflow (one at a time)"},
    [O_BACKEND] = {NULL, "backend-engine", NULL, "WOODPECKER_BACKEND", NULL, 0, T_STR,
                   "auto-detect", "NAME",
                   "docker or auto-detect: wpdock has the docker backend only"},
    [O_HEALTH] = {"Health", "healthcheck", NULL, "WOODPECKER_HEALTHCHECK", NULL, 0, T_BOOL, "true",
                  NULL, "serve GET /healthz, /varz and /version"},
    [O_HEALTH_ADDR] = {NULL, "healthcheck-addr", NULL, "WOODPECKER_HEALTHCHECK_ADDR", NULL,
                       EMPTY_COUNTS, T_STR, ":3000", "ADDR",
                       "their address, [HOST]:PORT; also where `wpdock agent ping` asks"},
    [O_LOG_LEVEL] = {"Logging", "log-level", NULL, "WOODPECKER_LOG_LEVEL", NULL, 0, T_STR, "info",
                     "LEVEL",
                     "trace, debug, info, warn, error, fatal or panic (both: error), disabled"},
    [O_LOG_FILE] = {NULL, "log-file", NULL, "WOODPECKER_LOG_FILE", NULL, 0, T_STR, "stderr", "FILE",
                    "stderr, stdout or a file appended to; one line per message: "
                    "`2006-01-02T15:04:05Z INF message` (TRC DBG INF WRN ERR)"},
    [O_LOG_BUF] = {NULL, "log-entry-stream-buffer-size", NULL,
                   "WOODPECKER_LOG_ENTRY_STREAM_BUFFER_SIZE", NULL, 0, T_INT, "100", "N",
                   "accepted and ignored"},
    [O_PRETTY] = {NULL, "pretty", NULL, "WOODPECKER_DEBUG_PRETTY", NULL, 0, T_BOOL, NULL, NULL,
                  "accepted and ignored: the log format is fixed"},
    [O_NOCOLOR] = {NULL, "nocolor", NULL, "WOODPECKER_DEBUG_NOCOLOR", NULL, 0, T_BOOL, NULL, NULL,
                   "accepted and ignored: log lines have no colours"},
};

#undef DEP

#define HELP_COL 30
#define HELP_WIDTH 79
#define NBSP '\x01' /* a space the wrapping keeps ("default VALUE") */

/* text, word-wrapped from column HELP_COL to HELP_WIDTH; *used columns of
 * the current line are taken already. */
static void help_wrap(FILE *out, const char *text, int *used)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t wl = strcspn(p, " ");
        if (!wl)
            break;
        bool first = *used <= HELP_COL;
        if (!first && *used + 1 + (int)wl > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_COL, "");
            *used = HELP_COL;
            first = true;
        }
        if (!first) {
            fputc(' ', out);
            (*used)++;
        }
        for (size_t i = 0; i < wl; i++)
            fputc(p[i] == NBSP ? ' ' : p[i], out);
        *used += (int)wl;
        p += wl;
    }
}

static void help_option(FILE *out, const agent_opt *o)
{
    char left[96], vars[256];
    if (o->type == T_BOOL)
        snprintf(left, sizeof left, "      --%s[=BOOL]", o->flag);
    else
        snprintf(left, sizeof left, "      --%s %s", o->flag, o->metavar);
    int used = fprintf(out, "%s", left);
    if (used >= HELP_COL) {
        fputc('\n', out);
        used = 0;
    }
    fprintf(out, "%*s", HELP_COL - used, "");
    used = HELP_COL;
    help_wrap(out, o->help, &used);
    int n = snprintf(vars, sizeof vars, "(%s", o->env0);
    if (o->env1)
        n += snprintf(vars + n, sizeof vars - (size_t)n, ", %s%s", o->env1,
                      (o->flags & ENV1_DEPRECATED) ? " (deprecated)" : "");
    if (o->alias)
        n += snprintf(vars + n, sizeof vars - (size_t)n, "; --%s (deprecated)", o->alias);
    if (o->def)
        n += snprintf(vars + n, sizeof vars - (size_t)n, "; default%c%s", NBSP, o->def);
    snprintf(vars + n, sizeof vars - (size_t)n, ")");
    help_wrap(out, vars, &used);
    fputc('\n', out);
}

void help_agent(FILE *out)
{
    fputs("usage: wpdock agent [OPTIONS]\n"
          "       wpdock agent ping [--healthcheck-addr ADDR]\n"
          "\n"
          "Run as a Woodpecker agent with the docker backend (a drop-in for\n"
          "woodpecker-agent, gRPC protocol version 16): register with the server, take\n"
          "workflows and run them, one container per step, on one engine or several,\n"
          "reporting step states and logs, until SIGINT or SIGTERM (running workflows are\n"
          "canceled and reported; a second signal stops without waiting for the server).\n"
          "`ping` asks a running agent's GET /healthz: exit 0 when healthy, 1 when not.\n"
          "\n"
          "A .env file in the working directory is read first (KEY=VALUE lines; export,\n"
          "comments and quotes as godotenv reads them); variables already set keep their\n"
          "value. Every option is a flag and a variable; the flag wins. BOOL is 1, t, T,\n"
          "TRUE, true, True or 0, f, F, FALSE, false, False; a bare --FLAG means true.\n"
          "The same variables and defaults as woodpecker-agent, except one: TLS\n"
          "certificates of the server are verified by default (see --grpc-skip-insecure).\n",
          out);
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts_table[i].section)
            fprintf(out, "\n%s:\n", opts_table[i].section);
        help_option(out, &opts_table[i]);
    }
    fputs("\n"
          "Engines:\n"
          "  -H, --host URI            one engine (WOODPECKER_BACKEND_DOCKER_HOST,\n"
          "                            DOCKER_HOST)\n"
          "      --api-version V       pin the API version (..._API_VERSION,\n"
          "                            DOCKER_API_VERSION)\n"
          "      --engine NAME=URI[,max=N]\n"
          "                            several engines (repeatable; or WPDOCK_ENGINES=\n"
          "                            \"docker=unix:///var/run/docker.sock,max=2,\n"
          "                            podman=podman://\", a max=N item belonging to the\n"
          "                            engine before it): each registers as an agent of\n"
          "                            its own, named HOSTNAME/NAME, taking max=N\n"
          "                            workflows at once (default --max-workflows); an\n"
          "                            engine that cannot be reached at start is skipped\n"
          "                            with a warning\n"
          "\n",
          out);
    cli_help_settings(out);
    fputs("\n"
          "Exit status: 0 stopped cleanly (a signal, or --single-workflow done); 1 the\n"
          "agent failed (server unreachable, secret refused, version mismatch...), or\n"
          "`ping` found it unhealthy or unreachable; 2 bad usage, a bad value or a\n"
          "malformed .env (nothing was contacted); 3 no engine reachable.\n",
          out);
}

/* ------------------------------------------------------------ arguments */

enum { OPT_ENGINE = 1000, OPT_SETTING, OPT_AGENT = 2000, OPT_ALIAS = 3000 };

typedef struct agent_args {
    const char *host;
    char **engine_specs;
    size_t n_engine_specs;
    const char **set_name, **set_value;
    size_t n_set;
    /* agent options from flags: the last one, or every one (T_LIST) */
    const char *flag_val[N_OPTS];
    const char *flag_name[N_OPTS]; /* as given: the flag or its alias */
    const char **list_val;         /* T_LIST values (labels), in order */
    size_t n_list;
    bool ping;
} agent_args;

static void agent_args_free(agent_args *a)
{
    free(a->engine_specs);
    free(a->set_name);
    free(a->set_value);
    free(a->list_val);
}

static size_t build_options(struct option *o)
{
    size_t n = 0;
    for (size_t i = 0; i < N_OPTS; i++) {
        int has = opts_table[i].type == T_BOOL ? optional_argument : required_argument;
        o[n++] = (struct option){opts_table[i].flag, has, 0, OPT_AGENT + (int)i};
        if (opts_table[i].alias)
            o[n++] = (struct option){opts_table[i].alias, has, 0, OPT_ALIAS + (int)i};
    }
    o[n++] = (struct option){"host", required_argument, 0, 'H'};
    o[n++] = (struct option){"engine", required_argument, 0, OPT_ENGINE};
    n = cli_setting_options(o, n, OPT_SETTING);
    o[n] = (struct option){0, 0, 0, 0};
    return n;
}

/* One getopt pass over argv[0..argc) (argv[0] is the command's name);
 * returns the index of the first argument that is not an option, or -1
 * after printing what was wrong. */
static int parse_pass(int argc, char **argv, const struct option *opts, agent_args *a)
{
    int c, idx = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:H:", opts, &idx)) != -1) {
        if ((c >= OPT_AGENT && c < OPT_AGENT + N_OPTS) ||
            (c >= OPT_ALIAS && c < OPT_ALIAS + N_OPTS)) {
            bool alias = c >= OPT_ALIAS;
            size_t i = (size_t)(c - (alias ? OPT_ALIAS : OPT_AGENT));
            const agent_opt *o = &opts_table[i];
            const char *v = optarg ? optarg : "true"; /* a bare boolean flag */
            a->flag_name[i] = alias ? o->alias : o->flag;
            if (alias)
                cli_warn("agent: --%s is deprecated; use --%s", o->alias, o->flag);
            if (o->type == T_LIST)
                a->list_val[a->n_list++] = v;
            else
                a->flag_val[i] = v;
            continue;
        }
        switch (c) {
        case 'H': a->host = optarg; break;
        case OPT_ENGINE: a->engine_specs[a->n_engine_specs++] = optarg; break;
        case OPT_SETTING:
            a->set_name[a->n_set] = opts[idx].name;
            a->set_value[a->n_set++] = optarg;
            break;
        case ':': cli_error("agent: option \"%s\" needs a value", argv[optind - 1]); return -1;
        default:
            cli_error("agent: unknown option \"%s\" (see `wpdock agent --help`)", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

static int parse_agent_args(int argc, char **argv, agent_args *a)
{
    struct option opts[2 * N_OPTS + 3 + CLI_N_SETTING_FLAGS];
    build_options(opts);
    memset(a, 0, sizeof *a);
    size_t n = (size_t)argc + 1;
    a->engine_specs = calloc(n, sizeof *a->engine_specs);
    a->set_name = calloc(n, sizeof *a->set_name);
    a->set_value = calloc(n, sizeof *a->set_value);
    a->list_val = calloc(n, sizeof *a->list_val);
    int first = parse_pass(argc, argv, opts, a);
    if (first < 0)
        return WPD_EXIT_USAGE;
    if (first < argc && strcmp(argv[first], "ping") == 0) {
        a->ping = true;
        int rest = parse_pass(argc - first, argv + first, opts, a);
        if (rest < 0)
            return WPD_EXIT_USAGE;
        first += rest;
    }
    if (first < argc) {
        const char *arg = argv[first];
        bool boolean = strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0;
        cli_error("agent: unexpected argument \"%s\"%s", arg,
                  boolean ? " (a boolean flag takes its value as --FLAG=BOOL)"
                          : " (see `wpdock agent --help`)");
        return WPD_EXIT_USAGE;
    }
    return WPD_EXIT_OK;
}

/* ------------------------------------------------------------ values */

/* Where an option's value comes from: its flag, the first of its variables
 * that is set, or nothing (value NULL: the default). */
typedef struct source {
    const char *value;
    char origin[64]; /* "--max-workflows" or "WOODPECKER_MAX_WORKFLOWS" */
    bool from_flag;
    bool env_index1; /* from env1 */
} source;

static source lookup(const agent_args *a, size_t i)
{
    const agent_opt *o = &opts_table[i];
    source s = {0};
    if (a->flag_val[i]) {
        s.value = a->flag_val[i];
        s.from_flag = true;
        snprintf(s.origin, sizeof s.origin, "--%s", a->flag_name[i]);
        return s;
    }
    const char *const names[2] = {o->env0, o->env1};
    for (int k = 0; k < 2 && names[k]; k++) {
        const char *v = getenv(names[k]);
        /* an empty variable is unset, except where "" means something */
        if (!v || (!*v && !(o->flags & EMPTY_COUNTS)))
            continue;
        s.value = v;
        s.env_index1 = k == 1;
        snprintf(s.origin, sizeof s.origin, "%s", names[k]);
        if (k == 1 && (o->flags & ENV1_DEPRECATED))
            cli_warn("agent: %s is deprecated; use %s", o->env1, o->env0);
        return s;
    }
    return s;
}

static int bad_value(const source *s, const char *why)
{
    cli_error("agent: %s: \"%s\": %s", s->origin, s->value, why);
    return -1;
}

static int get_bool(const agent_args *a, size_t i, bool def, bool *out)
{
    source s = lookup(a, i);
    *out = def;
    if (s.value && go_parse_bool(s.value, out) != 0)
        return bad_value(&s, "not a boolean (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, "
                             "False)");
    return 0;
}

static int get_int(const agent_args *a, size_t i, long def, long min, long max, long *out)
{
    source s = lookup(a, i);
    *out = def;
    if (!s.value)
        return 0;
    if (go_parse_int(s.value, out) != 0)
        return bad_value(&s, "not an integer");
    if (*out < min || *out > max) {
        char why[96];
        snprintf(why, sizeof why, "must be between %ld and %ld", min, max);
        return bad_value(&s, why);
    }
    return 0;
}

/* A duration in seconds, not negative. */
static int get_duration(const agent_args *a, size_t i, double def, double *out)
{
    source s = lookup(a, i);
    *out = def;
    if (!s.value)
        return 0;
    int64_t ns;
    char why[128];
    if (go_parse_duration(s.value, &ns, why, sizeof why) != 0) {
        size_t l = strlen(why);
        snprintf(why + l, sizeof why - l, " (e.g. 1h2m3.5s, 500ms, 0)");
        return bad_value(&s, why);
    }
    if (ns < 0)
        return bad_value(&s, "must not be negative");
    *out = (double)ns / 1e9;
    return 0;
}

static const char *get_str(const agent_args *a, size_t i, const char *def)
{
    source s = lookup(a, i);
    return s.value ? s.value : def;
}

/* The secret: --grpc-token, else the file WOODPECKER_AGENT_SECRET_FILE
 * names (trimmed), else WOODPECKER_AGENT_SECRET. malloc'd, or NULL when
 * none is given; *failed after printing why the file cannot be read. */
static char *get_secret(const agent_args *a, bool *failed)
{
    source s = lookup(a, O_TOKEN);
    *failed = false;
    if (!s.value)
        return NULL;
    if (s.from_flag || s.env_index1)
        return strdup(s.value);
    FILE *f = fopen(s.value, "rb");
    if (!f) {
        cli_error("agent: WOODPECKER_AGENT_SECRET_FILE: cannot read \"%s\": %s", s.value,
                  strerror(errno));
        *failed = true;
        return NULL;
    }
    char *buf = calloc(1, SECRET_FILE_MAX + 1);
    size_t n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    bool rd = ferror(f) != 0;
    fclose(f);
    if (rd || n > SECRET_FILE_MAX) {
        cli_error("agent: WOODPECKER_AGENT_SECRET_FILE: \"%s\" %s", s.value,
                  rd ? "cannot be read" : "is larger than 64 KiB");
        memset(buf, 0, n < SECRET_FILE_MAX ? n : SECRET_FILE_MAX);
        free(buf);
        *failed = true;
        return NULL;
    }
    size_t b = 0, e = n;
    while (b < e && strchr(" \t\r\n\v\f", buf[b]))
        b++;
    while (e > b && strchr(" \t\r\n\v\f", buf[e - 1]))
        e--;
    memmove(buf, buf + b, e - b);
    memset(buf + (e - b), 0, n - (e - b));
    return buf;
}

/* Every label flag (or the variable), checked. 0, or -1 after printing. */
static int get_labels(const agent_args *a, char ***labels)
{
    size_t n = 0;
    char why[256];
    *labels = NULL;
    if (a->n_list) {
        for (size_t i = 0; i < a->n_list; i++)
            if (go_parse_labels(a->list_val[i], labels, &n, why, sizeof why) != 0) {
                cli_error("agent: --%s: \"%s\": %s", a->flag_name[O_LABELS], a->list_val[i], why);
                return -1;
            }
        return 0;
    }
    source s = lookup(a, O_LABELS);
    if (s.value && go_parse_labels(s.value, labels, &n, why, sizeof why) != 0)
        return bad_value(&s, why);
    return 0;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int get_log_level(const agent_args *a, wpd_agent_log_level *out)
{
    static const struct {
        const char *name;
        wpd_agent_log_level level;
    } levels[] = {
        {"trace", WPD_AGENT_LOG_TRACE}, {"debug", WPD_AGENT_LOG_DEBUG},
        {"info", WPD_AGENT_LOG_INFO},   {"warn", WPD_AGENT_LOG_WARN},
        {"error", WPD_AGENT_LOG_ERROR}, {"fatal", WPD_AGENT_LOG_ERROR},
        {"panic", WPD_AGENT_LOG_ERROR}, {"disabled", WPD_AGENT_LOG_DISABLED},
    };
    source s = lookup(a, O_LOG_LEVEL);
    *out = WPD_AGENT_LOG_INFO;
    if (!s.value)
        return 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(s.value, levels[i].name) == 0) {
            *out = levels[i].level;
            return 0;
        }
    return bad_value(&s, "not a log level (trace, debug, info, warn, error, fatal, panic, "
                         "disabled)");
}

/* ------------------------------------------------------------ running */

typedef struct agent_run {
    wpd_agent *agent;
    FILE *log;
    wpd_agent_log_level level;
    bool stopped;
} agent_run;

static void on_log(wpd_agent_log_level level, const char *msg, void *arg)
{
    static const char *const names[] = {"TRC", "DBG", "INF", "WRN", "ERR"};
    agent_run *st = arg;
    if (st->level == WPD_AGENT_LOG_DISABLED || level < st->level || level >= WPD_AGENT_LOG_DISABLED)
        return;
    time_t now = time(NULL);
    struct tm tm;
    char ts[32] = "";
    if (gmtime_r(&now, &tm))
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(st->log, "%s %s ", ts, names[level]);
    fputs_printable(msg, st->log);
    fputc('\n', st->log);
    fflush(st->log);
}

static void on_stopped(wpd_agent *a, void *arg)
{
    (void)a;
    agent_run *st = arg;
    st->stopped = true;
}

static void on_signal(int signo, void *arg)
{
    (void)signo;
    agent_run *st = arg;
    wpd_agent_shutdown(st->agent);
}

static int cmd_ping(const agent_args *a)
{
    const char *addr = get_str(a, O_HEALTH_ADDR, ":3000");
    wpd_error err;
    wpd_error_clear(&err);
    if (wpd_agent_ping(addr, PING_TIMEOUT_MS, &err) != 0) {
        cli_error("agent ping: %s", err.message);
        return err.kind == WPD_ERR_USAGE ? WPD_EXIT_USAGE : WPD_EXIT_FAILED;
    }
    return WPD_EXIT_OK;
}

/* Everything the agent's configuration takes from options, checked
 * before anything is contacted. 0, or -1 after printing the error. */
typedef struct agent_values {
    wpd_agent_config cfg;
    char *secret;
    char **labels;
    long max_workflows;
    const char *log_file;
} agent_values;

static int read_values(const agent_args *a, agent_values *v)
{
    wpd_agent_config *cfg = &v->cfg;
    wpd_agent_config_init(cfg);
    long count, ignored_int;
    bool skip_verify, ignored_bool, health;
    double ignored_dur;
    const char *backend = get_str(a, O_BACKEND, "auto-detect");
    if (strcmp(backend, "docker") != 0 && strcmp(backend, "auto-detect") != 0) {
        source s = lookup(a, O_BACKEND);
        return bad_value(&s, "wpdock has the docker backend only (docker or auto-detect)");
    }
    if (get_bool(a, O_SECURE, false, &cfg->grpc_secure) ||
        get_bool(a, O_SKIP_VERIFY, false, &skip_verify) ||
        get_bool(a, O_SINGLE, false, &cfg->single_workflow) ||
        get_bool(a, O_HEALTH, true, &health) || get_bool(a, O_PRETTY, false, &ignored_bool) ||
        get_bool(a, O_NOCOLOR, false, &ignored_bool) ||
        get_int(a, O_MAX, 1, 1, CLI_MAX_WORKFLOWS, &v->max_workflows) ||
        get_int(a, O_RETRY_COUNT, 5, 0, 1000000, &count) ||
        get_int(a, O_LOG_BUF, 100, 0, 1000000000, &ignored_int) ||
        get_duration(a, O_RETRY_TIMEOUT, 120, &cfg->retry_timeout) ||
        get_duration(a, O_RETRY_DELAY, 2, &cfg->connect_retry_delay) ||
        get_duration(a, O_KA_TIME, 0, &ignored_dur) ||
        get_duration(a, O_KA_TIMEOUT, 20, &ignored_dur) || get_log_level(a, &cfg->log_level) ||
        get_labels(a, &v->labels))
        return -1;
    cfg->grpc_skip_verify = skip_verify;
    cfg->connect_retry_count = (int)count;
    cfg->server = get_str(a, O_SERVER, "localhost:9000");
    cfg->grpc_ca_file = get_str(a, O_CA_FILE, NULL);
    cfg->hostname = get_str(a, O_HOSTNAME, NULL);
    cfg->config_file = get_str(a, O_CONFIG, "/etc/woodpecker/agent.conf");
    cfg->healthcheck_addr = health ? get_str(a, O_HEALTH_ADDR, ":3000") : NULL;
    cfg->labels = (const char *const *)v->labels;
    v->log_file = get_str(a, O_LOG_FILE, "stderr");
    bool failed;
    v->secret = get_secret(a, &failed);
    if (failed)
        return -1;
    if (!v->secret || !*v->secret) {
        cli_error("agent: no agent secret (set WOODPECKER_AGENT_SECRET, "
                  "WOODPECKER_AGENT_SECRET_FILE or --grpc-token)");
        return -1;
    }
    cfg->secret = v->secret;
    if (cfg->grpc_secure && skip_verify)
        cli_warn("agent: the Woodpecker server's TLS certificate is not verified "
                 "(WOODPECKER_GRPC_SKIP_VERIFY / --grpc-skip-insecure)");
    return 0;
}

static void free_values(agent_values *v)
{
    if (v->secret)
        memset(v->secret, 0, strlen(v->secret));
    free(v->secret);
    free_strv(v->labels);
}

static FILE *open_log(const char *name)
{
    if (strcmp(name, "stderr") == 0)
        return stderr;
    if (strcmp(name, "stdout") == 0)
        return stdout;
    FILE *f = fopen(name, "a");
    if (!f)
        cli_error("agent: log file \"%s\" (WOODPECKER_LOG_FILE / --log-file): %s", name,
                  strerror(errno));
    return f;
}

int cmd_agent(int argc, char **argv)
{
    char msg[1200];
    if (dotenv_load(".env", msg, sizeof msg) < 0) {
        cli_error("agent: %s", msg);
        return WPD_EXIT_USAGE;
    }
    agent_args args;
    if (parse_agent_args(argc, argv, &args) != WPD_EXIT_OK) {
        agent_args_free(&args);
        return WPD_EXIT_USAGE;
    }
    if (args.ping) {
        int rc = cmd_ping(&args);
        agent_args_free(&args);
        return rc;
    }

    int rc = WPD_EXIT_USAGE;
    agent_values v = {0};
    wpd_settings *settings = NULL;
    cli_engines es = {0};
    wpd_reactor *r = NULL;
    wpd_agent_engine *engines = NULL;
    wpd_signal *sigint = NULL, *sigterm = NULL;
    agent_run st = {0};
    wpd_error err;
    wpd_error_clear(&err);

    /* 1. everything that can be checked without contacting anything */
    if (read_values(&args, &v) != 0)
        goto out;
    settings = cli_settings_build("agent", args.set_name, args.set_value, args.n_set);
    if (!settings)
        goto out;
    if (cli_engines_init_capacity(&es, args.engine_specs, args.n_engine_specs, args.host, &err) !=
        0) {
        cli_error("agent: %s", err.message);
        goto out;
    }
    st.level = v.cfg.log_level;
    st.log = open_log(v.log_file);
    if (!st.log)
        goto out;

    /* 2. the engines */
    r = wpd_reactor_new(&err);
    if (!r) {
        cli_error("%s", err.message);
        rc = WPD_EXIT_FAILED;
        goto out;
    }
    rc = cli_engines_report(&es, cli_engines_connect(&es, r));
    if (rc != WPD_EXIT_OK)
        goto out;
    engines = calloc(es.n, sizeof *engines);
    size_t n = 0;
    for (size_t i = 0; i < es.n; i++)
        if (es.v[i].up)
            engines[n++] = (wpd_agent_engine){.name = es.named ? es.v[i].name : NULL,
                                              .engine = es.v[i].engine,
                                              .max_workflows =
                                                  es.v[i].max ? es.v[i].max : (int)v.max_workflows};
    v.cfg.engines = engines;
    v.cfg.n_engines = n;
    v.cfg.settings = settings;
    v.cfg.log = on_log;
    v.cfg.log_arg = &st;

    /* 3. the agent, until it stops */
    st.agent = wpd_agent_new(r, &v.cfg, &err);
    if (!st.agent) {
        cli_error("agent: %s", err.message);
        rc = err.kind == WPD_ERR_USAGE ? WPD_EXIT_USAGE : WPD_EXIT_FAILED;
        goto out;
    }
    sigint = wpd_signal_new(r, SIGINT, on_signal, &st);
    sigterm = wpd_signal_new(r, SIGTERM, on_signal, &st);
    /* a log reader that goes away must not end the agent mid-workflow */
    signal(SIGPIPE, SIG_IGN);
    wpd_agent_start(st.agent, on_stopped, &st);
    if (wpd_reactor_run_until(r, &st.stopped) != 0 && !st.stopped) {
        cli_error("agent: the event loop stopped before the agent did");
        rc = WPD_EXIT_FAILED;
        goto out;
    }
    const wpd_error *e = wpd_agent_error(st.agent);
    if (e) {
        cli_error("agent: %s", e->message);
        rc = e->kind == WPD_ERR_USAGE ? WPD_EXIT_USAGE : WPD_EXIT_FAILED;
    } else {
        rc = WPD_EXIT_OK;
    }

out:
    wpd_signal_free(sigint);
    wpd_signal_free(sigterm);
    wpd_agent_free(st.agent);
    free(engines);
    cli_engines_free(&es);
    wpd_reactor_free(r);
    wpd_settings_destroy(settings);
    if (st.log && st.log != stderr && st.log != stdout)
        fclose(st.log);
    else if (st.log)
        fflush(st.log);
    free_values(&v);
    agent_args_free(&args);
    return rc;
}
