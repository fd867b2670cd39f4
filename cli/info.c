/* info.c - `wpdock info`: for each engine, the endpoint, the transport
 * plugin, the engine's kind and version, the negotiated API version and
 * the platform - or why it cannot be reached. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wpdock/engine.h>

#include "cli.h"
#include "printable.h"
#include "engines.h"
#include "output.h"

void help_info(FILE *out)
{
    fputs("usage: wpdock info [-H URI | --engine NAME=URI...] [--format text|json]\n"
          "\n"
          "Connect to the engine(s) and show: endpoint, transport plugin (name and file),\n"
          "engine kind and version, negotiated Engine API version, platform; for an\n"
          "engine that cannot be reached, why not.\n"
          "\n"
          "Options:\n"
          "  -H, --host URI        engine endpoint (default: $WOODPECKER_BACKEND_DOCKER_HOST,\n"
          "                        then $DOCKER_HOST, then unix:///var/run/docker.sock)\n"
          "      --engine NAME=URI  one of several engines (repeatable; default from\n"
          "                        $WPDOCK_ENGINES=\"docker=unix:///var/run/docker.sock,...\")\n"
          "      --format FMT      text (default) or json (one object; an array for\n"
          "                        several engines)\n"
          "\n"
          "Endpoints: unix:///path (Docker or Podman socket), podman:// (find the Podman\n"
          "socket) or podman:///path, tcp://host:port (TLS with DOCKER_CERT_PATH).\n"
          "\n"
          "Exit status 0 when every engine answered, 3 when one is unreachable,\n"
          "2 on bad usage.\n",
          out);
}

static void kv(const char *key, const char *v, int last)
{
    printf("\"%s\":", key);
    json_put_string(stdout, v ? v : "", v ? strlen(v) : 0);
    if (!last)
        putchar(',');
}

static void print_json(const cli_engine *ce)
{
    printf("{");
    kv("name", ce->name, 0);
    if (!ce->up) {
        kv("endpoint", ce->engine ? wpd_engine_get_info(ce->engine)->endpoint : ce->uri, 0);
        printf("\"reachable\":false,");
        kv("error", ce->err.message, 1);
        printf("}");
        return;
    }
    const wpd_engine_info *i = wpd_engine_get_info(ce->engine);
    printf("\"reachable\":true,");
    kv("endpoint", i->endpoint, 0);
    kv("transport", i->plugin_name, 0);
    kv("transport_version", i->plugin_version, 0);
    kv("transport_file", i->plugin_path, 0);
    kv("engine", i->kind_name, 0);
    kv("engine_version", i->engine_version, 0);
    kv("engine_api_version", i->engine_api_version, 0);
    kv("api_version", i->api_version, 0);
    printf("\"api_pinned\":%s,", i->api_pinned ? "true" : "false");
    kv("libpod_api_version", i->libpod_version, 0);
    kv("platform", i->platform, 1);
    printf("}");
}

/* One line of the text form; what the engine or the user supplied is
 * escaped (printable.h). */
static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf_printable(stdout, fmt, ap);
    putchar('\n');
    va_end(ap);
}

static void print_text(const cli_engine *ce, bool named)
{
    if (named)
        line("%s:", ce->name);
    const char *ind = named ? "  " : "";
    if (!ce->up) {
        line("%sendpoint:     %s", ind,
             ce->engine ? wpd_engine_get_info(ce->engine)->endpoint
                        : (ce->uri ? ce->uri : "(from the environment)"));
        line("%sunreachable:  %s", ind, ce->err.message);
        return;
    }
    const wpd_engine_info *i = wpd_engine_get_info(ce->engine);
    line("%sendpoint:     %s", ind, i->endpoint);
    line("%stransport:    %s %s (%s)", ind, i->plugin_name, i->plugin_version, i->plugin_path);
    bool libpod = i->libpod_version && *i->libpod_version;
    line("%sengine:       %s %s%s%s%s", ind, i->kind_name, i->engine_version,
         libpod ? " (libpod API " : "", libpod ? i->libpod_version : "", libpod ? ")" : "");
    if (i->api_pinned)
        line("%sapi version:  %s (pinned; engine supports up to %s)", ind, i->api_version,
             *i->engine_api_version ? i->engine_api_version : "?");
    else
        line("%sapi version:  %s (negotiated: engine up to %s, wpdock up to %s)", ind,
             i->api_version, i->engine_api_version, WPD_API_VERSION_MAX);
    line("%splatform:     %s", ind, i->platform);
}

int cmd_info(int argc, char **argv)
{
    const char *host = NULL;
    int json = 0;
    char *specs[64];
    size_t n_specs = 0;
    static const struct option opts[] = {{"host", required_argument, 0, 'H'},
                                         {"format", required_argument, 0, 'f'},
                                         {"engine", required_argument, 0, 'e'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:H:", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'e':
            if (n_specs == 64) {
                cli_error("info: too many --engine options");
                return WPD_EXIT_USAGE;
            }
            specs[n_specs++] = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = 1;
            else if (strcmp(optarg, "text") != 0) {
                cli_error("info: --format must be text or json, not \"%s\"", optarg);
                return WPD_EXIT_USAGE;
            }
            break;
        case ':': cli_error("info: option \"%s\" needs a value", argv[optind - 1]); return 2;
        default:
            cli_error("info: unknown option \"%s\" (see `wpdock info --help`)", argv[optind - 1]);
            return WPD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("info: unexpected argument \"%s\"", argv[optind]);
        return WPD_EXIT_USAGE;
    }
    cli_engines es;
    wpd_reactor *r;
    size_t up;
    int rc = cli_engines_open(&es, "info", specs, n_specs, host, &r, &up);
    if (rc != WPD_EXIT_OK)
        return rc;
    rc = up == es.n ? WPD_EXIT_OK : WPD_EXIT_ENGINE;
    for (size_t i = 0; i < es.n; i++) {
        cli_engine *ce = &es.v[i];
        if (!ce->up && ce->err.kind == WPD_ERR_USAGE)
            rc = WPD_EXIT_USAGE;
        if (ce->up) {
            const wpd_engine_info *inf = wpd_engine_get_info(ce->engine);
            if (inf->warning && *inf->warning)
                cli_warn("%s: %s", ce->name, inf->warning);
        } else if (!es.named || json) {
            cli_error("%s", ce->err.message);
        }
        if (!ce->up && ce->err.kind == WPD_ERR_PLUGIN) {
            for (size_t k = 0; k < wpd_plugins_refused_count(es.reg); k++) {
                const wpd_plugin_refusal *ref = wpd_plugins_refused(es.reg, k);
                cli_warn("plugin %s refused: %s", ref->path, ref->reason);
            }
        }
    }
    if (json) {
        if (es.named)
            putchar('[');
        for (size_t i = 0; i < es.n; i++) {
            if (!es.named && !es.v[i].up)
                break;
            if (i)
                putchar(',');
            print_json(&es.v[i]);
        }
        if (es.named)
            putchar(']');
        if (es.named || es.v[0].up)
            putchar('\n');
    } else {
        for (size_t i = 0; i < es.n; i++) {
            if (!es.named && !es.v[i].up)
                break;
            print_text(&es.v[i], es.named);
        }
    }
    cli_engines_free(&es);
    wpd_reactor_free(r);
    return rc;
}
