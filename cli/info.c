/* info.c - `wpdock info`: which engine wpdock would use, through which
 * transport plugin, the engine's kind and version, the negotiated API
 * version and the platform. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wpdock/engine.h>

#include "cli.h"

void help_info(FILE *out)
{
    fputs("usage: wpdock info [-H URI] [--format text|json]\n"
          "\n"
          "Connect to the engine and show: endpoint, transport plugin (name and file),\n"
          "engine kind and version, negotiated Engine API version, platform.\n"
          "\n"
          "Options:\n"
          "  -H, --host URI     engine endpoint (default: $WOODPECKER_BACKEND_DOCKER_HOST,\n"
          "                     then $DOCKER_HOST, then unix:///var/run/docker.sock)\n"
          "      --format FMT   text (default) or json (one object on stdout)\n"
          "\n"
          "Exit status 0 when the engine answered, 3 when it is unreachable,\n"
          "2 on bad usage.\n",
          out);
}

static void print_json_str(const char *key, const char *v, int last)
{
    printf("\"%s\":\"", key);
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            printf("\\u%04x", (unsigned char)*p);
        else
            putchar(*p);
    }
    printf("\"%s", last ? "" : ",");
}

int cmd_info(int argc, char **argv)
{
    const char *host = NULL;
    int json = 0;
    static const struct option opts[] = {
        {"host", required_argument, 0, 'H'}, {"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+H:", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = 1;
            else if (strcmp(optarg, "text") != 0) {
                cli_error("info: --format must be text or json, not \"%s\"", optarg);
                return WPD_EXIT_USAGE;
            }
            break;
        default:
            cli_error("info: unknown option \"%s\" (see `wpdock info --help`)", argv[optind - 1]);
            return WPD_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("info: unexpected argument \"%s\"", argv[optind]);
        return WPD_EXIT_USAGE;
    }
    wpd_error err;
    wpd_error_clear(&err);
    wpd_reactor *r = wpd_reactor_new(&err);
    if (!r) {
        cli_error("%s", err.message);
        return WPD_EXIT_FAILED;
    }
    wpd_plugin_registry *reg = wpd_plugins_load(NULL);
    int rc = WPD_EXIT_OK;
    wpd_engine *e = wpd_engine_new(r, reg, NULL, host, NULL, NULL, &err);
    if (!e || wpd_engine_connect_sync(e, &err) != 0) {
        cli_error("%s", err.message);
        rc = err.kind == WPD_ERR_USAGE ? WPD_EXIT_USAGE : WPD_EXIT_ENGINE;
        if (err.kind == WPD_ERR_PLUGIN) {
            for (size_t i = 0; i < wpd_plugins_refused_count(reg); i++) {
                const wpd_plugin_refusal *ref = wpd_plugins_refused(reg, i);
                cli_warn("plugin %s refused: %s", ref->path, ref->reason);
            }
        }
    } else {
        const wpd_engine_info *i = wpd_engine_get_info(e);
        if (i->warning && *i->warning)
            cli_warn("%s", i->warning);
        if (json) {
            printf("{");
            print_json_str("endpoint", i->endpoint, 0);
            print_json_str("transport", i->plugin_name, 0);
            print_json_str("transport_version", i->plugin_version, 0);
            print_json_str("transport_file", i->plugin_path, 0);
            print_json_str("engine", i->kind_name, 0);
            print_json_str("engine_version", i->engine_version, 0);
            print_json_str("engine_api_version", i->engine_api_version, 0);
            print_json_str("api_version", i->api_version, 0);
            printf("\"api_pinned\":%s,", i->api_pinned ? "true" : "false");
            print_json_str("libpod_api_version", i->libpod_version, 0);
            print_json_str("platform", i->platform, 1);
            printf("}\n");
        } else {
            printf("endpoint:     %s\n", i->endpoint);
            printf("transport:    %s %s (%s)\n", i->plugin_name, i->plugin_version,
                   i->plugin_path);
            printf("engine:       %s %s", i->kind_name, i->engine_version);
            if (i->libpod_version && *i->libpod_version)
                printf(" (libpod API %s)", i->libpod_version);
            printf("\n");
            if (i->api_pinned)
                printf("api version:  %s (pinned; engine supports up to %s)\n", i->api_version,
                       *i->engine_api_version ? i->engine_api_version : "?");
            else
                printf("api version:  %s (negotiated: engine up to %s, wpdock up to %s)\n",
                       i->api_version, i->engine_api_version, WPD_API_VERSION_MAX);
            printf("platform:     %s\n", i->platform);
        }
    }
    wpd_engine_free(e);
    wpd_plugins_free(reg);
    wpd_reactor_free(r);
    return rc;
}
