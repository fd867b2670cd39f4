/* engines.c - parsing engine lists and connecting several engines at once. */
#include "engines.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "govalues.h"

static int add_spec(cli_engines *es, const char *spec, const char *origin, wpd_error *err)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "%s: \"%s\" is not NAME=URI (e.g. podman=unix:///run/podman/"
                             "podman.sock)",
                             origin, spec);
    size_t nl = (size_t)(eq - spec);
    for (size_t i = 0; i < es->n; i++)
        if (strlen(es->v[i].name) == nl && strncmp(es->v[i].name, spec, nl) == 0)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: engine name \"%.*s\" given twice",
                                 origin, (int)nl, spec);
    es->v = realloc(es->v, (es->n + 1) * sizeof *es->v);
    cli_engine *e = &es->v[es->n++];
    memset(e, 0, sizeof *e);
    e->name = strndup(spec, nl);
    e->uri = strdup(eq + 1);
    return 0;
}

/* "max=N" given to the last engine added (when there is one: `follows`). */
static int add_max(cli_engines *es, bool follows, const char *item, const char *spec,
                   const char *origin, wpd_error *err)
{
    long n;
    if (!follows || !es->n)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "%s: \"%s\" must follow an engine (NAME=URI,max=N)", origin, item);
    cli_engine *e = &es->v[es->n - 1];
    if (go_parse_int(item + 4, &n) != 0 || n < 1 || n > CLI_MAX_WORKFLOWS)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "%s: \"%s\": the number of workflows at once on engine %s must be an "
                             "integer of at least 1",
                             origin, item, e->name);
    if (e->max)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: \"%s\": engine %s has a max already",
                             origin, spec, e->name);
    e->max = (int)n;
    return 0;
}

/* One --engine value (`one`) or the whole WPDOCK_ENGINES list:
 * comma-separated NAME=URI items; with `capacity`, max=N items too, each
 * giving the engine before it its capacity (and a --engine value is then
 * one engine: only max=N may follow its NAME=URI). */
static int add_list(cli_engines *es, const char *list, bool capacity, bool one, const char *origin,
                    wpd_error *err)
{
    char *copy = strdup(list), *save = NULL;
    int rc = 0;
    size_t seen = 0; /* items so far */
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        if (capacity && strncmp(tok, "max=", 4) == 0)
            rc = add_max(es, seen > 0, tok, list, origin, err);
        else if (capacity && one && seen > 0)
            rc = wpd_error_set(err, WPD_ERR_USAGE, 0, "%s: \"%s\": only max=N may follow NAME=URI",
                               origin, list);
        else
            rc = add_spec(es, tok, origin, err);
        seen++;
    }
    free(copy);
    return rc;
}

static int engines_init(cli_engines *es, char **specs, size_t n_specs, const char *host,
                        bool capacity, wpd_error *err)
{
    memset(es, 0, sizeof *es);
    if (host && !*host)
        return wpd_error_set(err, WPD_ERR_USAGE, 0,
                             "-H/--host: the endpoint is empty (give a URI such as "
                             "unix:///var/run/docker.sock, or leave -H out to use DOCKER_HOST)");
    if (n_specs) {
        if (host)
            return wpd_error_set(err, WPD_ERR_USAGE, 0, "use either -H/--host or --engine");
        for (size_t i = 0; i < n_specs; i++)
            if ((capacity ? add_list(es, specs[i], true, true, "--engine", err)
                          : add_spec(es, specs[i], "--engine", err)) != 0)
                return -1;
        es->named = true;
        return 0;
    }
    const char *env = getenv("WPDOCK_ENGINES");
    if (env && *env && !host) {
        if (add_list(es, env, capacity, false, "WPDOCK_ENGINES", err) != 0)
            return -1;
        if (es->n) {
            es->named = true;
            return 0;
        }
    }
    es->v = calloc(1, sizeof *es->v);
    es->n = 1;
    es->v[0].name = strdup("default");
    es->v[0].uri = host ? strdup(host) : NULL;
    return 0;
}

int cli_engines_init(cli_engines *es, char **specs, size_t n_specs, const char *host,
                     wpd_error *err)
{
    return engines_init(es, specs, n_specs, host, false, err);
}

int cli_engines_init_capacity(cli_engines *es, char **specs, size_t n_specs, const char *host,
                              wpd_error *err)
{
    return engines_init(es, specs, n_specs, host, true, err);
}

static void on_ready(wpd_engine *engine, const wpd_error *err, void *arg)
{
    (void)engine;
    cli_engine *e = arg;
    e->done = true;
    e->up = err == NULL;
    if (err)
        e->err = *err;
}

size_t cli_engines_connect(cli_engines *es, wpd_reactor *r)
{
    if (!es->reg)
        es->reg = wpd_plugins_load(NULL);
    size_t pending = 0;
    for (size_t i = 0; i < es->n; i++) {
        cli_engine *e = &es->v[i];
        e->engine = wpd_engine_new(r, es->reg, e->name, e->uri, NULL, NULL, &e->err);
        if (!e->engine) {
            e->done = true;
            continue;
        }
        pending++;
        wpd_engine_connect(e->engine, on_ready, e);
    }
    /* they all connect at once; wait for each in turn */
    for (size_t i = 0; pending && i < es->n; i++)
        if (!es->v[i].done && wpd_reactor_run_until(r, (volatile bool *)&es->v[i].done) != 0)
            break;
    size_t up = 0;
    for (size_t i = 0; i < es->n; i++)
        up += es->v[i].up;
    return up;
}

int cli_engines_open(cli_engines *es, const char *cmd, char **specs, size_t n_specs,
                     const char *host, wpd_reactor **r, size_t *up)
{
    wpd_error err;
    wpd_error_clear(&err);
    *r = NULL;
    if (cli_engines_init(es, specs, n_specs, host, &err) != 0) {
        cli_error("%s: %s", cmd, err.message);
        cli_engines_free(es);
        return WPD_EXIT_USAGE;
    }
    *r = wpd_reactor_new(&err);
    if (!*r) {
        cli_error("%s", err.message);
        cli_engines_free(es);
        return WPD_EXIT_FAILED;
    }
    size_t n = cli_engines_connect(es, *r);
    if (up)
        *up = n;
    return WPD_EXIT_OK;
}

int cli_engines_report(const cli_engines *es, size_t up)
{
    for (size_t i = 0; i < es->n; i++) {
        const cli_engine *ce = &es->v[i];
        if (!ce->up) {
            if (es->named && up)
                cli_warn("engine %s is unreachable and is skipped: %s", ce->name, ce->err.message);
            else
                cli_error("%s", ce->err.message);
            continue;
        }
        const wpd_engine_info *info = wpd_engine_get_info(ce->engine);
        if (info->warning && *info->warning)
            cli_warn("%s", info->warning);
    }
    if (!up)
        return es->v[0].err.kind == WPD_ERR_USAGE ? WPD_EXIT_USAGE : WPD_EXIT_ENGINE;
    return WPD_EXIT_OK;
}

cli_engine *cli_engines_find(cli_engines *es, const char *name)
{
    for (size_t i = 0; i < es->n; i++)
        if (strcmp(es->v[i].name, name) == 0)
            return &es->v[i];
    return NULL;
}

void cli_engines_free(cli_engines *es)
{
    for (size_t i = 0; i < es->n; i++) {
        wpd_engine_free(es->v[i].engine);
        free(es->v[i].name);
        free(es->v[i].uri);
    }
    free(es->v);
    wpd_plugins_free(es->reg);
    memset(es, 0, sizeof *es);
}
