/* engines.h - the set of engines a command works with: one default engine
 * (-H / DOCKER_HOST), or several named ones from `--engine NAME=URI` or
 * WPDOCK_ENGINES="a=URI,b=URI" (for `wpdock agent` also with a capacity:
 * "NAME=URI,max=N"). Connects them all at once on the reactor. */
#ifndef WPDOCK_CLI_ENGINES_H
#define WPDOCK_CLI_ENGINES_H

#include <stdbool.h>
#include <stddef.h>
#include <wpdock/engine.h>

/* The most workflows at once an engine may be given. */
#define CLI_MAX_WORKFLOWS 1000000

typedef struct cli_engine {
    char *name;
    char *uri; /* NULL: from the environment */
    wpd_engine *engine;
    bool up;   /* connected */
    bool done; /* connect finished (either way) */
    wpd_error err;
    size_t load; /* workflows placed on it */
    int max;     /* ",max=N" (cli_engines_init_capacity); 0 when not given */
} cli_engine;

typedef struct cli_engines {
    cli_engine *v;
    size_t n;
    bool named; /* came from --engine / WPDOCK_ENGINES */
    wpd_plugin_registry *reg;
} cli_engines;

/* specs: "NAME=URI" strings from --engine flags (may be empty: then
 * WPDOCK_ENGINES, then one engine "default" at `host` or the environment). */
int cli_engines_init(cli_engines *es, char **specs, size_t n_specs, const char *host,
                     wpd_error *err);
/* The same, where an engine may be followed by its capacity: a spec is
 * "NAME=URI" or "NAME=URI,max=N", and in WPDOCK_ENGINES a "max=N" item right
 * after an engine's item belongs to that engine (N >= 1). */
int cli_engines_init_capacity(cli_engines *es, char **specs, size_t n_specs, const char *host,
                              wpd_error *err);
/* Create and connect every engine; returns the number that are up. */
size_t cli_engines_connect(cli_engines *es, wpd_reactor *r);
/* What `info` and `cleanup` start with: cli_engines_init, a new reactor,
 * cli_engines_connect. 0 (WPD_EXIT_OK) with *r set and *up (when given) the
 * number of engines up; otherwise the error is printed ("<cmd>: <message>"
 * for a bad engine list, then WPD_EXIT_USAGE; the reactor's message, then
 * WPD_EXIT_FAILED), es is freed, *r is NULL, and that exit code returned. */
int cli_engines_open(cli_engines *es, const char *cmd, char **specs, size_t n_specs,
                     const char *host, wpd_reactor **r, size_t *up);
/* After cli_engines_connect returned `up`: an engine that is down is
 * reported (a warning that it is skipped when it is one of several named
 * engines and another is up, else an error), the warning of each that is up
 * too. WPD_EXIT_OK when one is up, else WPD_EXIT_USAGE or WPD_EXIT_ENGINE
 * by the first engine's error. */
int cli_engines_report(const cli_engines *es, size_t up);
cli_engine *cli_engines_find(cli_engines *es, const char *name);
void cli_engines_free(cli_engines *es);

#endif
